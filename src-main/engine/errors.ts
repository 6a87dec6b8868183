/** Maps any thrown value to the API's typed error payload; unknown failures become 'internal' without a stack. */
import { ModelFolderError, InvalidArgumentError } from '../core/diffusion/errors';
import { isCancelled } from '../core/progress';
import { ApiError, isErrorCode, type ApiErrorPayload } from '../shared/errors';

/** A failure the engine itself reports (e.g. no execution provider could create a session). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: 'provider-failed' | 'unknown-job' | 'worker-died' | 'invalid-input',
    message: string,
  ) {
    super(message);
  }
}

export function toApiError(err: unknown): ApiErrorPayload {
  if (err instanceof ApiError) return err.toPayload();
  if (isCancelled(err)) return { code: 'cancelled', message: 'cancelled' };
  if (err instanceof ModelFolderError) return { code: err.code, message: err.message, file: err.file };
  if (err instanceof InvalidArgumentError) return { code: 'invalid-argument', message: err.message };
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  if (err && typeof err === 'object' && isErrorCode((err as { code?: unknown }).code)) {
    const e = err as { code: ApiErrorPayload['code']; message?: unknown; file?: unknown };
    return { code: e.code, message: String(e.message ?? e.code), ...(typeof e.file === 'string' ? { file: e.file } : {}) };
  }
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
