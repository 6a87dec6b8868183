/**
 * Reading files a user or a client pointed us at (model folders, projects, the renderer's assets) without letting
 * the file decide what happens: only regular files are read (a FIFO would block the reading thread forever, a
 * device like /dev/zero never ends), symlinks are resolved and the result must lie inside the expected folder
 * before anything is stat'ed or read, and every read has a size cap checked before the bytes are allocated.
 *
 * A FIFO is opened with O_NONBLOCK (so the open itself cannot block) and refused after fstat; O_NOFOLLOW on the
 * already-resolved path turns a symlink swapped in between the check and the open into an error, not a read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type FileProblem = 'missing' | 'directory' | 'outside' | 'not-regular' | 'too-large' | 'unreadable';

export class FileAccessError extends Error {
  override readonly name = 'FileAccessError';
  constructor(
    readonly problem: FileProblem,
    /** The path as the caller gave it (not the resolved one: that is what the user recognises). */
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RegularFileOptions {
  /** The folder the file must resolve into (after following every symlink). */
  root?: string;
  /** Largest size read; a bigger file is 'too-large' before any byte is read. */
  maxBytes?: number;
}

/** open(2) flags: read-only, never block on a FIFO, never follow a final symlink (absent on Windows: 0). */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** True when `inner` is `outer` itself or lies below it (both absolute, already resolved). */
export function isInside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function describeKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function errnoProblem(err: unknown, file: string): FileAccessError {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileAccessError('missing', file, 'does not exist');
  if (code === 'ELOOP') return new FileAccessError('outside', file, 'is a symlink that changed while it was being opened');
  if (code === 'EISDIR') return new FileAccessError('directory', file, 'is a folder, not a file');
  return new FileAccessError('unreadable', file, `cannot be read (${code || (err instanceof Error ? err.message : String(err))})`);
}

function checkStats(st: Stats, file: string, o: RegularFileOptions): void {
  if (st.isDirectory()) throw new FileAccessError('directory', file, 'is a folder, not a file');
  if (!st.isFile()) throw new FileAccessError('not-regular', file, `is ${describeKind(st)}, not a regular file`);
  if (o.maxBytes !== undefined && st.size > o.maxBytes) {
    throw new FileAccessError('too-large', file, `is ${st.size} bytes, more than the ${o.maxBytes} allowed`);
  }
}

function checkInside(root: string | undefined, realRoot: string | undefined, real: string, file: string): void {
  if (root !== undefined && !isInside(realRoot!, real)) {
    throw new FileAccessError('outside', file, 'leads out of its folder (through a symlink or ..); only files inside it are read');
  }
}

/** `file` with every symlink resolved; with `root`, it must resolve inside `root` (itself resolved). */
export async function resolveInside(file: string, root?: string): Promise<string> {
  let real: string;
  let realRoot: string | undefined;
  try {
    realRoot = root === undefined ? undefined : await realpath(root);
    real = await realpath(resolve(file));
  } catch (err) {
    throw errnoProblem(err, file);
  }
  checkInside(root, realRoot, real, file);
  return real;
}

export function resolveInsideSync(file: string, root?: string): string {
  let real: string;
  let realRoot: string | undefined;
  try {
    realRoot = root === undefined ? undefined : realpathSync(root);
    real = realpathSync(resolve(file));
  } catch (err) {
    throw errnoProblem(err, file);
  }
  checkInside(root, realRoot, real, file);
  return real;
}

/** Stats of a regular file inside `root`, without opening it. Throws FileAccessError. */
export async function statRegularFile(file: string, o: RegularFileOptions = {}): Promise<Stats & { realPath: string }> {
  const real = await resolveInside(file, o.root);
  let st: Stats;
  try {
    st = await stat(real);
  } catch (err) {
    throw errnoProblem(err, file);
  }
  checkStats(st, file, o);
  return Object.assign(st, { realPath: real });
}

/** The bytes of a regular file inside `root`, at most `maxBytes`. Throws FileAccessError only. */
export async function readRegularFile(file: string, o: RegularFileOptions = {}): Promise<Buffer> {
  const real = await resolveInside(file, o.root);
  let fh;
  try {
    fh = await open(real, OPEN_FLAGS);
  } catch (err) {
    throw errnoProblem(err, file);
  }
  try {
    const st = await fh.stat();
    checkStats(st, file, o);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break; // truncated meanwhile: return what is there
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } catch (err) {
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export function readRegularFileSync(file: string, o: RegularFileOptions = {}): Buffer {
  const real = resolveInsideSync(file, o.root);
  let fd: number;
  try {
    fd = openSync(real, OPEN_FLAGS);
  } catch (err) {
    throw errnoProblem(err, file);
  }
  try {
    const st = fstatSync(fd);
    checkStats(st, file, o);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch (err) {
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
  } finally {
    closeSync(fd);
  }
}
