/** PullbackApi over the preload bridge (Electron). Unwraps envelopes into values or ApiError. */
import type { AppInfo, JobEvent, JobName, PullbackApi, StartJobOptions, Unsubscribe } from './api';
import { ApiError } from './errors';
import type { ProjectRequest } from './project-api';
import type { IpcEnvelope, PreloadBridge } from './ipc';

async function unwrap<T>(p: Promise<IpcEnvelope<T>>): Promise<T> {
  const env = await p;
  if (env.ok) return env.result;
  throw new ApiError(env.error);
}

export class IpcClient implements PullbackApi {
  constructor(private readonly bridge: PreloadBridge) {}
  getAppInfo(): Promise<AppInfo> {
    return unwrap(this.bridge.getAppInfo());
  }
  pickModelFolder(): Promise<string | null> {
    return unwrap(this.bridge.pickModelFolder());
  }
  startJob(name: JobName, input: unknown, options?: StartJobOptions): Promise<{ jobId: string }> {
    return unwrap(options ? this.bridge.startJob(name, input, options) : this.bridge.startJob(name, input));
  }
  async cancelJob(jobId: string): Promise<void> {
    await unwrap(this.bridge.cancelJob(jobId));
  }
  project(req: ProjectRequest): Promise<unknown> {
    return unwrap(this.bridge.project(req));
  }
  onJobEvent(listener: (e: JobEvent) => void): Unsubscribe {
    return this.bridge.onJobEvent(listener);
  }
}
