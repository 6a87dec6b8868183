/**
 * Electron shell pieces of the editor that need no Electron binary: every native menu item sends a command the
 * renderer knows (and none registers its own accelerator, so shortcuts stay in the page for web mode too), and the
 * remembered window state survives junk files and unplugged monitors.
 */
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sent: unknown[][] = [];
vi.mock('electron', () => ({
  Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: vi.fn((t: unknown) => t) },
  BrowserWindow: {
    getFocusedWindow: () => ({ webContents: { isDestroyed: () => false, send: (...a: unknown[]) => sent.push(a) } }),
    getAllWindows: () => [],
  },
}));

const { menuTemplate } = await import('../../src-main/electron/menu');
const { IPC_CHANNELS } = await import('../../src-main/shared/ipc');
const { loadWindowState, saveWindowState } = await import('../../src-main/electron/window-state');
const { EDITOR_COMMANDS, acceleratorFor, isEditorCommand } = await import('../../src-main/shared/commands');

type Item = { label?: string; click?: () => void; submenu?: Item[]; registerAccelerator?: boolean; role?: string };

function items(t: Item[]): Item[] {
  return t.flatMap((i) => [i, ...(i.submenu ? items(i.submenu) : [])]);
}

describe('native menu', () => {
  it('sends only known commands over the menu channel, and covers the main commands', () => {
    for (const mac of [false, true]) {
      sent.length = 0;
      const clickable = items(menuTemplate(mac) as Item[]).filter((i) => i.click);
      for (const i of clickable) {
        expect(i.registerAccelerator).toBe(false);
        i.click!();
      }
      const commands = sent.map(([channel, command]) => {
        expect(channel).toBe(IPC_CHANNELS.menuCommand);
        return command as string;
      });
      for (const c of commands) expect(EDITOR_COMMANDS).toContain(c);
      // Every item shows the accelerator of the one key table (the page handles the keys themselves).
      for (const [i, c] of commands.entries()) if (isEditorCommand(c)) expect((clickable[i] as { accelerator?: string }).accelerator).toBe(acceleratorFor(c));
      for (const c of ['new', 'open', 'openRecent', 'save', 'saveAs', 'import', 'export', 'undo', 'redo', 'apply', 'help']) expect(commands).toContain(c);
      const roles = items(menuTemplate(mac) as Item[]).map((i) => i.role).filter(Boolean);
      expect(roles).toEqual(expect.arrayContaining(['cut', 'copy', 'paste', 'togglefullscreen', 'windowMenu', ...(mac ? ['appMenu'] : ['quit'])]));
    }
  });
});

describe('window state', () => {
  const display = { x: 0, y: 0, width: 1920, height: 1080 };
  it('round-trips size, position and maximised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbwin-'));
    expect(loadWindowState(dir, [display])).toBeNull();
    saveWindowState(dir, { width: 1300, height: 900, x: 100, y: 50, maximized: true });
    expect(loadWindowState(dir, [display])).toEqual({ width: 1300, height: 900, x: 100, y: 50, maximized: true });
  });

  it('drops a position that is off every display, and rejects junk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbwin-'));
    saveWindowState(dir, { width: 1300, height: 900, x: 3000, y: 50 });
    expect(loadWindowState(dir, [display])).toEqual({ width: 1300, height: 900, maximized: false });
    for (const junk of ['nope', '{"width":-5,"height":900}', '{"width":"1e9","height":900}', 'null']) {
      writeFileSync(join(dir, 'window-state.json'), junk);
      expect(loadWindowState(dir, [display])).toBeNull();
    }
  });
});
