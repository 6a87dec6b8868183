/**
 * The main-side implementation of PullbackApi, shared by both transports (IPC handlers and the WebSocket server).
 * Each connected client gets its own session: it sees events only for the jobs it started, and its running jobs are
 * cancelled when it disconnects.
 *
 * Fair sharing: a client has at most `maxOpenJobsPerClient` jobs queued or running ('busy' beyond), and at most one
 * of them waits in the engine's queue at a time; the rest wait here, in the client's order, and enter the engine's
 * queue when the client's previous job ends. The engine runs one job at a time in queue order, so clients take
 * turns: a client that queued hundreds of jobs delays another client's job by at most one of its own.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { listBundledModels } from './bundled-models';
import {
  AppInfoSchema,
  CancelJobRequestSchema,
  JOBS,
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
  /** Jobs one client may have queued or running at once (default 32); more are refused with 'busy'. */
  maxOpenJobsPerClient?: number;
}

/** The part of EngineHost the service uses (a fake in unit tests). */
export type JobHost = Pick<EngineHost, 'submit' | 'cancel' | 'onEvent' | 'availableProviders'>;

interface WaitingJob {
  jobId: string;
  name: JobName;
  input: unknown;
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

/** Same check and message as EngineHost.submit, so a job waiting here fails as early as one submitted at once. */
function checkJobInput(name: JobName, input: unknown): void {
  const parsed = JOBS[name].input.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ApiError({ code: 'invalid-input', message: `invalid input for ${name}: ${issues}` });
  }
}

export class ApiService {
  private readonly version = appVersion();
  constructor(
    private readonly host: JobHost,
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
    const maxOpen = this.opts.maxOpenJobsPerClient ?? 32;
    /** Every job of this client that has not ended: waiting here, queued in the engine or running. */
    const owned = new Set<string>();
    /** Jobs waiting here for this client's turn, in the order they were started. */
    const waiting: WaitingJob[] = [];
    /** The one job of this client in the engine's queue (or running), if any. */
    let inEngine: string | null = null;
    /** Jobs whose 'queued' event was sent when they started waiting here (the engine's own is then a duplicate). */
    const announced = new Set<string>();
    const listeners = new Set<(e: JobEvent) => void>();
    let closed = false;

    const emit = (e: JobEvent) => {
      if (e.type === 'done' || e.type === 'error') owned.delete(e.jobId);
      for (const l of [...listeners]) l(e);
    };
    const submitNext = () => {
      while (!closed && inEngine === null && waiting.length > 0) {
        const job = waiting.shift()!;
        inEngine = job.jobId;
        try {
          this.host.submit(job.name, job.input, job.jobId);
        } catch (err) {
          inEngine = null;
          announced.delete(job.jobId);
          emit({ type: 'error', jobId: job.jobId, error: asApiError(err).toPayload() });
        }
      }
    };
    const unsubscribeHost = this.host.onEvent((e) => {
      if (!owned.has(e.jobId)) return;
      if (e.type === 'queued' && announced.delete(e.jobId)) return;
      emit(e);
      if ((e.type === 'done' || e.type === 'error') && e.jobId === inEngine) {
        inEngine = null;
        submitNext();
      }
    });
    return {
      getAppInfo: () => this.getAppInfo(),
      pickModelFolder: async () => (this.opts.pickFolder ? this.opts.pickFolder() : null),
      startJob: async (name: JobName, input: unknown) => {
        const req = StartJobRequestSchema.safeParse({ name, input });
        if (!req.success) throw new ApiError({ code: 'unknown-job', message: `unknown job "${String(name)}"` });
        if (owned.size >= maxOpen) {
          throw new ApiError({ code: 'busy', message: `this window already has ${maxOpen} jobs queued or running; wait for some to finish or cancel them` });
        }
        // Own the id before submitting: the host emits 'queued' synchronously inside submit().
        const jobId = randomUUID();
        if (inEngine === null) {
          owned.add(jobId);
          inEngine = jobId;
          try {
            this.host.submit(req.data.name, req.data.input, jobId);
            return { jobId };
          } catch (err) {
            owned.delete(jobId);
            inEngine = null;
            throw asApiError(err);
          }
        }
        checkJobInput(req.data.name, req.data.input);
        owned.add(jobId);
        announced.add(jobId);
        waiting.push({ jobId, name: req.data.name, input: req.data.input });
        emit({ type: 'queued', jobId, name: req.data.name });
        return { jobId };
      },
      cancelJob: async (jobId: string) => {
        const req = CancelJobRequestSchema.safeParse({ jobId });
        if (!req.success) throw new ApiError({ code: 'invalid-input', message: 'jobId must be a short string' });
        const i = waiting.findIndex((j) => j.jobId === jobId);
        if (i >= 0) {
          waiting.splice(i, 1);
          announced.delete(jobId);
          emit({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } });
        } else if (owned.has(jobId)) this.host.cancel(jobId);
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
        closed = true;
        waiting.length = 0;
        if (inEngine !== null) this.host.cancel(inEngine);
        owned.clear();
        announced.clear();
        listeners.clear();
        unsubscribeHost();
      },
    };
  }
}
