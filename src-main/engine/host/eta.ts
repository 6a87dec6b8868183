/**
 * ETAs from measured per-unit times. A job's fraction is not proportional to its time (the jobs map their phases
 * onto 0..1 by hand: the gallery gives its basis 0.05–0.4, an edit its guidance 0.4–0.6), so the old rule
 * ETA = running·(1 − f)/f jumps whenever a phase runs faster or slower than its share. Jobs that can say what is
 * left report their work instead (core/progress.ts WorkReport: units done, counted at the model calls, and units
 * still expected per kind, e.g. 'unet' = one ε evaluation of one sample); here the host measures what a unit costs
 * and the ETA is Σ remaining × cost.
 *
 * Measuring: the running time (paused time excluded, as the host counts it) between two reports at which units
 * advanced, divided by the units done in between, is one sample of that kind's cost when exactly one kind advanced
 * (a mix is split by the known costs, see split). A report without work (a phase of unknown
 * length, such as a basis, lies ahead) ends the measuring stretch, so the time of that phase is never charged to the
 * units after it; a report at which nothing advanced (an x̂₀ preview) does not restart the stretch either. The cost
 * is the mean over the last `window` samples (sum of times / sum of units): the job's own once it has one, else
 * those earlier jobs on the same model left in the shared `UnitCostBook`, so a second render knows its ETA from
 * its first step. Before any measurement, or while a remaining kind has never been measured, the fraction rule.
 *
 * Pure: the caller passes the running time, so tests drive it with a fake clock. TypeScript `private`, not `#fields`:
 * this file is in Electron main's bundle, and the security scan (electronegativity) cannot parse ES private fields, so
 * a `#field` there made it miss the window's navigation and permission handlers.
 */
import type { WorkReport } from '../../core/progress';

interface Sample {
  ms: number;
  units: number;
}

/** Mean of the last `window` samples: total time over total units. */
function meanCost(samples: readonly Sample[]): number | undefined {
  let ms = 0;
  let units = 0;
  for (const s of samples) {
    ms += s.ms;
    units += s.units;
  }
  return units > 0 ? ms / units : undefined;
}

function push(list: Sample[], s: Sample, window: number): void {
  list.push(s);
  if (list.length > window) list.splice(0, list.length - window);
}

/** Unit costs measured by earlier jobs, per scope (model and provider) and kind; shared by every job of a host. */
export class UnitCostBook {
  private readonly samples = new Map<string, Sample[]>();
  constructor(readonly window = 16) {}

  add(scope: string, kind: string, s: Sample): void {
    const key = `${scope}\u0000${kind}`;
    const list = this.samples.get(key) ?? [];
    push(list, s, this.window);
    this.samples.set(key, list);
  }

  cost(scope: string, kind: string): number | undefined {
    return meanCost(this.samples.get(`${scope}\u0000${kind}`) ?? []);
  }

  /**
   * The measured cost of one `kind` unit in `scope` and how many units that mean covers, or undefined before any
   * job measured one: what the editor's basis estimate multiplies (shared/basis-estimate.ts), never a guess.
   */
  measured(scope: string, kind: string): { msPerUnit: number; units: number } | undefined {
    const list = this.samples.get(`${scope}\u0000${kind}`) ?? [];
    const msPerUnit = meanCost(list);
    return msPerUnit === undefined ? undefined : { msPerUnit, units: list.reduce((n, s) => n + s.units, 0) };
  }
}

/**
 * What one U-Net evaluation of one sample measured in `scope`: 'unet' units, else guided 'unet-cfg' steps, each of
 * which evaluates the U-Net twice (conditional and unconditional, canvas-job.ts), so half a step.
 */
export function forwardCost(book: UnitCostBook, scope: string): { msPerForward: number; forwards: number } | undefined {
  const unet = book.measured(scope, 'unet');
  if (unet && unet.msPerUnit > 0) return { msPerForward: unet.msPerUnit, forwards: unet.units };
  const cfg = book.measured(scope, 'unet-cfg');
  if (cfg && cfg.msPerUnit > 0) return { msPerForward: cfg.msPerUnit / 2, forwards: 2 * cfg.units };
  return undefined;
}

