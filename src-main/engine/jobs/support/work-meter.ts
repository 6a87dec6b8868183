/**
 * What a job reports of its work for the host's ETA (host/eta.ts): units done, counted where the model is called
 * (a wrapped predictor counts one 'unet' unit per sample of each ε batch, a wrapped decoder one 'decode' unit per
 * image), and units still expected, declared by the job from its plan (`expect`). The host measures the running
 * time per unit and multiplies; a job that cannot say what lies ahead (a basis of unknown length) declares
 * `unknown()` and the host falls back to the fraction rule for that stretch.
 */
import type { NoisePredictor } from '../../../core/diffusion/generate';
import type { ProgressFn, WorkReport } from '../../../core/progress';
import type { Tensor } from '../../../core/tensor';

export class WorkMeter {
  readonly #done = new Map<string, number>();
  #remaining: Map<string, number> | null = null;
  /** The job's progress with its work report attached (once it declared a plan). */
  readonly onProgress: ProgressFn;

  constructor(report: ProgressFn) {
    this.onProgress = (p) => report(this.#remaining ? { ...p, work: this.report() } : p);
  }

  /** From now on the job expects these many more units per kind (replaces the previous plan). */
  expect(remaining: Record<string, number>): void {
    this.#remaining = new Map(Object.entries(remaining).filter(([, n]) => n > 0));
  }

  /** The job cannot say what is left: no report until the next `expect`. */
  unknown(): void {
    this.#remaining = null;
  }

  /** `n` units of `kind` were done (they come off the plan, never below 0). */
  count(kind: string, n: number): void {
    this.#done.set(kind, (this.#done.get(kind) ?? 0) + n);
    const left = this.#remaining?.get(kind);
    if (left !== undefined) this.#remaining!.set(kind, Math.max(0, left - n));
  }

  report(): WorkReport {
    return { done: Object.fromEntries(this.#done), remaining: Object.fromEntries(this.#remaining ?? []) };
  }

  /** The predictor, counting one `kind` unit per sample of every batch it evaluates (after the call returns). */
  predictor(p: NoisePredictor, kind = 'unet'): NoisePredictor {
    return {
      sampleDims: p.sampleDims,
      predictEps: async (x, timestep, signal) => {
        const eps = await p.predictEps(x, timestep, signal);
        this.count(kind, x.dims[0] ?? 1);
        return eps;
      },
    };
  }

  /** An image decoder (toImage), counting one `kind` unit per image. */
  decoder<R>(toImage: (x0: Tensor, index?: number, signal?: AbortSignal) => Promise<R>, kind = 'decode') {
    return async (x0: Tensor, index?: number, signal?: AbortSignal): Promise<R> => {
      const out = await toImage(x0, index, signal);
      this.count(kind, 1);
      return out;
    };
  }
}
