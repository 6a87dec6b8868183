/**
 * The one compute lane of the engine worker: every ORT session run goes through `run`, which grants the lane to the
 * highest-ranked waiting job (FIFO among equal ranks). Two CPU cores cannot run two heavy sessions well, so model
 * work never overlaps; instead a low-priority job (a basis, an analysis) simply waits between its model calls while
 * a higher one (a live preview) runs, and carries on afterwards with its JavaScript state intact (Krylov vectors,
 * DDIM latents): preemption at step boundaries, nothing recomputed.
 *
 * A session run blocks the thread, so a step in progress is never interrupted; a newly arrived job starts after at
 * most the one step that was already granted. Between two runs a job does other work with the lane idle: JavaScript
 * (DDIM updates, orthogonalisation) and I/O (opening the model folder, the basis cache), and each I/O callback waits
 * for a turn of the event loop, which a background step would fill (a chunk of Jacobian products takes up to a
 * second). A registered higher-ranked job therefore *reserves* the lane for `reserveMs` of free thread time after
 * it entered or last used it — a run of another job blocks the thread, so each run restarts the window — or
 * background steps would slip into every gap of a preview and multiply its latency (measured on the bundled model:
 * a preview opening its model folder waited for the whole basis, one 1.5 s step per file read). The reservation
 * expires, so a high job that waits on something else (a promise a lower job is completing, such as a shared prompt
 * embedding) lets one lower step through per `reserveMs` instead of stalling.
 *
 * Pure scheduling logic: the clock and timers are injectable (unit tests use a fake clock), and the caller says
 * which job a run belongs to (the worker does that through AsyncLocalStorage, see scheduling.ts).
 */
import { CancelledError } from '../../core/progress';

/** A job as the lane sees it. */
export interface LaneJob {
  readonly id: string;
  /** Higher runs first. */
  readonly rank: number;
  /** Aborting ends the job's wait for the lane with CancelledError (a paused job can be cancelled at once). */
  readonly signal?: AbortSignal;
}

export type LaneState = 'running' | 'paused';

export interface ComputeLaneOptions {
  /** How long a registered job keeps lower-ranked jobs off the idle lane after its last activity (default 1 s). */
  reserveMs?: number;
  now?: () => number;
  /** Schedules fn after ms; returns the cancel. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** A registered job became paused (waits while a higher-ranked one has or reserves the lane) or runs again. */
  onStateChange?: (jobId: string, state: LaneState) => void;
}

/** The job of runs made outside any job (CLI, bench, tests): the only user of its lane there. */
const UNSCOPED: LaneJob = { id: '', rank: 0 };

interface Waiter {
  job: LaneJob;
  seq: number;
  grant: () => void;
  detach: () => void;
}

interface Registered {
  job: LaneJob;
  /** When it last entered, asked for or released the lane (its reservation counts from here). */
  lastActivity: number;
  paused: boolean;
}

export class ComputeLane {
  private holder: LaneJob | null = null;
  private readonly waiters: Waiter[] = [];
  private readonly registered = new Map<string, Registered>();
  private nextSeq = 0;
  private cancelTimer: (() => void) | null = null;
  private readonly reserveMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly opts: ComputeLaneOptions = {}) {
    this.reserveMs = opts.reserveMs ?? 1000;
    this.now = opts.now ?? (() => performance.now());
    this.setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
  }

  /** A job starts: from now on it reserves the lane against lower ranks and gets state reports. */
  enter(job: LaneJob): void {
    this.registered.set(job.id, { job, lastActivity: this.now(), paused: false });
  }

  /** A job ended (any outcome): lower-ranked jobs may use the lane at once. */
  leave(jobId: string): void {
    this.registered.delete(jobId);
    this.dispatch();
  }

  /** Registered jobs that are paused now (for diagnostics and tests). */
  pausedJobs(): string[] {
    return [...this.registered.values()].filter((r) => r.paused).map((r) => r.job.id);
  }

  /**
   * Run `fn` (one session run) when the lane is granted to `job`. `fn` may return a promise; the lane is held until
   * it settles. Rejects with CancelledError when the job's signal aborts while it waits.
   */
  run<T>(fn: () => T | Promise<T>, job: LaneJob = UNSCOPED): Promise<T> {
    if (job.signal?.aborted) return Promise.reject(new CancelledError());
    const reg = this.registered.get(job.id);
    if (reg) reg.lastActivity = this.now();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        this.setPaused(job.id, false);
        reject(new CancelledError());
        this.dispatch();
      };
      const waiter: Waiter = {
        job,
        seq: this.nextSeq++,
        grant: resolve,
        detach: () => job.signal?.removeEventListener('abort', onAbort),
      };
      job.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.dispatch();
    }).then(async () => {
      try {
        return await fn();
      } finally {
        this.holder = null;
        // The run blocked the thread: no registered job could do its own work meanwhile, so every reservation
        // window starts again from here (and the releasing job's own activity is now).
        const t = this.now();
        for (const r of this.registered.values()) r.lastActivity = Math.max(r.lastActivity, t);
        this.dispatch();
      }
    });
  }

  /** Grant the free lane to the best waiter, unless a higher-ranked registered job still reserves it. */
  private dispatch(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.waiters.length === 0) return;
    let best = this.waiters[0];
    for (const w of this.waiters) if (w.job.rank > best.job.rank || (w.job.rank === best.job.rank && w.seq < best.seq)) best = w;
    if (this.holder) {
      this.markPaused(this.holder);
      return;
    }
    const reservedUntil = this.reservedAgainst(best.job);
    if (reservedUntil !== null) {
      this.markPaused(null);
      this.cancelTimer = this.setTimer(() => {
        this.cancelTimer = null;
        this.dispatch();
      }, Math.max(0, reservedUntil - this.now()));
      return;
    }
    this.waiters.splice(this.waiters.indexOf(best), 1);
    best.detach();
    this.holder = best.job;
    this.setPaused(best.job.id, false);
    this.markPaused(best.job);
    best.grant();
  }

  /** Until when a registered job ranked above `job` keeps the idle lane (its window since its last activity); null: none. */
  private reservedAgainst(job: LaneJob): number | null {
    const now = this.now();
    let until: number | null = null;
    for (const r of this.registered.values()) {
      if (r.job.rank <= job.rank) continue;
      const end = r.lastActivity + this.reserveMs;
      if (end > now && (until === null || end > until)) until = end;
    }
    return until;
  }

  /** Waiting jobs that yield to `over` (the holder), or to a reservation (null), are paused. */
  private markPaused(over: LaneJob | null): void {
    for (const w of this.waiters) {
      if (w.job.id === over?.id) continue;
      // A waiter ranked above the holder is only waiting for the one step already granted: not paused.
      if (over && w.job.rank > over.rank) continue;
      this.setPaused(w.job.id, true);
    }
  }

  private setPaused(jobId: string, paused: boolean): void {
    const r = this.registered.get(jobId);
    if (!r || r.paused === paused) return;
    r.paused = paused;
    this.opts.onStateChange?.(jobId, paused ? 'paused' : 'running');
  }
}
