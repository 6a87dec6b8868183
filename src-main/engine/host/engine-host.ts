/**
 * The host side of the engine: starts the worker, queues jobs (one runs at a time; the U-Net already uses every
 * core), relays progress with an ETA, cancels, and restarts the worker when it dies. A job that was running when
 * the worker died fails with 'worker-died' so the UI shows an error instead of hanging.
 */
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { JOBS, type JobEvent, type JobName, type Provider, type Unsubscribe } from '../../shared/api';
import { ApiError, type ApiErrorPayload } from '../../shared/errors';
import { encodeRawImages } from './encode-images';
import { toApiError } from '../errors';
import type { HostToWorker, WorkerToHost } from '../messages';

export interface EngineHostOptions {
  /** Path of the worker entry. Default: worker.js beside the built host, or worker.ts (via tsx) from source. */
  workerFile?: string;
  /** V8 heap limits so a runaway job kills the worker, not the app. */
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Consecutive deaths before 'ready' after which the host stops restarting (until the next submit). */
  maxStartFailures?: number;
}

interface QueuedJob {
  jobId: string;
  name: JobName;
  input: unknown;
  startedAt?: number;
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

export class EngineHost {
  private worker: Worker | null = null;
  private ready = false;
  private readonly queue: QueuedJob[] = [];
  private current: QueuedJob | null = null;
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private startFailures = 0;
  private closed = false;
  private restarts = 0;
  private readonly workerFile: string;
  private providers: Provider[] | null = null;
  private readonly readyWaiters: (() => void)[] = [];

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
   */
  submit(name: JobName, input: unknown, jobId: string = randomUUID()): string {
    if (this.closed) throw new ApiError({ code: 'disconnected', message: 'the engine is shut down' });
    const spec = JOBS[name];
    if (!spec) throw new ApiError({ code: 'unknown-job', message: `unknown job "${String(name)}"` });
    const parsed = spec.input.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ApiError({ code: 'invalid-input', message: `invalid input for ${name}: ${issues}` });
    }
    this.queue.push({ jobId, name, input: parsed.data });
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
    if (this.current?.jobId === jobId) this.send({ type: 'cancel', jobId });
  }

  /** Kill the worker as a crash would (tests, and a "force stop" for a stuck native call). */
  async terminateWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.readyWaiters.splice(0)) w();
    const pending = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const j of pending) this.emit({ type: 'error', jobId: j.jobId, error: { code: 'cancelled', message: 'engine shut down' } });
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
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
    const job = this.current;
    this.current = null;
    if (job) {
      this.emit({
        type: 'error',
        jobId: job.jobId,
        error: { code: 'worker-died', message: `the engine stopped while running ${job.name} (${reason}); it was restarted` },
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
    const job = this.current;
    if (!job || m.jobId !== job.jobId) return;
    if (m.type === 'progress') {
      const elapsed = performance.now() - (job.startedAt ?? performance.now());
      const etaMs = m.fraction > 0 && m.fraction < 1 ? (elapsed * (1 - m.fraction)) / m.fraction : m.fraction >= 1 ? 0 : undefined;
      this.emit({
        type: 'progress',
        jobId: job.jobId,
        fraction: m.fraction,
        message: m.message,
        ...(etaMs !== undefined ? { etaMs } : {}),
        ...(m.partial !== undefined ? { partial: m.partial } : {}),
      });
      return;
    }
    this.current = null;
    if (m.type === 'error') {
      this.emit({ type: 'error', jobId: job.jobId, error: m.error });
      this.pump();
    } else {
      void this.finish(job, m.result);
    }
  }

  private async finish(job: QueuedJob, result: unknown): Promise<void> {
    let event: JobEvent;
    try {
      const output = await encodeRawImages(result);
      const checked = JOBS[job.name].output.safeParse(output);
      if (!checked.success) throw new Error(`job ${job.name} produced an output that does not match its schema`);
      event = { type: 'done', jobId: job.jobId, name: job.name, output: checked.data };
    } catch (err) {
      const error: ApiErrorPayload = toApiError(err);
      event = { type: 'error', jobId: job.jobId, error };
    }
    this.emit(event);
    this.pump();
  }

  private pump(): void {
    if (this.closed || this.current) return;
    if (this.queue.length === 0) return;
    this.ensureWorker();
    if (!this.ready) return;
    const job = this.queue.shift() as QueuedJob;
    job.startedAt = performance.now();
    this.current = job;
    this.send({ type: 'run', jobId: job.jobId, name: job.name, input: job.input });
  }
}
