/**
 * Running one engine job in this process with the engine's own code (the CLI and the bench): the same job
 * object the worker runs, a ModelCache of its own, SIGINT → cancel, progress lines on stderr.
 */
import { JOBS, type JobInput, type JobName, type JobOutput } from '../shared/api';
import { ENGINE_JOBS } from './jobs';
import { ModelCache } from './model-cache';
import { jacobianSessions } from './jacobian';
import type { Progress } from '../core/jobs';

export class JobInputError extends Error {
  override readonly name = 'JobInputError';
}

export async function runJobInProcess<N extends JobName>(
  name: N,
  input: JobInput<N>,
  opts: { quiet?: boolean; onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
): Promise<JobOutput<N>> {
  const parsed = JOBS[name].input.safeParse(input);
  if (!parsed.success) {
    throw new JobInputError(parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; '));
  }
  const job = ENGINE_JOBS[name];
  const models = new ModelCache();
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  process.once('SIGINT', onSigint);
  let lastWrite = 0;
  try {
    const result = await job.run(parsed.data as never, {
      signal: controller.signal,
      onProgress: (p) => {
        opts.onProgress?.(p);
        const now = performance.now();
        if (!opts.quiet && (now - lastWrite > 100 || p.fraction >= 1)) {
          lastWrite = now;
          process.stderr.write(`\r${p.message} (${Math.round(p.fraction * 100)}%)\u001b[K`);
        }
      },
      loadModel: (dir, pref) => models.load(dir, pref),
      inspectModel: (dir) => models.inspect(dir),
    });
    if (!opts.quiet) process.stderr.write('\n');
    const out = job.finalize ? await job.finalize(result) : result;
    return out as JobOutput<N>;
  } finally {
    process.off('SIGINT', onSigint);
    opts.signal?.removeEventListener('abort', onAbort);
    await models.release();
    await jacobianSessions.release();
  }
}
