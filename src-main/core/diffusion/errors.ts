/** Typed errors of model folders: every one names the file and says what is wrong with it. */

export type ModelFolderErrorCode =
  | 'missing-file'
  | 'malformed-json'
  | 'bad-scheduler'
  | 'bad-onnx'
  | 'wrong-inputs'
  | 'unsupported-model'
  /** A link out of the folder, a FIFO/device/socket, or external weights outside the folder: refused before any read. */
  | 'unsafe-file';

export class ModelFolderError extends Error {
  override readonly name = 'ModelFolderError';
  constructor(
    readonly code: ModelFolderErrorCode,
    /** The file (absolute path) the problem was found in. */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Bad arguments to a core routine (steps out of range, batch < 1, ...). */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'invalid-argument' as const;
}
