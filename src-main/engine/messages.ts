/** Messages between the engine host (main thread) and the worker thread. */
import type { ApiErrorPayload } from '../shared/errors';
import type { JobName, Provider } from '../shared/api';

export type HostToWorker =
  /** `rank`: the job's priority as a number, higher first (the host maps JobPriority to it). */
  | { type: 'run'; jobId: string; name: JobName; input: unknown; rank: number }
  | { type: 'cancel'; jobId: string }
  /** Cancel everything and end the thread once no native call is in flight (EngineHost.close). */
  | { type: 'shutdown' };

export type WorkerToHost =
  | { type: 'ready'; providers: Provider[] }
  | { type: 'progress'; jobId: string; fraction: number; message: string; partial?: unknown }
  /** A started job waits for the compute lane behind a higher-priority job ('paused'), or runs again. */
  | { type: 'state'; jobId: string; state: 'running' | 'paused' }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: ApiErrorPayload };
