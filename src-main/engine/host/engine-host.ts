/**
 * The host side of the engine: starts the worker, queues jobs by priority, relays progress with an ETA, cancels,
 * coalesces, and restarts the worker when it dies. Every job that was in the worker when it died fails with
 * 'worker-died' so the UI shows an error instead of hanging.
 *
 * Scheduling (DEVELOPERS.md "Scheduler"): the worker runs all model work on one compute lane, highest priority first,
 * and a started lower-priority job pauses between its model calls while a higher one runs. The host starts a queued
 * job only when its priority is above every job already in the worker, so the worker holds at most one job per
 * priority level (memory stays bounded; the long analysis is paused, not duplicated), jobs of equal priority run one
 * after another in submission order, and a preview never waits for more than the one model call in progress.
 */
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_JOB_PRIORITY,
  JOB_PRIORITIES,
  JOBS,
  type JobEvent,
  type JobName,
  type JobPriority,
  type Provider,
  type StartJobOptions,
  type Unsubscribe,
} from '../../shared/api';
import { ApiError, type ApiErrorPayload } from '../../shared/errors';
import { encodeRawImages } from './encode-images';
import { toApiError } from '../errors';
import type { HostToWorker, WorkerToHost } from '../messages';
import { costScope, forwardCost, JobEta, UnitCostBook } from './eta';

export interface EngineHostOptions {
  /** Path of the worker entry. Default: worker.js beside the built host, or worker.ts (via tsx) from source. */
  workerFile?: string;
  /** V8 heap limits so a runaway job kills the worker, not the app. */
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Consecutive deaths before 'ready' after which the host stops restarting (until the next submit). */
  maxStartFailures?: number;
}

interface HostJob {
  jobId: string;
  name: JobName;
  input: unknown;
  /** Its JobPriority as a number, higher first (JOB_PRIORITIES read from the end). */
  rank: number;
  /** Submission order (FIFO within a priority). */
  seq: number;
  coalesceKey?: string;
  /** When it was sent to the worker. */
  startedAt?: number;
  /** Time spent paused so far, and since when it is paused now: the ETA counts running time only. */
  pausedMs: number;
  pausedSince?: number;
  /** The last progress, repeated in the events that report a state change. */
  fraction: number;
  message: string;
  /** A newer job with its coalescing key replaced it while it was in the worker: it ends as 'superseded'. */
  superseded?: boolean;
  /** Its ETA: measured unit costs when it reports its work, else the fraction rule (eta.ts). */
  eta: JobEta;
}

const rankOf = (p: JobPriority): number => JOB_PRIORITIES.length - 1 - JOB_PRIORITIES.indexOf(p);

function supersededError(job: HostJob): ApiErrorPayload {
  return { code: 'superseded', message: `${job.name} was replaced by a newer request with the same key` };
}

/**
 * From source (tsx: tests, web mode, CLI) this file is engine/host/engine-host.ts and the worker engine/worker/worker.ts;
 * built, both are bundled into out/main/ as index.js and worker.js.
 */
function defaultWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return import.meta.url.endsWith('.ts') ? join(here, '..', 'worker', 'worker.ts') : join(here, 'worker.js');
}

