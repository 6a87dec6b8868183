/**
 * The native application menu. Every item sends a command name to the focused window's renderer, which runs the same
 * command as its shortcuts and in-page controls (src-renderer/src/lib/shortcuts.ts `Command`).
 */
import { Menu, BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { IPC_CHANNELS } from '../shared/ipc';
import type { EditorCommand } from '../shared/commands';

/** Every editor command but the dice (a page button without a menu item). */
export type MenuCommand = Exclude<EditorCommand, 'randomSeed'>;

function send(command: MenuCommand): void {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  if (win && !win.webContents.isDestroyed()) win.webContents.send(IPC_CHANNELS.menuCommand, command);
}

export function menuTemplate(isMac: boolean): MenuItemConstructorOptions[] {
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    // Shortcuts are handled by the page itself (so web mode has them too); the menu only shows them.
    registerAccelerator: false,
    click: () => send(command),
  });
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        item('New from Seed', 'new', 'CmdOrCtrl+N'),
        item('Open Project…', 'open', 'CmdOrCtrl+O'),
        item('Open Recent…', 'openRecent'),
        { type: 'separator' },
        item('Save', 'save', 'CmdOrCtrl+S'),
        item('Save As…', 'saveAs', 'Shift+CmdOrCtrl+S'),
        { type: 'separator' },
        item('Import Image…', 'import', 'CmdOrCtrl+I'),
        item('Export PNG with Recipe…', 'export', 'CmdOrCtrl+E'),
        { type: 'separator' },
        item('Open Model Folder…', 'openModel'),
        ...(isMac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
      ],
    },
    {
      label: 'Edit',
      submenu: [
        item('Undo', 'undo', 'CmdOrCtrl+Z'),
        item('Redo', 'redo', 'Shift+CmdOrCtrl+Z'),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { type: 'separator' },
        item('Apply Edits', 'apply', 'CmdOrCtrl+Enter'),
        item('Compute Directions', 'computeBasis', 'B'),
      ],
    },
    {
      label: 'View',
      submenu: [
        item('Compare with Source', 'compare', 'C'),
        item('Zoom In', 'zoomIn', '+'),
        item('Zoom Out', 'zoomOut', '-'),
        item('Fit to Window', 'zoomFit', '0'),
        item('Actual Pixels', 'zoomActual', '1'),
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { label: 'Help', submenu: [item('Keyboard Shortcuts and Help', 'help', '?')] },
  ];
}

export function installMenu(): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(process.platform === 'darwin')));
}
