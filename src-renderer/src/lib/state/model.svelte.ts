/**
 * The model and the device: which model folder is open (and its T), the folders opened before (kept in
 * localStorage), the execution-provider preference and what the last job actually ran on.
 */
import type { ProviderPreference } from '../../../../src-main/shared/api';
import type { JobsState } from './jobs.svelte';
import { toShownError, type ShownError } from '../errors';

/** What the Model box shows: nothing asked yet, a folder being opened, one open, or the last open failed. */
export type ModelStatus = 'none' | 'loading' | 'ready' | 'error';

export interface ModelRef {
  name: string;
  dir: string;
}

const RECENT_MODELS_KEY = 'pullback.recentModels';
const MAX_RECENT_MODELS = 6;

/** localStorage where there is one (absent in unit tests under Node). */
function store(): { getItem(k: string): string | null; setItem(k: string, v: string): void } | undefined {
  return (globalThis as unknown as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
}
function readRecentModels(): string[] {
  try {
    const v = JSON.parse(store()?.getItem(RECENT_MODELS_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT_MODELS) : [];
  } catch {
    return [];
  }
}
function writeRecentModels(list: string[]): void {
  try {
    store()?.setItem(RECENT_MODELS_KEY, JSON.stringify(list));
  } catch {
    /* storage unavailable */
  }
}

export class ModelChoice {
  readonly #jobs: JobsState;
  readonly #bundled: () => readonly ModelRef[];
  #dir = $state('');
  #name = $state('');
  #recent = $state.raw<string[]>(readRecentModels());
  #provider = $state<ProviderPreference>('auto');
  #providerInUse = $state('');
  #fallbackReason = $state('');
  #trainTimesteps = $state(1000);
  #textConditioned = $state(false);
  /** The folder being opened (model.info can take seconds: the engine reads and checks the ONNX files). */
  #opening = $state<{ dir: string; name: string } | null>(null);
  /** Why the last open failed (cleared by the next successful one). */
  #failure = $state.raw<{ dir: string; error: ShownError } | null>(null);
  /** Counts opens, so only the latest one's end clears the loading state. */
  #openSeq = 0;

  /** `bundled`: the models shipped with the app (never listed as recent). */
  constructor(jobs: JobsState, bundled: () => readonly ModelRef[]) {
    this.#jobs = jobs;
    this.#bundled = bundled;
  }

  /** The open model's folder ('' before one is open). */
  get dir(): string {
    return this.#dir;
  }
  get name(): string {
    return this.#name;
  }
  /** Model folders opened before, newest first (bundled ones excluded). */
  get recent(): string[] {
    return this.#recent;
  }
  get bundled(): readonly ModelRef[] {
    return this.#bundled();
  }
  get provider(): ProviderPreference {
    return this.#provider;
  }
  set provider(p: ProviderPreference) {
    this.#provider = p;
  }
  /** The execution provider that ran the last render ('' before one). */
  get providerInUse(): string {
    return this.#providerInUse;
  }
  /** Why the GPU was not used for the last render ('' when it was, or was not asked for). */
  get fallbackReason(): string {
    return this.#fallbackReason;
  }
  /** T: the model's number of training timesteps. */
  get trainTimesteps(): number {
    return this.#trainTimesteps;
  }
  /** A text-conditioned (Stable Diffusion) model: edits render without the η = 1 tail (method.md §2). */
  get textConditioned(): boolean {
    return this.#textConditioned;
  }

  /** 'loading' while a folder opens, 'error' when the last open failed, else 'ready' with a model, 'none' without. */
  get status(): ModelStatus {
    if (this.#opening) return 'loading';
    if (this.#failure) return 'error';
    return this.#dir ? 'ready' : 'none';
  }
  /** The name of the folder being opened ('' when none is). */
  get openingName(): string {
    return this.#opening?.name ?? '';
  }
  /** The last failed open: the folder and the shown error (null after a success). */
  get failure(): { dir: string; error: ShownError } | null {
    return this.#failure;
  }

  /**
   * Open the model folder (the engine checks it). Resolves whether it replaced another model; rejects with the
   * engine's typed error when the folder is not a usable model.
   */
  async open(dir: string, name?: string): Promise<{ changed: boolean }> {
    const shown = name ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
    const seq = ++this.#openSeq;
    this.#opening = { dir, name: shown };
    let info;
    try {
      info = await this.#jobs.run('model.info', { modelDir: dir }, `Open model ${shown}`);
    } catch (err) {
      if (seq === this.#openSeq) this.#failure = { dir, error: toShownError(err) };
      throw err;
    } finally {
      if (seq === this.#openSeq) this.#opening = null;
    }
    if (seq === this.#openSeq) this.#failure = null;
    const changed = this.#dir !== '' && this.#dir !== info.dir;
    this.#dir = info.dir;
    this.#name = name ?? info.name;
    this.#trainTimesteps = info.scheduler.numTrainTimesteps;
    this.#textConditioned = info.text !== undefined;
    if (!this.#bundled().some((m) => m.dir === info.dir)) {
      this.#recent = [info.dir, ...this.#recent.filter((d) => d !== info.dir)].slice(0, MAX_RECENT_MODELS);
      writeRecentModels(this.#recent);
    }
    return { changed };
  }

  /** What the last render ran on (shown next to the device picker). */
  noteProvider(out: { provider: string; fallbackReason?: string }): void {
    this.#providerInUse = out.provider;
    this.#fallbackReason = out.fallbackReason ?? '';
  }
}
