/**
 * Global directions (issue 13 item 4; method.md §5): one basis shared by a set of samples — the chordal mean (SVD of
 * the stacked local bases) or the Grassmannian (Karcher) mean, in x (rows of V) or in h (rows of U) — from the
 * `global-basis` job over the Analysis workspace's samples at one timestep, with each sample's geodesic distance to
 * it, and −/+ previews of every global direction on every sample: a global direction edits any image of the set.
 *
 * Previews need a direction in x: an h-space mean is reported (σ, distances) but has no x-direction of its own until
 * it is mapped through each sample's local basis, which this panel does not do; it says so.
 *
 * An x-space global direction also joins the document's edit stack ("Add to edit", EditorState.addGlobalDirection):
 * `record()` is the basis as the document keeps it (global-entries.ts).
 *
 * No tensors here: the job's V and each image sample's x_t are wire payloads held opaquely and sent back as they are.
 */
import type { Float32TensorPayload, JobInput, JobName, JobOutput, ProviderPreference, StartJobOptions } from '../../../../src-main/shared/api';
import { GALLERY_DEFAULTS } from '../../../../src-main/shared/edit-defaults';
import type { JobsState } from './jobs.svelte';
import { sampleLabel, type AnalysisSampleEntry } from './analysis.svelte';
import { toShown, type ShownImage } from './images';
import { toShownError, type ShownError } from '../errors';
import { globalBasisKey, type GlobalBasisRecord } from './global-entries';

export type GlobalSpace = 'x' | 'h';
export type GlobalMean = 'chordal' | 'karcher';

export interface GlobalRequest {
  modelDir: string;
  provider: ProviderPreference;
  samples: AnalysisSampleEntry[];
  /** t as a fraction of T, snapped to the `steps` schedule by the engine. */
  fraction: number;
  steps: number;
  k: number;
  kGlobal: number;
  space: GlobalSpace;
  mean: GlobalMean;
}

/** Where a sample's x_t comes from for the jobs: its seed's path, or (an imported picture) x_t itself. */
type SampleSource = { seed: number } | { xt: Float32TensorPayload };

export interface GlobalSample {
  label: string;
  /** Geodesic distance ‖θ‖₂ (radians) between the sample's local span and the mean's. */
  distance: number;
  source: SampleSource;
}

export interface GlobalResult {
  timestep: number;
  space: GlobalSpace;
  mean: GlobalMean;
  /** How shared each global direction is (singular values of the stacked local bases within the mean). */
  sigmas: number[];
  samples: GlobalSample[];
  karcher?: { iterations: number; converged: boolean };
  steps: number;
  modelDir: string;
  provider: ProviderPreference;
  /** space x: V [kGlobal, …x] as the job sent it (rows are the edit directions). */
  V?: Float32TensorPayload;
  /** Directions of each sample's local basis the mean was taken of (the job's k; its method is the default, krylov). */
  k: number;
}

export interface GlobalPreview {
  minus?: ShownImage;
  plus?: ShownImage;
  center?: ShownImage;
}

/** Row `index` of a [k, …x] wire tensor as a [1, …x] direction (a view of the same bytes). */
export function directionRow(V: Float32TensorPayload, index: number): Float32TensorPayload {
  const per = V.data.byteLength / V.dims[0];
  return { dims: [1, ...V.dims.slice(1)], data: V.data.subarray(index * per, (index + 1) * per) };
}

export const previewKey = (direction: number, sample: number): string => `${direction}:${sample}`;

