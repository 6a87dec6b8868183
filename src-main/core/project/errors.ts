/**
 * Typed failures of the project format. Loading never throws anything else: junk bytes, a truncated zip, a manifest
 * of the wrong shape and a blob whose bytes do not match its name all become a ProjectError with a code the UI maps
 * to a message.
 */
export const PROJECT_ERROR_CODES = [
  /** Not a zip, a truncated zip, a manifest that is not JSON or not a project, a blob that fails its hash. */
  'project-corrupt',
  /** Written by a newer Pullback Studio in a shape this version cannot read at all (readable ones open read-only). */
  'project-newer-version',
  /** The project's model folder is not there (the message names the model). */
  'project-missing-model',
  /** No such project (an unknown id, or a file deleted meanwhile). */
  'project-not-found',
  /** The disk refused: permissions, full disk, a locked file. The previous copy is untouched. */
  'project-io',
  /** Saving over a project that was opened read-only (newer version). */
  'project-read-only',
] as const;
export type ProjectErrorCode = (typeof PROJECT_ERROR_CODES)[number];

export class ProjectError extends Error {
  override readonly name = 'ProjectError';
  constructor(
    readonly code: ProjectErrorCode,
    message: string,
    /** The file concerned, as the user named it (never a full path in web mode). */
    readonly file?: string,
  ) {
    super(message);
  }
}

export function isProjectError(err: unknown): err is ProjectError {
  return err instanceof ProjectError;
}
