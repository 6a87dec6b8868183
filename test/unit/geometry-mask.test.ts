/**
 * Masked directions (core/geometry/mask.ts) against an independent dense oracle: the SVD of J·diag(M) built from the
 * fixture's J matrix with ml-matrix, never through the wrapper under test. Also the wrapper's adjoint, the exact
 * zeros outside the mask, mask validation and resampling, and the edit's region projection (core/edit/guidance.ts).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { computeLocalBasis, expandMask, latentMask, MaskError, maskedOperator, principalAngles, resizeMaskCover } from '../../src-main/core/geometry';
import type { LatentMask } from '../../src-main/core/geometry';
import { guidanceEdit, plainMove } from '../../src-main/core/edit/guidance';
import { renderFrom, type DdimStepper } from '../../src-main/core/edit/render';
import type { NoisePredictor } from '../../src-main/core/diffusion';
import type { Tensor } from '../../src-main/core/tensor';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import { denseFixture } from './geometry-fixture';

const H = 16;
const W = 16;

/** Left 6 columns and a 4×4 block at the bottom right: 112 of 256 pixels, not a rectangle. */
function binaryMask(): LatentMask {
  const w = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) w[y * W + x] = x < 6 || (y >= 12 && x >= 12) ? 1 : 0;
  return latentMask(w, H, W);
}

/** A feathered disc: 1 inside radius 4, linear ramp to 0 at radius 7, 0 beyond (what a renderer's feather sends). */
function softMask(): LatentMask {
  const w = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r = Math.hypot(y - 7.5, x - 7.5);
      w[y * W + x] = Math.min(1, Math.max(0, (7 - r) / 3));
    }
  }
  return latentMask(w, H, W);
}

/** Oracle: σ and right singular vectors of J·diag(M) from the dense J, float64. */
function maskedOracle(J: Matrix, weights: Float32Array, k: number): { sigma: number[]; V: Tensor } {
  const JM = J.clone();
  for (let i = 0; i < J.rows; i++) for (let j = 0; j < J.columns; j++) JM.set(i, j, J.get(i, j) * weights[j]);
  const svd = new SingularValueDecomposition(JM.transpose()); // n × m tall: left vectors = right vectors of JM
  const n = J.columns;
  const V = new Float32Array(k * n);
  for (let a = 0; a < k; a++) for (let t = 0; t < n; t++) V[a * n + t] = svd.leftSingularVectors.get(t, a);
  return { sigma: svd.diagonal, V: { dims: [k, 1, H, W], data: V } };
}

describe.each(['krylov', 'subspace'] as const)('masked %s basis on a dense J (n=256, m=64)', (method) => {
  it.each([
    ['binary', binaryMask],
    ['feathered', softMask],
  ] as const)('%s mask: equals the SVD of J·M (σ within 1e-4, principal angles < 1e-3) and is exactly 0 where M = 0', async (_, make) => {
    const { op, J } = denseFixture({});
    const mask = make();
    const k = 4;
    // Tight tolerances: the binary mask's σ_4/σ_5 gap is only 1.07, and at the default tol the subspace is accurate
    // to ~1e-3 only; here the comparison is with the exact SVD, so converge well past the asserted accuracy.
    const basis =
      method === 'krylov'
        ? await computeLocalBasis(op, { method, k, seed: 3, mask, tol: 1e-7 })
        : await computeLocalBasis(op, { method, k, seed: 3, mask, tol: 1e-7, maxIterations: 400 });
    const oracle = maskedOracle(J, expandMask(mask, op.xDims), k);
    // The masked problem has its own spectrum (the gap after σ_4 is what convergence depends on): show it.
    console.log(method, _, 'masked σ', oracle.sigma.slice(0, k + 2).map((s) => s.toFixed(4)), 'products', basis.jacobianProducts.total, 'iterations', basis.iterations);
    expect(basis.converged).toBe(true);
    for (let i = 0; i < k; i++) expect(Math.abs(basis.S.data[i] - oracle.sigma[i]) / oracle.sigma[i]).toBeLessThan(1e-4);
    expect(Math.max(...principalAngles(basis.V, oracle.V))).toBeLessThan(1e-3);
    // σ of J·M is below J's: the region carries part of the response only (sanity of the oracle itself).
    const full = new SingularValueDecomposition(J.transpose()).diagonal;
    expect(oracle.sigma[0]).toBeLessThan(full[0]);
    const n = H * W;
    for (let i = 0; i < k; i++) {
      let sq = 0;
      for (let t = 0; t < n; t++) {
        const v = basis.V.data[i * n + t];
        sq += v * v;
        if (mask.weights[t] === 0) expect(Math.abs(v)).toBe(0);
      }
      expect(Math.abs(Math.sqrt(sq) - 1)).toBeLessThan(1e-6);
    }
  });
});

