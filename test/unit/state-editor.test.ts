/**
 * EditorState against a fake engine (PullbackApi that answers jobs with schema-valid outputs): the edit stack's
 * commands and their undo steps, a strength drag as one step, the render cache on undo/redo, PNG export carrying the
 * recipe (tEXt) and its restore offer, and the project content the editor saves.
 */
import { describe, expect, it } from 'vitest';
import { EditorState, parseRecipe, pngSize } from '../../src-renderer/src/lib/state/editor.svelte';
import { addPngText, readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { ManifestV2Schema } from '../../src-main/core/project/schema';
import { deflateSync } from 'node:zlib';

/** A real (tiny) PNG whose one pixel encodes `v`, so different renders have different bytes. */
function png(v: number): Uint8Array {
  const crcT = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcT[(c ^ x) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.from([0, v & 255, (v >> 8) & 255, 7]);
  return new Uint8Array(
    Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]),
  );
}

const img = (v: number) => ({ mime: 'image/png' as const, width: 1, height: 1, bytes: png(v) });

function fakeApi() {
  const listeners = new Set<(e: JobEvent) => void>();
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  let n = 0;
  const api: PullbackApi = {
    getAppInfo: async () => ({ version: '0.1.0', mode: 'web', bundledModels: [{ name: 'm', dir: '/m' }], canPickFolder: false, providers: ['cpu'] }),
    pickModelFolder: async () => null,
    cancelJob: async () => undefined,
    onJobEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    project: async (req) => (req.op === 'recovery.list' ? [] : req.op === 'list' ? { recent: [], projects: [], canPick: false } : null),
    startJob: async (name, input) => {
      const jobId = `j${++n}`;
      calls.push({ name, input: input as Record<string, unknown> });
      const i = input as Record<string, unknown>;
      let output: unknown;
      if (name === 'model.info')
        output = {
          dir: '/m',
          name: 'm',
          scheduler: { numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0, betaEnd: 0, predictionType: 'epsilon' },
          unet: { file: 'u', inputs: [], outputs: [], sampleDims: [3, 1, 1], timestep: { type: 'int64', rank: 1 }, weightsBytes: 1 },
        };
      else if (name === 'generate') output = { images: [img(Number(i.seed))], provider: 'cpu', timesteps: [], elapsedMs: 1 };
      else if (name === 'edit') {
        const s = (i.edits as { strength: number }[]).reduce((a, e) => a + e.strength * 10, 0);
        output = { image: img(1000 + Math.round(s)), timestep: i.timestep, xEdited: { dims: [1], data: new Uint8Array(4) }, elapsedMs: 1 };
      } else throw new Error(`unexpected job ${name}`);
      queueMicrotask(() => {
        for (const l of listeners) l({ type: 'progress', jobId, fraction: 0.5, message: 'half' });
        for (const l of listeners) l({ type: 'done', jobId, name, output });
      });
      return { jobId };
    },
  };
  return { api, calls };
}

async function started() {
  const f = fakeApi();
  const ed = new EditorState(f.api);
  await ed.load();
  ed.seed = 42;
  ed.steps = 10;
  await ed.newFromSeed();
  // A gallery as the gallery job leaves it (the job itself is tested in integration).
  ed.galleries = [{ key: 't555-krylov-k2', timestep: 555, k: 2, method: 'krylov', rows: [{ index: 0, sigma: 3 }, { index: 1, sigma: 2 }], sigmas: [3, 2], status: 'done' }];
  return { ed, ...f };
}

