/**
 * What an engine job is: `run` executes in the worker thread and returns its API output, except that images may
 * still be raw pixels (the host encodes them, host/encode-images.ts).
 */
import type { ProgressFn } from '../../core/progress';
import type { JobName, JobOutput, JobParsedInput, Provider, ProviderPreference } from '../../shared/api';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import type { NoisePredictor } from '../../core/diffusion/generate';
import type { JacobianSessions } from '../worker/jacobian-operator';
import type { TextPipeline } from '../worker/text-pipeline';
import type { WithRawImages } from '../host/encode-images';

export interface LoadedModel {
  model: ModelFolder;
  predictor: NoisePredictor;
  provider: Provider;
  fallbackReason?: string;
  /** Text-conditioned models: tokenizer, text encoder, conditioned predictors and the VAE. */
  text?: TextPipeline;
}

/** Worker-side services a job may use. The worker owns every ORT session; jobs only see these interfaces. */
export interface JobContext {
  signal: AbortSignal;
  onProgress: ProgressFn;
  /** Open a model folder (validated) and its U-Net session, cached across jobs. */
  loadModel(dir: string, provider: ProviderPreference): Promise<LoadedModel>;
  /** Validate a model folder without creating a session. */
  inspectModel(dir: string): Promise<ModelFolder>;
  /** Derived Jacobian graphs and their sessions (J = ∂h/∂x_t at a point), kept across jobs like the model. */
  jacobians: JacobianSessions;
}

export interface EngineJob<N extends JobName, R extends WithRawImages<JobOutput<N>> = WithRawImages<JobOutput<N>>> {
  readonly name: N;
  run(input: JobParsedInput<N>, ctx: JobContext): Promise<R>;
}
