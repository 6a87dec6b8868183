/**
 * Errors as they cross the API boundary: a code the renderer maps to a message, never a stack trace.
 * Grouped per area; the union is exhaustive so `errorMessage` in the renderer can switch over it.
 */
import { z } from 'zod';
import { PROJECT_ERROR_CODES } from '../core/project/errors';

export const MODEL_FOLDER_ERROR_CODES = [
  'missing-file',
  'malformed-json',
  'bad-scheduler',
  'bad-onnx',
  'wrong-inputs',
  'unsupported-model',
  /** A link out of the model folder, a FIFO, device or socket, or external weights outside the folder: refused before any read. */
  'unsafe-file',
] as const;
/** 'superseded': a newer job with the same coalescing key replaced this one (not a failure; its result is stale). */
/**
 * 'unsupported-image': a picture to import that is not PNG, JPEG or WebP (SVG, GIF, … are refused before decoding);
 * 'image-too-large': over the byte cap (MAX_IMAGE_BYTES) or the pixel cap (MAX_IMAGE_PIXELS) of shared/limits.ts.
 */
export const JOB_ERROR_CODES = [
  'cancelled',
  'superseded',
  'worker-died',
  'invalid-input',
  'invalid-argument',
  'unknown-job',
  'provider-failed',
  'unsupported-image',
  'image-too-large',
] as const;
/** 'busy': a per-client limit was reached (queued jobs, requests in flight); the message says which and what to do. */
export const TRANSPORT_ERROR_CODES = ['not-supported', 'disconnected', 'bad-message', 'internal', 'busy'] as const;

export { PROJECT_ERROR_CODES };

export const ERROR_CODES = [...MODEL_FOLDER_ERROR_CODES, ...JOB_ERROR_CODES, ...TRANSPORT_ERROR_CODES, ...PROJECT_ERROR_CODES] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export type ModelFolderErrorCode = (typeof MODEL_FOLDER_ERROR_CODES)[number];

export const ApiErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** The file the problem is about, when there is one (model folders). */
  file: z.string().optional(),
});
export type ApiErrorPayload = z.infer<typeof ApiErrorSchema>;

/** An API error on the client side: `code` is what the UI switches on. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly file?: string;
  constructor(payload: ApiErrorPayload) {
    super(payload.message);
    this.code = payload.code;
    this.file = payload.file;
  }
  toPayload(): ApiErrorPayload {
    return { code: this.code, message: this.message, ...(this.file ? { file: this.file } : {}) };
  }
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}
