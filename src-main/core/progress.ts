/**
 * The job model shared by the engine and its clients: progress reports and cooperative cancellation.
 * Long core routines take an AbortSignal and an onProgress callback; they check the signal between U-Net calls.
 */

export interface Progress {
  /** 0..1 of the whole job. */
  fraction: number;
  message: string;
  /** A piece of the result ready early (e.g. a gallery thumbnail); sent with the progress event, never throttled. */
  partial?: unknown;
  /** Model calls done and still expected, from which the engine host estimates the time left (host/eta.ts). */
  work?: WorkReport;
}

/**
 * A job's work in units whose cost the engine measures (e.g. 'unet': ε evaluations of one sample). Fractions are
 * not proportional to time (a job maps its phases onto 0..1 by hand), so the ETA comes from these counts instead.
 */
export interface WorkReport {
  /** Units done so far in this job, per kind: counted at the model calls themselves, so never a guess. */
  done: Record<string, number>;
  /** Units the job still expects, per kind. Absent work (no report) means the job cannot say: fraction rule. */
  remaining: Record<string, number>;
}

export type ProgressFn = (p: Progress) => void;

/** Thrown when a job stops because its AbortSignal fired; clients show it as "cancelled", not as a failure. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  readonly code = 'cancelled' as const;
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** Throw CancelledError if the signal has fired. Call between expensive steps. */
export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

export function isCancelled(err: unknown): err is CancelledError {
  return err instanceof CancelledError || (err instanceof Error && err.name === 'CancelledError');
}
