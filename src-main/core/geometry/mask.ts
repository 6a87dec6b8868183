/**
 * Masked directions (issue 13 item 2): the local basis of J restricted to a region of the latent.
 *
 * A mask M holds one weight in [0, 1] per latent pixel (H × W, broadcast over the channels). The masked operator is
 * J·M: v ↦ J(M⊙v), with adjoint u ↦ M⊙(Jᵀu), so its pullback is v ↦ M⊙(JᵀJ(M⊙v)). Its top right singular vectors
 * v = M⊙(Jᵀu)/σ carry a factor M, so they vanish wherever M = 0 and fade with a feathered (soft) edge: "directions
 * that live in the region". Both basis methods run on the wrapper unchanged (maskedOperator is a JacobianOperator).
 *
 * Exact zeros outside: the iterations start from Gaussian blocks that are non-zero everywhere, and a Ritz vector of
 * J·M keeps a remainder of that start outside the region: A = MJᵀJM maps the outside to 0, so there Av − θv = −θv and
 * the remainder's norm is at most the relative residual ‖Av − θv‖/θ (≤ tol, e.g. 1e-3). `restrictToSupport` removes
 * it: with P the projector onto supp(M), MP = M, hence J·M·(Pv) = J·M·v bit for bit (the float32 product M⊙v is
 * already exactly 0 there), so U and σ stay valid, and the residual ‖P(Av − θv)‖ can only shrink. The rows are
 * renormalised (‖Pv‖ = 1 − O(residual²)).
 *
 * U = J(M⊙v)/σ is the h-space direction of the masked operator; for a binary mask M⊙v = v, so it is also J·v, the
 * change of h when x moves along v. Decoding a mask image and resizing it to the latent grid: `resizeMaskCover` here
 * (pure maths), the file decoding in the engine.
 */
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import type { Rows } from './linalg';
import { norm, row, rowsFromTensor } from './linalg';
import { applySignConvention } from './sign';
import type { JacobianOperator, LocalBasis } from './types';

export type MaskErrorCode = 'mask-empty' | 'mask-shape' | 'mask-values';

/** A mask the user gave that cannot restrict a basis; the engine reports these as invalid-argument. */
export class MaskError extends Error {
  override readonly name = 'MaskError';
  constructor(
    readonly code: MaskErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Per-pixel weights in [0, 1] on the latent grid (row-major, height × width). */
export interface LatentMask {
  readonly height: number;
  readonly width: number;
  readonly weights: Float32Array;
}

/**
 * Validates weights (finite, in [0, 1], height·width of them), applies `invert` (1 − M) and refuses a mask that
 * selects nothing: J·0 has no directions, and a silent zero basis would look like a model failure.
 */
export function latentMask(weights: ArrayLike<number>, height: number, width: number, options: { invert?: boolean } = {}): LatentMask {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new MaskError('mask-shape', `a mask needs a positive integer height and width, got ${height} × ${width}`);
  }
  if (weights.length !== height * width) {
    throw new MaskError('mask-shape', `a ${height} × ${width} mask needs ${height * width} weights, got ${weights.length}`);
  }
  const out = new Float32Array(height * width);
  let selected = false;
  for (let i = 0; i < out.length; i++) {
    const w = weights[i];
    if (!(w >= 0 && w <= 1)) throw new MaskError('mask-values', `mask weights must lie in [0, 1], found ${w} at pixel ${i}`);
    out[i] = options.invert ? 1 - w : w;
    if (out[i] > 0) selected = true;
  }
  if (!selected) throw new MaskError('mask-empty', options.invert ? 'the inverted mask selects no pixels' : 'the mask selects no pixels');
  return { height, width, weights: out };
}

/**
 * Area-average resampling of a weight grid onto height × width with the same framing `invert` gives an image
 * (scale to cover, centre crop), so a mask painted over the original picture lands on the same latent pixels. Each
 * output weight is the mean of the source over the output pixel's footprint: the fraction of it that is selected.
 */
export function resizeMaskCover(src: { height: number; width: number; weights: ArrayLike<number> }, height: number, width: number): Float32Array {
  if (src.weights.length !== src.height * src.width || src.height < 1 || src.width < 1) {
    throw new MaskError('mask-shape', `a ${src.height} × ${src.width} mask needs ${src.height * src.width} weights, got ${src.weights.length}`);
  }
  if (src.height === height && src.width === width) return Float32Array.from(src.weights);
  const scale = Math.max(width / src.width, height / src.height);
  const rowsW = footprints(src.height, height, scale);
  const colsW = footprints(src.width, width, scale);
  // Separable: first along x (per source row), then along y.
  const tmp = new Float64Array(src.height * width);
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (const [j, w] of colsW[x]) s += w * src.weights[y * src.width + j];
      tmp[y * width + x] = s;
    }
  }
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (const [i, w] of rowsW[y]) s += w * tmp[i * width + x];
      // Averages of values in [0, 1] can leave [0, 1] only by rounding.
      out[y * width + x] = Math.min(1, Math.max(0, s));
    }
  }
  return out;
}

