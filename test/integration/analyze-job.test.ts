/**
 * The `analyze` job end to end through the real ORT operator:
 * - on tiny_dense (J small enough to build densely), σ, the frequency content of each direction and the distances
 *   between tangent spaces equal those of the float64 SVD of the dense J at each (x_t, t);
 * - a cancelled run resumes from the basis cache (the finished bases count as cache hits) and gives the result of
 *   an uninterrupted run;
 * - partials stream one per basis.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SingularValueDecomposition, type Matrix } from 'ml-matrix';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import type { Tensor } from '../../src-main/core/tensor';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { principalAngles } from '../../src-main/core/geometry';
import { radialPowerSpectrum, type AnalysisResult } from '../../src-main/core/geometry/analysis';
import { JacobianSessions } from '../../src-main/engine/worker/jacobian-operator';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { toPayload } from '../../src-main/engine/jobs/support/wire-tensors';
import type { AnalysisPartial } from '../../src-main/shared/analysis-api';
import { UNET_FIXTURES, denseJacobian, useTempDataDir, wrapUnet } from './basis-fixture';

const data = useTempDataDir('analyze');
const K = 3;

/** Top-K right (x) and left (h) singular subspaces and σ of the dense J at (x, t). */
async function denseSvd(sessions: JacobianSessions, modelDir: string, x: Tensor, t: number) {
  const model = await loadModelFolder(modelDir);
  const op = await sessions.operator({ model, K: 4 }, x, t);
  const n = op.xDims.reduce((a, b) => a * b, 1);
  const m = op.hDims.reduce((a, b) => a * b, 1);
  const J = await denseJacobian(op);
  const svd = new SingularValueDecomposition(J, { autoTranspose: true });
  const rowsOf = (M: Matrix, len: number): Tensor => ({
    dims: [K, len],
    data: Float32Array.from({ length: K * len }, (_, idx) => M.get(idx % len, Math.floor(idx / len))),
  });
  return { sigma: svd.diagonal.slice(0, K), V: rowsOf(svd.rightSingularVectors, n), U: rowsOf(svd.leftSingularVectors, m), xDims: op.xDims };
}

const geodesic = (a: Tensor, b: Tensor) => Math.hypot(...principalAngles(a, b));

/** A result without what legitimately differs between a resumed and an uninterrupted run. */
function comparable(r: AnalysisResult) {
  return { ...r, bases: r.bases.map(({ cacheHit: _c, seconds: _s, ...rest }) => rest) };
}

describe('analyze job on tiny_dense against the dense SVD', () => {
  it('σ, direction spectra and sample/timestep distances in x and h match the float64 SVD of J', async () => {
    const modelDir = await wrapUnet('tiny_dense', data.root);
    const x0 = decodeNpy(await readFile(join(UNET_FIXTURES, 'tiny_dense', 'x.npy')));
    const x1: Tensor = { dims: x0.dims, data: x0.data.map((v, i) => v + 0.3 * Math.sin(i)) };
    const timesteps = [200, 500];
    const out = await runJobInProcess(
      'analyze',
      { modelDir, provider: 'cpu', samples: [{ kind: 'xt', xt: toPayload(x0), label: 'x0' }, { kind: 'xt', xt: toPayload(x1), label: 'x1' }], timesteps, k: K, tol: 1e-7 },
      { quiet: true },
    );
    const sessions = new JacobianSessions(() => join(data.root, 'dense'));
    try {
      const dense = new Map<string, Awaited<ReturnType<typeof denseSvd>>>();
      for (const [s, x] of [x0, x1].entries()) for (const t of timesteps) dense.set(`${s}@${t}`, await denseSvd(sessions, modelDir, x, t));
      let worstSigma = 0;
      let worstPower = 0;
      for (const rec of out.result.bases) {
        const ref = dense.get(`${rec.sample}@${rec.timestep}`)!;
        rec.sigma.forEach((s, i) => (worstSigma = Math.max(worstSigma, Math.abs(s - ref.sigma[i]) / ref.sigma[i])));
        for (let i = 0; i < K; i++) {
          const v = ref.V.data.subarray(i * 16, (i + 1) * 16);
          const p = radialPowerSpectrum(v, ref.xDims).power;
          p.forEach((value, r) => (worstPower = Math.max(worstPower, Math.abs(value - rec.power[i][r]))));
        }
      }
      let worstDistance = 0;
      for (const sim of out.result.sampleSimilarities) {
        const a = dense.get(`${sim.sampleA}@${sim.timestep}`)!;
        const b = dense.get(`${sim.sampleB}@${sim.timestep}`)!;
        const want = sim.space === 'x' ? geodesic(a.V, b.V) : geodesic(a.U, b.U);
        worstDistance = Math.max(worstDistance, Math.abs(sim.geodesic - want));
      }
      for (const sim of out.result.timestepSimilarities) {
        const a = dense.get(`${sim.sample}@${sim.timestepA}`)!;
        const b = dense.get(`${sim.sample}@${sim.timestepB}`)!;
        const want = sim.space === 'x' ? geodesic(a.V, b.V) : geodesic(a.U, b.U);
        worstDistance = Math.max(worstDistance, Math.abs(sim.geodesic - want));
      }
      console.log('[analyze dense]', { worstSigma, worstPower, worstDistance });
      // σ relative 1e-5, power per bin 1e-4 absolute, distances 1e-3 rad (float32 Jacobian products, tol 1e-7).
      expect(worstSigma).toBeLessThan(1e-5);
      expect(worstPower).toBeLessThan(1e-4);
      expect(worstDistance).toBeLessThan(1e-3);
      expect(out.result.sampleSimilarities).toHaveLength(timesteps.length * 2); // 1 pair × 2 t × (x, h)
      expect(out.result.timestepSimilarities).toHaveLength(2 * 2); // 2 samples × 1 pair × (x, h)
    } finally {
      await sessions.release();
    }
  }, 120_000);
});

