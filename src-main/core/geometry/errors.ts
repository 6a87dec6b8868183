/**
 * Typed errors of the geometry code. Cancellation is core/jobs' CancelledError (one class for the whole core,
 * so the engine catches a single type); it is re-exported here for callers that only import geometry.
 */
import { CancelledError, throwIfCancelled } from '../progress';

export { CancelledError };

export type GeometryErrorCode = 'bad-shape' | 'bad-option' | 'operator-output';

export class GeometryError extends Error {
  override readonly name = 'GeometryError';
  constructor(
    readonly code: GeometryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Throws CancelledError when the signal has fired; called between operator (U-Net) calls. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  throwIfCancelled(signal);
}
