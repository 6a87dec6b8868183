/**
 * x-space guidance edits at a fixed timestep (method.md §2):
 *   x ← x + s·(ε(x + δ·v, t) − ε(x, t)), repeated n times,
 * and the plain move x + α·v for comparison. The result is the edited x_t; denoising to x_0 is the caller's
 * (render.ts runs the paper's DDIM schedule with a stepper passed in).
 *
 * Signed strength: each direction carries a strength a. Its guidance term is |a|·s·(ε(x + sign(a)·δ·v) − ε(x)),
 * i.e. the sign picks +v or −v (ε is nonlinear, so −v is evaluated, not the negated +v term) and |a| scales s.
 * a = ±1 is the authors' edit; a = 0 drops the direction, and an edit with only zero strengths returns x
 * unchanged without calling the U-Net, so "strength 0" reproduces the unedited image bit for bit.
 *
 * Composition of several directions:
 * - 'summed' (default): every step evaluates ε at x and at x + sign(a_j)·δ·v_j for all j in ONE batch and adds
 *   Σ_j |a_j|·s·(ε_j − ε_0). Directions are first put in a canonical order (by strength, then by their values),
 *   so both the batch the U-Net sees and the floating-point summation order are independent of the order the
 *   caller lists them in: summed composition is exactly order-independent.
 * - 'sequential': direction 1's n steps, then direction 2's n steps from the result, and so on. Each direction
 *   acts on an already-moved x, so the order matters in general (the ε differences are evaluated at different
 *   points); this is the composition of two edits as an artist would apply them one after the other.
 */
import type { NoisePredictor } from '../diffusion';
import { throwIfCancelled } from '../progress';
import type { ProgressFn } from '../progress';
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { cancellable, EditError } from './errors';

export interface EditDirection {
  /** A direction in x with as many values as one sample (e.g. a row of V: [1, ...x] or [...x]). Unit norm expected. */
  v: Tensor;
  /** Signed strength: sign picks ±v, magnitude scales the guidance scale s (or α for the plain move). */
  strength: number;
}

export type Composition = 'summed' | 'sequential';

