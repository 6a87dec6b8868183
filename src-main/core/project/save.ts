/**
 * Atomic project files. A save writes `<file>.tmp-<pid>-<n>` in the same folder, fsyncs it, keeps the previous copy
 * as `<file>.bak` (a hard link, so the old bytes are never rewritten), renames the temp over the target and fsyncs
 * the folder. At every instant the target path holds either the complete old or the complete new project; a crash
 * leaves at most a stray temp file, which the next save of the same file removes.
 */
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ProjectError } from './errors';
import { decodeProject, encodeProject, type LoadedProject, type ProjectContent } from './format';

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

/** Write bytes to `file` atomically (see module comment). Throws ProjectError('project-io'). */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = dirname(file);
  const tmp = `${file}.tmp-${process.pid}-${++counter}`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw ioError(err, file, 'write the project');
  }
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
      try {
        unlinkSync(tmp);
      } catch {
        /* ignore */
      }
      throw ioError(err, file, 'keep a backup of the previous copy');
    }
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw ioError(err, file, 'replace the project file');
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
export function saveProjectFile(file: string, content: ProjectContent): void {
  writeFileAtomic(file, encodeProject(content));
}

/** Read and decode a project file. Throws ProjectError only. */
export function loadProjectFile(file: string): LoadedProject {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new ProjectError('project-not-found', 'the project file does not exist', basename(file));
    throw ioError(err, file, 'read the project');
  }
  try {
    return decodeProject(bytes);
  } catch (err) {
    if (err instanceof ProjectError) throw new ProjectError(err.code, err.message, basename(file));
    throw new ProjectError('project-corrupt', 'the project file is damaged', basename(file));
  }
}
