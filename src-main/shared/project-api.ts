/**
 * The `project` command of PullbackApi: New/Open/Save/Save As/Recent and crash recovery. One command with an `op`
 * union keeps the transports (IPC channel, WebSocket method) to a single entry.
 *
 * Paths never cross this boundary. The renderer names projects by opaque ids the main process hands out: in Electron
 * an id stands for a path the user picked in a native dialog (or a recent file); in web mode an id is a name inside
 * the app's projects folder. Blobs go to the main process as base64 (requests are JSON on both transports) and come
 * back as bytes.
 */
import { z } from 'zod';
import { ManifestV2Schema } from '../core/project/schema';

const id = z.string().min(1).max(128);
const sha = z.string().regex(/^[0-9a-f]{64}$/);
/** A project name typed by the user in web mode: no path separators, no leading dot. */
export const ProjectNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .refine(isProjectName, 'a name without / \\ : * ? " < > | or control characters, not starting with a dot');

/** A file name that stays inside the projects folder on every OS: no separators, reserved or control characters. */
export function isProjectName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || name.startsWith('.')) return false;
  for (const ch of name) if ('\\/:*?"<>|'.includes(ch) || ch.charCodeAt(0) < 0x20) return false;
  return true;
}
const base64Blobs = z.record(sha, z.string().max(48 * 1024 * 1024)).refine((r) => Object.keys(r).length <= 64, 'too many blobs');
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
  z.object({ op: z.literal('save'), id: id.optional(), name: ProjectNameSchema.optional(), manifest: ManifestV2Schema, blobs: base64Blobs }),
  z.object({ op: z.literal('autosave'), session: sessionId, title: z.string().max(200), manifest: ManifestV2Schema, blobs: base64Blobs }),
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
  manifest: z.infer<typeof ManifestV2Schema>;
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
