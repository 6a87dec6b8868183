/**
 * Global directions in the edit stack (issue 13): "Add to edit" keeps the global basis with the document, Apply sends
 * the entry's exact vector as an explicit edit (every other parameter as an indexed entry's), the project saves the
 * basis as a blob and opens it with the same bytes (through the real project format), a damaged or missing blob
 * costs only its entries (with a notice), and Transfer projects the vector onto each target's basis.
 */
import { describe, expect, it } from 'vitest';
import { encodeProject, decodeProject } from '../../src-main/core/project/format';
import type { ProjectManifest } from '../../src-main/shared/project-manifest';
import type { Float32TensorPayload, JobEvent, PullbackApi } from '../../src-main/shared/api';
import { applyJobInput } from '../../src-main/shared/edit-job';
import { TransferState, transferSource } from '../../src-renderer/src/lib/state/transfer.svelte';
import { decodeGlobalBasis, encodeGlobalBasis, isGlobalBasisKey } from '../../src-renderer/src/lib/state/global-entries';
import { fakeApi, seededEditor } from './state-fake-api';

const flush = () => new Promise((r) => setTimeout(r, 0));
async function settle(n = 30): Promise<void> {
  for (let i = 0; i < n; i++) await flush();
}

/** V [2, 3, 1, 1] (the fake model's sample is [3, 1, 1]) with values no other payload has. */
const V_VALUES = [0.6, -0.8, 0, 0.125, 0.25, -0.96];
const payload = (dims: number[], values: number[]): Float32TensorPayload => ({ dims, data: new Uint8Array(Float32Array.from(values).buffer) });
const rowBytes = (i: number) => new Uint8Array(Float32Array.from(V_VALUES.slice(3 * i, 3 * i + 3)).buffer);
const stats = { timestep: 595, method: 'krylov' as const, iterations: 1, converged: true, jacobianProducts: { jvp: 1, vjp: 1, total: 2 }, residuals: [], seconds: 0, tol: 1e-3, seed: 0, hTensor: 'h', modelHash: 'm', cacheHit: false, cacheId: 'c' };

/**
 * The state tests' fake engine, plus what it lacks here: `global-basis` (the V above), `transport` (captured 0.7 with a
 * marker v), and the project service through the real project format (zip, content-addressed blobs), so what opens
 * is what a file would give back. `damage` changes the zip before it is opened.
 */
function globalApi() {
  const fake = fakeApi();
  const mine = new Set<(e: JobEvent) => void>();
  const files = new Map<string, Uint8Array>();
  const state = { damage: (zip: Uint8Array) => zip, manifest: (m: ProjectManifest) => m };
  let n = 0;
  const api: PullbackApi = {
    ...fake.api,
    onJobEvent: (l) => {
      mine.add(l);
      const off = fake.api.onJobEvent(l);
      return () => {
        mine.delete(l);
        off();
      };
    },
    project: async (req) => {
      if (req.op === 'save') {
        const id = req.id ?? `id-${req.name}`;
        files.set(id, encodeProject({ manifest: req.manifest, blobs: new Map(Object.entries(req.blobs as Record<string, Uint8Array>)) }));
        return { id, name: req.name ?? 'saved', when: 'now' };
      }
      if (req.op === 'open') {
        const loaded = decodeProject(state.damage(files.get(req.id)!));
        return { id: req.id, name: req.id, manifest: state.manifest(loaded.manifest), blobs: Object.fromEntries(loaded.blobs), readOnly: false, fromVersion: 3 };
      }
      return fake.api.project(req);
    },
    startJob: async (name, input, options) => {
      if (name !== 'global-basis' && name !== 'transport') return fake.api.startJob(name, input, options);
      const i = input as Record<string, unknown>;
      fake.calls.push({ name, input: i });
      const jobId = `g${++n}`;
      const output =
        name === 'global-basis'
          ? {
              timestep: 595,
              space: 'x',
              mean: 'karcher',
              V: payload([2, 3, 1, 1], V_VALUES),
              S: payload([2], [1.5, 0.5]),
              samples: [0, 1].map((index) => ({ index, basis: stats, distance: 0.1 })),
              karcher: { iterations: 3, converged: true, tangentNorm: 1e-7 },
            }
          : { timestep: i.timestep, v: payload([1, 3, 1, 1], [9, 9, 9]), coefficients: [0.7], captured: 0.7, basisB: stats };
      queueMicrotask(() => mine.forEach((l) => l({ type: 'done', jobId, name, output })));
      return { jobId };
    },
  };
  return { api, calls: fake.calls, state };
}

/** The seeded document with a global basis computed over seeds 3 and 7 and its direction 2 added at strength −1.5. */
async function withGlobalEntry() {
  const g = globalApi();
  const ed = await seededEditor(g.api);
  await ed.globalDirections.compute({ modelDir: '/m', provider: 'cpu', samples: [{ kind: 'seed', seed: 3 }, { kind: 'seed', seed: 7 }], fraction: 0.6, steps: 10, k: 2, kGlobal: 2, space: 'x', mean: 'karcher' });
  expect(ed.globalDirections.error).toBeNull();
  await ed.addGlobalDirection(1);
  const entry = ed.edits.doc.edits[0];
  ed.edits.setStrength(entry.id, -1.5);
  return { ...g, ed, entry };
}

