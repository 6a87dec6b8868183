/**
 * The Analysis workspace's state: which samples and timesteps to analyse, the running `analyze` job (progress,
 * cancel, resume) and its result, which fills in basis by basis from the job's partials so the plots update while
 * it runs. Resuming is re-running the same request: the engine's basis cache returns what was finished.
 *
 * No tensors here except an imported image's x_T wire payload, held opaquely and passed back as a sample.
 */
import type { JobsState } from './jobs.svelte';
import type { Float32TensorPayload } from '../../../../src-main/shared/api';
import type { AnalysisPartial, AnalysisResultPayload, AnalysisSampleInput, BasisRecordPayload } from '../../../../src-main/shared/analysis-api';
import { AnalysisResultSchema, MAX_ANALYSIS_PROMPTS, MAX_ANALYSIS_SAMPLES, MAX_ANALYSIS_TIMESTEPS } from '../../../../src-main/shared/analysis-api';
import type { ProviderPreference } from '../../../../src-main/shared/api';
import { compareBasisRecords, compareSampleSimilarities, compareTimestepSimilarities, promptCorrelations } from '../../../../src-main/shared/analysis-view';
import { toShownError, type ShownError } from '../errors';
import { ApiError } from '../../../../src-main/shared/errors';
import { importProblem } from '../../../../src-main/shared/image-limits';

/** A sample as the view lists it; `image` carries an inverted image's x_T (from the editor's document or an import). */
export type AnalysisSampleEntry = { kind: 'seed'; seed: number } | { kind: 'image'; label: string; xT: Float32TensorPayload };

/** The paper's grid: t = 0.1·T … 1.0·T. */
export const PAPER_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
export const COARSE_GRID = [0.2, 0.6, 1.0];

export interface AnalysisRunRequest {
  modelDir: string;
  samples: AnalysisSampleEntry[];
  fractions: number[];
  k: number;
  steps: number;
  /** Text models: every sample at each prompt (samples × prompts, input-major); absent = the empty prompt. */
  prompts?: string[];
}

function toJobSample(s: AnalysisSampleEntry): AnalysisSampleInput {
  return s.kind === 'seed' ? { kind: 'seed', seed: s.seed } : { kind: 'xT', xT: s.xT, label: s.label };
}

export function sampleLabel(s: AnalysisSampleEntry): string {
  return s.kind === 'seed' ? `seed ${s.seed}` : s.label;
}

/** Parses "0.1, 0.5, 1" into fractions of T; null when any item is not a number in [0, 1]. */
export function parseFractions(text: string): number[] | null {
  const items = text.split(/[\s,]+/).filter((x) => x !== '');
  if (items.length === 0 || items.length > MAX_ANALYSIS_TIMESTEPS) return null;
  const values = items.map(Number);
  const unique = values.filter((v, i) => values.indexOf(v) === i);
  return values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1) ? unique.sort((a, b) => a - b) : null;
}

/**
 * The prompts field (text models): one prompt per line, trimmed; blank lines and repeats dropped (an empty field
 * analyses at the empty prompt). At most MAX_ANALYSIS_PROMPTS.
 */
export function parsePrompts(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.filter((l, i) => lines.indexOf(l) === i).slice(0, MAX_ANALYSIS_PROMPTS);
}

/** What a project keeps of the Analysis workspace: the run's result and the overlaid comparison, each with its label. */
export interface SavedAnalyses {
  result: { label: string; result: AnalysisResultPayload } | null;
  comparison: { label: string; result: AnalysisResultPayload } | null;
}

export function analysisLabel(r: AnalysisResultPayload): string {
  const n = r.settings.samples.length;
  const m = r.settings.timesteps.length;
  const p = r.settings.prompts?.length ?? 0;
  const prompts = p > 0 ? ` (${n / p} input${n / p === 1 ? '' : 's'} × ${p} prompt${p === 1 ? '' : 's'})` : '';
  return `${n} sample${n === 1 ? '' : 's'}${prompts} × ${m} timestep${m === 1 ? '' : 's'}, k = ${r.settings.k}`;
}

export class AnalysisState {
  readonly #jobs: JobsState;
  /** The document changed (a run finished, a comparison was loaded or cleared): the project has unsaved changes. */
  readonly #onChange: () => void;
  #samples = $state.raw<AnalysisSampleEntry[]>([0, 1, 2, 3].map((seed) => ({ kind: 'seed', seed })));
  #fractions = $state.raw<number[]>(PAPER_GRID);
  #k = $state(8);
  #steps = $state(100);
  #prompts = $state.raw<string[]>([]);
  #result = $state.raw<AnalysisResultPayload | null>(null);
  #running = $state(false);
  #done = $state(0);
  #total = $state(0);
  #error = $state.raw<ShownError | null>(null);
  #lastRequest = $state.raw<AnalysisRunRequest | null>(null);
  #selectedTimestep = $state<number | null>(null);
  #selectedSample = $state(0);
  /** Another model's analysis (a loaded analysis.json) shown over this one: the across-models comparison. */
  #comparison = $state.raw<{ label: string; result: AnalysisResultPayload } | null>(null);
  #complete = $derived(this.#result !== null && this.#total > 0 && this.#result.bases.length === this.#total);
  #canResume = $derived(!this.#running && this.#lastRequest !== null && !this.#complete);

