/**
 * Atomic project files. A save writes `<file>.tmp-<pid>-<n>` in the same folder, fsyncs it, keeps the previous copy
 * as `<file>.bak` (a hard link, so the old bytes are never rewritten), renames the temp over the target and fsyncs
 * the folder. At every instant the target path holds either the complete old or the complete new project; a crash
 * leaves at most a stray temp file, which the next save of the same file removes.
 *
 * A save does not weaken the file: the new copy gets the old one's permission bits (a 0600 project stays 0600), and
 * a symlink is written through to its target (the link stays a link), unless the target leaves the folder the
 * caller confines files to (`within`: the web-mode projects folder), which is refused. Reads open only regular files
 * with a size cap (a FIFO would block, /dev/zero never ends).
 */
import { closeSync, fchmodSync, fsyncSync, linkSync, lstatSync, openSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, copyFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ProjectError } from './errors';
import { decodeProject, decodeProjectAsync, encodeProject, encodeProjectAsync, type LoadedProject, type ProjectContent } from './format';
import { FileAccessError, isInside, readRegularFile, readRegularFileSync } from '../fs/regular-file';

/** Largest project file opened: three images at the API's 48 MiB blob cap plus the manifest fit well under this. */
export const MAX_PROJECT_FILE_BYTES = 512 * 1024 * 1024;

export interface ProjectFileOptions {
  /** Folder the file (after symlinks) must stay inside; refused with 'project-io' otherwise. */
  within?: string;
  /** Permission bits of a file that does not exist yet (default 0644; an existing file keeps its own). */
  newFileMode?: number;
}

let counter = 0;

function ioError(err: unknown, file: string, what: string): ProjectError {
  const code = (err as { code?: string })?.code ?? '';
  const reason = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code || 'I/O error';
  return new ProjectError('project-io', `could not ${what} (${reason}); the previous copy is untouched`, basename(file));
}

