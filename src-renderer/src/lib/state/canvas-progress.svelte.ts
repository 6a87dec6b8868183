/**
 * The canvas's progress overlay: while a job that will put a picture on the canvas runs (New from seed's generate,
 * an import's invert, Apply's edit; not the live preview, which shows its own approximate result), the canvas shows
 * its progress, Cancel, and the engine's latest x̂₀ (X0PreviewPartial: the model's guess of the clean image at the
 * current step, pixel models only). That picture lives here only: never in the result, the source or the render
 * cache, so export and undo never see it, and it goes when the job ends, whatever the outcome.
 *
 * One overlay at a time: the latest job started through `run` owns it; an older one still finishing never clears
 * or repaints it.
 */
import { X0PreviewPartialSchema, type JobInput, type JobName, type JobOutput } from '../../../../src-main/shared/api';
import { toShown, type ShownImage } from './images';
import { isActive, type JobView, type JobsState } from './jobs.svelte';

export interface InProgressPicture {
  image: ShownImage;
  /** The DDIM timestep the prediction was made at. */
  timestep: number;
}

export class CanvasProgress {
  readonly #jobs: JobsState;
  #key = $state<number | null>(null);
  #picture = $state.raw<InProgressPicture | null>(null);
  #owner: object | null = null;

  constructor(jobs: JobsState) {
    this.#jobs = jobs;
  }

  /** The job the canvas is waiting for while it is queued or running, else null. */
  get job(): JobView | null {
    const key = this.#key;
    return key === null ? null : (this.#jobs.list.find((j) => j.key === key && isActive(j)) ?? null);
  }

  /** The latest in-progress prediction of the job, or null (none yet, a text model, or no job). */
  get picture(): InProgressPicture | null {
    return this.#picture;
  }

  cancel(): void {
    if (this.#key !== null) this.#jobs.cancel(this.#key);
  }

  /**
   * Run the job with the overlay, then `land` its output (show it) before the overlay goes, so the final picture
   * replaces the in-progress one without the canvas's previous content flashing in between. Rejects like jobs.run.
   */
  async run<N extends JobName, R>(name: N, input: JobInput<N>, label: string, land: (out: JobOutput<N>) => R | Promise<R>): Promise<R> {
    const owner = {};
    this.#owner = owner;
    this.#key = null;
    this.#picture = null;
    const mine = () => this.#owner === owner;
    try {
      const out = await this.#jobs.run(
        name,
        input,
        label,
        (partial) => {
          const p = X0PreviewPartialSchema.safeParse(partial);
          if (p.success && mine()) this.#picture = { image: toShown(p.data.image), timestep: p.data.timestep };
        },
        undefined,
        (key) => {
          if (mine()) this.#key = key;
        },
      );
      return await land(out);
    } finally {
      if (mine()) {
        this.#owner = null;
        this.#key = null;
        this.#picture = null;
      }
    }
  }
}
