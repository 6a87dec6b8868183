/**
 * Reading files a user or a client pointed us at (model folders, projects, the renderer's assets) without letting
 * the file decide what happens: only regular files are read (a FIFO would block the reading thread forever, a
 * device like /dev/zero never ends), symlinks are resolved and the result must lie inside the expected folder
 * before anything is stat'ed or read, and every read has a size cap checked before the bytes are allocated.
 *
 * A FIFO is opened with O_NONBLOCK (so the open itself cannot block) and refused after fstat; O_NOFOLLOW on the
 * already-resolved path turns a symlink swapped in between the check and the open into an error, not a read.
 *
 * A regular file can still hang: on a network mount whose server is gone (NFS "hard", SMB) realpath, open, stat or
 * read wait in a libuv pool thread until the mount comes back. The async functions here give each such step a
 * deadline (`stallMs`, default STALL_MS; each read asks for at most READ_STEP bytes, so a slow but moving disk is
 * never cut off, only one that stops) and then fail with 'stalled'. That frees the caller, e.g. the engine worker:
 * the job fails typed and the next one runs. The pool thread itself stays stuck inside the system call until the
 * kernel returns (nothing in Node can interrupt it; libuv has 4 such threads, so four stalled files would leave
 * none for other file work in that process); the host's remedy for that is to end the worker (EngineHost restarts a
 * worker that died or was terminated). The sync variant has no deadline: it is used only for the app's own small
 * files in its data folder.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type FileProblem = 'missing' | 'directory' | 'outside' | 'not-regular' | 'too-large' | 'unreadable' | 'stalled';

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
  /** Async only: longest wait for one step (resolve, open, stat, one read of ≤ READ_STEP bytes). Default STALL_MS. */
  stallMs?: number;
}

/** A step of a read that has not answered in this long is a stalled mount, not a slow disk (≥ 16 MiB / 60 s moves). */
export const STALL_MS = 60_000;
/** Bytes asked for per read, so the stall deadline measures progress, not the size of the file. */
export const READ_STEP = 16 * 1024 * 1024;

/**
 * `op` with a deadline: a FileAccessError('stalled') after `ms`. The operation itself goes on (a system call cannot be
 * taken back); `onLate` disposes of what it yields if it ever does (e.g. closes a file that opened too late).
 */
async function withinStall<T>(op: Promise<T>, ms: number, file: string, what: string, onLate?: (v: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new FileAccessError('stalled', file, `did not answer within ${ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`} while ${what} (a network drive that stopped responding?)`));
    }, ms);
  });
  op.then(
    (v) => {
      if (late) onLate?.(v);
    },
    () => undefined,
  );
  try {
    return await Promise.race([op, stalled]);
  } finally {
    clearTimeout(timer);
  }
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
export async function resolveInside(file: string, root?: string, stallMs = STALL_MS): Promise<string> {
  let real: string;
  let realRoot: string | undefined;
  try {
    realRoot = root === undefined ? undefined : await withinStall(realpath(root), stallMs, file, 'resolving its folder');
    real = await withinStall(realpath(resolve(file)), stallMs, file, 'resolving links');
  } catch (err) {
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
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
  const ms = o.stallMs ?? STALL_MS;
  const real = await resolveInside(file, o.root, ms);
  let st: Stats;
  try {
    st = await withinStall(stat(real), ms, file, 'reading its size');
  } catch (err) {
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
  }
  checkStats(st, file, o);
  return Object.assign(st, { realPath: real });
}

/** The bytes of a regular file inside `root`, at most `maxBytes`. Throws FileAccessError only. */
export async function readRegularFile(file: string, o: RegularFileOptions = {}): Promise<Buffer> {
  const ms = o.stallMs ?? STALL_MS;
  const real = await resolveInside(file, o.root, ms);
  let fh;
  try {
    fh = await withinStall(open(real, OPEN_FLAGS), ms, file, 'opening it', (late) => void late.close().catch(() => undefined));
  } catch (err) {
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
  }
  let stalled = false;
  try {
    const st = await withinStall(fh.stat(), ms, file, 'reading its size');
    checkStats(st, file, o);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await withinStall(fh.read(buf, off, Math.min(READ_STEP, buf.length - off), off), ms, file, 'reading it');
      if (bytesRead === 0) break; // truncated meanwhile: return what is there
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } catch (err) {
    stalled = err instanceof FileAccessError && err.problem === 'stalled';
    throw err instanceof FileAccessError ? err : errnoProblem(err, file);
  } finally {
    // A FileHandle closes only after its pending operations: after a stall that would wait for the mount, so the
    // close is left to finish whenever the read does.
    if (stalled) void fh.close().catch(() => undefined);
    else await fh.close().catch(() => undefined);
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
