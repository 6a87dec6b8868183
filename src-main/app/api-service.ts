/**
 * The main-side implementation of PullbackApi, shared by both transports (IPC handlers and the WebSocket server).
 * Each connected client gets its own session: it sees events only for the jobs it started, and its running jobs are
 * cancelled when it disconnects.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { listBundledModels } from './bundled-models';
import {
  AppInfoSchema,
  CancelJobRequestSchema,
  StartJobRequestSchema,
  type AppInfo,
  type JobEvent,
  type JobName,
  type PullbackApi,
  type Unsubscribe,
} from '../shared/api';
import { ApiError } from '../shared/errors';
import type { EngineHost } from '../engine/host/engine-host';
import { toApiError } from '../engine/errors';

export interface ApiServiceOptions {
  mode: AppInfo['mode'];
  /** Folder holding bundled models (resources/models). */
  modelsDir: string;
  /** Native folder dialog (Electron); absent in web mode. */
  pickFolder?: () => Promise<string | null>;
  /** Project files (src-main/project-service.ts); absent: the `project` command answers 'not-supported'. */
  projects?: { handle(req: unknown): Promise<unknown> };
}

export interface ClientSession extends PullbackApi {
  close(): void;
}

function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Rethrow anything as ApiError so both transports send a typed payload. */
function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(toApiError(err));
}

export class ApiService {
  private readonly version = appVersion();
  constructor(
    private readonly host: EngineHost,
    private readonly opts: ApiServiceOptions,
  ) {}

  async getAppInfo(): Promise<AppInfo> {
    return AppInfoSchema.parse({
      version: this.version,
      mode: this.opts.mode,
      bundledModels: await listBundledModels(this.opts.modelsDir),
      canPickFolder: Boolean(this.opts.pickFolder),
      providers: await this.host.availableProviders(),
    });
  }

  /** A per-client view of the API. */
  connect(): ClientSession {
    const owned = new Set<string>();
    const listeners = new Set<(e: JobEvent) => void>();
    const unsubscribeHost = this.host.onEvent((e) => {
      if (!owned.has(e.jobId)) return;
      if (e.type === 'done' || e.type === 'error') owned.delete(e.jobId);
      for (const l of [...listeners]) l(e);
    });
    return {
      getAppInfo: () => this.getAppInfo(),
      pickModelFolder: async () => (this.opts.pickFolder ? this.opts.pickFolder() : null),
      startJob: async (name: JobName, input: unknown) => {
        const req = StartJobRequestSchema.safeParse({ name, input });
        if (!req.success) throw new ApiError({ code: 'unknown-job', message: `unknown job "${String(name)}"` });
        // Own the id before submitting: the host emits 'queued' synchronously inside submit().
        const jobId = randomUUID();
        owned.add(jobId);
        try {
          this.host.submit(req.data.name, req.data.input, jobId);
          return { jobId };
        } catch (err) {
          owned.delete(jobId);
          throw asApiError(err);
        }
      },
      cancelJob: async (jobId: string) => {
        const req = CancelJobRequestSchema.safeParse({ jobId });
        if (!req.success) throw new ApiError({ code: 'invalid-input', message: 'jobId must be a short string' });
        if (owned.has(jobId)) this.host.cancel(jobId);
      },
      project: async (req) => {
        if (!this.opts.projects) throw new ApiError({ code: 'not-supported', message: 'projects are not available here' });
        return this.opts.projects.handle(req);
      },
      onJobEvent: (listener): Unsubscribe => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close: () => {
        for (const id of owned) this.host.cancel(id);
        owned.clear();
        listeners.clear();
        unsubscribeHost();
      },
    };
  }
}