function fsyncDir(dir: string): void {
  // Makes the rename durable on Linux/macOS; Windows cannot open folders, where rename durability is the FS's job.
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Where a save of `file` really writes and with which permission bits: a symlink's target (confined to `within`),
 * and the existing file's mode. Throws ProjectError('project-io') for a link out of the folder or a special file.
 */
function saveTarget(file: string, within: string | undefined): { target: string; mode: number | null } {
  const abs = resolve(file);
  let target = abs;
  let isLink = false;
  try {
    isLink = lstatSync(abs).isSymbolicLink();
  } catch {
    /* new file */
  }
  try {
    // A dangling link is refused: writing would create a file wherever it points.
    target = isLink ? realpathSync(abs) : join(realpathSync(dirname(abs)), basename(abs));
  } catch (err) {
    throw ioError(err, file, isLink ? 'follow the link to the project' : 'find the project folder');
  }
  if (within !== undefined) {
    let root: string;
    try {
      root = realpathSync(within);
    } catch (err) {
      throw ioError(err, file, 'find the projects folder');
    }
    if (!isInside(root, target)) {
      throw new ProjectError('project-io', 'the project is a link that leads out of the projects folder; it was not saved through it', basename(file));
    }
  }
  let mode: number | null = null;
  try {
    const st = statSync(target);
    if (!st.isFile()) throw new ProjectError('project-io', 'the project path is not a regular file; nothing was written', basename(file));
    mode = st.mode & 0o7777;
  } catch (err) {
    if (err instanceof ProjectError) throw err;
    /* new file */
  }
  return { target, mode };
}

/** Write bytes to `file` atomically (see module comment). Throws ProjectError('project-io'). */
export function writeFileAtomic(fileIn: string, bytes: Uint8Array, opts: ProjectFileOptions = {}): void {
  const { target: file, mode } = saveTarget(fileIn, opts.within);
  const tmp = `${file}.tmp-${process.pid}-${++counter}`;
  try {
    const fd = openSync(tmp, 'wx', mode ?? opts.newFileMode ?? 0o644);
    try {
      // The umask applies at creation; an existing file's exact bits are restored here.
      if (mode !== null) fchmodSync(fd, mode);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    removeQuietly(tmp);
    throw ioError(err, fileIn, 'write the project');
  }
  commitTemp(fileIn, file, tmp);
}

/** Saves in progress per target, so two async saves of one file run one after the other (see writeFileAtomicAsync). */
const saving = new Map<string, Promise<void>>();

/**
 * writeFileAtomic with the slow part (writing and fsyncing the temp file) in libuv's thread pool, so the main process
 * keeps serving while tens of MiB go to disk; the steps that replace the file are the same synchronous ones. Saves
 * of the same target are queued: the next one starts when the previous has replaced the file (`data` may be a function
 * making the bytes, called in turn).
 */
type Bytes = Uint8Array | Uint8Array[];

export async function writeFileAtomicAsync(fileIn: string, data: Bytes | (() => Promise<Bytes>), opts: ProjectFileOptions = {}): Promise<void> {
  const { target: file } = saveTarget(fileIn, opts.within);
  const previous = saving.get(file) ?? Promise.resolve();
  const run = previous.then(async () => {
    // Bytes made by a function are made in turn, so saves land in the order they were asked for.
    const made = typeof data === 'function' ? await data() : data;
    const parts = Array.isArray(made) ? made : [made];
    // Again: the previous save may have changed the target (its mode, or a link).
    const { mode } = saveTarget(fileIn, opts.within);
    const tmp = `${file}.tmp-${process.pid}-${++counter}`;
    try {
      const fh = await open(tmp, 'wx', mode ?? opts.newFileMode ?? 0o644);
      try {
        if (mode !== null) await fh.chmod(mode);
        for (const part of parts) {
          let off = 0;
          while (off < part.length) off += (await fh.write(part, off, part.length - off)).bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      removeQuietly(tmp);
      throw ioError(err, fileIn, 'write the project');
    }
    commitTemp(fileIn, file, tmp);
  });
  const settled = run.catch(() => undefined);
  saving.set(file, settled);
  void settled.then(() => {
    if (saving.get(file) === settled) saving.delete(file);
  });
  return run;
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* never created, or gone */
  }
}

/** Keep the previous copy as .bak, rename the finished temp over the target, make it durable, tidy up. */
function commitTemp(fileIn: string, file: string, tmp: string): void {
  const dir = dirname(file);
  // Keep the previous good copy as .bak before replacing it.
  try {
    const bakTmp = `${file}.bak-tmp-${process.pid}-${counter}`;
    try {
      linkSync(file, bakTmp);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') throw err; // first save: nothing to keep
      copyFileSync(file, bakTmp); // file systems without hard links
    }
    renameSync(bakTmp, `${file}.bak`);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') {
      removeQuietly(tmp);
      throw ioError(err, fileIn, 'keep a backup of the previous copy');
    }
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    removeQuietly(tmp);
    throw ioError(err, fileIn, 'replace the project file');
  }
  fsyncDir(dir);
  removeStrayTemps(file);
}

/** Temp files of earlier saves of this file that a crash left behind. */
function removeStrayTemps(file: string): void {
  const name = basename(file);
  try {
    for (const f of readdirSync(dirname(file))) {
      if (f.startsWith(`${name}.tmp-`) || f.startsWith(`${name}.bak-tmp-`)) {
        try {
          unlinkSync(join(dirname(file), f));
        } catch {
          /* another process's, or gone */
        }
      }
    }
  } catch {
    /* folder not listable: harmless */
  }
}

/** Encode and atomically save a project. */
export function saveProjectFile(file: string, content: ProjectContent, opts: ProjectFileOptions = {}): void {
  writeFileAtomic(file, encodeProject(content), opts);
}

/** saveProjectFile for the main process: encoding and writing off the event loop (encodeProjectAsync, writeFileAtomicAsync). */
export async function saveProjectFileAsync(file: string, content: ProjectContent, opts: ProjectFileOptions = {}): Promise<void> {
  await writeFileAtomicAsync(file, () => encodeProjectAsync(content), opts);
}

/** A refused read as the project error the user sees. */
function readError(err: unknown, file: string): ProjectError {
  if (!(err instanceof FileAccessError)) return ioError(err, file, 'read the project');
  switch (err.problem) {
    case 'missing':
      return new ProjectError('project-not-found', 'the project file does not exist', basename(file));
    case 'outside':
      return new ProjectError('project-io', 'the project is a link that leads out of the projects folder; it was not opened', basename(file));
    case 'directory':
    case 'not-regular':
    case 'too-large':
      return new ProjectError('project-corrupt', `the project file ${err.message}`, basename(file));
    case 'unreadable':
    case 'stalled':
      return ioError(err, file, 'read the project');
  }
}

function named(err: unknown, file: string): ProjectError {
  if (err instanceof ProjectError) return new ProjectError(err.code, err.message, basename(file));
  return new ProjectError('project-corrupt', 'the project file is damaged', basename(file));
}

/** Read and decode a project file. Throws ProjectError only. */
export function loadProjectFile(file: string, opts: ProjectFileOptions = {}): LoadedProject {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(file, { root: opts.within, maxBytes: MAX_PROJECT_FILE_BYTES });
  } catch (err) {
    throw readError(err, file);
  }
  try {
    return decodeProject(bytes);
  } catch (err) {
    throw named(err, file);
  }
}

/** loadProjectFile without holding the event loop: async read, then decoding in steps (decodeProjectAsync). */
export async function loadProjectFileAsync(file: string, opts: ProjectFileOptions = {}): Promise<LoadedProject> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file, { root: opts.within, maxBytes: MAX_PROJECT_FILE_BYTES });
  } catch (err) {
    throw readError(err, file);
  }
  try {
    return await decodeProjectAsync(bytes);
  } catch (err) {
    throw named(err, file);
  }
}
