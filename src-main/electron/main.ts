/**
 * Electron main process: registers the app:// scheme, denies permissions, starts the engine worker, wires IPC and
 * opens the window. All model work happens in the engine worker, never here.
 */
import { app, dialog, ipcMain, screen, session, BrowserWindow } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineHost } from '../engine/host/engine-host';
import { ApiService } from '../app/api-service';
import { ProjectService } from '../app/project-service';
import { installMenu } from './menu';
import { loadWindowState, saveWindowState } from './window-state';
import { registerIpc, senderAllowed } from './ipc';
import { guardWindowClose } from './close-guard';
import { APP_URL, handleAppProtocol, registerAppScheme } from './app-protocol';
import { createMainWindow, lockDownContents } from './window';

const here = dirname(fileURLToPath(import.meta.url)); // out/main
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

registerAppScheme();

app.on('web-contents-created', (_e, contents) => lockDownContents(contents, devServerUrl));

let host: EngineHost | null = null;

async function start(): Promise<void> {
  // Deny every permission (camera, notifications, ...): the app needs none, and Electron grants by default.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  handleAppProtocol(join(here, '..', 'renderer'));
  host = new EngineHost({ workerFile: join(here, 'worker.js'), resourceLimits: { maxOldGenerationSizeMb: 4096 } });
  const modelsDir = app.isPackaged ? join(process.resourcesPath, 'models') : join(app.getAppPath(), 'resources', 'models');
  const dialogParent = () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  const filters = [{ name: 'Pullback project', extensions: ['pbproj'] }];
  // Project paths are chosen only here, in native dialogs; the renderer gets opaque ids (project-service.ts).
  const projects = new ProjectService({
    dataDir: app.getPath('userData'),
    pickOpen: async () => {
      const r = await dialog.showOpenDialog(dialogParent(), { title: 'Open project', filters, properties: ['openFile'] });
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    pickSave: async (name) => {
      const r = await dialog.showSaveDialog(dialogParent(), { title: 'Save project', defaultPath: `${name || 'Untitled'}.pbproj`, filters });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  });
  const service = new ApiService(host, {
    mode: 'electron',
    modelsDir,
    projects,
    pickFolder: async () => {
      const win = BrowserWindow.getFocusedWindow();
      const opts = { title: 'Open model folder', properties: ['openDirectory' as const] };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
  });
  registerIpc(service, devServerUrl);
  installMenu();
  // Window size, position and maximised state are remembered between runs.
  const userData = app.getPath('userData');
  const saved = loadWindowState(userData, screen.getAllDisplays().map((d) => d.workArea));
  const win = createMainWindow(join(here, '..', 'preload', 'index.cjs'), devServerUrl ?? APP_URL, devServerUrl, saved ?? undefined);
  if (saved?.maximized) win.maximize();
  win.on('close', () => saveWindowState(userData, { ...win.getNormalBounds(), maximized: win.isMaximized() }));
  guardWindowClose(win, ipcMain, (event) => senderAllowed(event, devServerUrl));
}

app.whenReady().then(start, (err: unknown) => {
  console.error('Pullback Studio failed to start:', err);
  app.exit(1);
});

app.on('window-all-closed', () => {
  void host?.close().finally(() => app.quit());
});