describe('maskedOperator', () => {
  it('is J·M with adjoint M·Jᵀ: ⟨J(M v), u⟩ = ⟨v, M(Jᵀu)⟩, and pullback = (J M v, M JᵀJ M v)', async () => {
    const { op, J } = denseFixture({});
    const mask = softMask();
    const masked = maskedOperator(op, mask);
    const rng = new GaussianRng(5);
    const v = new Float32Array(256);
    const u = new Float32Array(64);
    rng.fillNormal(v);
    rng.fillNormal(u);
    const jv = await masked.jvp({ dims: [1, 1, H, W], data: v });
    const jtu = await masked.vjp({ dims: [1, 4, 4, 4], data: u });
    const lhs = jv.data.reduce((s, x, i) => s + x * u[i], 0);
    const rhs = jtu.data.reduce((s, x, i) => s + x * v[i], 0);
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-5);
    // Against the dense J·diag(M) directly.
    const w = expandMask(mask, op.xDims);
    for (let i = 0; i < 64; i++) {
      let s = 0;
      for (let j = 0; j < 256; j++) s += J.get(i, j) * w[j] * v[j];
      expect(jv.data[i]).toBeCloseTo(s, 4);
    }
    const pb = await masked.pullback({ dims: [1, 1, H, W], data: v });
    expect(Array.from(pb.jv.data)).toEqual(Array.from(jv.data));
    for (let j = 0; j < 256; j++) if (w[j] === 0) expect(Math.abs(pb.jtjv.data[j])).toBe(0);
  });

  it('broadcasts over channels and refuses a mask of another size', () => {
    const mask = latentMask([0, 1, 1, 0.5], 2, 2);
    expect(Array.from(expandMask(mask, [3, 2, 2]))).toEqual([0, 1, 1, 0.5, 0, 1, 1, 0.5, 0, 1, 1, 0.5]);
    const { op } = denseFixture({});
    expect(() => maskedOperator(op, mask)).toThrow(/2 × 2, the latent is \[1, 16, 16\]/);
  });
});

describe('latentMask / resizeMaskCover', () => {
  it('typed errors: empty, wrong size, values outside [0, 1]; invert selects the complement', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MaskError);
        return [(e as MaskError).code, (e as Error).message];
      }
      return null;
    };
    expect(code(() => latentMask(new Float32Array(16), 4, 4))).toEqual(['mask-empty', 'the mask selects no pixels']);
    expect(code(() => latentMask(new Float32Array(16).fill(1), 4, 4, { invert: true }))).toEqual(['mask-empty', 'the inverted mask selects no pixels']);
    expect(code(() => latentMask(new Float32Array(15), 4, 4))?.[0]).toBe('mask-shape');
    expect(code(() => latentMask([0, 1.5, 0, 0], 2, 2))?.[0]).toBe('mask-values');
    expect(code(() => latentMask([0, Number.NaN, 0, 0], 2, 2))?.[0]).toBe('mask-values');
    expect(Array.from(latentMask([0, 0.25, 1, 0], 2, 2, { invert: true }).weights)).toEqual([1, 0.75, 0, 1]);
  });

  it('area-averages onto the latent grid with invert’s framing (cover, centre crop)', () => {
    // 8×8 → 4×4: each output is the mean of a 2×2 block.
    const src = new Float32Array(64);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) src[y * 8 + x] = x < 3 ? 1 : 0;
    const out = resizeMaskCover({ height: 8, width: 8, weights: src }, 4, 4);
    for (let y = 0; y < 4; y++) expect(Array.from(out.subarray(y * 4, y * 4 + 4))).toEqual([1, 0.5, 0, 0]);
    // 8 high × 4 wide → 2×2: scale to cover = 0.5 (width), so rows 2..5 are kept (centre crop), 2×2 blocks.
    const tall = new Float32Array(32);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 4; x++) tall[y * 4 + x] = y >= 2 && y < 4 ? 1 : 0;
    expect(Array.from(resizeMaskCover({ height: 8, width: 4, weights: tall }, 2, 2))).toEqual([1, 1, 0, 0]);
    // Upsampling 2×2 → 4×4 repeats each weight.
    expect(Array.from(resizeMaskCover({ height: 2, width: 2, weights: [1, 0, 0, 1] }, 4, 4))).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });
});

