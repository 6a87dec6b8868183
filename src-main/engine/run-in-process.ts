/**
 * Running one engine job in this process with the engine's own code (the CLI and the bench): the same job
 * object the worker runs, resources of its own (released afterwards), SIGINT → cancel, progress lines on stderr,
 * and the host's image encoding, so the output is byte for byte what a client of the engine receives.
 */
import { JOBS, type JobInput, type JobName, type JobOutput } from '../shared/api';
import { ENGINE_JOBS } from './jobs';
import { EngineResources } from './worker/resources';
import { encodeRawImages } from './host/encode-images';
import type { Progress } from '../core/progress';

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
  const resources = new EngineResources();
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  process.once('SIGINT', onSigint);
  let lastWrite = 0;
  try {
    const ctx = resources.jobContext(controller.signal, (p) => {
      opts.onProgress?.(p);
      const now = performance.now();
      if (!opts.quiet && (now - lastWrite > 100 || p.fraction >= 1)) {
        lastWrite = now;
        process.stderr.write(`\r${p.message} (${Math.round(p.fraction * 100)}%)\u001b[K`);
      }
    });
    const result = await job.run(parsed.data as never, ctx);
    if (!opts.quiet) process.stderr.write('\n');
    return (await encodeRawImages(result)) as JobOutput<N>;
  } finally {
    process.off('SIGINT', onSigint);
    opts.signal?.removeEventListener('abort', onAbort);
    await resources.release();
  }
}
