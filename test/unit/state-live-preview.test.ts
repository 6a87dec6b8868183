/**
 * The live preview of a strength drag (EditorState.previewDrag / previewRelease) against a fake engine: a fast
 * approximate `edit` at preview priority while the slider moves, shown on the canvas but never exported, and replaced
 * by the exact render on release — a preview that finishes after the release is not shown.
 */
import { describe, expect, it } from 'vitest';
import { LIVE_PREVIEW_GUIDANCE_STEPS, LIVE_PREVIEW_RENDER_STEPS } from '../../src-main/shared/live-preview';
import { EDIT_DEFAULTS } from '../../src-main/shared/edit-defaults';
import { fakeApi, seededEditor } from './state-fake-api';

async function withDirection() {
  const f = fakeApi();
  const ed = await seededEditor(f.api);
  ed.addDirection(1);
  await ed.apply();
  f.calls.length = 0;
  return { ed, ...f };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('live preview while a strength slider moves', () => {
  it('asks for a fast preview at preview priority and shows it on the canvas, not in exports', async () => {
    const { ed, calls } = await withDirection();
    const exact = ed.shownImage;
    const id = ed.edits.doc.edits[0].id;
    ed.edits.setStrength(id, 2, true);
    ed.previewDrag();
    await settle();
    expect(calls.map((c) => c.name)).toEqual(['edit']);
    expect(calls[0].options).toEqual({ priority: 'preview', coalesceKey: 'live-preview' });
    expect(calls[0].input).toMatchObject({
      guidanceSteps: LIVE_PREVIEW_GUIDANCE_STEPS,
      scale: (EDIT_DEFAULTS.guidanceSteps * EDIT_DEFAULTS.scale) / LIVE_PREVIEW_GUIDANCE_STEPS,
      renderSteps: LIVE_PREVIEW_RENDER_STEPS,
      edits: [{ index: 1, strength: 2 }],
    });
    expect(ed.result.preview).not.toBeNull();
    expect(ed.canvasImage).toBe(ed.result.preview);
    // Export writes the exact image, never the approximation.
    expect(ed.shownImage).toBe(exact);
  });

  it('one preview at a time: values that arrive meanwhile are coalesced into one follow-up with the latest', async () => {
    const { ed, calls } = await withDirection();
    const id = ed.edits.doc.edits[0].id;
    for (const v of [1.2, 1.5, 1.9, 2.4]) {
      ed.edits.setStrength(id, v, true);
      ed.previewDrag();
    }
    await settle();
    await settle();
    const strengths = calls.filter((c) => c.name === 'edit').map((c) => (c.input.edits as { strength: number }[])[0].strength);
    expect(strengths).toEqual([1.2, 2.4]);
  });

  it("an earlier value's preview is shown while the latest one renders, then replaced by it", async () => {
    const { ed, calls } = await withDirection();
    const shown: unknown[] = [];
    const show = ed.result.showPreview.bind(ed.result);
    ed.result.showPreview = (image) => {
      shown.push(image);
      show(image);
    };
    const id = ed.edits.doc.edits[0].id;
    for (const v of [1.2, 2.4]) {
      ed.edits.setStrength(id, v, true);
      ed.previewDrag();
    }
    await settle();
    await settle();
    expect(calls.filter((c) => c.name === 'edit').map((c) => (c.input.edits as { strength: number }[])[0].strength)).toEqual([1.2, 2.4]);
    // 1.2's preview went up while 2.4's rendered (the slider had moved on, but it is nearer than the exact image).
    expect(shown).toHaveLength(2);
    expect(ed.result.preview).toBe(shown[1]);
  });

  it('release renders exactly and drops the preview', async () => {
    const { ed, calls } = await withDirection();
    const id = ed.edits.doc.edits[0].id;
    ed.edits.setStrength(id, 3, true);
    ed.previewDrag();
    await settle();
    expect(ed.result.preview).not.toBeNull();
    ed.edits.endDrag();
    await ed.previewRelease();
    expect(calls.map((c) => [c.name, c.input.renderSteps])).toEqual([
      ['edit', LIVE_PREVIEW_RENDER_STEPS],
      ['edit', EDIT_DEFAULTS.renderSteps],
    ]);
    expect(ed.result.preview).toBeNull();
    expect(ed.canvasImage).toBe(ed.result.image);
  });

  it('the release cancels a preview still running, so the exact render does not wait for it', async () => {
    const { ed, calls, api } = await withDirection();
    const cancelled: string[] = [];
    api.cancelJob = async (jobId) => void cancelled.push(jobId);
    const id = ed.edits.doc.edits[0].id;
    ed.edits.setStrength(id, 3, true);
    ed.previewDrag();
    // Released before the engine answered the preview.
    ed.edits.endDrag();
    await ed.previewRelease();
    await settle();
    expect(calls.map((c) => [c.name, c.input.renderSteps])).toEqual([
      ['edit', LIVE_PREVIEW_RENDER_STEPS],
      ['edit', EDIT_DEFAULTS.renderSteps],
    ]);
    // The preview's job (the engine then ends it as cancelled at its next step), not the exact render's.
    expect(cancelled).toHaveLength(1);
    expect(ed.result.preview).toBeNull();
    expect(ed.canvasImage).toBe(ed.result.image);
  });

  it('a preview that finishes after the release (here: released on an already rendered value) is not shown', async () => {
    const { ed } = await withDirection();
    const id = ed.edits.doc.edits[0].id;
    const applied = ed.result.image;
    ed.edits.setStrength(id, 3, true);
    ed.previewDrag();
    // Back to the applied strength and released before the preview came back: the exact render is in the cache.
    ed.edits.setStrength(id, 1, true);
    ed.edits.endDrag();
    await ed.previewRelease();
    await settle();
    await settle();
    expect(ed.result.preview).toBeNull();
    expect(ed.canvasImage).toBe(applied);
  });
});
