/**
 * The main-side implementation of PullbackApi, shared by both transports (IPC handlers and the WebSocket server).
 * Each connected client gets its own session: it sees events only for the jobs it started, and its running jobs are
 * cancelled when it disconnects.
 *
 * Fair sharing: a client has at most `maxOpenJobsPerClient` jobs queued or running ('busy' beyond), and at most one
 * per priority level in the engine at a time (DEFAULT_JOB_PRIORITY or the client's hint); the rest wait here, in the
 * client's order, and enter the engine when the client's previous job of that level ends. The engine runs jobs of one
 * level in queue order, so clients take turns: a client that queued hundreds of jobs delays another client's job of
 * the same level by at most one of its own; one per level lets a client's preview overtake its own analysis.
 *
 * Coalescing (`coalesceKey`, scoped to the client): a new job ends the client's waiting or in-engine job with the
 * same key as 'superseded' (an in-engine one through the engine's cancel, reported as 'superseded').
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { listBundledModels } from './bundled-models';
import {
  AppInfoSchema,
  CancelJobRequestSchema,
  DEFAULT_JOB_PRIORITY,
  JOBS,
  StartJobRequestSchema,
  type AppInfo,
  type JobEvent,
  type JobName,
  type JobPriority,
  type PullbackApi,
  type StartJobOptions,
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
  priority: JobPriority;
}

const SUPERSEDED = { code: 'superseded', message: 'replaced by a newer request with the same key' } as const;

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
    /** This client's jobs in the engine (queued or running) and their priority level: at most one live per level. */
    const inEngine = new Map<string, JobPriority>();
    /** Coalescing keys of this client's open jobs. */
    const keys = new Map<string, string>();
    /** In-engine jobs a newer one replaced: cancelled there, reported as 'superseded' whatever ends them. */
    const superseded = new Set<string>();
    /** Jobs whose 'queued' event was sent when they started waiting here (the engine's own is then a duplicate). */
    const announced = new Set<string>();
    const listeners = new Set<(e: JobEvent) => void>();
    let closed = false;

    const emit = (e: JobEvent) => {
      if (e.type === 'done' || e.type === 'error') {
        owned.delete(e.jobId);
        keys.delete(e.jobId);
      }
      for (const l of [...listeners]) l(e);
    };
    /** A superseded job leaves the level to its successor at once (it only has its current step to finish). */
    const levelBusy = (level: JobPriority) => [...inEngine].some(([id, l]) => l === level && !superseded.has(id));
    const submit = (job: WaitingJob) => {
      inEngine.set(job.jobId, job.priority);
      this.host.submit(job.name, job.input, job.jobId, { priority: job.priority });
    };
    const submitNext = () => {
      for (let i = 0; !closed && i < waiting.length; ) {
        const job = waiting[i];
        if (levelBusy(job.priority)) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        try {
          submit(job);
        } catch (err) {
          inEngine.delete(job.jobId);
          announced.delete(job.jobId);
          emit({ type: 'error', jobId: job.jobId, error: asApiError(err).toPayload() });
        }
      }
    };
    /** The client's open jobs with this key: the ones the new job replaces. */
    const holdersOf = (key: string) => [...keys].filter(([, k]) => k === key).map(([id]) => id);
    const supersede = (ids: string[]) => {
      for (const id of ids) {
        const i = waiting.findIndex((j) => j.jobId === id);
        if (i >= 0) {
          waiting.splice(i, 1);
          announced.delete(id);
          emit({ type: 'error', jobId: id, error: { ...SUPERSEDED } });
        } else if (inEngine.has(id) && !superseded.has(id)) {
          superseded.add(id);
          this.host.cancel(id);
        }
      }
    };
    const unsubscribeHost = this.host.onEvent((event) => {
      if (!owned.has(event.jobId)) return;
      if (event.type === 'queued' && announced.delete(event.jobId)) return;
      const ended = event.type === 'done' || event.type === 'error';
      const e: JobEvent = ended && superseded.has(event.jobId) ? { type: 'error', jobId: event.jobId, error: { ...SUPERSEDED } } : event;
      emit(e);
      if (ended) {
        superseded.delete(e.jobId);
        if (inEngine.delete(e.jobId)) submitNext();
      }
    });
    return {
      getAppInfo: () => this.getAppInfo(),
      pickModelFolder: async () => (this.opts.pickFolder ? this.opts.pickFolder() : null),
      startJob: async (name: JobName, input: unknown, options?: StartJobOptions) => {
        const req = StartJobRequestSchema.safeParse({ name, input, options });
        if (!req.success) {
          if (req.error.issues.some((i) => i.path[0] === 'name')) throw new ApiError({ code: 'unknown-job', message: `unknown job "${String(name)}"` });
          throw new ApiError({ code: 'invalid-input', message: `invalid job options: ${req.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
        }
        const key = req.data.options?.coalesceKey;
        const replaced = key === undefined ? [] : holdersOf(key);
        if (owned.size - replaced.length >= maxOpen) {
          throw new ApiError({ code: 'busy', message: `this window already has ${maxOpen} jobs queued or running; wait for some to finish or cancel them` });
        }
        // A bad request must not end the job it would have replaced.
        checkJobInput(req.data.name, req.data.input);
        supersede(replaced);
        const job: WaitingJob = { jobId: randomUUID(), name: req.data.name, input: req.data.input, priority: req.data.options?.priority ?? DEFAULT_JOB_PRIORITY[req.data.name] };
        // Own the id before submitting: the host emits 'queued' synchronously inside submit().
        owned.add(job.jobId);
        if (key !== undefined) keys.set(job.jobId, key);
        if (!levelBusy(job.priority)) {
          try {
            submit(job);
            return { jobId: job.jobId };
          } catch (err) {
            owned.delete(job.jobId);
            keys.delete(job.jobId);
            inEngine.delete(job.jobId);
            throw asApiError(err);
          }
        }
        announced.add(job.jobId);
        waiting.push(job);
        emit({ type: 'queued', jobId: job.jobId, name: job.name });
        return { jobId: job.jobId };
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
        for (const id of inEngine.keys()) this.host.cancel(id);
        owned.clear();
        keys.clear();
        superseded.clear();
        announced.clear();
        listeners.clear();
        unsubscribeHost();
      },
    };
  }
}
