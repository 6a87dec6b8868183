/**
 * Builds an AnalysisResult from bases that finish one by one, in any order (cache hits return at once, others
 * take minutes). Each basis is reduced to its record on arrival, and each similarity is computed as soon as
 * both of its ends exist, so the engine can stream a partial result after every basis and the final result
 * does not depend on the arrival order.
 *
 * V and U are kept only until every pair they belong to is computed: an analysis of many samples × timesteps
 * would otherwise hold every basis (U alone is k × |h| floats per basis).
 */
import type { Tensor } from '../../tensor';
import { GeometryError } from '../errors';
import { directionSpectra, lowFrequencyShare } from './frequency';
import { ANALYSIS_FORMAT, normaliseSettings } from './result';
import type { AnalysisResult, AnalysisSettings, BasisRecord, FinishedBasis } from './result';
import { SUBSPACE_SPACES, sampleSimilarity, timestepSimilarity } from './similarity';
import type { SampleSimilarity, SubspaceSpace, TimestepSimilarity } from './similarity';
import { promptCorrelations, promptSimilarities, type PromptSimilarity } from './prompts';

/** What one `add` contributed: the new record and the similarities it completed (canonical order). */
export interface AddedBasis {
  record: BasisRecord;
  sampleSimilarities: SampleSimilarity[];
  timestepSimilarities: TimestepSimilarity[];
}

/** Reduces a finished basis to its record: σ, spectra and stats. */
export function basisRecordOf(sample: number, timestep: number, basis: FinishedBasis): BasisRecord {
  const { V, S, U } = basis;
  const k = V.dims[0];
  if (V.dims.length < 3 || S.data.length !== k || U.dims[0] !== k) {
    throw new GeometryError(
      'bad-shape',
      `basis needs V [k, ..., H, W], S [k] and U [k, ...h] with one k; got V [${V.dims.join(', ')}], S [${S.dims.join(', ')}], U [${U.dims.join(', ')}]`,
    );
  }
  const height = V.dims[V.dims.length - 2];
  const width = V.dims[V.dims.length - 1];
  const power = directionSpectra(V).map((s) => s.power);
  return {
    sample,
    timestep,
    sigma: Array.from(S.data),
    height,
    width,
    power,
    lowFrequencyShare: power.map((p) => lowFrequencyShare(p, width)),
    iterations: basis.iterations,
    converged: basis.converged,
    jacobianProducts: { ...basis.jacobianProducts },
    residualMax: basis.residuals.reduce((m, r) => Math.max(m, r), 0),
    seconds: basis.seconds,
    cacheHit: basis.cacheHit ?? false,
    warmStarted: basis.warmStarted ?? false,
    ...(basis.cacheId ? { cacheId: basis.cacheId } : {}),
  };
}

const SPACE_ORDER: Record<SubspaceSpace, number> = { x: 0, h: 1 };

export function compareSampleSimilarities(p: SampleSimilarity, q: SampleSimilarity): number {
  return p.timestep - q.timestep || SPACE_ORDER[p.space] - SPACE_ORDER[q.space] || p.sampleA - q.sampleA || p.sampleB - q.sampleB;
}

export function compareTimestepSimilarities(p: TimestepSimilarity, q: TimestepSimilarity): number {
  return p.sample - q.sample || p.timestepA - q.timestepA || p.timestepB - q.timestepB || SPACE_ORDER[p.space] - SPACE_ORDER[q.space];
}

export function compareBasisRecords(p: BasisRecord, q: BasisRecord): number {
  return p.sample - q.sample || p.timestep - q.timestep;
}

type Subspaces = Record<SubspaceSpace, Tensor>;

export class AnalysisAccumulator {
  readonly settings: AnalysisSettings;
  private readonly records = new Map<string, BasisRecord>();
  private readonly held = new Map<string, { sample: number; timestep: number; subspaces: Subspaces }>();
  private readonly sampleSims: SampleSimilarity[] = [];
  private readonly timestepSims: TimestepSimilarity[] = [];
  /** With ≥ 2 prompts: their embeddings' cosines, fixed before any basis arrives. */
  readonly promptSimilarities?: PromptSimilarity[];