export class GlobalDirections {
  readonly #jobs: JobsState;
  #fraction = $state(0.6);
  #kGlobal = $state(4);
  #space = $state<GlobalSpace>('x');
  #mean = $state<GlobalMean>('karcher');
  #running = $state(false);
  #previewing = $state(false);
  #error = $state.raw<ShownError | null>(null);
  #result = $state.raw<GlobalResult | null>(null);
  #previews = $state.raw<Record<string, GlobalPreview>>({});
  #previewsDone = $state(0);
  #previewsTotal = $state(0);
  #cancelled = false;
  /** This panel's jobs in flight: Cancel stops these only (an Apply in the editor is an `edit` job too). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #keys = new Set<number>();

  constructor(jobs: JobsState) {
    this.#jobs = jobs;
  }

  get fraction(): number {
    return this.#fraction;
  }
  set fraction(v: number) {
    this.#fraction = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0.6;
  }
  get kGlobal(): number {
    return this.#kGlobal;
  }
  set kGlobal(v: number) {
    this.#kGlobal = Math.min(64, Math.max(1, Math.round(Number.isFinite(v) ? v : 4)));
  }
  get space(): GlobalSpace {
    return this.#space;
  }
  set space(v: GlobalSpace) {
    this.#space = v;
  }
  get mean(): GlobalMean {
    return this.#mean;
  }
  set mean(v: GlobalMean) {
    this.#mean = v;
  }
  get running(): boolean {
    return this.#running;
  }
  get previewing(): boolean {
    return this.#previewing;
  }
  get error(): ShownError | null {
    return this.#error;
  }
  get result(): GlobalResult | null {
    return this.#result;
  }
  get previews(): Record<string, GlobalPreview> {
    return this.#previews;
  }
  get previewProgress(): { done: number; total: number } {
    return { done: this.#previewsDone, total: this.#previewsTotal };
  }
  /** Previews exist only for an x-space mean (see the header). */
  get canPreview(): boolean {
    return this.#result?.V !== undefined;
  }

