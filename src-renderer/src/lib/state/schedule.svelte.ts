/**
 * The timesteps the picker offers: the DDIM schedule of the current step count and model, and snapping a fraction of
 * T to it with the engine's own `snapToSchedule` (so the page and a job given `t` agree on the timestep).
 */
import { ddimTimestepsAscending, snapToSchedule } from '../../../../src-main/shared/schedule';

/** The picker's timestep before the document has one (the paper's default edit point). */
export const DEFAULT_FRACTION = 0.6;

/** What the timestep changes, for the hint under the picker (Park et al.: early = coarse, late = fine). */
export function timestepHint(fraction: number): string {
  if (fraction >= 0.7) return 'Early: layout, pose and colour';
  if (fraction >= 0.35) return 'Middle: shape and features';
  return 'Late: details and texture';
}

/** The steps field as a schedule length: capped at T; one step (t = T − 1 only) while the field is not a count. */
function scheduleSteps(steps: unknown, T: number): number {
  const n = Math.min(Number(steps), T);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

export class Schedule {
  readonly #steps: () => unknown;
  readonly #trainTimesteps: () => number;
  // Arrow bodies: the getters are read when first derived, after the constructor has set them.
  #count = $derived.by(() => scheduleSteps(this.#steps(), this.#trainTimesteps()));
  #timesteps = $derived.by(() => ddimTimestepsAscending(this.#count, this.#trainTimesteps()));

  /** `steps`: the steps field as typed (it may be empty); `trainTimesteps`: the model's T. */
  constructor(steps: () => unknown, trainTimesteps: () => number) {
    this.#steps = steps;
    this.#trainTimesteps = trainTimesteps;
  }

  /** Ascending. */
  get timesteps(): number[] {
    return this.#timesteps;
  }

  get trainTimesteps(): number {
    return this.#trainTimesteps();
  }

  /** The schedule's timestep nearest `fraction`·T (ties to the later one); a fraction outside [0, 1] is clamped. */
  snap(fraction: number): number {
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    return snapToSchedule(f, this.#count, this.#trainTimesteps());
  }
}
