/**
 * `--out` is checked before a job runs: a basis or an inversion can take minutes, and finding out afterwards that
 * the output cannot be written throws that work away. Folders are created here (as the commands would later);
 * a file's folder must exist. Failures are usage errors naming the option.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './types';

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOENT') return 'its folder does not exist';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way';
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** The folder `--out DIR` names exists (created if needed) and is writable. */
export async function checkOutDir(dir: string, option = '--out'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${option} ${dir}: cannot write there (${reason(err)})`);
  }
}

/** The file `--out FILE` names can be written: its folder exists and is writable, and an existing file is writable. */
export async function checkOutFile(file: string, option = '--out'): Promise<void> {
  const abs = resolve(file);
  try {
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st && st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    await access(st ? abs : dirname(abs), constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    throw new UsageError(`${option} ${file}: cannot write there (${code === 'EISDIR' ? 'it is a folder' : reason(err)})`);
  }
}
