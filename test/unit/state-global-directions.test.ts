/**
 * The Analysis workspace's global directions (issue 13 item 4): which jobs the panel starts (seeds as seeds; an
 * imported picture's x_t first, then every sample as an x_t), what it shows of the result (σ, per-sample distances),
 * the previews' edit jobs (each global direction given explicitly, at the gallery's priority), and a Cancel that
 * stops this panel's jobs only.
 */
import { describe, expect, it } from 'vitest';
import { GlobalDirections, directionRow, previewKey, type GlobalRequest } from '../../src-renderer/src/lib/state/global-directions.svelte';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { ScriptedApi } from '../helpers/scripted-api';
import type { Float32TensorPayload } from '../../src-main/shared/api';

const flush = () => new Promise((r) => setTimeout(r, 0));
const payload = (dims: number[], values: number[]): Float32TensorPayload => ({ dims, data: new Uint8Array(Float32Array.from(values).buffer) });
const stats = { timestep: 595, method: 'krylov', iterations: 3, converged: true, jacobianProducts: { jvp: 1, vjp: 1, total: 2 }, residuals: [], seconds: 1, tol: 1e-3, seed: 0, hTensor: 'h', modelHash: 'm', cacheHit: false, cacheId: 'c' };
const png = { mime: 'image/png', width: 2, height: 2, bytes: new Uint8Array([137, 80, 78, 71]) };
const V = payload([2, 1, 2, 2], [1, 0, 0, 0, 0, 1, 0, 0]);
const request = (samples: GlobalRequest['samples']): GlobalRequest => ({ modelDir: '/m', provider: 'cpu', samples, fraction: 0.6, steps: 20, k: 2, kGlobal: 4, space: 'x', mean: 'karcher' });
const globalOutput = (n: number) => ({
  timestep: 595,
  space: 'x',
  mean: 'karcher',
  V,
  S: payload([2], [1.5, 0.5]),
  samples: Array.from({ length: n }, (_, i) => ({ index: i, basis: stats, distance: 0.1 * (i + 1) })),
  karcher: { iterations: 4, converged: true, tangentNorm: 1e-6 },
});

describe('GlobalDirections', () => {
  it('seeds go as seeds; karcher caps the directions at k; σ and distances are shown per sample', async () => {
    const api = new ScriptedApi();
    const g = new GlobalDirections(new JobsState(api));
    const run = g.compute(request([{ kind: 'seed', seed: 3 }, { kind: 'seed', seed: 7 }]));
    await flush();
    expect(api.started).toHaveLength(1);
    expect(api.started[0].name).toBe('global-basis');
    expect(api.started[0].input).toMatchObject({ seeds: [3, 7], t: 0.6, steps: 20, k: 2, kGlobal: 2, space: 'x', mean: 'karcher' });
    api.send({ type: 'done', jobId: 'j0', name: 'global-basis', output: globalOutput(2) });
    await run;
    expect(g.error).toBeNull();
    expect(g.result?.sigmas).toEqual([1.5, 0.5]);
    expect(g.result?.samples.map((s) => [s.label, s.distance])).toEqual([
      ['seed 3', 0.1],
      ['seed 7', 0.2],
    ]);
    expect(g.canPreview).toBe(true);
  });

  it('an imported picture: its x_t first (sample job from x_T), then every sample as an x_t', async () => {
    const api = new ScriptedApi();
    const g = new GlobalDirections(new JobsState(api));
    const xT = payload([1, 1, 2, 2], [0, 0, 0, 0]);
    const run = g.compute(request([{ kind: 'seed', seed: 3 }, { kind: 'image', label: 'face.png', xT }]));
    for (const [i, label] of ['seed', 'xT'].entries()) {
      await flush();
      expect(api.started[i].name).toBe('sample');
      expect(api.started[i].input).toHaveProperty(label);
      api.send({ type: 'done', jobId: `j${i}`, name: 'sample', output: { xt: payload([1, 1, 2, 2], [i, i, i, i]), timestep: 595, image: png, elapsedMs: 1 } });
    }
    await flush();
    expect(api.started[2].name).toBe('global-basis');
    const input = api.started[2].input as { xts: Float32TensorPayload[]; seeds?: number[] };
    expect(input.seeds).toBeUndefined();
    expect(input.xts.map((x) => [...new Float32Array(x.data.slice().buffer)][0])).toEqual([0, 1]);
    api.send({ type: 'done', jobId: 'j2', name: 'global-basis', output: globalOutput(2) });
    await run;
    expect(g.result?.samples[1].label).toBe('face.png');
  });

  it('previews: an unedited render and ± of each direction per sample, directions sent explicitly, gallery priority', async () => {
    const api = new ScriptedApi();
    const g = new GlobalDirections(new JobsState(api));
    const run = g.compute(request([{ kind: 'seed', seed: 3 }, { kind: 'seed', seed: 7 }]));
    await flush();
    api.send({ type: 'done', jobId: 'j0', name: 'global-basis', output: globalOutput(2) });
    await run;
    const previews = g.renderPreviews(2);
    const edit = { image: png, timestep: 595, xEdited: V, elapsedMs: 1 };
    for (let j = 1; j <= 10; j++) {
      await flush();
      expect(api.started[j].name).toBe('edit');
      expect(api.started[j].options).toMatchObject({ priority: 'gallery' });
      api.send({ type: 'done', jobId: `j${j}`, name: 'edit', output: edit });
    }
    await previews;
    // Per sample: the centre (strength 0), then direction 1 −/+, direction 2 −/+.
    const first = api.started.slice(1, 6).map((s) => (s.input as { edits: { strength: number }[] }).edits[0].strength);
    expect(first).toEqual([0, -2, 2, -2, 2]);
    const second = api.started[4].input as { seed: number; edits: { direction: Float32TensorPayload }[] };
    expect(second.seed).toBe(3);
    expect([...second.edits[0].direction.data]).toEqual([...directionRow(V, 1).data]);
    expect(second.edits[0].direction.dims).toEqual([1, 1, 2, 2]);
    expect(g.previews[previewKey(1, 1)].minus).toBeDefined();
    expect(g.previews[previewKey(-1, 0)].center).toBeDefined();
    expect(g.previewProgress).toEqual({ done: 10, total: 10 });
  });

  it('Cancel stops this panel\'s jobs and not another edit running in the editor', async () => {
    const api = new ScriptedApi();
    const jobs = new JobsState(api);
    const apply = jobs.run('edit', { modelDir: '/m', seed: 1, t: 0.5, edits: [] } as never, 'Apply').catch(() => undefined);
    const g = new GlobalDirections(jobs);
    const run = g.compute(request([{ kind: 'seed', seed: 3 }, { kind: 'seed', seed: 7 }]));
    await flush();
    g.cancel();
    await flush();
    expect(api.cancelled).toEqual(['j1']);
    api.send({ type: 'error', jobId: 'j1', error: { code: 'cancelled', message: 'cancelled' } });
    await run;
    expect(g.error).toBeNull();
    expect(g.running).toBe(false);
    api.send({ type: 'error', jobId: 'j0', error: { code: 'cancelled', message: 'x' } });
    await apply;
  });
});
