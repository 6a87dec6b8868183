/**
 * Issue 16's output and feedback items against the fake engine: the scaled export dialog (File › Export PNG scaled…)
 * downloads a PNG of s times the size with the recipe; an imported picture that is not the model's size says how it
 * was resized; the Model box shows a loading state while model.info runs and an error state when it fails.
 */
import { describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { CommandDispatcher } from '../../src-renderer/src/lib/command-dispatcher.svelte';
import type { PngCodec } from '../../src-renderer/src/lib/export-png';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { parseRecipe } from '../../src-renderer/src/lib/state/recipe';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { fakeApi, seededEditor } from './state-fake-api';

const sharpCodec: PngCodec = {
  async decode(png) {
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
  },
  async encode(img) {
    return new Uint8Array(await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 4 } }).png().toBuffer());
  },
};

describe('scaled export', () => {
  it('the dialog exports at the chosen scale and filter, with the recipe', async () => {
    const f = fakeApi();
    const ed = await seededEditor(f.api);
    const shell = { canvas: () => undefined, pickImage: vi.fn(), download: vi.fn(), codec: sharpCodec };
    const d = new CommandDispatcher(ed, shell);
    ed.addDirection(1);
    await ed.apply();
    await d.run('exportScaled');
    expect(d.exportOpen).toBe(true);
    // Keys do not reach the editor while the dialog is open.
    const pd = vi.fn();
    d.onKey({ key: 'e', ctrlKey: true, metaKey: false, shiftKey: false, altKey: false, target: null, preventDefault: pd });
    expect(pd).not.toHaveBeenCalled();
    d.exportSettings.scale = 4;
    d.exportSettings.filter = 'nearest';
    d.exportSettings.scale = 3; // not offered: ignored
    await d.exportScaled();
    expect(d.exportOpen).toBe(false);
    const file = shell.download.mock.calls[0][0] as { name: string; bytes: Uint8Array };
    expect(file.name).toBe('Untitled@4x.png');
    const meta = await sharp(file.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([4, 4]);
    const text = readPngText(file.bytes);
    expect(text.Scale).toBe('4× nearest from 1×1');
    expect(parseRecipe(text[RECIPE_KEY])).toMatchObject({ source: { kind: 'seed', seed: 42 }, edits: [{ index: 1 }] });
    // Nearest replicates the one pixel exactly.
    const px = await sharpCodec.decode(file.bytes);
    const first = Array.from(px.data.subarray(0, 4));
    for (let i = 0; i < 16; i++) expect(Array.from(px.data.subarray(i * 4, i * 4 + 4))).toEqual(first);
  });

  it('with nothing shown, the command only warns', async () => {
    const f = fakeApi();
    const ed = new EditorState(f.api);
    await ed.load();
    const d = new CommandDispatcher(ed, { canvas: () => undefined, pickImage: vi.fn(), download: vi.fn(), codec: sharpCodec });
    await d.run('exportScaled');
    expect(d.exportOpen).toBe(false);
    expect(ed.notices.list.at(-1)?.text).toBe('Nothing to export yet.');
  });
});

describe('import resize notice', () => {
  it('says the picture was resized and cropped to the model size; a picture of that size gets no notice', async () => {
    const f = fakeApi();
    const ed = await seededEditor(f.api);
    const big = new Uint8Array(await sharp({ create: { width: 800, height: 600, channels: 3, background: '#406080' } }).png().toBuffer());
    await ed.importFile('photo.png', big);
    await vi.waitFor(() => expect(ed.source.current?.kind).toBe('image'));
    // The fake engine's model sees 1×1 pictures (its invert returns a 1×1 `input`).
    expect(ed.notices.list.map((n) => n.text)).toContain('Resized from 800×600 to 1×1 (centre-cropped to a square).');
    const before = ed.notices.list.length;
    const small = new Uint8Array(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer());
    await ed.invertImage('dot.png', small);
    expect(ed.notices.list.slice(before).filter((n) => n.text.startsWith('Resized'))).toEqual([]);
  });
});

/** The fake engine with model.info held until `release()` (or failed by `fail()`), as a slow model folder opens. */
function slowModelApi() {
  const f = fakeApi();
  const listeners = new Set<(e: JobEvent) => void>();
  let held: { jobId: string; output: unknown } | null = null;
  let hold = true;
  const api: PullbackApi = {
    ...f.api,
    onJobEvent: (l) => {
      listeners.add(l);
      const off = f.api.onJobEvent((e) => {
        // The first model.info's end is kept back until the test says; everything else passes.
        if (hold && e.type === 'done' && e.name === 'model.info') held = { jobId: e.jobId, output: e.output };
        else l(e);
      });
      return () => (listeners.delete(l), off());
    },
  };
  const end = (e: (jobId: string) => JobEvent) => {
    hold = false;
    const h = held!;
    for (const l of listeners) l(e(h.jobId));
  };
  return {
    api,
    release: () => end((jobId) => ({ type: 'done', jobId, name: 'model.info', output: held!.output })),
    fail: () => end((jobId) => ({ type: 'error', jobId, error: { code: 'missing-file', message: 'unet/model.onnx is missing' } })),
    hasHeld: () => held !== null,
  };
}

describe('model loading state', () => {
  it('shows loading while model.info runs, then ready', async () => {
    const s = slowModelApi();
    const ed = new EditorState(s.api);
    expect(ed.model.status).toBe('none');
    const loading = ed.load();
    await vi.waitFor(() => expect(s.hasHeld()).toBe(true));
    expect(ed.model.status).toBe('loading');
    expect(ed.model.openingName).toBe('m');
    expect(ed.model.dir).toBe('');
    s.release();
    await loading;
    expect(ed.model.status).toBe('ready');
    expect(ed.model.openingName).toBe('');
    expect(ed.model.dir).toBe('/m');
  });

  it('shows an error state when the model cannot be opened; a later open clears it', async () => {
    const s = slowModelApi();
    const ed = new EditorState(s.api);
    const loading = ed.load();
    await vi.waitFor(() => expect(s.hasHeld()).toBe(true));
    s.fail();
    await loading;
    expect(ed.model.status).toBe('error');
    expect(ed.model.failure?.dir).toBe('/m');
    expect(ed.model.failure?.error.code).toBe('missing-file');
    expect(ed.notices.list.some((n) => n.kind === 'error')).toBe(true);
    expect(await ed.selectModel('/m', 'm')).toBe(true);
    expect(ed.model.status).toBe('ready');
    expect(ed.model.failure).toBeNull();
  });
});