/** Unit costs are shared by the jobs on one model and device preference (a job without a model gets its own scope). */
export function costScope(input: unknown): string {
  const i = input as { modelDir?: unknown; provider?: unknown };
  return typeof i.modelDir === 'string' ? `${i.modelDir}|${String(i.provider ?? '')}` : '';
}

/** The fraction rule: time so far × what is left / what is done. */
export function fractionEta(runningMs: number, fraction: number): number | undefined {
  if (fraction >= 1) return 0;
  return fraction > 0 ? (runningMs * (1 - fraction)) / fraction : undefined;
}

/** One job's ETA. */
export class JobEta {
  private fraction = 0;
  private remaining: Record<string, number> | null = null;
  /** Where the current measuring stretch started: running time and units done then. */
  private mark: { ms: number; done: Record<string, number> } | null = null;
  private readonly own = new Map<string, Sample[]>();

  constructor(
    private readonly book: UnitCostBook,
    private readonly scope: string,
  ) {}

  /** A progress report at `runningMs` of the job's running time. */
  observe(runningMs: number, fraction: number, work?: WorkReport): void {
    this.fraction = fraction;
    if (!work) {
      this.remaining = null;
      this.mark = null;
      return;
    }
    this.remaining = work.remaining;
    const mark = this.mark;
    if (!mark) {
      this.mark = { ms: runningMs, done: { ...work.done } };
      return;
    }
    const advanced = Object.entries(work.done)
      .map(([kind, n]) => [kind, n - (mark.done[kind] ?? 0)] as const)
      .filter(([, d]) => d > 0);
    if (advanced.length === 0) return;
    const ms = Math.max(0, runningMs - mark.ms);
    if (advanced.length === 1) this.record(advanced[0][0], { ms, units: advanced[0][1] });
    else this.split(advanced, ms);
    this.mark = { ms: runningMs, done: { ...work.done } };
  }

  /**
   * Several kinds advanced in one stretch (a report was throttled away): all known, the time is split by their
   * costs; one unknown, it gets what the known ones did not take; more unknown, the stretch teaches nothing.
   */
  private split(advanced: readonly (readonly [string, number])[], ms: number): void {
    const costs = advanced.map(([kind]) => this.cost(kind));
    const unknown = costs.filter((c) => c === undefined).length;
    if (unknown === 0) {
      const total = advanced.reduce((sum, [, d], i) => sum + d * costs[i]!, 0);
      if (total > 0) advanced.forEach(([kind, d], i) => this.record(kind, { ms: (ms * d * costs[i]!) / total, units: d }));
    } else if (unknown === 1) {
      const known = advanced.reduce((sum, [, d], i) => sum + (costs[i] === undefined ? 0 : d * costs[i]!), 0);
      const i = costs.indexOf(undefined);
      if (ms > known) this.record(advanced[i][0], { ms: ms - known, units: advanced[i][1] });
    }
  }

  private record(kind: string, s: Sample): void {
    const list = this.own.get(kind) ?? [];
    push(list, s, this.book.window);
    this.own.set(kind, list);
    this.book.add(this.scope, kind, s);
  }

  /** What one unit of `kind` costs: this job's measurements, else earlier jobs' in the same scope. */
  cost(kind: string): number | undefined {
    return meanCost(this.own.get(kind) ?? []) ?? this.book.cost(this.scope, kind);
  }

  /** Whether the ETA now comes from measured unit costs (else the fraction rule, or nothing). */
  measured(): boolean {
    return this.unitEta(0) !== undefined;
  }

  etaMs(runningMs: number): number | undefined {
    if (this.fraction >= 1) return 0;
    return this.unitEta(runningMs) ?? fractionEta(runningMs, this.fraction);
  }

  private unitEta(runningMs: number): number | undefined {
    const remaining = this.remaining;
    if (!remaining) return undefined;
    let total = 0;
    for (const [kind, n] of Object.entries(remaining)) {
      if (n <= 0) continue;
      const c = this.cost(kind);
      if (c === undefined) return undefined;
      total += n * c;
    }
    // The unit in progress has been running since the stretch's mark.
    const since = this.mark ? Math.max(0, runningMs - this.mark.ms) : 0;
    return Math.max(0, total - since);
  }
}
