/**
 * The `project` command of PullbackApi: New/Open/Save/Save As/Recent and crash recovery. One command with an `op`
 * union keeps the transports (IPC channel, WebSocket method) to a single entry.
 *
 * Paths never cross this boundary. The renderer names projects by opaque ids the main process hands out: in Electron
 * an id stands for a path the user picked in a native dialog (or a recent file); in web mode an id is a name inside
 * the app's projects folder. Blobs go to the main process as bytes (a binary WebSocket frame, or Electron's
 * structured clone), so the main thread never parses or decodes base64 for a save; base64 strings are still
 * accepted for copies the page kept in its storage (localStorage holds text only). Either way a blob is at most
 * MAX_IMAGE_BYTES, the import cap, so any picture that could be imported can be saved.
 */
import { z } from 'zod';
import { MAX_PREVIEW_BLOBS, ProjectManifestSchema } from '../core/project/schema';
import { MAX_IMAGE_BYTES } from './image-limits';

const id = z.string().min(1).max(128);
const sha = z.string().regex(/^[0-9a-f]{64}$/);
/** A project name typed by the user in web mode: a file name valid on Windows, macOS and Linux alike. */
export const ProjectNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .refine(
    isProjectName,
    'a name without / \\ : * ? " < > |, control or direction-changing characters, not starting with a dot, not ending with a dot or space, and not a reserved device name such as CON or NUL',
  );

/** Windows device names, reserved with any extension (NUL.txt) and in any case; COM¹ etc. count too. */
const RESERVED_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/**
 * Characters no name may hold: C0/C1 controls and DEL; bidi controls (U+202E makes "gpj.exe" read as "exe.jpg");
 * zero-width and BOM characters, which make two names look identical; lone surrogates, which no file system stores.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A file name that stays inside the projects folder and means the same file on every OS: no separators or
 * characters Windows reserves, no control/bidi/invisible characters, no leading dot (hidden), no trailing dot or
 * space (Windows drops them, so "a." and "a" would collide), no device name (CON, NUL.txt), at most 80 characters
 * and 200 UTF-8 bytes (with ".pbproj" well under the 255-byte limit of every file system).
 */
export function isProjectName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || name.startsWith('.')) return false;
  if (name.endsWith('.') || name.endsWith(' ') || name !== name.trim()) return false;
  for (const ch of name) if ('\\/:*?"<>|'.includes(ch)) return false;
  if (FORBIDDEN_CHARS.test(name) || RESERVED_NAME.test(name)) return false;
  return new TextEncoder().encode(name).length <= 200;
}
const blobBytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'a blob is bytes or base64').refine((b) => b.length <= MAX_IMAGE_BYTES, `a blob is at most ${MAX_IMAGE_BYTES} bytes`);
const blobBase64 = z.string().max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4);
/**
 * Up to 64 document blobs (sources, renders, analyses, masks) plus the galleries' preview PNGs (issue 16, at most
 * MAX_PREVIEW_BLOBS), and at most 512 MiB in all (the largest project file opened, core/project/save.ts): the count
 * grew for the small previews, so the total is capped rather than left at count × 48 MiB.
 */
const MAX_SAVE_BYTES = 512 * 1024 * 1024;
const blobLength = (b: Uint8Array | string) => (typeof b === 'string' ? Math.floor((b.length * 3) / 4) : b.length);
const saveBlobs = z
  .record(sha, z.union([blobBytes, blobBase64]))
  .refine((r) => Object.keys(r).length <= 64 + MAX_PREVIEW_BLOBS, 'too many blobs')
  .refine((r) => Object.values(r).reduce((n, b) => n + blobLength(b), 0) <= MAX_SAVE_BYTES, `the blobs are over ${MAX_SAVE_BYTES / 1024 / 1024} MiB in all`);
/** Recovery slot of one editor session (random per start of the editor). */
const sessionId = z.string().regex(/^[a-z0-9-]{1,64}$/);

export const ProjectRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('list') }),
  /** Electron: native open dialog. Resolves null when cancelled; 'not-supported' in web mode. */
  z.object({ op: z.literal('pickOpen') }),
  /** Electron: native save dialog, suggesting `name`. */
  z.object({ op: z.literal('pickSave'), name: z.string().max(200) }),
  z.object({ op: z.literal('open'), id }),
  /** Save to an existing id (Save), or in web mode under a new `name` (Save As). */
  z.object({ op: z.literal('save'), id: id.optional(), name: ProjectNameSchema.optional(), manifest: ProjectManifestSchema, blobs: saveBlobs }),
  z.object({ op: z.literal('autosave'), session: sessionId, title: z.string().max(200), manifest: ProjectManifestSchema, blobs: saveBlobs }),
  z.object({ op: z.literal('recovery.list') }),
  z.object({ op: z.literal('recovery.open'), session: sessionId }),
  z.object({ op: z.literal('recovery.discard'), session: sessionId }),
]);
export type ProjectRequest = z.input<typeof ProjectRequestSchema>;

export interface ProjectEntry {
  id: string;
  /** Display name (file name without extension). */
  name: string;
  /** ISO time of the last save/open. */
  when: string;
}

export interface OpenedProject {
  /** null for a recovered project (it has no file yet: Save asks for one). */
  id: string | null;
  name: string;
  manifest: z.infer<typeof ProjectManifestSchema>;
  blobs: Record<string, Uint8Array>;
  /** Written by a newer version: shown, never saved over (Save As still works). */
  readOnly: boolean;
  fromVersion: number;
}

export interface RecoveryEntry {
  session: string;
  title: string;
  when: string;
}

/** What each op resolves to. */
export interface ProjectReplies {
  list: { recent: ProjectEntry[]; projects: ProjectEntry[]; canPick: boolean };
  pickOpen: ProjectEntry | null;
  pickSave: ProjectEntry | null;
  open: OpenedProject;
  save: ProjectEntry;
  autosave: { when: string };
  'recovery.list': RecoveryEntry[];
  'recovery.open': OpenedProject;
  'recovery.discard': null;
}
export type ProjectOp = keyof ProjectReplies;

/** The `project` method of PullbackApi, typed per op. */
export async function callProject<R extends ProjectRequest>(api: { project(req: ProjectRequest): Promise<unknown> }, req: R): Promise<ProjectReplies[R['op']]> {
  return (await api.project(req)) as ProjectReplies[R['op']];
}
