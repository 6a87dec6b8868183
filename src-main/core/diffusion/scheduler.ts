/**
 * Noise schedules read from a diffusers `scheduler_config.json`.
 * Betas follow diffusers' DDPMScheduler/DDIMScheduler formulas exactly; ᾱ is accumulated in float64.
 */
import { ModelFolderError } from './errors';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  predictionType: PredictionType;
  /** Explicit betas (diffusers `trained_betas`) override the schedule when present. */
  trainedBetas?: number[];
  /**
   * diffusers `clip_sample`: clamp the predicted x̂0 to ±clipSampleRange in each sampling step (the ε of the
   * direction term stays the model's prediction, as in DDIMScheduler.step). Absent means true, diffusers'
   * DDIMScheduler/DDPMScheduler default. Never applied during inversion (x̂0 of a real image is not clipped there).
   */
  clipSample: boolean;
  /** diffusers `clip_sample_range` (default 1.0). */
  clipSampleRange: number;
}

/**
 * Most training timesteps accepted. Published models use 1000 (a few 2000–4000); every table of the schedule is this
 * long, so 1e8 would cost seconds and gigabytes before the first step and 1e12 cannot be allocated at all.
 */
export const MAX_TRAIN_TIMESTEPS = 100_000;

const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];

/** Validate a parsed scheduler_config.json; `file` is named in every error. Defaults are diffusers' defaults. */
export function parseSchedulerConfig(json: unknown, file: string): SchedulerConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFolderError('bad-scheduler', file, 'expected a JSON object');
  }
  const o = json as Record<string, unknown>;
  const num = (key: string, dflt: number): number => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ModelFolderError('bad-scheduler', file, `"${key}" must be a number`);
    }
    return v;
  };
  const numTrainTimesteps = num('num_train_timesteps', 1000);
  if (!Number.isInteger(numTrainTimesteps) || numTrainTimesteps < 2) {
    throw new ModelFolderError('bad-scheduler', file, '"num_train_timesteps" must be an integer >= 2');
  }
  if (numTrainTimesteps > MAX_TRAIN_TIMESTEPS) {
    throw new ModelFolderError('bad-scheduler', file, `"num_train_timesteps" is ${numTrainTimesteps}; at most ${MAX_TRAIN_TIMESTEPS} are supported`);
  }
  const betaSchedule = (o.beta_schedule ?? 'linear') as BetaSchedule;
  if (!BETA_SCHEDULES.includes(betaSchedule)) {
    throw new ModelFolderError(
      'bad-scheduler',
      file,
      `beta_schedule "${String(o.beta_schedule)}" is not supported (use ${BETA_SCHEDULES.join(', ')})`,
    );
  }
  const predictionType = (o.prediction_type ?? 'epsilon') as PredictionType;
  if (!PREDICTION_TYPES.includes(predictionType)) {
    throw new ModelFolderError(
      'bad-scheduler',
      file,
      `prediction_type "${String(o.prediction_type)}" is not supported (use ${PREDICTION_TYPES.join(', ')})`,
    );
  }
  let trainedBetas: number[] | undefined;
  if (o.trained_betas !== undefined && o.trained_betas !== null) {
    const tb = o.trained_betas;
    if (!Array.isArray(tb) || tb.length !== numTrainTimesteps || tb.some((b) => typeof b !== 'number' || !(b > 0 && b < 1))) {
      throw new ModelFolderError('bad-scheduler', file, '"trained_betas" must be num_train_timesteps numbers in (0, 1)');
    }
    trainedBetas = tb as number[];
  }
  const clipSample = o.clip_sample ?? true;
  if (typeof clipSample !== 'boolean') throw new ModelFolderError('bad-scheduler', file, '"clip_sample" must be true or false');
  const clipSampleRange = num('clip_sample_range', 1);
  if (!(clipSampleRange > 0)) throw new ModelFolderError('bad-scheduler', file, '"clip_sample_range" must be > 0');
  const config: SchedulerConfig = {
    numTrainTimesteps,
    betaStart: num('beta_start', 0.0001),
    betaEnd: num('beta_end', 0.02),
    betaSchedule,
    predictionType,
    trainedBetas,
    clipSample,
    clipSampleRange,
  };
  if (!(config.betaStart > 0 && config.betaEnd < 1 && config.betaStart <= config.betaEnd)) {
    throw new ModelFolderError('bad-scheduler', file, 'need 0 < beta_start <= beta_end < 1');
  }
  return config;
}

/** The x̂0 clamp range for sampling steps, or undefined when the model does not clip (pass to ddimStep's `clip`). */
export function sampleClipRange(config: Pick<SchedulerConfig, 'clipSample' | 'clipSampleRange'>): number | undefined {
  return config.clipSample ? config.clipSampleRange : undefined;
}

/** numpy/torch linspace in float64. */
function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = a + step * i;
  out[n - 1] = b;
  return out;
}

/** β_t for t = 0..T-1 as diffusers computes them (linear/scaled_linear are built in float32 there, so round). */
export function betas(config: SchedulerConfig): Float64Array {
  const T = config.numTrainTimesteps;
  if (config.trainedBetas) return Float64Array.from(config.trainedBetas);
  switch (config.betaSchedule) {
    case 'linear':
      return linspace(config.betaStart, config.betaEnd, T).map(Math.fround);
    case 'scaled_linear':
      return linspace(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), T).map((b) => Math.fround(Math.fround(b) ** 2));
    case 'squaredcos_cap_v2': {
      // diffusers betas_for_alpha_bar(cosine): β_i = min(1 - ᾱ((i+1)/T)/ᾱ(i/T), 0.999).
      const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      const out = new Float64Array(T);
      for (let i = 0; i < T; i++) out[i] = Math.fround(Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), 0.999));
      return out;
    }
  }
}

/** ᾱ_t = ∏_{s<=t} (1 - β_s), t = 0..T-1, in float64. */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const b = betas(config);
  const out = new Float64Array(b.length);
  let acc = 1;
  for (let i = 0; i < b.length; i++) {
    acc *= 1 - b[i];
    out[i] = acc;
  }
  return out;
}

/**
 * Convert a model output to ε at one timestep (in place on a copy). v-prediction: ε = √ᾱ·v + √(1-ᾱ)·x;
 * sample prediction: ε = (x - √ᾱ·x̂0)/√(1-ᾱ).
 */
export function toEpsilon(output: Float32Array, x: Float32Array, alphaBar: number, type: PredictionType): Float32Array {
  if (type === 'epsilon') return output;
  const sa = Math.sqrt(alphaBar);
  const s1 = Math.sqrt(1 - alphaBar);
  const eps = new Float32Array(output.length);
  if (type === 'v_prediction') {
    for (let i = 0; i < eps.length; i++) eps[i] = sa * output[i] + s1 * x[i];
  } else {
    for (let i = 0; i < eps.length; i++) eps[i] = (x[i] - sa * output[i]) / s1;
  }
  return eps;
}
