/**
 * A PullbackApi whose jobs run on the engine in this process, one at a time as the worker's compute lane runs them,
 * with the host's image encoding (runJobInProcess): renderer state classes can then be driven against the real engine
 * in an integration test without a window or a server. Cancel is not supported (no test here needs it).
 */
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { toApiError } from '../../src-main/engine/errors';
import type { JobEvent, JobName, PullbackApi } from '../../src-main/shared/api';

export function inProcessApi(modelDir: string, modelName = 'avatars64'): PullbackApi {
  const listeners = new Set<(e: JobEvent) => void>();
  const emit = (e: JobEvent) => listeners.forEach((l) => l(e));
  let n = 0;
  let lane: Promise<unknown> = Promise.resolve();
  return {
    getAppInfo: async () => ({ version: 'test', mode: 'web', bundledModels: [{ name: modelName, dir: modelDir }], canPickFolder: false, providers: ['cpu'] }),
    pickModelFolder: async () => null,
    cancelJob: async () => undefined,
    onJobEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    project: async (req) => (req.op === 'recovery.list' ? [] : null),
    startJob: async (name: JobName, input: unknown) => {
      const jobId = `j${++n}`;
      lane = lane.then(() =>
        runJobInProcess(name, input as never, {
          quiet: true,
          onProgress: (p) => emit({ type: 'progress', jobId, fraction: p.fraction, message: p.message, ...(p.partial !== undefined ? { partial: p.partial } : {}) }),
        }).then(
          (output) => emit({ type: 'done', jobId, name, output }),
          (err: unknown) => emit({ type: 'error', jobId, error: toApiError(err) }),
        ),
      );
      return { jobId };
    },
  };
}