/** For each output index along one axis: the source indices its footprint overlaps and their normalised overlaps. */
function footprints(srcLen: number, outLen: number, scale: number): [number, number][][] {
  const span = outLen / scale; // source length the output covers (≤ srcLen: cover crops)
  const offset = (srcLen - span) / 2;
  const out: [number, number][][] = [];
  for (let o = 0; o < outLen; o++) {
    const a = offset + o / scale;
    const b = offset + (o + 1) / scale;
    const parts: [number, number][] = [];
    let total = 0;
    for (let s = Math.max(0, Math.floor(a)); s < Math.min(srcLen, Math.ceil(b)); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 0) {
        parts.push([s, w]);
        total += w;
      }
    }
    out.push(parts.map(([s, w]) => [s, w / total]));
  }
  return out;
}

/** The mask broadcast over x = [..., H, W] (every leading axis, e.g. channels): one weight per element of x. */
export function expandMask(mask: LatentMask, xDims: readonly number[]): Float32Array {
  const H = xDims[xDims.length - 2];
  const W = xDims[xDims.length - 1];
  if (xDims.length < 2 || H !== mask.height || W !== mask.width) {
    throw new MaskError('mask-shape', `the mask is ${mask.height} × ${mask.width}, the latent is [${xDims.join(', ')}]`);
  }
  const plane = H * W;
  const planes = sizeOf(xDims) / plane;
  const out = new Float32Array(planes * plane);
  for (let c = 0; c < planes; c++) out.set(mask.weights, c * plane);
  return out;
}

/** t ⊙ w for a batch t = [K, ...x] and per-element weights w of one x. */
function weightRows(t: Tensor, w: Float32Array): Tensor {
  if (t.data.length % w.length !== 0) throw new MaskError('mask-shape', `a batch of ${t.data.length} values is not a multiple of the mask's ${w.length}`);
  const out = new Float32Array(t.data.length);
  for (let off = 0; off < out.length; off += w.length) for (let i = 0; i < w.length; i++) out[off + i] = t.data[off + i] * w[i];
  return { dims: [...t.dims], data: out };
}

/** J·M as a JacobianOperator: jvp(v) = J(M⊙v), vjp(u) = M⊙(Jᵀu), pullback(v) = {J(M⊙v), M⊙(JᵀJ(M⊙v))}. */
export function maskedOperator(op: JacobianOperator, mask: LatentMask): JacobianOperator & { readonly weights: Float32Array } {
  const weights = expandMask(mask, op.xDims);
  return {
    xDims: op.xDims,
    hDims: op.hDims,
    weights,
    jvp: (v, signal) => op.jvp(weightRows(v, weights), signal),
    vjp: async (u, signal) => weightRows(await op.vjp(u, signal), weights),
    pullback: async (v, signal) => {
      const out = await op.pullback(weightRows(v, weights), signal);
      return { jv: out.jv, jtjv: weightRows(out.jtjv, weights) };
    },
  };
}

/**
 * V's rows set to exactly 0 where the mask weight is 0 and renormalised (see the header for why U, σ and the
 * residuals stay valid); the sign convention is re-applied since the probe saw the removed remainder.
 */
export function restrictToSupport<B extends Pick<LocalBasis, 'V' | 'U'>>(basis: B, weights: Float32Array): B {
  const n = weights.length;
  const V: Rows = rowsFromTensor(basis.V, n);
  for (let i = 0; i < V.count; i++) {
    const vi = row(V, i);
    for (let t = 0; t < n; t++) if (weights[t] === 0) vi[t] = 0;
    const nv = norm(vi);
    if (nv > 0) for (let t = 0; t < n; t++) vi[t] /= nv;
  }
  const m = basis.U.data.length / Math.max(1, V.count);
  const U = rowsFromTensor(basis.U, m);
  applySignConvention(V, [U]);
  // Warm rows (krylov) are the unrestricted Ritz vectors: the restricted basis has none, and warm-starts from V.
  const restricted: B & Pick<LocalBasis, 'warmRows'> = {
    ...basis,
    V: { dims: [...basis.V.dims], data: Float32Array.from(V.data) },
    U: { dims: [...basis.U.dims], data: Float32Array.from(U.data) },
  };
  delete restricted.warmRows;
  return restricted;
}
