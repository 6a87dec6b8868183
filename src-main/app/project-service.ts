/**
 * The project service: runs in the main process (Electron main, or the web-mode server), not in the engine worker,
 * so a save never waits behind a long basis computation in the engine's one-at-a-time job queue.
 *
 * Ids, never paths, go to the renderer: in Electron a path enters only through a native dialog (`pickOpen`/`pickSave`
 * callbacks supplied by electron/main.ts) or the recent list, both kept here; in web mode a project is a name inside
 * `<dataDir>/projects`. Autosave writes `<dataDir>/recovery/<session>.pbproj` (never over the user's file); an explicit
 * save or a discard removes it. All file I/O goes through core/project's atomic save.
 *
 * Files in the app's own folders (web-mode projects, recovery) are confined to them: a symlink planted there is not
 * followed out, and only regular files are opened. Opening decodes in steps (loadProjectFileAsync), so the server
 * keeps answering other clients while a large or hostile project is read; saving encodes and writes the same way
 * (saveProjectFileAsync). The folders are created 0700: projects hold the user's images.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadProjectFileAsync, saveProjectFileAsync, writeFileAtomic, writeFileAtomicAsync, ProjectError, type LoadedProject } from '../core/project';
import { readRegularFileSync } from '../core/fs/regular-file';
import { ensurePrivateDir } from './data-dir';
import { ApiError } from '../shared/errors';
import {
  ProjectRequestSchema,
  isProjectName,
  type OpenedProject,
  type ProjectEntry,
  type ProjectReplies,
  type RecoveryEntry,
} from '../shared/project-api';

export const PROJECT_EXT = '.pbproj';
const MAX_RECENT = 10;
/** The recent list and recovery notes are small JSON files; a bigger one is not ours. */
const MAX_SMALL_JSON_BYTES = 1024 * 1024;

export interface ProjectServiceOptions {
  /** App data folder (Electron: userData; web mode: PULLBACK_DATA_DIR or the platform's app data folder). */
  dataDir: string;
  /** Native dialogs (Electron only). They return absolute paths, which stay in this process. */
  pickOpen?: () => Promise<string | null>;
  pickSave?: (suggestedName: string) => Promise<string | null>;
  /** Whether a model folder is usable; opening a project whose model is gone fails with 'project-missing-model'. */
  modelExists?: (dir: string) => boolean;
}

function defaultModelExists(dir: string): boolean {
  return existsSync(join(dir, 'model_index.json')) && existsSync(join(dir, 'unet'));
}

/** Base64 characters decoded per step (a multiple of 4, so every slice decodes on its own): ~3 MiB of bytes. */
const BASE64_STEP = 4 * 1024 * 1024;

/**
 * The request's images as bytes. The renderer sends bytes (taken as they are); base64 (a copy the page kept in its
 * storage) is decoded in slices into one buffer, with a turn for the event loop in between: decoding 48 MiB of base64
 * at once holds the main thread for ~0.4 s.
 */
