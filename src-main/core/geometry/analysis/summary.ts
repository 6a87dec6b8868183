/**
 * Reductions of an AnalysisResult to the series the plots and the report show (means over samples, and over
 * directions where a single number per timestep is wanted). They accept partial results: every mean is over
 * whatever is present, with its count, so a streamed view fills in as bases arrive.
 */
import type { AnalysisResult } from './result';
import type { SubspaceSpace } from './similarity';
import { SUBSPACE_SPACES } from './similarity';
import { pearsonOrNull } from './correlation';

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1); 0 when fewer than two values. */
  std: number;
  count: number;
}

export function meanAndStd(values: readonly number[]): MeanStd {
  const count = values.length;
  if (count === 0) return { mean: NaN, std: 0, count };
  const mean = values.reduce((a, b) => a + b, 0) / count;
  if (count < 2) return { mean, std: 0, count };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (count - 1);
  return { mean, std: Math.sqrt(variance), count };
}

/** Mean σ_i over samples, per timestep and direction index (0-based). */
export interface SigmaPoint extends MeanStd {
  timestep: number;
  index: number;
}

/** Mean normalised power over samples and directions, per timestep and radius bin. */
export interface FrequencyCell extends MeanStd {
  timestep: number;
  radius: number;
}

/** Mean over samples (and directions, for the low-frequency share) of a per-timestep quantity. */
export interface TimestepPoint extends MeanStd {
  timestep: number;
}

/** Mean geodesic distance over all sample pairs at one timestep. */
export interface DistancePoint extends MeanStd {
  timestep: number;
  space: SubspaceSpace;
}

