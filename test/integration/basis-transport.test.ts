/**
 * `transport` and `global-basis` jobs on ddpm_unet2d_op14: transporting a direction from a sample to itself
 * returns that sample's own v_i (coefficients e_i, all of u_A captured); to another sample it returns a unit
 * vector capturing only part of u_A; a global basis of one sample spans that sample's local basis.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { fromPayload } from '../../src-main/engine/jobs/support/wire-tensors';
import { principalAngles } from '../../src-main/core/geometry';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('transport');
let modelDir: string;

beforeAll(async () => {
  modelDir = await wrapUnet('ddpm_unet2d_op14', tmp.root);
});

describe('transport and global basis jobs', () => {
  const common = { t: 0.8, steps: 20, k: 4, provider: 'cpu' as const };
  it('A → A gives back v_{A,i}; A → B a unit vector that captures part of u_A', async () => {
    const self = await runJobInProcess('transport', { ...common, modelDir, seed: 1, seedB: 1, index: 2 }, { quiet: true });
    expect(self.coefficients.map((c) => Math.abs(c))).toEqual([expect.closeTo(0, 3), expect.closeTo(0, 3), expect.closeTo(1, 3), expect.closeTo(0, 3)]);
    expect(self.captured).toBeCloseTo(1, 3);
    const basisA = await runJobInProcess('basis', { ...common, modelDir, seed: 1 }, { quiet: true });
    expect(basisA.cacheHit).toBe(true);
    const V = fromPayload(basisA.V, 'V');
    const n = V.data.length / 4;
    const v = fromPayload(self.v, 'v');
    let dot = 0;
    for (let j = 0; j < n; j++) dot += v.data[j] * V.data[2 * n + j];
    expect(Math.abs(dot)).toBeGreaterThan(0.999);

    const other = await runJobInProcess('transport', { ...common, modelDir, seed: 1, seedB: 2, index: 0 }, { quiet: true });
    const vb = fromPayload(other.v, 'v');
    const norm = Math.sqrt(vb.data.reduce((a, x) => a + x * x, 0));
    expect(norm).toBeCloseTo(1, 4);
    expect(other.captured).toBeGreaterThan(0);
    expect(other.captured).toBeLessThan(1);
    expect(other.basisB.cacheHit).toBe(false);
  });

  it('a global basis of one sample spans its local basis', async () => {
    const g = await runJobInProcess('global-basis', { ...common, modelDir, seeds: [1], kGlobal: 4 }, { quiet: true });
    const local = await runJobInProcess('basis', { ...common, modelDir, seed: 1 }, { quiet: true });
    expect(g.samples[0].basis.cacheHit).toBe(true);
    const angles = principalAngles(fromPayload(g.V!, 'V'), fromPayload(local.V, 'V'));
    expect(Math.max(...angles)).toBeLessThan(1e-3);
    const two = await runJobInProcess('global-basis', { ...common, modelDir, seeds: [1, 2], kGlobal: 6, weighting: 'sigma' }, { quiet: true });
    expect(two.V?.dims).toEqual([6, 3, 16, 16]);
    const S = fromPayload(two.S, 'S');
    for (let i = 1; i < 6; i++) expect(S.data[i]).toBeLessThanOrEqual(S.data[i - 1]);
  });
});
