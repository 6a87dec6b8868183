/**
 * An engine job run for a CLI command: input the job's schema refuses is the user's usage error (printed with the
 * command's help, exit 64), anything else is what the job threw.
 */
import type { JobInput, JobName, JobOutput } from '../shared/api';
import { JobInputError, runJobInProcess } from '../engine/run-in-process';
import { UsageError } from './types';

export function runCliJob<N extends JobName>(name: N, input: JobInput<N>, opts: Parameters<typeof runJobInProcess>[2] = {}): Promise<JobOutput<N>> {
  return runJobInProcess(name, input, opts).catch((e: unknown) => {
    throw e instanceof JobInputError ? new UsageError(e.message) : e;
  });
}