describe('EditorState', () => {
  it('starts from a seed with the bundled model and a one-entry history', async () => {
    const { ed } = await started();
    expect(ed.modelDir).toBe('/m');
    expect(ed.source).toEqual({ kind: 'seed', seed: 42 });
    expect(pngSize(ed.sourceImage!.bytes)).toEqual({ width: 1, height: 1 });
    expect(ed.history.entries.map((e) => e.label)).toEqual(['New from seed 42']);
    expect(ed.timestep).toBe(555); // 0.6·T snapped to the 10-step schedule
    expect(ed.jobs.list.map((j) => j.status)).toEqual(['done', 'done']);
  });

  it('stack commands are undo steps; a strength drag is one', async () => {
    const { ed } = await started();
    ed.addDirection(1);
    const id = ed.doc.edits[0].id;
    for (const s of [0.2, 0.9, 1.5, 2]) ed.setStrength(id, s, true);
    ed.endDrag();
    ed.toggleEdit(id);
    ed.addDirection(0);
    ed.moveEdit(ed.doc.edits[1].id, -1);
    expect(ed.doc.edits.map((e) => [e.index, e.strength, e.enabled])).toEqual([
      [0, 1, true],
      [1, 2, false],
    ]);
    expect(ed.history.entries).toHaveLength(6); // new, add, drag, toggle, add, move
    ed.history.undo();
    ed.history.undo();
    ed.history.undo();
    expect(ed.doc.edits.map((e) => e.strength)).toEqual([2]);
    ed.history.undo();
    expect(ed.doc.edits.map((e) => e.strength)).toEqual([1]);
    ed.removeEdit(id);
    expect(ed.doc.edits).toEqual([]);
    expect(ed.history.canRedo).toBe(false);
  });

  it('apply renders the stack; undo/redo show cached renders without a new job', async () => {
    const { ed, calls } = await started();
    ed.addDirection(0);
    ed.setStrength(ed.doc.edits[0].id, 2);
    await ed.apply();
    const edited = ed.resultImage!.bytes;
    const edit = calls.filter((c) => c.name === 'edit');
    expect(edit).toHaveLength(1);
    expect(edit[0].input).toMatchObject({ seed: 42, timestep: 555, steps: 10, basis: { k: 2, method: 'krylov' }, edits: [{ index: 0, strength: 2 }] });
    ed.undo(); // back to strength 1: rendered once
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.filter((c) => c.name === 'edit')).toHaveLength(2);
    ed.redo(); // strength 2 again: from the cache
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.filter((c) => c.name === 'edit')).toHaveLength(2);
    expect(ed.resultImage!.bytes).toBe(edited);
  });

  it('exported PNG carries the recipe, and re-importing it offers to restore it', async () => {
    const { ed } = await started();
    ed.addDirection(1);
    ed.setStrength(ed.doc.edits[0].id, -1.5);
    await ed.apply();
    const out = ed.exportPng()!;
    const text = readPngText(out.bytes);
    expect(text.Model).toBe('m');
    expect(text.Source).toBe('seed 42');
    const recipe = parseRecipe(text[RECIPE_KEY])!;
    expect(recipe).toMatchObject({ source: { kind: 'seed', seed: 42 }, steps: 10, edits: [{ t: 555, index: 1, strength: -1.5, k: 2, method: 'krylov' }] });
    await ed.importFile('again.png', out.bytes);
    expect(ed.pendingRecipe?.recipe).toEqual(recipe);
  });

  it('project content validates against the manifest schema', async () => {
    const { ed } = await started();
    ed.addDirection(0);
    await ed.apply();
    const c = await (ed as unknown as { content(): Promise<{ manifest: unknown; blobs: Record<string, string> }> }).content();
    const m = ManifestV2Schema.parse(c.manifest);
    expect(m.source).toEqual({ kind: 'seed', seed: 42, steps: 10 });
    expect(Object.keys(c.blobs).sort()).toEqual([m.images.source, m.images.result].sort());
    expect(m.history.entries.map((e) => e.label)).toEqual(['New from seed 42', 'Add direction 1 at t = 555']);
  });
});

