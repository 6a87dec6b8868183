/**
 * Typed errors of the geometry and edit code. `CancelledError` lives here only because core/jobs did not
 * exist yet when geometry was written; when core/jobs exports its own, this one should become a re-export so
 * engine code can catch a single class.
 */
export class CancelledError extends Error {
  readonly code = 'cancelled' as const;
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

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
  if (signal?.aborted) throw new CancelledError();
}
