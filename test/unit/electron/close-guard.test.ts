/**
 * The window-close guard (electron/close-guard.ts) with a fake window and IPC: the first close is held and the
 * renderer asked; only our renderer's answer closes the window; a gone or hung renderer does not keep it open.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardWindowClose, type GuardedWindow } from '../../../src-main/electron/close-guard';
import { IPC_CHANNELS } from '../../../src-main/shared/ipc';

function fakeWindow() {
  const events = new EventEmitter();
  const contentsEvents = new EventEmitter();
  const sent: string[] = [];
  let closed = 0;
  let destroyed = false;
  const webContents = {
    send: (channel: string) => void sent.push(channel),
    on: (event: string, l: () => void) => contentsEvents.on(event, l),
    isDestroyed: () => false,
  };
  const win = {
    on: (event: string, l: (...a: unknown[]) => void) => events.on(event, l),
    webContents,
    isDestroyed: () => destroyed,
    // What BrowserWindow.close does: emit 'close'; the window goes unless a listener prevented it.
    close() {
      let prevented = false;
      events.emit('close', { preventDefault: () => (prevented = true) });
      if (!prevented) {
        closed++;
        destroyed = true;
      }
    },
  } as unknown as GuardedWindow;
  const handlers = new Map<string, (event: never) => unknown>();
  const ipc = { handle: (channel: string, l: (event: never) => unknown) => void handlers.set(channel, l) };
  return { win, webContents, events, contentsEvents, sent, handlers, ipc, closed: () => closed };
}

describe('window close guard', () => {
  it('holds the first close, asks the renderer, and closes when our renderer allows it', () => {
    const f = fakeWindow();
    guardWindowClose(f.win, f.ipc, () => true);
    f.win.close();
    expect(f.closed()).toBe(0);
    expect(f.sent).toEqual([IPC_CHANNELS.closeRequested]);
    const allow = f.handlers.get(IPC_CHANNELS.closeAllowed)!;
    expect(allow({ sender: {} } as never)).toBe(false);
    expect(f.closed()).toBe(0);
    expect(allow({ sender: f.webContents } as never)).toBe(true);
    expect(f.closed()).toBe(1);
  });

  it('refuses an answer that fails the sender check', () => {
    const f = fakeWindow();
    guardWindowClose(f.win, f.ipc, () => false);
    f.win.close();
    expect(f.handlers.get(IPC_CHANNELS.closeAllowed)!({ sender: f.webContents } as never)).toBe(false);
    expect(f.closed()).toBe(0);
  });

  it('lets the window close when the renderer is gone or unresponsive', () => {
    for (const fail of ['gone', 'unresponsive'] as const) {
      const f = fakeWindow();
      guardWindowClose(f.win, f.ipc, () => true);
      if (fail === 'gone') f.contentsEvents.emit('render-process-gone');
      else f.events.emit('unresponsive');
      f.win.close();
      expect(f.closed()).toBe(1);
      expect(f.sent).toEqual([]);
    }
  });
});
