/** Progress of a job's parts mapped onto the job's own 0..1. */
import type { ProgressFn } from '../../../core/progress';

/** Scales sub-task progress into [a, b] of the job's progress. */
export function subProgress(onProgress: ProgressFn | undefined, a: number, b: number): ProgressFn | undefined {
  return onProgress && ((p) => onProgress({ ...p, fraction: a + (b - a) * p.fraction }));
}