/** One cell of a symmetric distance matrix (rows/columns are timesteps or sample positions). */
export interface MatrixCell {
  a: number;
  b: number;
  geodesic: number;
  maxAngle: number;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function basesAt(result: AnalysisResult, timestep: number) {
  return result.bases.filter((b) => b.timestep === timestep);
}

export function sigmaSummary(result: AnalysisResult): SigmaPoint[] {
  const out: SigmaPoint[] = [];
  for (const timestep of result.settings.timesteps) {
    const bases = basesAt(result, timestep);
    const k = Math.max(0, ...bases.map((b) => b.sigma.length));
    for (let index = 0; index < k; index++) {
      const values = bases.filter((b) => index < b.sigma.length).map((b) => b.sigma[index]);
      out.push({ timestep, index, ...meanAndStd(values) });
    }
  }
  return out;
}

export function frequencySummary(result: AnalysisResult): FrequencyCell[] {
  const out: FrequencyCell[] = [];
  for (const timestep of result.settings.timesteps) {
    const spectra = basesAt(result, timestep).flatMap((b) => b.power);
    const bins = Math.max(0, ...spectra.map((p) => p.length));
    for (let radius = 0; radius < bins; radius++) {
      out.push({ timestep, radius, ...meanAndStd(spectra.filter((p) => radius < p.length).map((p) => p[radius])) });
    }
  }
  return out;
}

/** Low-frequency share (radius ≤ W/8) averaged over samples and directions. */
export function lowFrequencyShareSummary(result: AnalysisResult): TimestepPoint[] {
  return result.settings.timesteps
    .map((timestep) => ({ timestep, ...meanAndStd(basesAt(result, timestep).flatMap((b) => b.lowFrequencyShare)) }))
    .filter((p) => p.count > 0);
}

export function sampleDistanceSummary(result: AnalysisResult): DistancePoint[] {
  const groups = groupBy(result.sampleSimilarities, (s) => `${s.timestep}/${s.space}`);
  const out: DistancePoint[] = [];
  for (const timestep of result.settings.timesteps) {
    for (const space of SUBSPACE_SPACES) {
      const pairs = groups.get(`${timestep}/${space}`);
      if (pairs) out.push({ timestep, space, ...meanAndStd(pairs.map((p) => p.geodesic)) });
    }
  }
  return out;
}

function symmetricMatrix(present: readonly number[], pairs: readonly MatrixCell[]): MatrixCell[] {
  const cells: MatrixCell[] = present.map((key) => ({ a: key, b: key, geodesic: 0, maxAngle: 0 }));
  for (const p of pairs) cells.push(p, { ...p, a: p.b, b: p.a });
  return cells.sort((p, q) => p.a - q.a || p.b - q.b);
}

/** t × t distances of one sample (both triangles and a zero diagonal, for a heat map). */
export function timestepDistanceMatrix(result: AnalysisResult, sample: number, space: SubspaceSpace): MatrixCell[] {
  const present = result.bases.filter((b) => b.sample === sample).map((b) => b.timestep);
  const pairs = result.timestepSimilarities
    .filter((s) => s.sample === sample && s.space === space)
    .map((s) => ({ a: s.timestepA, b: s.timestepB, geodesic: s.geodesic, maxAngle: s.maxAngle }));
  return symmetricMatrix(present, pairs);
}

/** sample × sample distances at one timestep (both triangles and a zero diagonal). */
export function sampleDistanceMatrix(result: AnalysisResult, timestep: number, space: SubspaceSpace): MatrixCell[] {
  const present = basesAt(result, timestep).map((b) => b.sample);
  const pairs = result.sampleSimilarities
    .filter((s) => s.timestep === timestep && s.space === space)
    .map((s) => ({ a: s.sampleA, b: s.sampleB, geodesic: s.geodesic, maxAngle: s.maxAngle }));
  return symmetricMatrix(present, pairs);
}

export interface ModelResult {
  /** Shown in legends, e.g. the model folder's name. */
  label: string;
  result: AnalysisResult;
}

export type ModelTagged<T> = T & { model: string };

/** Series of several models' analyses, tagged with the model label, for overlay plots. */
export interface ModelOverlay {
  models: string[];
  sigma: ModelTagged<SigmaPoint>[];
  lowFrequencyShare: ModelTagged<TimestepPoint>[];
  sampleDistance: ModelTagged<DistancePoint>[];
}

export function overlayModels(models: readonly ModelResult[]): ModelOverlay {
  const labels = models.map((m) => m.label);
  if (new Set(labels).size !== labels.length) throw new RangeError(`overlay model labels must differ: ${labels.join(', ')}`);
  const tag = <T>(model: string, points: T[]): ModelTagged<T>[] => points.map((p) => ({ ...p, model }));
  return {
    models: labels,
    sigma: models.flatMap((m) => tag(m.label, sigmaSummary(m.result))),
    lowFrequencyShare: models.flatMap((m) => tag(m.label, lowFrequencyShareSummary(m.result))),
    sampleDistance: models.flatMap((m) => tag(m.label, sampleDistanceSummary(m.result))),
  };
}

/** How a per-timestep quantity changes from the largest timestep to the smallest (generation order). */
export interface TrendTowardZero {
  largestTimestep: number;
  smallestTimestep: number;
  atLargest: number;
  atSmallest: number;
  /** Spearman rank correlation of the value with t: > 0 means the value falls as t → 0. */
  rankCorrelation: number;
}

function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((p, q) => p.v - q.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    // Ties share the mean of their ranks, as Spearman's coefficient defines.
    for (let j = start; j <= end; j++) out[order[j].i] = (start + end) / 2;
    start = end + 1;
  }
  return out;
}


/** Undefined with fewer than two timesteps (no trend to speak of). */
export function trendTowardZero(points: readonly { timestep: number; mean: number }[]): TrendTowardZero | undefined {
  const valid = points.filter((p) => Number.isFinite(p.mean)).sort((p, q) => p.timestep - q.timestep);
  if (valid.length < 2) return undefined;
  const first = valid[valid.length - 1];
  const last = valid[0];
  return {
    largestTimestep: first.timestep,
    smallestTimestep: last.timestep,
    atLargest: first.mean,
    atSmallest: last.mean,
    rankCorrelation: pearsonOrNull(ranks(valid.map((p) => p.timestep)), ranks(valid.map((p) => p.mean))) ?? 0,
  };
}
