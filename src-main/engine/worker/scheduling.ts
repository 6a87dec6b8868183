/**
 * The worker's scheduling context: which job the code running now belongs to, and the worker-wide compute lane.
 * The worker starts each job inside `jobScope.run(...)`; AsyncLocalStorage carries the scope through every await of
 * the job, so a session run deep inside a job (ort-predictor, jacobian-operator, text-pipeline) finds its job's
 * priority and signal without threading them through every call. Runs outside any job (CLI, bench) use the lane
 * unscoped: there is nobody to share it with.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ComputeLane, type LaneJob, type LaneState } from './compute-lane';

export const jobScope = new AsyncLocalStorage<LaneJob>();

/** The id of the job whose code is running now, if any (caches pin what a running job uses by it). */
export function currentJobId(): string | undefined {
  return jobScope.getStore()?.id;
}

type StateListener = (jobId: string, state: LaneState) => void;
let stateListener: StateListener | null = null;

/** The worker's one lane: every createSession() session runs through it (sessions.ts). */
export const computeLane = new ComputeLane({ onStateChange: (jobId, state) => stateListener?.(jobId, state) });

/** The worker reports paused/running to the host from here. */
export function onLaneStateChange(listener: StateListener | null): void {
  stateListener = listener;
}

/** Run one session call on the lane as the current job. */
export function runOnLane<T>(fn: () => Promise<T>): Promise<T> {
  return computeLane.run(fn, jobScope.getStore());
}
