/**
 * The native application menu, built from the one command table (shared/commands.ts `menuLayout('native')`). Every
 * item sends its command name to the focused window's renderer, which runs the same command as its shortcuts and
 * in-page menu; Electron's own roles (app menu, clipboard, full screen, window menu, quit) are added here.
 */
import { Menu, BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { IPC_CHANNELS } from '../shared/ipc';
import { acceleratorFor, menuLayout, nativeLabel, type CommandSpec, type EditorCommand, type MenuName } from '../shared/commands';

function send(command: EditorCommand): void {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  if (win && !win.webContents.isDestroyed()) win.webContents.send(IPC_CHANNELS.menuCommand, command);
}

function item(spec: CommandSpec): MenuItemConstructorOptions {
  return {
    label: nativeLabel(spec),
    accelerator: acceleratorFor(spec.command),
    // Shortcuts are handled by the page itself (so web mode has them too); the menu only shows them.
    registerAccelerator: false,
    click: () => send(spec.command),
  };
}

/** Electron roles that belong in a menu besides the commands: after which command group they go. */
function rolesAfterGroup(name: MenuName, group: number, groups: number, isMac: boolean): MenuItemConstructorOptions[] {
  if (name === 'Edit' && group === 0) return [{ type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }];
  if (name === 'View' && group === groups - 1) return [{ type: 'separator' }, { role: 'togglefullscreen' }];
  if (name === 'File' && group === groups - 1 && !isMac) return [{ type: 'separator' }, { role: 'quit' }];
  return [];
}

export function menuTemplate(isMac: boolean): MenuItemConstructorOptions[] {
  const menus: MenuItemConstructorOptions[] = menuLayout('native').map(({ name, groups }) => ({
    label: name,
    submenu: groups.flatMap((group, g) => [
      ...(g > 0 && !(name === 'Edit' && g === 1) ? [{ type: 'separator' as const }] : []),
      ...group.map(item),
      ...rolesAfterGroup(name, g, groups.length, isMac),
      ...(name === 'Edit' && g === 0 ? [{ type: 'separator' as const }] : []),
    ]),
  }));
  const help = menus.pop()!;
  return [...(isMac ? [{ role: 'appMenu' as const }] : []), ...menus, { role: 'windowMenu' }, help];
}

export function installMenu(): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(process.platform === 'darwin')));
}
