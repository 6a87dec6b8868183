/**
 * Galleries in projects (issue 16), against the fake engine: a saved gallery keeps its previews and cache id, so
 * Open (and Recover, which loads the same content through the same path) shows the previews at once, and a new preview
 * strength re-renders them from the engine's cached basis; a preview blob the file lost costs that preview only; the
 * save carries previews within a budget; the timing text says when the previews came from the engine's cache.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { ProjectManifestSchema, type ProjectManifest } from '../../src-main/shared/project-manifest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { galleryRefs } from '../../src-renderer/src/lib/state/gallery-persist';
import { galleryTimingText } from '../../src-renderer/src/lib/state/galleries.svelte';
import { sha256Hex } from '../../src-renderer/src/lib/bytes';
import { fakeApi, png } from './state-fake-api';

const CACHE_ID = 'c0'.repeat(32);

/** The fake engine, with gallery jobs reporting a real-looking (sha256 hex) basis cache id, as the engine does. */
function engine() {
  const fake = fakeApi();
  const api: PullbackApi = {
    ...fake.api,
    onJobEvent: (l) =>
      fake.api.onJobEvent((e: JobEvent) => {
        if (e.type === 'done' && e.name === 'gallery') {
          const out = e.output as { basis: Record<string, unknown> };
          l({ ...e, output: { ...out, basis: { ...out.basis, cacheId: CACHE_ID } } });
        } else l(e);
      }),
  };
  return { ...fake, api };
}

async function editorWithGallery(api: PullbackApi): Promise<EditorState> {
  const ed = new EditorState(api);
  await ed.load();
  ed.source.seed = 42;
  ed.source.steps = 10;
  await ed.newFromSeed();
  ed.edits.setTimestep(555);
  ed.galleries.k = 2;
  await ed.computeBasis();
  return ed;
}

const galleryInputs = (calls: { name: string; input: Record<string, unknown> }[]) => calls.filter((c) => c.name === 'gallery').map((c) => c.input);

describe('galleries saved with their previews', () => {
  it('Open shows the saved previews at once, and a new strength re-renders them from the cached basis', async () => {
    const { api, calls, projectCalls } = engine();
    const ed = await editorWithGallery(api);
    const shown = ed.galleries.current!;
    expect(await ed.files.saveAs({ name: 'p' })).toBe(true);
    const save = projectCalls.find((r) => r.op === 'save') as { manifest: ProjectManifest; blobs: Record<string, Uint8Array> };
    // What the project service validates.
    expect(ProjectManifestSchema.safeParse(save.manifest).success).toBe(true);
    const base = save.manifest.bases[0];
    expect(base).toMatchObject({ key: shown.key, cacheId: CACHE_ID, previews: { strength: shown.strength, previewSteps: 10 } });
    expect(save.blobs[base.previews!.center!]).toEqual(shown.center!.bytes);

    const opened = new EditorState(api);
    await opened.load();
    expect(await opened.files.open('id-p')).toBe(true);
    const g = opened.galleries.current!;
    expect(g.key).toBe(shown.key);
    expect(g.cacheId).toBe(CACHE_ID);
    expect(g.center?.bytes).toEqual(shown.center!.bytes);
    for (const field of ['minus', 'plus', 'heat'] as const) expect(g.rows.map((r) => r[field]?.bytes)).toEqual(shown.rows.map((r) => r[field]!.bytes));
    expect(g.rows.map((r) => r.sigma)).toEqual(shown.sigmas);
    // The enlarged view works on restored previews (it needs the centre).
    opened.galleries.enlarge(1, 1);
    expect(opened.galleries.enlarged?.center.bytes).toEqual(shown.center!.bytes);

    const before = galleryInputs(calls).length;
    await opened.galleries.setPreviewStrength(1.5);
    const again = galleryInputs(calls).slice(before);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ cacheId: CACHE_ID, strength: 1.5, timestep: 555, k: 2, seed: 42, steps: 10 });
    expect(opened.galleries.current?.strength).toBe(1.5);
  });

  it('a preview blob the file lost costs that preview only; the document and the other previews open', async () => {
    const { api, projectCalls } = engine();
    const ed = await editorWithGallery(api);
    await ed.files.saveAs({ name: 'p' });
    const save = projectCalls.find((r) => r.op === 'save') as { manifest: ProjectManifest; blobs: Record<string, Uint8Array> };
    const lost = save.manifest.bases[0].previews!.rows[0].plus!;
    const blobs = { ...save.blobs };
    delete blobs[lost];
    await api.project({ op: 'save', id: 'broken', manifest: save.manifest, blobs });
    const opened = new EditorState(api);
    await opened.load();
    expect(await opened.files.open('broken')).toBe(true);
    const g = opened.galleries.current!;
    expect(g.rows[0].plus).toBeUndefined();
    expect(g.rows[0].minus?.bytes).toEqual(ed.galleries.current!.rows[0].minus!.bytes);
    expect(g.center).toBeDefined();
    expect(opened.notices.list.filter((n) => n.kind !== 'info')).toEqual([]);
  });

  it('the recovery copy autosave writes carries them too (Recover loads it like Open)', async () => {
    const { api, projectCalls } = engine();
    const ed = await editorWithGallery(api);
    await ed.files.writeRecovery();
    const auto = projectCalls.find((r) => r.op === 'autosave') as { manifest: ProjectManifest; blobs: Record<string, Uint8Array> } | undefined;
    expect(auto).toBeDefined();
    const base = auto!.manifest.bases[0];
    expect(base.cacheId).toBe(CACHE_ID);
    expect(auto!.blobs[base.previews!.rows[1].heat!]).toEqual(ed.galleries.current!.rows[1].heat!.bytes);
  });

  it('previews over the budget are left out, newest gallery first; σ and the cache id stay', async () => {
    const gallery = (t: number, v: number) => ({
      key: `t${t}-krylov-k1`,
      timestep: t,
      k: 1,
      method: 'krylov' as const,
      rows: [{ index: 0, sigma: 2, minus: { bytes: png(v), width: 1, height: 1 }, plus: { bytes: png(v + 1), width: 1, height: 1 }, heat: { bytes: png(v + 2), width: 1, height: 1 } }],
      sigmas: [2],
      center: { bytes: png(v + 3), width: 1, height: 1 },
      strength: 3,
      status: 'done' as const,
      cacheId: CACHE_ID,
    });
    const { bases, blobs } = await galleryRefs([gallery(100, 0), gallery(200, 10)], sha256Hex, { blobs: 5, bytes: 1 << 20 });
    expect(bases.map((b) => b.previews !== undefined)).toEqual([false, true]);
    expect(bases.map((b) => b.cacheId)).toEqual([CACHE_ID, CACHE_ID]);
    expect(Object.keys(blobs)).toHaveLength(4);
    expect(Object.keys(blobs)).toContain(await sha256Hex(png(13)));
  });

  it('says when the previews came from the engine cache', () => {
    const stats = { iterations: 3, converged: true, seconds: 7.12, cacheHit: true, totalSeconds: 0.4 };
    expect(galleryTimingText({ ...stats, previewsFromCache: true })).toBe('Done in 0.4 s: basis from the cache, previews from the cache');
    expect(galleryTimingText(stats)).toBe('Done in 0.4 s: basis from the cache, the rest previews');
  });
});
