/** Typed errors of the edit code; cancellation is core/jobs' CancelledError. */
import { CancelledError, throwIfCancelled } from '../progress';

export type EditErrorCode = 'bad-shape' | 'bad-option' | 'predictor-output';

export class EditError extends Error {
  override readonly name = 'EditError';
  constructor(
    readonly code: EditErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs one U-Net (or stepper) call; if it rejects because the signal fired (ORT and fetch-like APIs throw
 * their own AbortError), the rejection becomes core/jobs' CancelledError so clients see "cancelled", not a failure.
 */
export async function cancellable<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  throwIfCancelled(signal);
  try {
    return await call();
  } catch (e) {
    if (signal?.aborted && !(e instanceof CancelledError)) throw new CancelledError();
    throw e;
  }
}
