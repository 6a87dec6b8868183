/**
 * The Electron IPC wire format. Kept free of zod so the sandboxed preload bundle stays tiny.
 * Handlers return an envelope instead of throwing: Electron reduces thrown errors to a message string, and the
 * renderer needs the typed `code`.
 */
import type { ApiErrorPayload } from './errors';
import type { AppInfo, JobEvent, JobName, StartJobOptions } from './api';
import type { ProjectRequest } from './project-api';

export const IPC_CHANNELS = {
  getAppInfo: 'pullback:getAppInfo',
  pickModelFolder: 'pullback:pickModelFolder',
  startJob: 'pullback:startJob',
  cancelJob: 'pullback:cancelJob',
  project: 'pullback:project',
  jobEvent: 'pullback:job-event',
  /** main → renderer: a native menu item was chosen (payload: the command name). */
  menuCommand: 'pullback:menu-command',
  /** main → renderer: the window is being closed; ask about unsaved work, then answer with closeAllowed. */
  closeRequested: 'pullback:close-requested',
  /** renderer → main: go ahead and close the window (saved, discarded, or nothing unsaved). */
  closeAllowed: 'pullback:close-allowed',
} as const;

export type IpcEnvelope<T> = { ok: true; result: T } | { ok: false; error: ApiErrorPayload };

/** Exactly what the preload exposes as `window.pullback`. Every subscription returns its unsubscribe. */
export interface PreloadBridge {
  getAppInfo(): Promise<IpcEnvelope<AppInfo>>;
  pickModelFolder(): Promise<IpcEnvelope<string | null>>;
  startJob(name: JobName, input: unknown, options?: StartJobOptions): Promise<IpcEnvelope<{ jobId: string }>>;
  cancelJob(jobId: string): Promise<IpcEnvelope<null>>;
  onJobEvent(listener: (e: JobEvent) => void): () => void;
  project(req: ProjectRequest): Promise<IpcEnvelope<unknown>>;
  /** Native menu commands (Electron only); returns the unsubscribe. */
  onMenuCommand(listener: (command: string) => void): () => void;
  /** The window is being closed (Electron only): ask about unsaved work, then call allowClose unless cancelled. */
  onCloseRequested(listener: () => void): () => void;
  allowClose(): Promise<boolean>;
}

export const PRELOAD_KEY = 'pullback';
export const PRELOAD_METHODS = ['getAppInfo', 'pickModelFolder', 'startJob', 'cancelJob', 'onJobEvent', 'project', 'onMenuCommand', 'onCloseRequested', 'allowClose'] as const;
