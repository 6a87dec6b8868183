/**
 * IPC handlers: one per API command, each checking that the sender is the top frame of one of our windows showing
 * our own renderer. Every input is schema-validated by ApiService; errors come back as typed envelopes.
 */
import { ipcMain, BrowserWindow, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { ApiService, ClientSession } from '../app/api-service';
import { IPC_CHANNELS, type IpcEnvelope } from '../shared/ipc';
import { ApiError } from '../shared/errors';
import { toApiError } from '../engine/errors';
import { isAppUrl } from './app-protocol';
import type { JobName, StartJobOptions } from '../shared/api';
import type { ProjectRequest } from '../shared/project-api';

/** The sender check, exported for tests: a top-level frame of a window we created, showing our renderer. */
export function senderAllowed(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>, devServerUrl?: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!BrowserWindow.fromWebContents(event.sender)) return false;
  return isAppUrl(frame.url, devServerUrl);
}

async function envelope<T>(fn: () => Promise<T>): Promise<IpcEnvelope<T>> {
  try {
    return { ok: true, result: await fn() };
  } catch (err) {
    return { ok: false, error: err instanceof ApiError ? err.toPayload() : toApiError(err) };
  }
}

export function registerIpc(service: ApiService, devServerUrl?: string): void {
  const sessions = new Map<number, ClientSession>();
  const sessionFor = (wc: WebContents): ClientSession => {
    let s = sessions.get(wc.id);
    if (!s) {
      const session = service.connect();
      s = session;
      sessions.set(wc.id, session);
      session.onJobEvent((e) => {
        if (!wc.isDestroyed()) wc.send(IPC_CHANNELS.jobEvent, e);
      });
      wc.once('destroyed', () => {
        session.close();
        sessions.delete(wc.id);
      });
    }
    return s;
  };

  const handle = <T>(channel: string, fn: (s: ClientSession, args: unknown[]) => Promise<T>) => {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      if (!senderAllowed(event, devServerUrl)) {
        return { ok: false, error: { code: 'not-supported', message: 'IPC from an unknown sender was refused' } } satisfies IpcEnvelope<T>;
      }
      return envelope(() => fn(sessionFor(event.sender), args));
    });
  };
  handle(IPC_CHANNELS.getAppInfo, (s) => s.getAppInfo());
  handle(IPC_CHANNELS.pickModelFolder, (s) => s.pickModelFolder());
  // The options are validated by ApiService (StartJobOptionsSchema) like the input.
  handle(IPC_CHANNELS.startJob, (s, [name, input, options]) => s.startJob(name as JobName, input, options as StartJobOptions | undefined));
  handle(IPC_CHANNELS.cancelJob, async (s, [jobId]) => {
    await s.cancelJob(String(jobId));
    return null;
  });
  handle(IPC_CHANNELS.project, (s, [req]) => s.project(req as ProjectRequest));
}
