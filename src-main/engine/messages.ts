/** Messages between the engine host (main thread) and the worker thread. */
import type { ApiErrorPayload } from '../shared/errors';
import type { JobName, Provider } from '../shared/api';
import type { WorkReport } from '../core/progress';

export type HostToWorker =
  /** `rank`: the job's priority as a number, higher first (the host maps JobPriority to it). */
  | { type: 'run'; jobId: string; name: JobName; input: unknown; rank: number }
  | { type: 'cancel'; jobId: string }
  /** Cancel everything and end the thread once no native call is in flight (EngineHost.close). */
  | { type: 'shutdown' };

export type WorkerToHost =
  | { type: 'ready'; providers: Provider[] }
  /** `work`: model calls done and still expected, from which the host measures the ETA (host/eta.ts). */
  | { type: 'progress'; jobId: string; fraction: number; message: string; partial?: unknown; work?: WorkReport }
  /** A started job waits for the compute lane behind a higher-priority job ('paused'), or runs again. */
  | { type: 'state'; jobId: string; state: 'running' | 'paused' }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: ApiErrorPayload };
