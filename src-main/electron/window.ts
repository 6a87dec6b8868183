/** The main window: hardened webPreferences (unit-tested) plus navigation and new-window denial. */
import { BrowserWindow, type BrowserWindowConstructorOptions, type WebContents } from 'electron';
import { isAppUrl } from './app-protocol';

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 820,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'Pullback Studio',
    backgroundColor: '#16181d',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      // Middle-click must not open links in new windows (electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
    },
  };
}

/** Deny every navigation away from the app and every window.open. Applied to all web contents. */
export function lockDownContents(contents: WebContents, devServerUrl?: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function createMainWindow(
  preloadPath: string,
  url: string,
  devServerUrl?: string,
  bounds?: { width: number; height: number; x?: number; y?: number },
): BrowserWindow {
  const options = { ...windowOptions(preloadPath), ...(bounds ?? {}) };
  const win = new BrowserWindow(options);
  lockDownContents(win.webContents, devServerUrl);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(url);
  return win;
}