  /**
   * The global basis of `req.samples` at `req.fraction`·T. Seeds go to the job as seeds; imported pictures need their
   * x_t at the timestep first (a `sample` job from their x_T), and then every sample goes as an x_t (the job takes
   * one kind of list). Karcher needs kGlobal ≤ k: kGlobal is capped there.
   */
  async compute(req: GlobalRequest): Promise<void> {
    if (this.#running || req.samples.length < 2) return;
    this.#running = true;
    this.#error = null;
    this.#cancelled = false;
    this.#previews = {};
    try {
      const allSeeds = req.samples.every((s) => s.kind === 'seed');
      const sources: SampleSource[] = [];
      for (const s of req.samples) {
        if (this.#cancelled) return;
        if (allSeeds && s.kind === 'seed') sources.push({ seed: s.seed });
        else {
          const out = await this.#run(
            'sample',
            { modelDir: req.modelDir, provider: req.provider, ...(s.kind === 'seed' ? { seed: s.seed } : { xT: s.xT }), t: req.fraction, steps: req.steps },
            `x_t of ${sampleLabel(s)} for the global basis`,
          );
          sources.push({ xt: out.xt });
        }
      }
      const kGlobal = req.mean === 'karcher' ? Math.min(req.kGlobal, req.k) : req.kGlobal;
      const list = allSeeds ? { seeds: sources.map((s) => (s as { seed: number }).seed) } : { xts: sources.map((s) => (s as { xt: Float32TensorPayload }).xt) };
      const out = await this.#run(
        'global-basis',
        { modelDir: req.modelDir, provider: req.provider, ...list, t: req.fraction, steps: req.steps, k: req.k, kGlobal, space: req.space, mean: req.mean },
        `Global basis of ${req.samples.length} samples (${req.mean}, ${req.space})`,
      );
      const S = new Float32Array(out.S.data.buffer.slice(out.S.data.byteOffset, out.S.data.byteOffset + out.S.data.byteLength));
      this.#result = {
        timestep: out.timestep,
        space: out.space,
        mean: out.mean,
        sigmas: [...S],
        samples: out.samples.map((s, i) => ({ label: sampleLabel(req.samples[i]), distance: s.distance, source: sources[i] })),
        ...(out.karcher ? { karcher: { iterations: out.karcher.iterations, converged: out.karcher.converged } } : {}),
        steps: req.steps,
        modelDir: req.modelDir,
        provider: req.provider,
        ...(out.V ? { V: out.V } : {}),
        k: req.k,
      };
    } catch (err) {
      const shown = toShownError(err);
      if (shown.code !== 'cancelled') this.#error = shown;
    } finally {
      this.#running = false;
    }
  }

  /**
   * −/+ previews of every global direction on every sample, and each sample's unedited render: `edit` jobs with the
   * direction given explicitly, the gallery's preview settings (n = 8, s = 0.2, 10 render steps: approximate), at the
   * gallery's priority, one after the other so the first ones show while the rest render.
   */
  async renderPreviews(strength: number = GALLERY_DEFAULTS.strength): Promise<void> {
    const r = this.#result;
    if (!r?.V || this.#previewing) return;
    this.#previewing = true;
    this.#cancelled = false;
    this.#error = null;
    const dirs = r.V.dims[0];
    this.#previewsDone = 0;
    this.#previewsTotal = r.samples.length * (2 * dirs + 1);
    const edit = (sample: GlobalSample, edits: { direction: Float32TensorPayload; strength: number }[], label: string) =>
      this.#run(
        'edit',
        {
          modelDir: r.modelDir,
          provider: r.provider,
          ...sample.source,
          timestep: r.timestep,
          steps: r.steps,
          edits,
          guidanceSteps: GALLERY_DEFAULTS.guidanceSteps,
          scale: GALLERY_DEFAULTS.scale,
          renderSteps: Math.min(GALLERY_DEFAULTS.previewSteps, r.steps),
        },
        label,
        { priority: 'gallery' },
      );
    try {
      for (const [i, sample] of r.samples.entries()) {
        if (this.#cancelled) return;
        // All strengths 0: exactly the unedited render with the same schedule and noise (edit job contract).
        const center = await edit(sample, [{ direction: directionRow(r.V, 0), strength: 0 }], `Global preview: ${sample.label}`);
        this.#put(previewKey(-1, i), { center: toShown(center.image) });
        for (let d = 0; d < dirs; d++) {
          for (const sign of [-1, 1] as const) {
            if (this.#cancelled) return;
            const out = await edit(sample, [{ direction: directionRow(r.V, d), strength: sign * strength }], `Global direction ${d + 1} ${sign < 0 ? '−' : '+'} on ${sample.label}`);
            this.#put(previewKey(d, i), { [sign < 0 ? 'minus' : 'plus']: toShown(out.image) });
          }
        }
      }
    } catch (err) {
      const shown = toShownError(err);
      if (shown.code !== 'cancelled') this.#error = shown;
    } finally {
      this.#previewing = false;
    }
  }

  /**
   * The shown x-space basis as the document keeps it for its edit stack (global-entries.ts), or null without one (an
   * h-space mean has no edit directions). Its key is V's hash, so adding from the same result twice names one record.
   */
  async record(): Promise<GlobalBasisRecord | null> {
    const r = this.#result;
    if (!r?.V || r.space !== 'x') return null;
    return {
      key: await globalBasisKey(r.V),
      timestep: r.timestep,
      mean: r.mean,
      space: 'x',
      V: r.V,
      sigmas: r.sigmas,
      samples: r.samples.map((s) => s.label).join(', ').slice(0, 200),
      sampleCount: r.samples.length,
      k: r.k,
      // The panel's global-basis job sends no method: the engine's default.
      method: 'krylov',
      steps: r.steps,
    };
  }

  cancel(): void {
    this.#cancelled = true;
    for (const key of this.#keys) this.#jobs.cancel(key);
  }

  /** jobs.run, remembering the job's key while it runs (see #keys). */
  #run<N extends JobName>(name: N, input: JobInput<N>, label: string, schedule?: StartJobOptions): Promise<JobOutput<N>> {
    let key = -1;
    return this.#jobs
      .run(name, input, label, undefined, schedule, (k) => {
        key = k;
        this.#keys.add(k);
      })
      .finally(() => this.#keys.delete(key));
  }

  #put(key: string, p: GlobalPreview): void {
    this.#previews = { ...this.#previews, [key]: { ...this.#previews[key], ...p } };
    this.#previewsDone += Object.keys(p).length;
  }
}
