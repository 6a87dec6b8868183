/**
 * The one API contract between the UI and the engine, carried by Electron IPC (preload) and by WebSocket (web mode).
 * Commands are request/response; jobs are long-running commands with progress events and cancel.
 *
 * To add an engine job: add its input/output schemas to `JOBS` below, write `src-main/engine/jobs/<name>.ts`,
 * and list it in `src-main/engine/jobs/index.ts`. Clients then call `runJob(client, '<name>', input, {onProgress})`.
 * No Node or Electron imports here: the renderer imports this file too.
 */
import { z } from 'zod';
import { ApiErrorSchema } from './errors';
import type { ProjectRequest } from './project-api';

const bytes = z.instanceof(Uint8Array);

export const PROVIDERS = ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export const ProviderPreferenceSchema = z.enum(['auto', ...PROVIDERS]);
export type Provider = z.infer<typeof ProviderSchema>;
export type ProviderPreference = z.infer<typeof ProviderPreferenceSchema>;

export const EncodedImageSchema = z.object({
  mime: z.literal('image/png'),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** PNG file bytes: binary on both transports (structured clone over IPC, binary frames over WebSocket). */
  bytes,
});
export type EncodedImage = z.infer<typeof EncodedImageSchema>;

const modelDir = z.string().min(1).max(4096);

const ValueInfoSchema = z.object({
  name: z.string(),
  type: z.string(),
  dims: z.array(z.union([z.number(), z.string(), z.null()])),
});

export const ModelInfoSchema = z.object({
  dir: z.string(),
  name: z.string(),
  scheduler: z.object({
    numTrainTimesteps: z.number(),
    betaSchedule: z.string(),
    betaStart: z.number(),
    betaEnd: z.number(),
    predictionType: z.string(),
  }),
  unet: z.object({
    file: z.string(),
    inputs: z.array(ValueInfoSchema),
    outputs: z.array(ValueInfoSchema),
    sampleDims: z.array(z.number()),
    timestep: z.object({ type: z.string(), rank: z.number() }),
    weightsBytes: z.number(),
  }),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const GenerateInputSchema = z.object({
  modelDir,
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  steps: z.number().int().min(1).max(1000),
  eta: z.number().min(0).max(1).default(0),
  batch: z.number().int().min(1).max(16).default(1),
  provider: ProviderPreferenceSchema.default('auto'),
});

export const GenerateOutputSchema = z.object({
  images: z.array(EncodedImageSchema),
  /** The execution provider that actually ran the U-Net. */
  provider: ProviderSchema,
  /** Why the preferred provider was not used, when it was not. */
  fallbackReason: z.string().optional(),
  timesteps: z.array(z.number().int()),
  elapsedMs: z.number(),
});

/** Every engine job: name → input and output schemas. */
export const JOBS = {
  'model.info': {
    input: z.object({ modelDir }),
    output: ModelInfoSchema,
  },
  generate: {
    input: GenerateInputSchema,
    output: GenerateOutputSchema,
  },
} as const;

export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];
/** What a caller passes (defaults optional). */
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]['input']>;
/** What the engine sees after validation (defaults filled). */
export type JobParsedInput<N extends JobName> = z.output<(typeof JOBS)[N]['input']>;
export type JobOutput<N extends JobName> = z.output<(typeof JOBS)[N]['output']>;

export const StartJobRequestSchema = z.object({ name: z.enum(JOB_NAMES as [JobName, ...JobName[]]), input: z.unknown() });
export const CancelJobRequestSchema = z.object({ jobId: z.string().min(1).max(64) });

export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('queued'), jobId: z.string(), name: z.string() }),
  z.object({
    type: z.literal('progress'),
    jobId: z.string(),
    fraction: z.number().min(0).max(1),
    message: z.string(),
    /** Estimated time left, from the elapsed time and fraction; absent until the first progress. */
    etaMs: z.number().optional(),
  }),
  z.object({ type: z.literal('done'), jobId: z.string(), name: z.string(), output: z.unknown() }),
  z.object({ type: z.literal('error'), jobId: z.string(), error: ApiErrorSchema }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

export const AppInfoSchema = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'web']),
  /** Models shipped in resources/models (empty until the default model exists). */
  bundledModels: z.array(z.object({ name: z.string(), dir: z.string() })),
  /** Whether pickModelFolder() can show a native dialog (Electron) or the UI must ask for a path. */
  canPickFolder: z.boolean(),
  providers: z.array(ProviderSchema),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export type Unsubscribe = () => void;

/**
 * What the renderer talks to. Implemented by the preload bridge (IPC) and by WsClient (web mode);
 * on the main side by ApiService, which both transports call.
 */
export interface PullbackApi {
  getAppInfo(): Promise<AppInfo>;
  /** Native folder dialog; resolves null when cancelled or when the transport has no dialog (web mode). */
  pickModelFolder(): Promise<string | null>;
  startJob(name: JobName, input: unknown): Promise<{ jobId: string }>;
  cancelJob(jobId: string): Promise<void>;
  /** Every job event of this client; returns the unsubscribe. */
  onJobEvent(listener: (e: JobEvent) => void): Unsubscribe;
  /** Projects: New/Open/Save/Recent and crash recovery (request and replies: shared/project-api.ts, `callProject`). */
  project(req: ProjectRequest): Promise<unknown>;
}

/** Command names of the request/response part of the API (IPC channels: shared/ipc.ts). */
export const COMMANDS = ['getAppInfo', 'pickModelFolder', 'startJob', 'cancelJob', 'project'] as const;
export type CommandName = (typeof COMMANDS)[number];
