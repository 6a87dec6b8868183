/**
 * The preload: exposes exactly the PreloadBridge methods as `window.pullback`, never ipcRenderer itself.
 * Listeners receive only the event payload (not the IpcRendererEvent, whose `sender` leads back to ipcRenderer).
 * Bundled to one CommonJS file so it runs in the sandbox.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS, PRELOAD_KEY, type PreloadBridge } from '../shared/ipc';
import type { JobEvent } from '../shared/api';

export const bridge: PreloadBridge = {
  getAppInfo: () => ipcRenderer.invoke(IPC_CHANNELS.getAppInfo),
  pickModelFolder: () => ipcRenderer.invoke(IPC_CHANNELS.pickModelFolder),
  // Scheduling options only when given: a call without them sends exactly what it always did.
  startJob: (name, input, options) => ipcRenderer.invoke(IPC_CHANNELS.startJob, name, input, ...(options ? [options] : [])),
  cancelJob: (jobId) => ipcRenderer.invoke(IPC_CHANNELS.cancelJob, jobId),
  project: (req) => ipcRenderer.invoke(IPC_CHANNELS.project, req),
  onJobEvent: (listener) => {
    const wrapped = (_event: IpcRendererEvent, e: JobEvent) => listener(e);
    ipcRenderer.on(IPC_CHANNELS.jobEvent, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNELS.jobEvent, wrapped);
    };
  },
  onMenuCommand: (listener) => {
    const wrapped = (_event: IpcRendererEvent, command: unknown) => {
      if (typeof command === 'string') listener(command);
    };
    ipcRenderer.on(IPC_CHANNELS.menuCommand, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNELS.menuCommand, wrapped);
    };
  },
  onCloseRequested: (listener) => {
    const wrapped = () => listener();
    ipcRenderer.on(IPC_CHANNELS.closeRequested, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNELS.closeRequested, wrapped);
    };
  },
  allowClose: () => ipcRenderer.invoke(IPC_CHANNELS.closeAllowed),
};

contextBridge.exposeInMainWorld(PRELOAD_KEY, bridge);