  constructor(jobs: JobsState, onChange: () => void = () => {}) {
    this.#jobs = jobs;
    this.#onChange = onChange;
  }

  /** What the project file keeps (see SavedAnalyses); a result still filling in is kept as far as it got. */
  get saved(): SavedAnalyses {
    const r = this.#result;
    return { result: r ? { label: analysisLabel(r), result: r } : null, comparison: this.#comparison };
  }

  /** An opened project's analyses (or none): shown as they were saved, with nothing to resume. */
  restore(saved: SavedAnalyses): void {
    if (this.#running) this.cancel();
    this.#error = null;
    this.#lastRequest = null;
    this.#comparison = saved.comparison;
    if (saved.result) this.show(saved.result.result);
    else {
      this.#result = null;
      this.#done = 0;
      this.#total = 0;
    }
  }

  get samples(): AnalysisSampleEntry[] {
    return this.#samples;
  }
  get fractions(): number[] {
    return this.#fractions;
  }
  get k(): number {
    return this.#k;
  }
  set k(v: number) {
    this.#k = Math.min(64, Math.max(1, Math.round(Number.isFinite(v) ? v : 8)));
  }
  get steps(): number {
    return this.#steps;
  }
  set steps(v: number) {
    this.#steps = Math.min(1000, Math.max(2, Math.round(Number.isFinite(v) ? v : 100)));
  }
  /** The prompts a text model's analysis runs at (parsePrompts); ignored for unconditional models. */
  get prompts(): string[] {
    return this.#prompts;
  }
  setPrompts(values: string[]): void {
    this.#prompts = values.slice(0, MAX_ANALYSIS_PROMPTS);
  }
  /** Bases a run of the current choices computes (or loads); with prompts on a text model, samples × prompts × t. */
  basesPlanned(textConditioned: boolean): number {
    return this.#samples.length * (textConditioned ? Math.max(1, this.#prompts.length) : 1) * this.#fractions.length;
  }

  get result(): AnalysisResultPayload | null {
    return this.#result;
  }
  get running(): boolean {
    return this.#running;
  }
  get done(): number {
    return this.#done;
  }
  get total(): number {
    return this.#total;
  }
  get complete(): boolean {
    return this.#complete;
  }
  get canResume(): boolean {
    return this.#canResume;
  }
  get error(): ShownError | null {
    return this.#error;
  }
  /** The timestep of the sample × sample matrix (default: the largest). */
  get selectedTimestep(): number | null {
    const ts = this.#result?.settings.timesteps ?? [];
    return this.#selectedTimestep !== null && ts.includes(this.#selectedTimestep) ? this.#selectedTimestep : (ts[ts.length - 1] ?? null);
  }
  set selectedTimestep(t: number | null) {
    this.#selectedTimestep = t;
  }
  /** The sample of the t × t matrix. */
  get selectedSample(): number {
    const n = this.#result?.settings.samples.length ?? 0;
    return this.#selectedSample < n ? this.#selectedSample : 0;
  }
  set selectedSample(i: number) {
    this.#selectedSample = i;
  }

  get comparison(): { label: string; result: AnalysisResultPayload } | null {
    return this.#comparison;
  }

  /** Loads an analysis.json (of `pullback analyze` or an export) to overlay; returns a sentence when it is not one. */
  loadComparison(label: string, text: string): string | null {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return `${label} is not JSON.`;
    }
    const parsed = AnalysisResultSchema.safeParse(json);
    if (!parsed.success) return `${label} is not an analysis.json of Pullback Studio.`;
    this.#comparison = { label, result: parsed.data };
    this.#onChange();
    return null;
  }

  clearComparison(): void {
    if (!this.#comparison) return;
    this.#comparison = null;
    this.#onChange();
  }

  /**
   * Inverts a picture with the analysis's steps (its x_T's path then leads to the analysed x_t) and adds it as a
   * sample; the Jobs panel shows the inversion.
   */
  async importImage(name: string, bytes: Uint8Array, modelDir: string, provider: ProviderPreference): Promise<void> {
    // The editor's import limits (shared/image-limits.ts): refused here, typed, instead of failing in the transport.
    const problem = importProblem(bytes);
    if (problem) throw new ApiError(problem);
    const out = await this.#jobs.run('invert', { modelDir, image: bytes as Uint8Array<ArrayBuffer>, steps: this.#steps, provider }, `Invert ${name} for the analysis`);
    this.addImage(name, out.xT);
  }

  setFractions(values: number[]): void {
    this.#fractions = [...values];
  }

  addSeed(seed: number): void {
    if (this.#samples.length >= MAX_ANALYSIS_SAMPLES || !Number.isInteger(seed) || seed < 0) return;
    if (this.#samples.some((s) => s.kind === 'seed' && s.seed === seed)) return;
    this.#samples = [...this.#samples, { kind: 'seed', seed }];
  }

  /** Adds the next seeds not yet listed, up to `count` samples in all. */
  fillSeeds(count: number): void {
    let seed = 0;
    while (this.#samples.length < Math.min(count, MAX_ANALYSIS_SAMPLES)) {
      if (!this.#samples.some((s) => s.kind === 'seed' && s.seed === seed)) this.#samples = [...this.#samples, { kind: 'seed', seed }];
      seed++;
    }
  }

  addImage(label: string, xT: Float32TensorPayload): void {
    if (this.#samples.length >= MAX_ANALYSIS_SAMPLES) return;
    this.#samples = [...this.#samples.filter((s) => !(s.kind === 'image' && s.label === label)), { kind: 'image', label, xT }];
  }

  removeSample(i: number): void {
    this.#samples = this.#samples.filter((_, j) => j !== i);
  }

  /**
   * Starts an analysis of the current choices; resolves when it ends (done, cancelled or failed). The prompts go
   * only to a text model: an unconditional one would refuse them, and the field is hidden for it.
   */
  run(modelDir: string, textConditioned = false): Promise<void> {
    const prompts = textConditioned && this.#prompts.length > 0 ? { prompts: [...this.#prompts] } : {};
    return this.#start({ modelDir, samples: this.#samples, fractions: this.#fractions, k: this.#k, steps: this.#steps, ...prompts });
  }

  /** Runs the last request again: finished bases come from the engine's cache, the rest are computed. */
  resume(): Promise<void> {
    return this.#lastRequest ? this.#start(this.#lastRequest) : Promise.resolve();
  }

  cancel(): void {
    this.#jobs.cancelAll('analyze');
  }

  /** A saved or exported result shown again (no job). */
  show(result: AnalysisResultPayload): void {
    this.#result = result;
    this.#total = result.settings.samples.length * result.settings.timesteps.length;
    this.#done = result.bases.length;
  }

  record(sample: number, timestep: number): BasisRecordPayload | undefined {
    return this.#result?.bases.find((b) => b.sample === sample && b.timestep === timestep);
  }

  async #start(req: AnalysisRunRequest): Promise<void> {
    if (this.#running || req.samples.length === 0 || req.fractions.length === 0) return;
    this.#running = true;
    this.#error = null;
    this.#lastRequest = req;
    this.#result = null;
    this.#done = 0;
    const P = req.prompts?.length ?? 0;
    this.#total = req.samples.length * Math.max(1, P) * req.fractions.length;
    try {
      const out = await this.#jobs.run(
        'analyze',
        { modelDir: req.modelDir, samples: req.samples.map(toJobSample), t: req.fractions, k: req.k, steps: req.steps, ...(P > 0 ? { prompts: req.prompts } : {}) },
        `Analysis: ${req.samples.length} samples${P > 0 ? ` × ${P} prompts` : ''} × ${req.fractions.length} timesteps`,
        (p) => this.#onPartial(p as AnalysisPartial),
      );
      this.show(out.result);
    } catch (err) {
      const shown = toShownError(err);
      if (shown.code !== 'cancelled') this.#error = shown;
    } finally {
      this.#running = false;
      // A finished run, and what a cancelled or failed one got to, belong to the document now.
      if (this.#result) this.#onChange();
    }
  }

  #onPartial(p: AnalysisPartial): void {
    if (p.kind !== 'analysis-basis') return;
    const base: AnalysisResultPayload = this.#result ?? {
      format: 'pullback-geometry-analysis',
      version: 1,
      settings: p.settings,
      bases: [],
      sampleSimilarities: [],
      timestepSimilarities: [],
    };
    // Kept in the accumulator's canonical order, so plots and CSV exports of a partial result read like the final one.
    const next: AnalysisResultPayload = {
      ...base,
      settings: p.settings,
      bases: [...base.bases, p.record].sort(compareBasisRecords),
      sampleSimilarities: [...base.sampleSimilarities, ...p.sampleSimilarities].sort(compareSampleSimilarities),
      timestepSimilarities: [...base.timestepSimilarities, ...p.timestepSimilarities].sort(compareTimestepSimilarities),
    };
    if (p.promptSimilarities) {
      // The correlations over the pairs so far, as the engine's accumulator computes them for its final result.
      next.promptSimilarities = p.promptSimilarities;
      next.promptCorrelations = promptCorrelations(next);
    }
    this.#result = next;
    this.#done = p.done;
    this.#total = p.total;
  }
}