const editCalls = (calls: { name: string; input: Record<string, unknown> }[]) => calls.filter((c) => c.name === 'edit');
const bytesOf = (p: unknown) => {
  const t = p as Float32TensorPayload;
  return [...t.data];
};

describe('a global direction in the edit stack', () => {
  it('"Add to edit" is one undo step at the basis’s timestep, named after its basis', async () => {
    const { ed, entry } = await withGlobalEntry();
    expect(isGlobalBasisKey(entry.basisKey)).toBe(true);
    expect(entry).toMatchObject({ index: 1, t: 595, enabled: true });
    const labels = ed.edits.history.entries.map((e) => e.label);
    expect(labels).toContain('Add global direction 2 at t = 595');
    expect(ed.entryName(entry)).toBe('Global direction 2 (karcher, x, 2 samples)');
    // The same result added again names the same record (V's hash), not a second copy.
    await ed.addGlobalDirection(0);
    expect(ed.edits.doc.edits[1].basisKey).toBe(entry.basisKey);
    expect(ed.globalBases.size).toBe(1);
  });

  it('Apply sends the exact vector bytes and strength as an explicit edit, every other parameter as an indexed entry’s', async () => {
    const { ed, calls } = await withGlobalEntry();
    ed.edits.setParam('guidanceSteps', 6);
    ed.edits.setParam('scale', 0.15);
    ed.edits.setParam('renderSteps', 12);
    await ed.apply();
    expect(ed.notices.list.filter((x) => x.kind !== 'info')).toEqual([]);
    const sent = editCalls(calls).at(-1)!.input;
    const edits = sent.edits as { direction: Float32TensorPayload; strength: number }[];
    expect(edits).toHaveLength(1);
    expect(edits[0].strength).toBe(-1.5);
    expect(edits[0].direction.dims).toEqual([1, 3, 1, 1]);
    expect(bytesOf(edits[0].direction)).toEqual([...rowBytes(1)]);
    expect(sent).not.toHaveProperty('basis');
    // What an indexed entry at this timestep would be sent, without its basis and edits.
    const indexed = applyJobInput({ modelDir: '/m', source: ed.source.xt!, timestep: 595, steps: 10, basis: { k: 2, method: 'krylov' }, edits: [], params: ed.edits.params, textConditioned: false, provider: ed.model.provider });
    const { basis: _b, edits: _e, ...expected } = indexed;
    const { edits: _sentEdits, ...rest } = sent;
    expect(rest).toEqual(expected);
    // The canvas shows the render (the fake engine's pixel encodes the strengths: 1000 − 15).
    expect(ed.result.image).not.toBeNull();
  });

  it('the live preview sends the same vector (approximate parameters)', async () => {
    const { ed, calls } = await withGlobalEntry();
    ed.previewDrag();
    await settle();
    const preview = calls.filter((c) => c.name === 'edit' && c.options?.priority === 'preview').at(-1)!.input;
    expect(bytesOf((preview.edits as { direction: unknown }[])[0].direction)).toEqual([...rowBytes(1)]);
    expect(preview).not.toHaveProperty('basis');
  });

  it('the guidance strip sends the vector with the strength negated (−) and as it is (+)', async () => {
    const { ed, calls } = await withGlobalEntry();
    const parts = await ed.guidanceStrip();
    expect(parts).not.toBeNull();
    const strips = calls.filter((c) => c.name === 'edit' && c.input.frames);
    expect(strips.map((c) => (c.input.edits as { strength: number }[])[0].strength)).toEqual([1.5, -1.5]);
    for (const c of strips) {
      expect(bytesOf((c.input.edits as { direction: unknown }[])[0].direction)).toEqual([...rowBytes(1)]);
      expect(c.input).not.toHaveProperty('basis');
    }
    expect(parts!.text.Directions).toMatch(/^global #2 × -1.5/);
  });

  it('project round trip: save → open gives the same vector bytes, and Apply sends them', async () => {
    const { ed, calls, entry } = await withGlobalEntry();
    expect(await ed.files.saveAs({ name: 'p' })).toBe(true);
    ed.globalBases.reset();
    expect(await ed.files.open('id-p')).toBe(true);
    expect(ed.notices.list.filter((x) => x.kind === 'warning' || x.kind === 'error')).toEqual([]);
    const record = ed.globalBases.get(entry.basisKey);
    expect(record).toBeDefined();
    expect([...record!.V.data]).toEqual([...new Uint8Array(Float32Array.from(V_VALUES).buffer)]);
    expect(record).toMatchObject({ timestep: 595, mean: 'karcher', space: 'x', sigmas: [1.5, 0.5], samples: 'seed 3, seed 7', sampleCount: 2, k: 2, method: 'krylov', steps: 10 });
    expect(ed.edits.doc.edits).toEqual([{ ...entry, strength: -1.5 }]);
    // The gallery list is the document's galleries only (the global basis is no gallery).
    expect(ed.galleries.list.map((x) => x.key)).toEqual(['t555-krylov-k2']);
    const before = editCalls(calls).length;
    await ed.apply();
    const sent = editCalls(calls).at(-1)!.input;
    expect(editCalls(calls).length).toBe(before + 1);
    expect(bytesOf((sent.edits as { direction: unknown }[])[0].direction)).toEqual([...rowBytes(1)]);
  });

  it('a damaged blob drops only that basis’s entries, with a notice; the rest of the project opens', async () => {
    const { ed, state, entry } = await withGlobalEntry();
    // An indexed entry too, which must survive.
    ed.edits.add({ key: 't555-krylov-k2', timestep: 555 }, 0);
    const indexed = ed.edits.doc.edits[1];
    expect(isGlobalBasisKey(indexed.basisKey)).toBe(false);
    expect(await ed.files.saveAs({ name: 'p' })).toBe(true);
    // Damage the stored blob inside the zip (it is stored, not deflated): a byte of V's data flipped.
    const blob = encodeGlobalBasis(ed.globalBases.get(entry.basisKey)!);
    state.damage = (zip) => {
      const copy = zip.slice();
      const at = Buffer.from(copy).indexOf(Buffer.from(blob));
      expect(at).toBeGreaterThan(0);
      copy[at + blob.length - 1] ^= 0x40;
      return copy;
    };
    expect(await ed.files.open('id-p')).toBe(true);
    expect(ed.edits.doc.edits.map((e) => e.basisKey)).toEqual([indexed.basisKey]);
    expect(ed.globalBases.get(entry.basisKey)).toBeUndefined();
    const warning = ed.notices.list.find((x) => x.kind === 'warning');
    expect(warning?.text).toMatch(/global basis of this project could not be read, so its global direction was removed from the edit stack; the rest of the project opened/);
    expect(warning?.detail).toContain(entry.basisKey);
    // Undo steps keep their indexed entries and lose the global ones everywhere.
    for (const h of ed.edits.history.entries) expect(h.state.edits.every((e) => !isGlobalBasisKey(e.basisKey))).toBe(true);
    expect(ed.source.current).not.toBeNull();
  });

  it('a ref whose blob is another file (not a global basis) is refused the same way', async () => {
    const { ed, state, entry } = await withGlobalEntry();
    expect(await ed.files.saveAs({ name: 'p' })).toBe(true);
    // The global ref points at the source image's PNG: present, hash-valid, but not this basis.
    state.manifest = (m) => ({ ...m, globalBases: m.globalBases!.map((g) => ({ ...g, blob: m.images.source! })) });
    expect(await ed.files.open('id-p')).toBe(true);
    expect(ed.edits.doc.edits).toEqual([]);
    expect(ed.notices.list.find((x) => x.kind === 'warning')?.detail).toContain(`${entry.basisKey}: it is not a saved global basis`);
  });

  it('the blob decodes only when its V hashes to its key', async () => {
    const { ed, entry } = await withGlobalEntry();
    const blob = encodeGlobalBasis(ed.globalBases.get(entry.basisKey)!);
    const ok = await decodeGlobalBasis(blob);
    expect('record' in ok && ok.record.key).toBe(entry.basisKey);
    const flipped = blob.slice();
    flipped[flipped.length - 2] ^= 1;
    expect(await decodeGlobalBasis(flipped)).toEqual({ problem: 'its directions do not match their hash' });
    expect(await decodeGlobalBasis(blob.subarray(0, blob.length - 4))).toMatchObject({ problem: expect.stringMatching(/bytes of directions/) });
  });

  it('Transfer projects the entry’s vector onto each target’s basis (no index, no basis of A) and shows its share', async () => {
    const { ed, calls, api } = await withGlobalEntry();
    const transfer = new TransferState({ jobs: ed.jobs, notices: ed.notices, source: () => transferSource(ed) });
    expect(transfer.available?.global?.name).toBe('global basis (karcher, x, 2 samples)');
    transfer.seedsText = '5';
    await transfer.start();
    const t = calls.filter((c) => c.name === 'transport');
    expect(t).toHaveLength(1);
    expect(t[0].input).not.toHaveProperty('index');
    expect(t[0].input).not.toHaveProperty('seed');
    expect(t[0].input).toMatchObject({ seedB: 5, timestep: 595, k: 2, method: 'krylov', steps: 10 });
    expect(bytesOf(t[0].input.direction)).toEqual([...rowBytes(1)]);
    const target = transfer.targets[0];
    expect(target.status).toBe('ready');
    expect(target.directions).toEqual([{ index: 1, strength: -1.5, captured: 0.7 }]);
    void api;
  });
});
