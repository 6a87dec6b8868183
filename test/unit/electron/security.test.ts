/**
 * Electron hardening without the Electron binary: `electron` is mocked, so this checks our code's choices — the
 * window's webPreferences, navigation/new-window denial, the preload's exposed keys, and the IPC sender check.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const exposed: Record<string, unknown> = {};
const ipcOn = vi.fn();
const ipcRemove = vi.fn();
const ipcInvoke = vi.fn();
const fromWebContents = vi.fn();
const ipcHandle = vi.fn();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: { on: ipcOn, removeListener: ipcRemove, invoke: ipcInvoke },
  BrowserWindow: Object.assign(vi.fn(), { fromWebContents }),
  ipcMain: { handle: ipcHandle },
  protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
  net: { fetch: vi.fn() },
}));

const { windowOptions, lockDownContents } = await import('../../../src-main/electron/window');
const { isAppUrl, APP_URL } = await import('../../../src-main/electron/app-protocol');
const { senderAllowed, registerIpc } = await import('../../../src-main/electron/ipc');
const { PRELOAD_KEY, PRELOAD_METHODS, IPC_CHANNELS } = await import('../../../src-main/shared/ipc');

describe('window factory', () => {
  it('uses the hardened webPreferences', () => {
    const o = windowOptions('/app/out/preload/index.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    });
  });

  it('denies navigation away from app://bundle, webviews and every new window', () => {
    const handlers: Record<string, (...a: unknown[]) => void> = {};
    let openHandler: (() => unknown) | null = null;
    const contents = {
      on: (ev: string, fn: (...a: unknown[]) => void) => (handlers[ev] = fn),
      setWindowOpenHandler: (fn: () => unknown) => (openHandler = fn),
    };
    lockDownContents(contents as never);
    const nav = (url: string) => {
      const event = { preventDefault: vi.fn() };
      handlers['will-navigate'](event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(nav('https://evil.example/')).toBe(true);
    expect(nav('file:///etc/passwd')).toBe(true);
    expect(nav('app://bundle.evil/index.html')).toBe(true);
    expect(nav(APP_URL)).toBe(false);
    const wv = { preventDefault: vi.fn() };
    handlers['will-attach-webview'](wv);
    expect(wv.preventDefault).toHaveBeenCalled();
    expect(openHandler!()).toEqual({ action: 'deny' });
  });

  it('recognises only our own origin (custom-scheme URLs have origin "null")', () => {
    expect(isAppUrl('app://bundle/index.html')).toBe(true);
    expect(isAppUrl('app://other/index.html')).toBe(false);
    expect(isAppUrl('http://localhost:5173/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('preload', () => {
  beforeEach(() => {
    ipcOn.mockClear();
    ipcRemove.mockClear();
  });

  it('exposes exactly the API methods under one key, never ipcRenderer', async () => {
    await import('../../../src-main/electron/preload');
    expect(Object.keys(exposed)).toEqual([PRELOAD_KEY]);
    const api = exposed[PRELOAD_KEY] as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...PRELOAD_METHODS].sort());
    for (const k of PRELOAD_METHODS) expect(typeof api[k]).toBe('function');
  });

  it('subscriptions return an unsubscribe and hide the IpcRendererEvent', async () => {
    const api = exposed[PRELOAD_KEY] as { onJobEvent: (l: (e: unknown) => void) => () => void; startJob: (n: string, i: unknown) => unknown };
    const seen: unknown[][] = [];
    const off = api.onJobEvent((...args: unknown[]) => seen.push(args));
    expect(ipcOn).toHaveBeenCalledWith(IPC_CHANNELS.jobEvent, expect.any(Function));
    const wrapped = ipcOn.mock.calls[0][1] as (ev: unknown, e: unknown) => void;
    wrapped({ sender: 'ipcRenderer!' }, { type: 'queued', jobId: 'j', name: 'generate' });
    expect(seen).toEqual([[{ type: 'queued', jobId: 'j', name: 'generate' }]]);
    off();
    expect(ipcRemove).toHaveBeenCalledWith(IPC_CHANNELS.jobEvent, wrapped);
    api.startJob('generate', { a: 1 });
    expect(ipcInvoke).toHaveBeenCalledWith(IPC_CHANNELS.startJob, 'generate', { a: 1 });
  });
});

describe('IPC sender check', () => {
  const ev = (url: string, opts: { parent?: unknown; known?: boolean; noFrame?: boolean } = {}) => {
    fromWebContents.mockReturnValue(opts.known === false ? null : {});
    return { sender: {}, senderFrame: opts.noFrame ? null : { url, parent: opts.parent ?? null } } as never;
  };
  it('accepts only the top frame of our window showing app://bundle', () => {
    expect(senderAllowed(ev('app://bundle/index.html'))).toBe(true);
    expect(senderAllowed(ev('https://evil.example/'))).toBe(false);
    expect(senderAllowed(ev('app://bundle/index.html', { parent: {} }))).toBe(false);
    expect(senderAllowed(ev('app://bundle/index.html', { known: false }))).toBe(false);
    expect(senderAllowed(ev('app://bundle/index.html', { noFrame: true }))).toBe(false);
  });
});

describe('IPC handlers', () => {
  it('register exactly the API commands, and every one refuses a foreign sender before touching the engine', async () => {
    const calls: string[] = [];
    const session = {
      getAppInfo: async () => (calls.push('getAppInfo'), { version: '1' }),
      pickModelFolder: async () => (calls.push('pickModelFolder'), null),
      startJob: async () => (calls.push('startJob'), { jobId: 'j1' }),
      cancelJob: async () => void calls.push('cancelJob'),
      project: async () => (calls.push('project'), null),
      onJobEvent: () => () => undefined,
      close: () => undefined,
    };
    const service = { connect: () => session };
    ipcHandle.mockClear();
    registerIpc(service as never);
    const channels = ipcHandle.mock.calls.map((c) => c[0]);
    expect(channels.sort()).toEqual(
      [IPC_CHANNELS.getAppInfo, IPC_CHANNELS.pickModelFolder, IPC_CHANNELS.startJob, IPC_CHANNELS.cancelJob, IPC_CHANNELS.project].sort(),
    );
    const sender = { id: 1, send: vi.fn(), isDestroyed: () => false, once: vi.fn() };
    for (const [, handler] of ipcHandle.mock.calls as [string, (e: unknown, ...a: unknown[]) => Promise<unknown>][]) {
      fromWebContents.mockReturnValue({});
      const refused = await handler({ sender, senderFrame: { url: 'https://evil.example/', parent: null } }, 'generate', {});
      expect(refused).toMatchObject({ ok: false, error: { code: 'not-supported' } });
    }
    expect(calls).toEqual([]);
    // Our own frame gets through, and results come back in an envelope.
    const start = (ipcHandle.mock.calls.find((c) => c[0] === IPC_CHANNELS.startJob) as unknown[])[1] as (e: unknown, ...a: unknown[]) => Promise<unknown>;
    fromWebContents.mockReturnValue({});
    await expect(start({ sender, senderFrame: { url: 'app://bundle/index.html', parent: null } }, 'generate', {})).resolves.toEqual({
      ok: true,
      result: { jobId: 'j1' },
    });
    expect(calls).toEqual(['startJob']);
  });
});