describe('analyze job: streaming and resume', () => {
  it('streams one partial per basis; a cancelled run resumes from the cache and equals an uninterrupted run', async () => {
    const modelDir = await wrapUnet('ddpm_unet2d_op14', data.root);
    const input = { modelDir, provider: 'cpu' as const, samples: [{ kind: 'seed' as const, seed: 1 }, { kind: 'seed' as const, seed: 2 }], t: [0.3, 0.6, 0.9], steps: 10, k: 2 };
    const controller = new AbortController();
    const seen: AnalysisPartial[] = [];
    await expect(
      runJobInProcess('analyze', input, {
        quiet: true,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.partial) seen.push(p.partial as AnalysisPartial);
          if (seen.length === 2 && !controller.signal.aborted) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen.map((p) => [p.done, p.total])).toEqual([[1, 6], [2, 6]]);
    const streamed: AnalysisPartial[] = [];
    const resumed = await runJobInProcess('analyze', input, { quiet: true, onProgress: (p) => p.partial && streamed.push(p.partial as AnalysisPartial) });
    expect(streamed).toHaveLength(6);
    expect(resumed.run.cacheHits).toBe(2);
    expect(resumed.run.computed).toBe(4);
    // Warm starts chain through the cache: every basis but the first sample's first (largest t) started warm — the
    // second sample's first from the first sample's — and the resumed ones made the same starts (same keys: hits).
    expect(resumed.result.bases.filter((b) => !b.warmStarted).map((b) => [b.sample, b.timestep])).toEqual([[0, Math.max(...resumed.result.settings.timesteps)]]);
    expect(resumed.result.bases.filter((b) => b.cacheHit).map((b) => [b.sample, b.timestep])).toEqual(seen.map((p) => [p.record.sample, p.record.timestep]).sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    // The same request in a fresh data folder: nothing cached, every basis computed.
    const saved = process.env.PULLBACK_DATA_DIR;
    process.env.PULLBACK_DATA_DIR = join(data.root, 'fresh');
    try {
      const fresh = await runJobInProcess('analyze', input, { quiet: true });
      expect(fresh.run.cacheHits).toBe(0);
      expect(comparable(resumed.result)).toEqual(comparable(fresh.result));
    } finally {
      process.env.PULLBACK_DATA_DIR = saved;
    }
    // A third run is all cache hits.
    expect((await runJobInProcess('analyze', input, { quiet: true })).run.cacheHits).toBe(6);
  }, 300_000);

  it('a basis of the analysis is the basis job’s cache entry: cold ones by key, warm-started ones by their cacheId', async () => {
    const modelDir = await wrapUnet('ddpm_unet2d_op14', data.root);
    const input = { modelDir, provider: 'cpu' as const, samples: [{ kind: 'seed' as const, seed: 7 }], t: [0.5, 0.8], steps: 10, k: 2 };
    const analysis = await runJobInProcess('analyze', input, { quiet: true });
    const [low, high] = analysis.result.settings.timesteps;
    const recordAt = (t: number) => analysis.result.bases.find((b) => b.timestep === t)!;
    expect(recordAt(high).warmStarted).toBe(false);
    expect(recordAt(low).warmStarted).toBe(true);
    const sigmaOf = (out: { S: { data: Uint8Array } }) => Array.from(new Float32Array(out.S.data.slice().buffer));
    const basisAt = (timestep: number, cacheId?: string) =>
      runJobInProcess('basis', { modelDir, provider: 'cpu', seed: 7, timestep, steps: 10, k: 2, ...(cacheId ? { cacheId } : {}) }, { quiet: true });
    // The top timestep was computed cold: the plain request finds it by key.
    const cold = await basisAt(high);
    expect(cold.cacheHit).toBe(true);
    expect(sigmaOf(cold)).toEqual(recordAt(high).sigma.map(Math.fround));
    // The warm-started one is found by its id, for this point only.
    const warm = await basisAt(low, recordAt(low).cacheId);
    expect(warm.cacheHit).toBe(true);
    expect(warm.cacheId).toBe(recordAt(low).cacheId);
    expect(sigmaOf(warm)).toEqual(recordAt(low).sigma.map(Math.fround));
    const wrongPoint = await basisAt(high, recordAt(low).cacheId);
    expect(wrongPoint.cacheId).not.toBe(recordAt(low).cacheId);
    expect(sigmaOf(wrongPoint)).toEqual(sigmaOf(cold));
  }, 120_000);
});
