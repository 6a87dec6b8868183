/**
 * Prompts in the geometry: J = ∂h/∂x_t at (x_t, t, c) of the tiny SD fixtures, with c = a prompt embedding fed
 * to the derived graphs as a primal-only input. Checked against the fixture's float64 PyTorch references: J·V and
 * Jᵀ·U at prompts A and B (both layouts: the torch-1.x attention export with dynamic axes, and the SDPA one), and
 * the dense J at each prompt, whose SVD the local basis must reproduce. Bases at the two prompts differ, and so do
 * their cache entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { JacobianSessions } from '../../src-main/engine/worker/jacobian-operator';
import { localBasis, type BasisCondition } from '../../src-main/engine/jobs/support/local-basis';
import { principalAngles } from '../../src-main/core/geometry';
import type { LoadedModel } from '../../src-main/engine/jobs/types';
import { useTempDataDir } from './basis-fixture';
import { reference, referenceMeta, relErr, textFolder, fixtureInfo, type TextFolderName } from '../helpers/text-fixtures';
import type { Tensor } from '../../src-main/core/tensor';

useTempDataDir('text-basis');
const cache = new ModelCache();
let jacobians: JacobianSessions;
beforeAll(() => {
  jacobians = new JacobianSessions();
});
afterAll(async () => {
  await jacobians.release();
  await cache.release();
});

async function conditions(loaded: LoadedModel, name: TextFolderName): Promise<Record<'a' | 'b', BasisCondition>> {
  const meta = referenceMeta(name);
  const a = await loadedText(loaded).embed(meta.prompt_a);
  const b = await loadedText(loaded).embed(meta.prompt_b);
  return { a: { embedding: a.embedding, hash: a.hash }, b: { embedding: b.embedding, hash: b.hash } };
}
const loadedText = (l: LoadedModel) => l.text!;

describe.each(['sd1-optimum', 'sd1-diffusers', 'sd2v-optimum'] as const)('%s: J·V and Jᵀ·U at two prompts', (name) => {
  it('match PyTorch (float64 autograd) at each prompt, and differ between prompts', async () => {
    const loaded = await cache.load(textFolder(name), 'cpu');
    const meta = referenceMeta(name);
    const x = await reference(name, 'x.npy');
    const V = await reference(name, 'V.npy');
    const U = await reference(name, 'U.npy');
    const conds = await conditions(loaded, name);
    const errs: Record<string, number> = {};
    for (const key of ['a', 'b'] as const) {
      const op = await jacobians.operator({ model: loaded.model, K: meta.K }, x, meta.timestep, undefined, conds[key].embedding);
      expect(op.hTensor).toBe(fixtureInfo(name).h_tensor);
      errs[`JV_${key}`] = relErr((await op.jvp(V)).data, (await reference(name, `JV_${key}.npy`)).data);
      errs[`JtU_${key}`] = relErr((await op.vjp(U)).data, (await reference(name, `JtU_${key}.npy`)).data);
    }
    console.log(name, JSON.stringify(errs));
    for (const e of Object.values(errs)) expect(e).toBeLessThan(1e-4);
    // the prompt matters: J·V at A differs from J·V at B (≈ 1e-2 in these random-weight fixtures) far beyond the
    // operator's error (≈ 6e-7), so a Jacobian that ignored the embedding fails above
    const ab = relErr((await reference(name, 'JV_a.npy')).data, (await reference(name, 'JV_b.npy')).data);
    expect(ab).toBeGreaterThan(1000 * Math.max(...Object.values(errs)));
    // without the embedding the operator refuses (never silently unconditioned)
    await expect(jacobians.operator({ model: loaded.model, K: meta.K }, x, meta.timestep)).rejects.toThrow(/needs a prompt embedding/);
  });
});

describe('local basis at a prompt = SVD of the dense J there (sd1-optimum)', () => {
  const name = 'sd1-optimum';
  const k = 4;
  const svdOf = (J: Tensor) => {
    const [m, n] = J.dims;
    const M = new Matrix(m, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) M.set(i, j, J.data[i * n + j]);
    return new SingularValueDecomposition(M, { autoTranspose: true });
  };
  const rowsOf = (Vt: Matrix, kk: number, n: number) => {
    const data = new Float32Array(kk * n);
    for (let i = 0; i < kk; i++) for (let j = 0; j < n; j++) data[i * n + j] = Vt.get(j, i);
    return { dims: [kk, n], data };
  };

  it('σ, V match the dense SVD at prompts A and B; the two bases differ; cache keys differ by prompt', async () => {
    const loaded = await cache.load(textFolder(name), 'cpu');
    const meta = referenceMeta(name);
    const x = await reference(name, 'x.npy');
    const conds = await conditions(loaded, name);
    const req = { k, method: 'krylov' as const, tol: 1e-5, basisSeed: 0, h: 'auto' };
    const bases: Record<string, Awaited<ReturnType<typeof localBasis>>> = {};
    for (const key of ['a', 'b'] as const) {
      const J = await reference(name, `J_${key}.npy`);
      const svd = svdOf(J);
      const n = J.dims[1];
      const r = await localBasis(jacobians, loaded.model, x, meta.timestep, req, undefined, undefined, conds[key]);
      bases[key] = r;
      const sigma = Array.from(r.basis.S.data);
      const ref = svd.diagonal.slice(0, k);
      const sigmaErr = Math.max(...sigma.map((s, i) => Math.abs(s - ref[i]) / ref[0]));
      const angles = principalAngles({ dims: [k, n], data: r.basis.V.data }, rowsOf(svd.rightSingularVectors, k, n));
      console.log(`${name} prompt ${key}: σ ${sigma.map((s) => s.toPrecision(5)).join(', ')} (dense ${ref.map((s) => s.toPrecision(5)).join(', ')}), max |Δσ|/σ₁ ${sigmaErr.toExponential(2)}, largest principal angle ${Math.max(...angles).toExponential(2)} rad`);
      expect(sigmaErr).toBeLessThan(1e-4);
      expect(Math.max(...angles)).toBeLessThan(1e-2);
      expect(r.stats.cacheHit).toBe(false);
    }
    // A and B: different spectra and subspaces (≈ 1e-2 rad here; the bases match their dense SVDs to ≈ 1e-6 rad, so
    // 1e-3 rad separates "differs" from numerical noise), different cache entries
    const n = x.data.length;
    const anglesAB = principalAngles({ dims: [k, n], data: bases.a.basis.V.data }, { dims: [k, n], data: bases.b.basis.V.data });
    console.log(`${name}: largest principal angle between the bases at A and B ${Math.max(...anglesAB).toExponential(2)} rad`);
    expect(Math.max(...anglesAB)).toBeGreaterThan(1e-3);
    expect(relErr(bases.a.basis.S.data, bases.b.basis.S.data)).toBeGreaterThan(1e-4);
    expect(bases.a.stats.cacheId).not.toBe(bases.b.stats.cacheId);
    // the same prompt again: a cache hit with the same basis
    const again = await localBasis(jacobians, loaded.model, x, meta.timestep, req, undefined, undefined, conds.a);
    expect(again.stats.cacheHit).toBe(true);
    expect(again.stats.cacheId).toBe(bases.a.stats.cacheId);
    expect(Array.from(again.basis.S.data)).toEqual(Array.from(bases.a.basis.S.data));
  });
});

describe('fp16 U-Net (sd1-diffusers-fp16): Jacobians through a float32 copy', () => {
  it('J·V matches PyTorch to the fp16 weights\' rounding, and the basis matches the fp32 export\'s', async () => {
    const name = 'sd1-diffusers-fp16';
    const loaded = await cache.load(textFolder(name), 'cpu');
    const meta = referenceMeta(name);
    const x = await reference(name, 'x.npy');
    // the fp16 model's own prompt embedding (fp16 text encoder): what the app would use
    const emb = await loaded.text!.embed(meta.prompt_a);
    const op = await jacobians.operator({ model: loaded.model, K: meta.K }, x, meta.timestep, undefined, emb.embedding);
    const jvErr = relErr((await op.jvp(await reference(name, 'V.npy'))).data, (await reference(name, 'JV_a.npy')).data);
    const jtuErr = relErr((await op.vjp(await reference(name, 'U.npy'))).data, (await reference(name, 'JtU_a.npy')).data);
    const k = 4;
    const req = { k, method: 'krylov' as const, tol: 1e-5, basisSeed: 0, h: 'auto' };
    const b16 = await localBasis(jacobians, loaded.model, x, meta.timestep, req, undefined, undefined, { embedding: emb.embedding, hash: emb.hash });
    const fp32 = await cache.load(textFolder('sd1-diffusers'), 'cpu');
    const emb32 = await fp32.text!.embed(meta.prompt_a);
    const b32 = await localBasis(jacobians, fp32.model, x, meta.timestep, req, undefined, undefined, { embedding: emb32.embedding, hash: emb32.hash });
    const n = x.data.length;
    const angle = Math.max(...principalAngles({ dims: [k, n], data: b16.basis.V.data }, { dims: [k, n], data: b32.basis.V.data }));
    const sigmaErr = relErr(b16.basis.S.data, b32.basis.S.data);
    console.log(`fp16 vs references: J·V ${jvErr.toExponential(2)}, Jᵀ·U ${jtuErr.toExponential(2)}; basis vs fp32 export: σ ${sigmaErr.toExponential(2)}, largest principal angle ${angle.toExponential(2)} rad`);
    // Stated tolerances: the weights (and the fp16 text encoder's embedding) carry float16 rounding (2^-11 ≈ 5e-4
    // relative), so J moves by ≈ 1e-3 (measured 9.7e-4 / 1.0e-3); the basis: σ within 1e-3 (measured 9e-5),
    // subspace within 1e-2 rad (measured 2.2e-3; the top-4 σ gaps are 5–10 %).
    expect(jvErr).toBeLessThan(3e-3);
    expect(jtuErr).toBeLessThan(3e-3);
    expect(sigmaErr).toBeLessThan(1e-3);
    expect(angle).toBeLessThan(1e-2);
  });
});