describe('PNG text chunks', () => {
  it('round-trip, survive non-Latin-1 text, and never throw on junk', () => {
    const p = addPngText(png(1), { a: 'b', Recipe: '{"name":"Zoë ✓"}' });
    expect(readPngText(p)).toEqual({ a: 'b', Recipe: '{"name":"Zoë \\u2713"}' });
    expect(JSON.parse(readPngText(p).Recipe)).toEqual({ name: 'Zoë ✓' });
    expect(readPngText(new Uint8Array([1, 2, 3]))).toEqual({});
    expect(readPngText(p.subarray(0, 40))).toEqual({});
    expect(parseRecipe('{"app":"Pullback Studio"}')).toBeNull();
    expect(parseRecipe('not json')).toBeNull();
  });
});

describe('EditorState: recipe restore, autosave, bad input', () => {
  it('restoring a seed recipe re-renders the seed and re-applies its stack', async () => {
    const { ed, calls } = await started();
    ed.addDirection(1);
    ed.setStrength(ed.doc.edits[0].id, 3);
    await ed.apply();
    const out = ed.exportPng()!;
    const f = fakeApi();
    const fresh = new EditorState(f.api);
    await fresh.load();
    await fresh.importFile('x.png', out.bytes);
    await fresh.restoreRecipe();
    const edit = f.calls.filter((c) => c.name === 'edit');
    expect(edit.at(-1)?.input).toMatchObject({ seed: 42, timestep: 555, steps: 10, edits: [{ index: 1, strength: 3 }] });
    expect(fresh.resultImage?.bytes).toEqual(ed.resultImage?.bytes);
    expect(calls.length).toBeGreaterThan(0);
  });

  it('autosaves only when dirty, to its session slot', async () => {
    const { ed } = await started();
    const reqs: { op: string; session?: string }[] = [];
    const project = ed['api'].project;
    ed['api'].project = async (req) => (reqs.push(req as { op: string }), req.op === 'autosave' ? { when: 'now' } : project(req));
    await ed.autosave();
    expect(reqs.map((r) => r.op)).toEqual(['autosave']);
    expect(reqs[0].session).toBe(ed.session);
    ed.dirty = false;
    await ed.autosave();
    expect(reqs).toHaveLength(1);
  });

  it('empty or out-of-range number fields are clamped, never sent raw', async () => {
    const { ed, calls } = await started();
    (ed as unknown as { steps: unknown }).steps = '';
    (ed as unknown as { seed: unknown }).seed = -5;
    await ed.newFromSeed();
    expect(calls.at(-1)?.input).toMatchObject({ seed: 0, steps: 50 });
  });
});

describe('EditorState: unsaved work is never overwritten', () => {
  it('starting a new document autosaves the unsaved one and moves to a fresh recovery slot', async () => {
    const { ed } = await started();
    const reqs: { op: string; session?: string }[] = [];
    const project = ed['api'].project;
    ed['api'].project = async (req) => (reqs.push(req as { op: string }), req.op === 'autosave' ? { when: 'now' } : project(req));
    ed.addDirection(0);
    const first = ed.session;
    ed.seed = 43;
    await ed.newFromSeed();
    expect(reqs).toEqual([expect.objectContaining({ op: 'autosave', session: first })]);
    expect(ed.session).not.toBe(first);
    expect(ed.source).toEqual({ kind: 'seed', seed: 43 });
    // Trying another seed without changing anything keeps no recovery copy.
    ed.seed = 44;
    await ed.newFromSeed();
    expect(reqs).toHaveLength(1);
  });
});

describe('EditorState: switching the model', () => {
  it('closes the document after keeping edited work in recovery', async () => {
    const { ed } = await started();
    const reqs: { op: string }[] = [];
    const project = ed['api'].project;
    ed['api'].project = async (req) => (reqs.push(req as { op: string }), req.op === 'autosave' ? { when: 'now' } : project(req));
    ed.addDirection(0);
    // Pretend the folder resolves to another model dir.
    ed.modelDir = '/other';
    expect(await ed.selectModel('/m')).toBe(true);
    expect(reqs.map((r) => r.op)).toEqual(['autosave']);
    expect(ed.source).toBeNull();
    expect(ed.shownImage).toBeNull();
    expect(ed.doc.edits).toEqual([]);
    expect(ed.dirty).toBe(false);
  });
});
