/**
 * The jobs panel's model: every long engine job the editor starts goes through `run`, which records its progress,
 * message and ETA here and gives the panel a Cancel. Finished jobs stay listed briefly (the last few) so a user sees
 * what happened. A job is 'queued' until the engine starts it, 'paused' while a higher-priority job has the engine's
 * compute lane, and 'superseded' when a newer job with its coalescing key replaced it (not a failure).
 */
import { runJob } from '../../../../src-main/shared/client';
import type { JobInput, JobName, JobOutput, PullbackApi, StartJobOptions } from '../../../../src-main/shared/api';
import { toShownError, type ShownError } from '../errors';

export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'cancelled' | 'superseded' | 'failed';

export interface JobView {
  key: number;
  name: JobName;
  label: string;
  status: JobStatus;
  fraction: number;
  message: string;
  etaMs?: number;
  error?: ShownError;
  startedAt: number;
  endedAt?: number;
}

const KEEP_FINISHED = 6;

export function isActive(j: JobView): boolean {
  return j.status === 'queued' || j.status === 'running' || j.status === 'paused';
}

export class JobsState {
  readonly #api: PullbackApi;
  #list = $state.raw<JobView[]>([]);
  #active = $derived(this.#list.filter(isActive));
  #nextKey = 1;
  // Not state: the UI never renders the controllers, it only aborts them.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #controllers = new Map<number, AbortController>();

  constructor(api: PullbackApi) {
    this.#api = api;
  }

  /** The last few finished jobs, then the queued and running ones (each group oldest first). */
  get list(): JobView[] {
    return this.#list;
  }
  get active(): JobView[] {
    return this.#active;
  }

  #patch(key: number, p: Partial<JobView>): void {
    this.#list = this.#list.map((j) => (j.key === key ? { ...j, ...p } : j));
  }

  /**
   * Run an engine job, tracked in the panel. Rejects like runJob (ApiError with a typed code; 'cancelled' after
   * Cancel; 'superseded' when a newer job with the same `schedule.coalesceKey` replaced it). `onPartial` receives
   * streamed pieces of the result (gallery thumbnails); `schedule` carries the priority hint and coalescing key;
   * `onKey` gets the job's key at once (the canvas overlay follows that job's line and cancels it).
   */
  async run<N extends JobName>(
    name: N,
    input: JobInput<N>,
    label: string,
    onPartial?: (partial: unknown) => void,
    schedule?: StartJobOptions,
    onKey?: (key: number) => void,
  ): Promise<JobOutput<N>> {
    const key = this.#nextKey++;
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    const finished = this.#list.filter((j) => !isActive(j)).slice(-KEEP_FINISHED + 1);
    const active = this.#active;
    this.#list = [...finished, ...active, { key, name, label, status: 'queued', fraction: 0, message: 'waiting', startedAt: Date.now() }];
    onKey?.(key);
    try {
      const out = await runJob(this.#api, name, input, {
        signal: controller.signal,
        ...(schedule ? { schedule } : {}),
        // The engine reports a start (a progress event) when the job really starts; until then it stays queued.
        onProgress: (p) => {
          this.#patch(key, { status: p.state === 'paused' ? 'paused' : 'running', fraction: p.fraction, message: p.message, etaMs: p.etaMs });
          if (p.partial !== undefined) onPartial?.(p.partial);
        },
      });
      this.#patch(key, { status: 'done', fraction: 1, message: 'done', etaMs: undefined, endedAt: Date.now() });
      return out;
    } catch (err) {
      const shown = toShownError(err);
      const status: JobStatus = shown.code === 'cancelled' ? 'cancelled' : shown.code === 'superseded' ? 'superseded' : 'failed';
      this.#patch(key, { status, error: shown, etaMs: undefined, endedAt: Date.now() });
      throw err;
    } finally {
      this.#controllers.delete(key);
    }
  }

  cancel(key: number): void {
    this.#controllers.get(key)?.abort();
  }

  cancelAll(name?: JobName): void {
    for (const j of this.active) if (!name || j.name === name) this.cancel(j.key);
  }

  clearFinished(): void {
    this.#list = this.#active;
  }
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`;
}