  /**
   * `promptEmbeddings`: with settings.prompts, each prompt's text embedding flattened (the engine's
   * last_hidden_state, [L·D]), in the prompts' order; only their pairwise cosines are kept.
   */
  constructor(settings: AnalysisSettings, options: { promptEmbeddings?: readonly ArrayLike<number>[] } = {}) {
    this.settings = normaliseSettings(settings);
    const P = this.settings.prompts?.length ?? 0;
    if (options.promptEmbeddings) {
      if (options.promptEmbeddings.length !== P) {
        throw new GeometryError('bad-option', `${options.promptEmbeddings.length} prompt embeddings for ${P} prompts`);
      }
      if (P >= 2) this.promptSimilarities = promptSimilarities(options.promptEmbeddings);
    }
  }

  private static key(sample: number, timestep: number): string {
    return `${sample}@${timestep}`;
  }

  has(sample: number, timestep: number): boolean {
    return this.records.has(AnalysisAccumulator.key(sample, timestep));
  }

  get complete(): boolean {
    return this.records.size === this.settings.samples.length * this.settings.timesteps.length;
  }

  /** Adds the basis of `sample` (0-based input position) at `timestep` (one of the settings' timesteps). */
  add(sample: number, timestep: number, basis: FinishedBasis): AddedBasis {
    const { samples, timesteps } = this.settings;
    if (!Number.isInteger(sample) || sample < 0 || sample >= samples.length) {
      throw new GeometryError('bad-option', `sample ${sample} is not in [0, ${samples.length})`);
    }
    if (!timesteps.includes(timestep)) throw new GeometryError('bad-option', `timestep ${timestep} is not one of the analysis timesteps`);
    const key = AnalysisAccumulator.key(sample, timestep);
    if (this.records.has(key)) throw new GeometryError('bad-option', `sample ${sample} at timestep ${timestep} was already added`);

    const record = basisRecordOf(sample, timestep, basis);
    const subspaces: Subspaces = { x: basis.V, h: basis.U };
    const added: AddedBasis = { record, sampleSimilarities: [], timestepSimilarities: [] };
    for (const other of this.held.values()) {
      for (const space of SUBSPACE_SPACES) {
        const self = subspaces[space];
        const theirs = other.subspaces[space];
        if (other.timestep === timestep) {
          added.sampleSimilarities.push(sampleSimilarity(timestep, space, { key: sample, rows: self }, { key: other.sample, rows: theirs }));
        }
        if (other.sample === sample) {
          added.timestepSimilarities.push(timestepSimilarity(sample, space, { key: timestep, rows: self }, { key: other.timestep, rows: theirs }));
        }
      }
    }
    added.sampleSimilarities.sort(compareSampleSimilarities);
    added.timestepSimilarities.sort(compareTimestepSimilarities);

    this.records.set(key, record);
    this.held.set(key, { sample, timestep, subspaces });
    this.sampleSims.push(...added.sampleSimilarities);
    this.timestepSims.push(...added.timestepSimilarities);
    this.releaseFinishedSubspaces();
    return added;
  }

  /** Drops V/U of every basis whose row (all timesteps of its sample) and column (all samples at its t) are in. */
  private releaseFinishedSubspaces(): void {
    const { samples, timesteps } = this.settings;
    for (const [key, h] of this.held) {
      const columnDone = samples.every((_, s) => this.has(s, h.timestep));
      const rowDone = timesteps.every((t) => this.has(h.sample, t));
      if (columnDone && rowDone) this.held.delete(key);
    }
  }

  /** A snapshot in canonical order; safe to serialise or hand to csv/plots/report while more bases arrive. */
  result(): AnalysisResult {
    const result: AnalysisResult = {
      format: ANALYSIS_FORMAT,
      version: 1,
      settings: structuredClone(this.settings),
      bases: structuredClone([...this.records.values()].sort(compareBasisRecords)),
      sampleSimilarities: this.sampleSims.map((s) => ({ ...s })).sort(compareSampleSimilarities),
      timestepSimilarities: this.timestepSims.map((s) => ({ ...s })).sort(compareTimestepSimilarities),
    };
    if (!this.promptSimilarities) return result;
    result.promptSimilarities = this.promptSimilarities.map((p) => ({ ...p }));
    // Recomputed from the pairs present, so a partial result's correlations cover the bases finished so far.
    result.promptCorrelations = promptCorrelations(result);
    return result;
  }
}