export interface GuidanceOptions {
  /** The exact timestep fed to the U-Net. */
  timestep: number;
  /** n: guidance steps. Default 16 (authors). */
  steps?: number;
  /** s: guidance scale. Default 0.1 (authors, unconditional models; 1 for Stable Diffusion). */
  scale?: number;
  /** δ: probe step along v. Default 1. */
  delta?: number;
  composition?: Composition;
  /** Largest batch per predictEps call (engine memory). Default: everything in one call. */
  maxBatch?: number;
  /**
   * Keep the edit in a region: one weight in [0, 1] per element of x (a mask broadcast over channels, core/geometry
   * mask.ts expandMask) multiplying every update of x, so x_t changes only where the weight is > 0 (exactly
   * unchanged where it is 0). The U-Net still sees the whole image; only its response is confined.
   */
  region?: Float32Array;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** Authors' defaults per model family (method.md §2). */
export const GUIDANCE_DEFAULTS = {
  unconditional: { steps: 16, scale: 0.1, delta: 1 },
  stableDiffusion: { steps: 16, scale: 1, delta: 1 },
  stableDiffusionWithEditPrompt: { steps: 64, scale: 1, delta: 1 },
} as const;

interface PreparedDirection {
  v: Float32Array;
  sign: 1 | -1;
  weight: number;
}

function sampleSize(x: Tensor, predictor: NoisePredictor): number {
  const n = sizeOf(predictor.sampleDims);
  const batchOne = x.dims.length === predictor.sampleDims.length + 1 && x.dims[0] === 1;
  const unbatched = x.dims.length === predictor.sampleDims.length;
  if (x.data.length !== n || !(batchOne || unbatched)) {
    throw new EditError('bad-shape', `x must be one sample of dims [${predictor.sampleDims.join(', ')}], got [${x.dims.join(', ')}]`);
  }
  return n;
}

/**
 * Non-zero directions; with `canonical`, sorted by (strength, values) so summed composition ignores input order.
 */
function prepare(directions: readonly EditDirection[], n: number, canonical: boolean): PreparedDirection[] {
  const out: (PreparedDirection & { strength: number })[] = [];
  for (const d of directions) {
    if (!Number.isFinite(d.strength)) throw new EditError('bad-option', `strength must be finite, got ${d.strength}`);
    if (d.v.data.length !== n) throw new EditError('bad-shape', `direction has ${d.v.data.length} values, a sample has ${n}`);
    if (d.strength === 0) continue;
    out.push({ v: d.v.data, sign: d.strength > 0 ? 1 : -1, weight: Math.abs(d.strength), strength: d.strength });
  }
  return canonical ? out.sort((a, b) => a.strength - b.strength || compareValues(a.v, b.v)) : out;
}

function compareValues(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

async function predictBatch(
  predictor: NoisePredictor,
  x: Float32Array,
  n: number,
  timestep: number,
  maxBatch: number,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const B = x.length / n;
  const out = new Float32Array(x.length);
  for (let start = 0; start < B; start += maxBatch) {
    const end = Math.min(B, start + maxBatch);
    const eps = await cancellable(signal, () =>
      predictor.predictEps({ dims: [end - start, ...predictor.sampleDims], data: x.subarray(start * n, end * n) }, timestep, signal),
    );
    if (eps.data.length !== (end - start) * n) {
      throw new EditError('predictor-output', `predictEps returned ${eps.data.length} values for a batch of ${end - start}`);
    }
    out.set(eps.data, start * n);
  }
  return out;
}

/** n guidance steps with the given directions summed into one term per step. */
async function summedSteps(
  predictor: NoisePredictor,
  x: Float32Array,
  dirs: readonly PreparedDirection[],
  o: Required<Pick<GuidanceOptions, 'timestep' | 'steps' | 'scale' | 'delta' | 'maxBatch'>> & GuidanceOptions,
  progress: (done: number) => void,
): Promise<Float32Array> {
  const n = x.length;
  const batch = new Float32Array((dirs.length + 1) * n);
  let cur = x;
  for (let step = 0; step < o.steps; step++) {
    batch.set(cur, 0);
    dirs.forEach((d, j) => {
      const off = (j + 1) * n;
      const sd = d.sign * o.delta;
      for (let i = 0; i < n; i++) batch[off + i] = cur[i] + sd * d.v[i];
    });
    const eps = await predictBatch(predictor, batch, n, o.timestep, o.maxBatch, o.signal);
    const next = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // Accumulate in float64 in the canonical direction order; round to float32 once per step.
      let acc = 0;
      for (let j = 0; j < dirs.length; j++) acc += dirs[j].weight * o.scale * (eps[(j + 1) * n + i] - eps[i]);
      next[i] = o.region ? cur[i] + o.region[i] * acc : cur[i] + acc;
    }
    cur = next;
    progress(1);
  }
  return cur;
}

/** Guidance edit of one sample x_t; returns the edited x_t with x's dims. */
export async function guidanceEdit(
  predictor: NoisePredictor,
  x: Tensor,
  directions: readonly EditDirection[],
  options: GuidanceOptions,
): Promise<Tensor> {
  const n = sampleSize(x, predictor);
  const o = {
    ...options,
    steps: options.steps ?? GUIDANCE_DEFAULTS.unconditional.steps,
    scale: options.scale ?? GUIDANCE_DEFAULTS.unconditional.scale,
    delta: options.delta ?? GUIDANCE_DEFAULTS.unconditional.delta,
    maxBatch: options.maxBatch ?? Number.POSITIVE_INFINITY,
  };
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new EditError('bad-option', `steps must be an integer ≥ 0, got ${o.steps}`);
  if (!Number.isFinite(o.scale) || !Number.isFinite(o.delta)) throw new EditError('bad-option', 'scale and delta must be finite');
  if (!(o.maxBatch >= 1)) throw new EditError('bad-option', `maxBatch must be ≥ 1, got ${o.maxBatch}`);
  checkRegion(o.region, n);
  const composition = o.composition ?? 'summed';
  if (composition !== 'summed' && composition !== 'sequential') {
    throw new EditError('bad-option', `unknown composition ${String(composition)}`);
  }
  // Sequential keeps the caller's order: there the order is the meaning.
  const dirs = prepare(directions, n, composition === 'summed');
  if (dirs.length === 0 || o.steps === 0) return { dims: [...x.dims], data: x.data.slice() };

  const totalCalls = composition === 'summed' ? o.steps : o.steps * dirs.length;
  let done = 0;
  const progress = (k: number) => {
    done += k;
    o.onProgress?.({ fraction: done / totalCalls, message: `guidance step ${done}/${totalCalls}` });
  };
  throwIfCancelled(o.signal);
  let cur: Float32Array = x.data.slice();
  if (composition === 'summed') {
    cur = await summedSteps(predictor, cur, dirs, o, progress);
  } else {
    for (const d of dirs) cur = await summedSteps(predictor, cur, [d], o, progress);
  }
  return { dims: [...x.dims], data: cur };
}

function checkRegion(region: Float32Array | undefined, n: number): void {
  if (region && region.length !== n) throw new EditError('bad-shape', `the edit region has ${region.length} weights, a sample has ${n}`);
}

/** The plain move x + Σ a_j·α·v_j (leaves the data manifold faster than guidance; for comparison), optionally × region. */
export function plainMove(x: Tensor, directions: readonly EditDirection[], alpha = 1, region?: Float32Array): Tensor {
  const n = x.data.length;
  const dirs = prepare(directions, n, true);
  checkRegion(region, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (const d of dirs) acc += d.sign * d.weight * alpha * d.v[i];
    out[i] = region ? x.data[i] + region[i] * acc : x.data[i] + acc;
  }
  return { dims: [...x.dims], data: out };
}

export type EditMode = 'guidance' | 'move';

export interface EditOptions extends GuidanceOptions {
  /** 'guidance' (default) or the plain move. */
  mode?: EditMode;
  /** α of the plain move. Default 1. */
  alpha?: number;
}

/** One entry point for both edit kinds; the plain move ignores the predictor. */
export async function editLatent(
  predictor: NoisePredictor,
  x: Tensor,
  directions: readonly EditDirection[],
  options: EditOptions,
): Promise<Tensor> {
  if ((options.mode ?? 'guidance') === 'move') {
    sampleSize(x, predictor);
    return plainMove(x, directions, options.alpha ?? 1, options.region);
  }
  return guidanceEdit(predictor, x, directions, options);
}
