/**
 * Client-side helpers over PullbackApi, shared by every transport: run a job to completion with progress and an
 * AbortSignal, and turn error payloads into ApiError.
 */
import { JOBS, JobEventSchema, type JobInput, type JobName, type JobOutput, type PullbackApi, type StartJobOptions } from './api';
import { ApiError } from './errors';

export interface RunJobOptions {
  /** `state`: 'paused' while a higher-priority job has the engine's compute lane (absent from older engines). */
  onProgress?: (p: { fraction: number; message: string; etaMs?: number; partial?: unknown; state?: 'running' | 'paused' }) => void;
  /** Aborting sends cancelJob; the promise then rejects with ApiError code 'cancelled'. */
  signal?: AbortSignal;
  /** Called once the engine has accepted the job (it may still be queued). */
  onStarted?: (jobId: string) => void;
  /** Scheduling hints: priority and coalescing key (shared/api.ts StartJobOptionsSchema). */
  schedule?: StartJobOptions;
}

/** Start a job and wait for its result. Rejects with ApiError (typed code) on failure or cancel. */
export async function runJob<N extends JobName>(
  api: PullbackApi,
  name: N,
  input: JobInput<N>,
  opts: RunJobOptions = {},
): Promise<JobOutput<N>> {
  // Subscribe before starting so no event can be missed; buffer events until the job id is known.
  let jobId: string | null = null;
  const early: unknown[] = [];
  let settle!: { resolve: (v: JobOutput<N>) => void; reject: (e: unknown) => void };
  const done = new Promise<JobOutput<N>>((resolve, reject) => (settle = { resolve, reject }));
  const handle = (raw: unknown): void => {
    const parsed = JobEventSchema.safeParse(raw);
    if (!parsed.success) return settle.reject(new ApiError({ code: 'bad-message', message: 'malformed job event' }));
    const e = parsed.data;
    if (e.jobId !== jobId) return;
    if (e.type === 'progress') {
      opts.onProgress?.({ fraction: e.fraction, message: e.message, etaMs: e.etaMs, ...(e.partial !== undefined ? { partial: e.partial } : {}), ...(e.state ? { state: e.state } : {}) });
    }
    else if (e.type === 'error') settle.reject(new ApiError(e.error));
    else if (e.type === 'done') {
      const out = JOBS[name].output.safeParse(e.output);
      if (out.success) settle.resolve(out.data as JobOutput<N>);
      else settle.reject(new ApiError({ code: 'bad-message', message: `job ${name} returned a malformed result` }));
    }
  };
  const unsubscribe = api.onJobEvent((e) => (jobId === null ? early.push(e) : handle(e)));
  const onAbort = () => {
    if (jobId) void api.cancelJob(jobId).catch(() => undefined);
  };
  try {
    opts.signal?.addEventListener('abort', onAbort);
    ({ jobId } = await (opts.schedule ? api.startJob(name, input, opts.schedule) : api.startJob(name, input)));
    opts.onStarted?.(jobId);
    for (const e of early.splice(0)) handle(e);
    if (opts.signal?.aborted) onAbort();
    return await done;
  } finally {
    unsubscribe();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