/** A .ts worker (tests, web mode and CLI from source) is loaded through tsx's ESM hooks inside the worker. */
function spawnWorker(file: string, resourceLimits?: EngineHostOptions['resourceLimits']): Worker {
  if (file.endsWith('.ts')) {
    const url = JSON.stringify(pathToFileURL(file).href);
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${url}); })`;
    return new Worker(boot, { eval: true, resourceLimits });
  }
  return new Worker(file, { resourceLimits });
}

/** How long close() waits for the worker to leave its native calls and end itself before terminating it. */
const SHUTDOWN_DEADLINE_MS = 10_000;

export class EngineHost {
  private worker: Worker | null = null;
  private ready = false;
  /** Submitted, not yet in the worker. */
  private readonly queue: HostJob[] = [];
  /** In the worker (running or paused), by id. */
  private readonly started = new Map<string, HostJob>();
  private nextSeq = 0;
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private startFailures = 0;
  private closed = false;
  private restarts = 0;
  private readonly workerFile: string;
  private providers: Provider[] | null = null;
  private readonly readyWaiters: (() => void)[] = [];
  /** What model calls cost, measured across jobs (per model and provider), for the ETAs. */
  private readonly unitCosts = new UnitCostBook();

  constructor(private readonly opts: EngineHostOptions = {}) {
    this.workerFile = opts.workerFile ?? defaultWorkerFile();
  }

  /** Execution providers the worker found usable (starts the worker if needed). */
  async availableProviders(): Promise<Provider[]> {
    if (this.providers) return this.providers;
    if (this.closed) return ['cpu'];
    this.ensureWorker();
    await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    return this.providers ?? ['cpu'];
  }

  /** How many times the worker was restarted after dying (for diagnostics and tests). */
  get restartCount(): number {
    return this.restarts;
  }

  onEvent(listener: (e: JobEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Validate and queue a job; its events follow on onEvent (starting with 'queued', emitted before this returns).
   * Throws ApiError ('invalid-input', 'unknown-job', 'disconnected'). `jobId` lets a caller own the id up front.
   * `options.priority` overrides the job's default priority; a job with `options.coalesceKey` ends every queued or
   * running job with that key as 'superseded' (the key is global here: ApiService scopes it per client).
   */
  submit(name: JobName, input: unknown, jobId: string = randomUUID(), options: StartJobOptions = {}): string {
    if (this.closed) throw new ApiError({ code: 'disconnected', message: 'the engine is shut down' });
    const spec = JOBS[name];
    if (!spec) throw new ApiError({ code: 'unknown-job', message: `unknown job "${String(name)}"` });
    const parsed = spec.input.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ApiError({ code: 'invalid-input', message: `invalid input for ${name}: ${issues}` });
    }
    if (options.coalesceKey !== undefined) this.supersede(options.coalesceKey);
    const priority = options.priority ?? DEFAULT_JOB_PRIORITY[name];
    this.queue.push({
      jobId,
      name,
      input: parsed.data,
      rank: rankOf(priority),
      seq: this.nextSeq++,
      ...(options.coalesceKey !== undefined ? { coalesceKey: options.coalesceKey } : {}),
      pausedMs: 0,
      fraction: 0,
      message: 'waiting',
      eta: new JobEta(this.unitCosts, costScope(parsed.data)),
    });
    this.emit({ type: 'queued', jobId, name });
    this.startFailures = 0;
    this.pump();
    return jobId;
  }

  cancel(jobId: string): void {
    const i = this.queue.findIndex((j) => j.jobId === jobId);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.emit({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } });
      return;
    }
    if (this.started.has(jobId)) this.send({ type: 'cancel', jobId });
  }

  /** A new job with this key replaces the queued ones at once and the started ones at their next step. */
  private supersede(key: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const j = this.queue[i];
      if (j.coalesceKey !== key) continue;
      this.queue.splice(i, 1);
      this.emit({ type: 'error', jobId: j.jobId, error: supersededError(j) });
    }
    for (const j of this.started.values()) {
      if (j.coalesceKey !== key || j.superseded) continue;
      j.superseded = true;
      this.send({ type: 'cancel', jobId: j.jobId });
    }
  }

  /** Kill the worker as a crash would (tests, and a "force stop" for a stuck native call). */
  async terminateWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.readyWaiters.splice(0)) w();
    const pending = [...this.started.values(), ...this.queue.splice(0)];
    this.started.clear();
    for (const j of pending) this.emit({ type: 'error', jobId: j.jobId, error: { code: 'cancelled', message: 'engine shut down' } });
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    // Ask the worker to end itself once it is out of native code (worker.ts shutdown); terminate only if it does not
    // within the deadline (a native call that never returns).
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'shutdown' } satisfies HostToWorker);
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), SHUTDOWN_DEADLINE_MS).unref());
    if ((await Promise.race([exited, deadline])) === 'late') await w.terminate();
  }

  private emit(e: JobEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A faulty listener must not break the engine or other clients.
      }
    }
  }

  private send(msg: HostToWorker): void {
    this.worker?.postMessage(msg);
  }

  private ensureWorker(): void {
    if (this.worker || this.closed) return;
    const w = spawnWorker(this.workerFile, this.opts.resourceLimits);
    this.worker = w;
    this.ready = false;
    w.on('message', (m: WorkerToHost) => this.onWorkerMessage(m));
    // 'error' (uncaught exception, OOM) is followed by 'exit'; handle the death once, on exit.
    w.on('error', (err) => {
      this.lastWorkerError = err instanceof Error ? err.message : String(err);
    });
    w.on('exit', (code) => this.onWorkerExit(w, code));
  }

  private lastWorkerError: string | null = null;

  private onWorkerExit(w: Worker, code: number): void {
    if (this.worker !== w) return;
    const wasReady = this.ready;
    this.worker = null;
    this.ready = false;
    if (this.closed) return;
    const reason = this.lastWorkerError ?? `exit code ${code}`;
    this.lastWorkerError = null;
    const lost = [...this.started.values()];
    this.started.clear();
    for (const job of lost) {
      this.emit({
        type: 'error',
        jobId: job.jobId,
        error: job.superseded
          ? supersededError(job)
          : { code: 'worker-died', message: `the engine stopped while running ${job.name} (${reason}); it was restarted` },
      });
    }
    if (!wasReady) this.startFailures++;
    if (this.startFailures >= (this.opts.maxStartFailures ?? 3)) {
      // The worker cannot even start (broken install?): fail what is queued instead of looping.
      for (const w of this.readyWaiters.splice(0)) w();
      for (const j of this.queue.splice(0)) {
        this.emit({ type: 'error', jobId: j.jobId, error: { code: 'worker-died', message: `the engine cannot start (${reason})` } });
      }
      return;
    }
    this.restarts++;
    this.ensureWorker();
    this.pump();
  }

  private onWorkerMessage(m: WorkerToHost): void {
    if (m.type === 'ready') {
      this.ready = true;
      this.providers = m.providers;
      for (const w of this.readyWaiters.splice(0)) w();
      this.startFailures = 0;
      this.pump();
      return;
    }
    const job = this.started.get(m.jobId);
    if (!job) return;
    if (m.type === 'progress' || m.type === 'state') {
      const now = performance.now();
      if (m.type === 'progress') {
        job.fraction = m.fraction;
        job.message = m.message;
        job.eta.observe(this.runningMs(job, now), m.fraction, m.work);
      } else if (m.state === 'paused' && job.pausedSince === undefined) job.pausedSince = now;
      else if (m.state === 'running' && job.pausedSince !== undefined) {
        job.pausedMs += now - job.pausedSince;
        job.pausedSince = undefined;
      }
      this.emitProgress(job, m.type === 'progress' ? m.partial : undefined);
      return;
    }
    this.started.delete(job.jobId);
    if (job.superseded) this.emit({ type: 'error', jobId: job.jobId, error: supersededError(job) });
    else if (m.type === 'error') this.emit({ type: 'error', jobId: job.jobId, error: m.error });
    else void this.finish(job, m.result);
    // The worker has room again (a result is encoded here, off the worker): start what may start.
    this.pump();
  }

  /** Time the job has run in the worker so far, paused time excluded. */
  private runningMs(job: HostJob, now: number): number {
    return now - (job.startedAt ?? now) - job.pausedMs - (job.pausedSince !== undefined ? now - job.pausedSince : 0);
  }

  /** A progress event with the job's last fraction and message, its state and its ETA (eta.ts). */
  private emitProgress(job: HostJob, partial?: unknown): void {
    const f = job.fraction;
    const etaMs = job.eta.etaMs(this.runningMs(job, performance.now()));
    this.emit({
      type: 'progress',
      jobId: job.jobId,
      fraction: f,
      message: job.message,
      ...(etaMs !== undefined ? { etaMs } : {}),
      ...(partial !== undefined ? { partial } : {}),
      state: job.pausedSince !== undefined ? 'paused' : 'running',
    });
  }

  private async finish(job: HostJob, result: unknown): Promise<void> {
    let event: JobEvent;
    try {
      const encoded = await encodeRawImages(result);
      // model.info asked with a device preference also says what a U-Net call measured there (the basis estimate).
      const output = job.name === 'model.info' ? this.withForwardCost(job.input, encoded) : encoded;
      const checked = JOBS[job.name].output.safeParse(output);
      if (!checked.success) throw new Error(`job ${job.name} produced an output that does not match its schema`);
      event = { type: 'done', jobId: job.jobId, name: job.name, output: checked.data };
    } catch (err) {
      const error: ApiErrorPayload = toApiError(err);
      event = { type: 'error', jobId: job.jobId, error };
    }
    this.emit(event);
  }

  /** A model.info reply with `forwardCost` when its input names a provider and a job measured U-Net calls there. */
  private withForwardCost(input: unknown, info: unknown): unknown {
    if ((input as { provider?: unknown }).provider === undefined) return info;
    const cost = forwardCost(this.unitCosts, costScope(input));
    return cost ? { ...(info as object), forwardCost: cost } : info;
  }

  /** Start the best queued job when it ranks above every job in the worker (see the header). */
  private pump(): void {
    if (this.closed || this.queue.length === 0) return;
    this.ensureWorker();
    if (!this.ready) return;
    for (;;) {
      const best = [...this.queue].sort(byRankThenSeq)[0];
      if (!best) return;
      const top = Math.max(-1, ...[...this.started.values()].map((j) => j.rank));
      if (best.rank <= top) return;
      this.queue.splice(this.queue.indexOf(best), 1);
      best.startedAt = performance.now();
      best.message = 'starting';
      this.started.set(best.jobId, best);
      this.send({ type: 'run', jobId: best.jobId, name: best.name, input: best.input, rank: best.rank });
      this.emitProgress(best);
    }
  }
}

function byRankThenSeq(a: HostJob, b: HostJob): number {
  return b.rank - a.rank || a.seq - b.seq;
}
