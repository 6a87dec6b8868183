/** User-facing text for every API error code (exhaustive: a new code is a compile error here). */
import { ApiError, type ErrorCode } from '../../../src-main/shared/errors';

export function describeCode(code: ErrorCode): string {
  switch (code) {
    case 'missing-file':
      return 'A file the model needs is missing.';
    case 'malformed-json':
      return 'A configuration file of the model is not valid JSON.';
    case 'bad-scheduler':
      return 'The scheduler configuration is not supported.';
    case 'bad-onnx':
      return 'The U-Net file is not a valid ONNX model.';
    case 'wrong-inputs':
      return 'The U-Net does not have the inputs a diffusion U-Net needs.';
    case 'unsupported-model':
      return 'This kind of model is not supported yet.';
    case 'unsafe-file':
      return 'The model folder has a file that is not safe to read (a link out of the folder, a device or external weights elsewhere).';
    case 'cancelled':
      return 'Cancelled.';
    case 'superseded':
      return 'Replaced by a newer request.';
    case 'worker-died':
      return 'The engine stopped unexpectedly and was restarted. Try again.';
    case 'invalid-input':
      return 'Some settings are out of range.';
    case 'invalid-argument':
      return 'The engine could not use this input.';
    case 'unknown-job':
      return 'The engine does not know this job.';
    case 'provider-failed':
      return 'No execution provider could run the model.';
    case 'unsupported-image':
      return 'Only PNG, JPEG and WebP pictures can be imported.';
    case 'image-too-large':
      return 'This picture is too large to import. Save a smaller copy and import that (the model uses it at its own size anyway).';
    case 'not-supported':
      return 'Not supported here.';
    case 'disconnected':
      return 'Lost the connection to the engine.';
    case 'bad-message':
      return 'The engine sent a malformed reply.';
    case 'internal':
      return 'Something went wrong in the engine.';
    case 'busy':
      return 'Too much is already running or waiting. Let some of it finish, then try again.';
    case 'project-corrupt':
      return 'This project file is damaged and cannot be opened. Your previous copy (.bak) is untouched.';
    case 'project-newer-version':
      return 'This project was saved by a newer Pullback Studio. Update the app to open it.';
    case 'project-missing-model':
      return 'The model this project was made with is not available.';
    case 'project-not-found':
      return 'That project no longer exists.';
    case 'project-io':
      return 'The project could not be written to disk. Nothing was lost: the previous copy is untouched.';
    case 'project-read-only':
      return 'This project is read-only (it comes from a newer version). Use Save As to keep your changes.';
  }
}

export interface ShownError {
  code: ErrorCode;
  title: string;
  detail: string;
}

/** Never a stack trace: a title for the code and the engine's one-line detail (which names the file). */
export function toShownError(err: unknown): ShownError {
  if (err instanceof ApiError) return { code: err.code, title: describeCode(err.code), detail: err.message };
  return { code: 'internal', title: describeCode('internal'), detail: err instanceof Error ? err.message : String(err) };
}
