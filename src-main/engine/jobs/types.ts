/** What an engine job is: `run` executes in the worker thread; `finalize` (optional) on the host, e.g. PNG encoding. */
import type { ProgressFn } from '../../core/jobs';
import type { JobName, JobOutput, JobParsedInput, Provider, ProviderPreference } from '../../shared/api';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import type { NoisePredictor } from '../../core/diffusion/generate';

export interface LoadedModel {
  model: ModelFolder;
  predictor: NoisePredictor;
  provider: Provider;
  fallbackReason?: string;
}

/** Worker-side services a job may use. The worker owns every ORT session; jobs only see these interfaces. */
export interface JobContext {
  signal: AbortSignal;
  onProgress: ProgressFn;
  /** Open a model folder (validated) and its U-Net session, cached across jobs. */
  loadModel(dir: string, provider: ProviderPreference): Promise<LoadedModel>;
  /** Validate a model folder without creating a session. */
  inspectModel(dir: string): Promise<ModelFolder>;
}

export interface EngineJob<N extends JobName, R> {
  readonly name: N;
  run(input: JobParsedInput<N>, ctx: JobContext): Promise<R>;
  /** Host side: turn the worker's result into the API output. Identity when absent. */
  finalize?(result: R): Promise<JobOutput<N>>;
}