async function decodeBlobs(blobs: Record<string, string | Uint8Array>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const [hash, b64] of Object.entries(blobs)) {
    if (b64 instanceof Uint8Array) {
      out.set(hash, b64);
      continue;
    }
    const buf = Buffer.allocUnsafe(Buffer.byteLength(b64, 'base64'));
    let at = 0;
    for (let off = 0; off < b64.length; off += BASE64_STEP) {
      at += buf.write(b64.slice(off, off + BASE64_STEP), at, 'base64');
      if (off + BASE64_STEP < b64.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    out.set(hash, new Uint8Array(buf.buffer, buf.byteOffset, at));
  }
  return out;
}

function displayName(file: string): string {
  return basename(file).replace(/\.pbproj$/i, '');
}

interface RecentRecord {
  path: string;
  when: string;
}

export class ProjectService {
  private readonly projectsDir: string;
  private readonly recoveryDir: string;
  private readonly recentFile: string;
  /** Opaque id → absolute path, for paths that came from a dialog or the recent list. */
  private readonly paths = new Map<string, string>();
  private readonly modelExists: (dir: string) => boolean;
  /** Files opened read-only (written by a newer version): saving over them would drop what this version cannot read. */
  private readonly readOnly = new Set<string>();

  constructor(private readonly opts: ProjectServiceOptions) {
    this.projectsDir = join(opts.dataDir, 'projects');
    this.recoveryDir = join(opts.dataDir, 'recovery');
    this.recentFile = join(opts.dataDir, 'recent-projects.json');
    this.modelExists = opts.modelExists ?? defaultModelExists;
  }

  /** Validate and run one request. Throws ApiError (typed code) only. */
  async handle(raw: unknown): Promise<ProjectReplies[keyof ProjectReplies]> {
    const parsed = ProjectRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError({ code: 'invalid-input', message: `project request: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}` });
    }
    try {
      return await this.run(parsed.data);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof ProjectError) throw new ApiError({ code: err.code, message: err.message, ...(err.file ? { file: err.file } : {}) });
      throw new ApiError({ code: 'project-io', message: err instanceof Error ? err.message : String(err) });
    }
  }

  private async run(req: ReturnType<typeof ProjectRequestSchema.parse>): Promise<ProjectReplies[keyof ProjectReplies]> {
    switch (req.op) {
      case 'list':
        return this.list();
      case 'pickOpen': {
        if (!this.opts.pickOpen) throw new ApiError({ code: 'not-supported', message: 'no file dialog in web mode' });
        const file = await this.opts.pickOpen();
        return file ? this.entryFor(file) : null;
      }
      case 'pickSave': {
        if (!this.opts.pickSave) throw new ApiError({ code: 'not-supported', message: 'no file dialog in web mode' });
        let file = await this.opts.pickSave(req.name);
        if (!file) return null;
        if (!file.toLowerCase().endsWith(PROJECT_EXT)) file += PROJECT_EXT;
        return this.entryFor(file);
      }
      case 'open': {
        const file = this.pathOf(req.id);
        const p = await loadProjectFileAsync(file, { within: this.confinement(file) });
        this.checkModel(p);
        if (p.readOnly) this.readOnly.add(resolve(file));
        else this.readOnly.delete(resolve(file));
        this.touchRecent(file);
        return this.opened(req.id, displayName(file), p);
      }
      case 'save': {
        const file = req.id ? this.pathOf(req.id) : req.name ? this.webPath(req.name) : null;
        if (!file) throw new ApiError({ code: 'invalid-input', message: 'save needs an id or a name' });
        if (this.readOnly.has(resolve(file))) {
          throw new ProjectError('project-read-only', 'this project was written by a newer version; save it under another name', basename(file));
        }
        if (this.insideProjects(resolve(file))) ensurePrivateDir(this.projectsDir, true);
        await saveProjectFileAsync(file, { manifest: req.manifest, blobs: await decodeBlobs(req.blobs) }, { within: this.confinement(file) });
        this.touchRecent(file);
        return this.entryFor(file);
      }
      case 'autosave': {
        ensurePrivateDir(this.recoveryDir, true);
        const when = new Date().toISOString();
        const within = this.recoveryDir;
        await saveProjectFileAsync(join(this.recoveryDir, `${req.session}${PROJECT_EXT}`), { manifest: req.manifest, blobs: await decodeBlobs(req.blobs) }, { within });
        await writeFileAtomicAsync(join(this.recoveryDir, `${req.session}.json`), Buffer.from(JSON.stringify({ title: req.title, when })), { within });
        return { when };
      }
      case 'recovery.list':
        return this.recoveryList();
      case 'recovery.open': {
        const p = await loadProjectFileAsync(join(this.recoveryDir, `${req.session}${PROJECT_EXT}`), { within: this.recoveryDir });
        const meta = this.recoveryMeta(req.session);
        return this.opened(null, meta?.title ?? 'Recovered project', p);
      }
      case 'recovery.discard':
        for (const ext of [PROJECT_EXT, `${PROJECT_EXT}.bak`, '.json']) {
          try {
            unlinkSync(join(this.recoveryDir, `${req.session}${ext}`));
          } catch {
            /* already gone */
          }
        }
        return null;
    }
  }

  private opened(id: string | null, name: string, p: LoadedProject): OpenedProject {
    return { id, name, manifest: p.manifest, blobs: Object.fromEntries(p.blobs), readOnly: p.readOnly, fromVersion: p.fromVersion };
  }

  private checkModel(p: LoadedProject): void {
    const m = p.manifest.model;
    if (!this.modelExists(m.dir)) {
      throw new ProjectError('project-missing-model', `this project needs the model “${m.name}”, which is not at ${m.dir} any more. Open that model folder, then open the project again.`);
    }
  }

  /** Web-mode ids are `w:<name>`; dialog and recent paths get `p:<hash>` ids mapped here. */
  private entryFor(file: string): ProjectEntry {
    const abs = resolve(file);
    let id: string;
    if (this.insideProjects(abs)) id = `w:${displayName(abs)}`;
    else {
      id = `p:${createHash('sha256').update(abs).digest('hex').slice(0, 24)}`;
      this.paths.set(id, abs);
    }
    let when = new Date().toISOString();
    try {
      when = statSync(abs).mtime.toISOString();
    } catch {
      /* not saved yet */
    }
    return { id, name: displayName(abs), when };
  }

  /** The folder a file must stay inside: the app's own projects folder for web-mode names; none for picked paths. */
  private confinement(file: string): string | undefined {
    return this.insideProjects(resolve(file)) ? this.projectsDir : undefined;
  }

  private insideProjects(abs: string): boolean {
    return resolve(abs, '..') === resolve(this.projectsDir) && abs.toLowerCase().endsWith(PROJECT_EXT);
  }

  private webPath(name: string): string {
    return join(this.projectsDir, `${name}${PROJECT_EXT}`);
  }

  private pathOf(id: string): string {
    if (id.startsWith('w:')) {
      const name = id.slice(2);
      if (!isProjectName(name)) {
        throw new ApiError({ code: 'project-not-found', message: 'unknown project' });
      }
      return this.webPath(name);
    }
    const p = this.paths.get(id);
    if (!p) throw new ApiError({ code: 'project-not-found', message: 'unknown project (pick it again with File › Open)' });
    return p;
  }

  private readRecent(): RecentRecord[] {
    try {
      const r = JSON.parse(readRegularFileSync(this.recentFile, { maxBytes: MAX_SMALL_JSON_BYTES }).toString('utf8')) as unknown;
      return Array.isArray(r) ? r.filter((x): x is RecentRecord => typeof x?.path === 'string' && typeof x?.when === 'string') : [];
    } catch {
      return [];
    }
  }

  private touchRecent(file: string): void {
    const abs = resolve(file);
    const list = [{ path: abs, when: new Date().toISOString() }, ...this.readRecent().filter((r) => r.path !== abs)].slice(0, MAX_RECENT);
    try {
      ensurePrivateDir(this.opts.dataDir);
      writeFileAtomic(this.recentFile, Buffer.from(JSON.stringify(list, null, 2)));
    } catch {
      /* the recent list is a convenience: never fail a save over it */
    }
  }

  private list(): ProjectReplies['list'] {
    const recent = this.readRecent()
      .filter((r) => existsSync(r.path))
      .map((r) => ({ ...this.entryFor(r.path), when: r.when }));
    let projects: ProjectEntry[] = [];
    try {
      projects = readdirSync(this.projectsDir)
        .filter((f) => f.toLowerCase().endsWith(PROJECT_EXT))
        .map((f) => this.entryFor(join(this.projectsDir, f)))
        .sort((a, b) => b.when.localeCompare(a.when));
    } catch {
      /* no projects folder yet */
    }
    return { recent, projects, canPick: Boolean(this.opts.pickOpen) };
  }

  private recoveryMeta(session: string): { title: string; when: string } | null {
    try {
      const m = JSON.parse(readRegularFileSync(join(this.recoveryDir, `${session}.json`), { root: this.recoveryDir, maxBytes: MAX_SMALL_JSON_BYTES }).toString('utf8')) as {
        title?: unknown;
        when?: unknown;
      };
      return { title: String(m.title ?? 'Untitled'), when: String(m.when ?? '') };
    } catch {
      return null;
    }
  }

  private recoveryList(): RecoveryEntry[] {
    try {
      return readdirSync(this.recoveryDir)
        .filter((f) => f.endsWith(PROJECT_EXT))
        .map((f) => f.slice(0, -PROJECT_EXT.length))
        .filter((s) => /^[a-z0-9-]{1,64}$/.test(s))
        .map((session) => {
          const meta = this.recoveryMeta(session);
          return { session, title: meta?.title ?? 'Untitled', when: meta?.when ?? '' };
        })
        .sort((a, b) => b.when.localeCompare(a.when));
    } catch {
      return [];
    }
  }
}

