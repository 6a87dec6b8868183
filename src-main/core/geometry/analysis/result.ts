/**
 * The data model of a geometry analysis: local bases of a set of samples × a set of timesteps, reduced to what
 * the paper's analyses (method.md §6.1–6.3) plot: σ, the frequency content of each direction and distances
 * between tangent spaces. Plain numbers and arrays only, so a result is JSON as it stands (engine → renderer,
 * analysis.json) and a partial one can be sent after every basis.
 */
import type { Tensor } from '../../tensor';
import { GeometryError } from '../errors';
import type { BasisMethod, JacobianProductCount } from '../types';
import type { SampleSimilarity, TimestepSimilarity } from './similarity';
import type { PromptCorrelation, PromptSimilarity } from './prompts';

/** Where a sample's x_t comes from; mirrors the jobs' seed / xt / image sources. */
export type AnalysisSampleSource =
  | { kind: 'seed'; seed: number }
  | { kind: 'xt'; file: string }
  | { kind: 'image'; file: string };

export interface AnalysisSample {
  /** Shown in tables and plots (e.g. "seed 3", a file name). */
  label: string;
  source: AnalysisSampleSource;
  /** Text-conditioned models analysed at several prompts: the prompt of this sample's path and J. */
  prompt?: string;
  /** With prompts: the 0-based input position and the index into settings.prompts (sample = input · P + promptIndex). */
  input?: number;
  promptIndex?: number;
}

export interface AnalysisSettings {
  modelHash: string;
  k: number;
  method: BasisMethod;
  tol: number;
  /** Schedule length the timesteps were snapped to. */
  steps: number;
  /** Exact integer timesteps fed to the U-Net, ascending and distinct (normaliseSettings sorts them). */
  timesteps: number[];
  /** Index in this list = the `sample` number used everywhere else. */
  samples: AnalysisSample[];
  /** h tensor (e.g. 'auto' or a node name) and basis seed, when the caller wants them on record. */
  h?: string;
  basisSeed?: number;
  /** Text models analysed at several prompts, in the order given; with the negative prompt and guidance of the paths. */
  prompts?: string[];
  negativePrompt?: string;
  guidanceScale?: number;
}

/** The basis job's output as the analysis needs it: LocalBasis plus the cache and warm-start flags. */
export interface FinishedBasis {
  V: Tensor;
  S: Tensor;
  U: Tensor;
  iterations: number;
  converged: boolean;
  jacobianProducts: JacobianProductCount;
  residuals: readonly number[];
  seconds: number;
  cacheHit?: boolean;
  warmStarted?: boolean;
  /** Where the engine's basis cache keeps it, so a client can open exactly this basis later without recomputing. */
  cacheId?: string;
}

export interface BasisRecord {
  sample: number;
  timestep: number;
  /** σ_i, descending. */
  sigma: number[];
  /** Latent grid of the directions; radius bins are cycles per image on it. */
  height: number;
  width: number;
  /** Per direction: normalised power per radius bin (frequency.ts). */
  power: number[][];
  /** Per direction: power share at radius ≤ W/8. */
  lowFrequencyShare: number[];
  iterations: number;
  converged: boolean;
  jacobianProducts: JacobianProductCount;
  residualMax: number;
  seconds: number;
  cacheHit: boolean;
  warmStarted: boolean;
  cacheId?: string;
}

export const ANALYSIS_FORMAT = 'pullback-geometry-analysis';

export interface AnalysisResult {
  format: typeof ANALYSIS_FORMAT;
  version: 1;
  settings: AnalysisSettings;
  /** Ordered by sample, then timestep (ascending). A partial result holds the bases finished so far. */
  bases: BasisRecord[];
  /** Ordered by timestep, space (x, h), sample a, sample b; every a < b whose two bases exist. */
  sampleSimilarities: SampleSimilarity[];
  /** Ordered by sample, timestep a, timestep b, space (x, h); every t_a < t_b whose two bases exist. */
  timestepSimilarities: TimestepSimilarity[];
  /** With ≥ 2 prompts: cosine of the flattened text embeddings of every prompt pair a < b (prompts.ts). */
  promptSimilarities?: PromptSimilarity[];
  /** With ≥ 2 prompts: per timestep and space, r(embedding cosine, geodesic) over same-input pairs (prompts.ts). */
  promptCorrelations?: PromptCorrelation[];
}

/** Checks settings and returns a copy with timesteps sorted ascending (the order every table and plot uses). */
export function normaliseSettings(settings: AnalysisSettings): AnalysisSettings {
  const bad = (message: string) => new GeometryError('bad-option', message);
  if (!Number.isInteger(settings.k) || settings.k < 1) throw bad(`k must be a positive integer, got ${settings.k}`);
  if (settings.samples.length === 0) throw bad('an analysis needs at least one sample');
  if (settings.timesteps.length === 0) throw bad('an analysis needs at least one timestep');
  if (settings.timesteps.some((t) => !Number.isInteger(t) || t < 0)) {
    throw bad(`timesteps must be non-negative integers, got [${settings.timesteps.join(', ')}]`);
  }
  const timesteps = [...settings.timesteps].sort((a, b) => a - b);
  if (timesteps.some((t, i) => i > 0 && t === timesteps[i - 1])) throw bad(`timesteps repeat: [${settings.timesteps.join(', ')}]`);
  const P = settings.prompts?.length ?? 0;
  for (const [i, s] of settings.samples.entries()) {
    if ((s.input === undefined) !== (s.promptIndex === undefined)) throw bad(`sample ${i}: give both input and promptIndex, or neither`);
    if (s.promptIndex !== undefined && (!Number.isInteger(s.promptIndex) || s.promptIndex < 0 || s.promptIndex >= P)) {
      throw bad(`sample ${i}: promptIndex ${s.promptIndex} is not in [0, ${P})`);
    }
  }
  return {
    ...settings,
    timesteps,
    samples: settings.samples.map((s) => ({ ...s, source: { ...s.source } })),
    ...(settings.prompts ? { prompts: [...settings.prompts] } : {}),
  };
}

/** True once every (sample, timestep) basis is in and so every similarity pair. */
export function isComplete(result: AnalysisResult): boolean {
  return result.bases.length === result.settings.samples.length * result.settings.timesteps.length;
}

export function basisRecord(result: AnalysisResult, sample: number, timestep: number): BasisRecord | undefined {
  return result.bases.find((b) => b.sample === sample && b.timestep === timestep);
}