/** ε that mixes every pixel with every other (like a U-Net's receptive field), so an edit inside leaks outside. */
function mixingPredictor(n: number): NoisePredictor {
  const rng = new GaussianRng(11);
  const A = new Float32Array(n * n);
  rng.fillNormal(A);
  for (let i = 0; i < A.length; i++) A[i] /= Math.sqrt(n);
  return {
    sampleDims: [1, H, W],
    async predictEps(x: Tensor) {
      const B = x.data.length / n;
      const out = new Float32Array(x.data.length);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += A[i * n + j] * x.data[b * n + j];
          out[b * n + i] = Math.tanh(s);
        }
      }
      return { dims: [...x.dims], data: out };
    },
  };
}

describe('edit projected onto the mask (region)', () => {
  it('guidance and move leave x_t outside a binary mask unchanged (tolerance 0); without it the outside moves', async () => {
    const n = H * W;
    const mask = binaryMask();
    const region = expandMask(mask, [1, H, W]);
    const x = new Float32Array(n);
    new GaussianRng(2).fillNormal(x);
    const v = new Float32Array(n);
    for (let t = 0; t < n; t++) v[t] = region[t] * Math.sin(t); // a direction inside the mask
    const predictor = mixingPredictor(n);
    const xt: Tensor = { dims: [1, 1, H, W], data: x };
    const dirs = [{ v: { dims: [1, 1, H, W], data: v }, strength: 3 }];
    const free = await guidanceEdit(predictor, xt, dirs, { timestep: 500, steps: 8, scale: 0.5 });
    const kept = await guidanceEdit(predictor, xt, dirs, { timestep: 500, steps: 8, scale: 0.5, region });
    let outsideFree = 0;
    let insideKept = 0;
    for (let t = 0; t < n; t++) {
      if (region[t] === 0) {
        expect(kept.data[t]).toBe(x[t]);
        outsideFree = Math.max(outsideFree, Math.abs(free.data[t] - x[t]));
      } else insideKept = Math.max(insideKept, Math.abs(kept.data[t] - x[t]));
    }
    expect(outsideFree).toBeGreaterThan(1e-2); // the oracle can fail: guidance alone does leak
    expect(insideKept).toBeGreaterThan(1e-2); // and the projected edit still edits
    const moved = plainMove(xt, [{ v: { dims: [1, 1, H, W], data: Float32Array.from(x, (_, t) => 1 + t) }, strength: 1 }], 1, region);
    for (let t = 0; t < n; t++) if (region[t] === 0) expect(moved.data[t]).toBe(x[t]);
  });
});

describe('render keeping the outside (Blended Diffusion, render.ts keepOutside)', () => {
  it('x_0 outside a binary mask equals the unedited render bit for bit (η = 1 tail included); inside it is edited', async () => {
    const n = H * W;
    const region = expandMask(binaryMask(), [1, H, W]);
    const mix = mixingPredictor(n);
    // A stepper whose update mixes all pixels (like a U-Net's), with the η = 1 noise when given.
    const step: DdimStepper = async (x, tFrom, _tTo, eta, noise) => {
      const eps = (await mix.predictEps(x, tFrom)).data;
      return { dims: [...x.dims], data: Float32Array.from(x.data, (v, i) => 0.9 * v - 0.1 * eps[i] + (eta > 0 ? 0.05 * noise!.data[i] : 0)) };
    };
    const xt = new Float32Array(n);
    new GaussianRng(3).fillNormal(xt);
    const edited = Float32Array.from(xt, (v, i) => v + region[i] * Math.cos(i)); // an edit inside only
    const opts = { timestep: 600, schedule: [0, 100, 200, 300, 400, 500, 600, 700], T: 1000, boostFraction: 0.2, noiseSeed: 4 };
    const reference = { dims: [1, 1, H, W], data: xt };
    const unedited = await renderFrom(step, reference, opts);
    const free = await renderFrom(step, { dims: [1, 1, H, W], data: edited }, opts);
    const kept = await renderFrom(step, { dims: [1, 1, H, W], data: edited }, { ...opts, keepOutside: { region, reference } });
    let leak = 0;
    let inside = 0;
    for (let t = 0; t < n; t++) {
      if (region[t] === 0) {
        expect(kept.data[t]).toBe(unedited.data[t]);
        leak = Math.max(leak, Math.abs(free.data[t] - unedited.data[t]));
      } else inside = Math.max(inside, Math.abs(kept.data[t] - unedited.data[t]));
    }
    expect(leak).toBeGreaterThan(1e-3); // without blending the outside does move: the test can fail
    expect(inside).toBeGreaterThan(1e-3);
  });
});
