/**
 * Similarity of local tangent spaces (method.md §6.3): principal angles between two k-dimensional subspaces and
 * the Grassmannian geodesic distance ‖θ‖₂, between samples at one timestep and between timesteps of one sample.
 *
 * The angles come from metrics.ts, which orthonormalises its inputs, so rows need only be linearly independent,
 * and the result depends on the spans alone: flipping the sign of a row or reordering rows changes nothing.
 */
import type { Tensor } from '../../tensor';
import { principalAngles } from '../metrics';

/** 'x': the latent directions V; 'h': the tangent directions U = J v / σ in the U-Net's h-space. */
export type SubspaceSpace = 'x' | 'h';
export const SUBSPACE_SPACES: readonly SubspaceSpace[] = ['x', 'h'];

export interface SubspaceComparison {
  /** Principal angles in radians, ascending. */
  angles: number[];
  /** ‖θ‖₂ (radians): the geodesic distance on the Grassmannian. */
  geodesic: number;
  /** Largest principal angle (radians). */
  maxAngle: number;
}

/** Compares span(rows of a) with span(rows of b); rows are [k, ...item] and need not be orthonormal. */
export function compareSubspaces(a: Tensor, b: Tensor): SubspaceComparison {
  const angles = principalAngles(a, b);
  // ‖θ‖₂ as in metrics.ts's grassmannDistance, taken from the same angles so they are computed once per pair.
  return { angles, geodesic: Math.hypot(...angles), maxAngle: angles.length ? angles[angles.length - 1] : 0 };
}

/** Distance between samples a < b at one timestep. */
export interface SampleSimilarity {
  timestep: number;
  space: SubspaceSpace;
  sampleA: number;
  sampleB: number;
  geodesic: number;
  maxAngle: number;
}

/** Distance between timesteps a < b (numerically) of one sample. */
export interface TimestepSimilarity {
  sample: number;
  timestepA: number;
  timestepB: number;
  space: SubspaceSpace;
  geodesic: number;
  maxAngle: number;
}

export interface IndexedSubspace {
  /** Sample position or timestep, depending on what is compared. */
  key: number;
  rows: Tensor;
}

/**
 * Every comparison is made with the smaller key first, so a pair gives bit-identical numbers however its ends
 * arrived (the analysis accumulates bases in completion order).
 */
function orderedComparison(p: IndexedSubspace, q: IndexedSubspace): { low: number; high: number } & SubspaceComparison {
  const [low, high] = p.key <= q.key ? [p, q] : [q, p];
  return { low: low.key, high: high.key, ...compareSubspaces(low.rows, high.rows) };
}

export function sampleSimilarity(timestep: number, space: SubspaceSpace, p: IndexedSubspace, q: IndexedSubspace): SampleSimilarity {
  const c = orderedComparison(p, q);
  return { timestep, space, sampleA: c.low, sampleB: c.high, geodesic: c.geodesic, maxAngle: c.maxAngle };
}

export function timestepSimilarity(sample: number, space: SubspaceSpace, p: IndexedSubspace, q: IndexedSubspace): TimestepSimilarity {
  const c = orderedComparison(p, q);
  return { sample, timestepA: c.low, timestepB: c.high, space, geodesic: c.geodesic, maxAngle: c.maxAngle };
}

function allPairs<T>(items: readonly IndexedSubspace[], make: (p: IndexedSubspace, q: IndexedSubspace) => T): T[] {
  const sorted = [...items].sort((p, q) => p.key - q.key);
  const out: T[] = [];
  for (let i = 0; i < sorted.length; i++) for (let j = i + 1; j < sorted.length; j++) out.push(make(sorted[i], sorted[j]));
  return out;
}

/** Every pair of samples a < b at one timestep; `subspaces[i]` is sample i's V (space 'x') or U (space 'h'). */
export function sampleSimilarities(timestep: number, space: SubspaceSpace, subspaces: readonly Tensor[]): SampleSimilarity[] {
  return allPairs(
    subspaces.map((rows, key) => ({ key, rows })),
    (p, q) => sampleSimilarity(timestep, space, p, q),
  );
}

/** Every pair of timesteps t_a < t_b of one sample; `key` of each entry is its timestep. */
export function timestepSimilarities(sample: number, space: SubspaceSpace, subspaces: readonly IndexedSubspace[]): TimestepSimilarity[] {
  return allPairs(subspaces, (p, q) => timestepSimilarity(sample, space, p, q));
}
