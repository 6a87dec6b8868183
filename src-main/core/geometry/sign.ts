/**
 * Sign convention, so that "direction 3, +" means the same edit on every run, seed and method.
 *
 * Singular vectors are defined up to sign (v, u) → (−v, −u). We fix it by a probe that depends on nothing but
 * the length n: p = a Gaussian vector from a constant seed (PROBE_SEED, never the user's seed). Each v_i is
 * flipped (together with u_i) so that v_i · p > 0. A plain rule like "largest |component| positive" flips
 * whenever two components of nearly equal size trade places between runs; a dense random probe only fails
 * when v_i is orthogonal to p to within the run-to-run noise, which for unit vectors in n dimensions is a
 * ~1/√n event per direction rather than a systematic one.
 */
import type { Rows } from './linalg';
import { dot, row } from './linalg';
import { GaussianRng } from '../diffusion/rng';

export const PROBE_SEED = 0x5ba5e5;

const probes = new Map<number, Float64Array>();

export function signProbe(n: number): Float64Array {
  let p = probes.get(n);
  if (!p) {
    p = new Float64Array(n);
    new GaussianRng(PROBE_SEED).fillNormal(p);
    probes.set(n, p);
  }
  return p;
}

/** Flips rows of v (and the same rows of each companion block, e.g. U) so that v_i · probe ≥ 0. */
export function applySignConvention(v: Rows, companions: readonly Rows[] = []): boolean[] {
  const p = signProbe(v.n);
  const flipped: boolean[] = [];
  for (let i = 0; i < v.count; i++) {
    const flip = dot(row(v, i), p) < 0;
    flipped.push(flip);
    if (!flip) continue;
    for (const block of [v, ...companions]) {
      const r = row(block, i);
      for (let t = 0; t < r.length; t++) r[t] = -r[t];
    }
  }
  return flipped;
}
