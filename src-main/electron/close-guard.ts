/**
 * Closing the window with unsaved work asks first, as replacing the document does (issue 16): the first `close` is
 * prevented and the renderer is asked (IPC_CHANNELS.closeRequested); it shows its Save / Discard / Cancel prompt and,
 * unless the user cancels, answers on IPC_CHANNELS.closeAllowed, after which the window closes for real. The
 * renderer without unsaved work answers at once.
 *
 * A renderer that cannot answer must not keep the window open forever: when its process is gone or the window
 * reports it unresponsive, the close goes through (autosave's recovery copy holds the work up to its last write).
 * There is no timeout otherwise: the prompt may wait on the user for as long as they like.
 */
import type { IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS } from '../shared/ipc';

/** The parts of BrowserWindow the guard uses (a fake in tests). */
export interface GuardedWindow {
  on(event: 'close', listener: (e: { preventDefault(): void }) => void): unknown;
  on(event: 'unresponsive', listener: () => void): unknown;
  close(): void;
  isDestroyed(): boolean;
  webContents: {
    send(channel: string): void;
    on(event: 'render-process-gone', listener: () => void): unknown;
    isDestroyed(): boolean;
  };
}

export interface CloseIpc {
  handle(channel: string, listener: (event: IpcMainInvokeEvent) => unknown): void;
}

/** `senderAllowed`: the IPC sender check (ipc.ts), so only our own renderer can let the window close. */
export function guardWindowClose(win: GuardedWindow, ipc: CloseIpc, senderAllowed: (event: IpcMainInvokeEvent) => boolean): void {
  let allowed = false;
  const closeNow = () => {
    allowed = true;
    if (!win.isDestroyed()) win.close();
  };
  win.on('close', (e) => {
    if (allowed) return;
    if (win.webContents.isDestroyed()) return;
    e.preventDefault();
    win.webContents.send(IPC_CHANNELS.closeRequested);
  });
  win.on('unresponsive', () => {
    allowed = true;
  });
  win.webContents.on('render-process-gone', () => {
    allowed = true;
  });
  ipc.handle(IPC_CHANNELS.closeAllowed, (event) => {
    if (!senderAllowed(event) || event.sender !== (win.webContents as unknown)) return false;
    closeNow();
    return true;
  });
}
