/** Messages between the engine host (main thread) and the worker thread. */
import type { ApiErrorPayload } from '../shared/errors';
import type { JobName, Provider } from '../shared/api';

export type HostToWorker =
  | { type: 'run'; jobId: string; name: JobName; input: unknown }
  | { type: 'cancel'; jobId: string };

export type WorkerToHost =
  | { type: 'ready'; providers: Provider[] }
  | { type: 'progress'; jobId: string; fraction: number; message: string; partial?: unknown }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: ApiErrorPayload };
