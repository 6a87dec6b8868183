/**
 * The question before a long basis (issue 11 item 8): Compute directions first asks the engine what a forward pass
 * measured on this model (model.info `forwardCost`), estimates the basis with the document's earlier bases
 * (shared/basis-estimate.ts), and when that exceeds ~30 s shows the estimate and why, with "Compute anyway" /
 * "Cancel" (BasisEstimate.svelte). A short estimate starts at once; with nothing measured the basis starts too, and a
 * note says no estimate exists yet, rather than a guess.
 */
import { runJob } from '../../../../src-main/shared/client';
import type { ProviderPreference, PullbackApi } from '../../../../src-main/shared/api';
import type { Gallery } from './galleries.svelte';
import { estimateBasis, estimateText, needsConfirmation, type BasisEstimate, type BasisMethodName, type MeasuredBasis } from '../../../../src-main/shared/basis-estimate';

export interface EstimateRequest {
  modelDir: string;
  provider: ProviderPreference;
  /** What the last render ran on ('' before one): the forward measurement is of that provider. */
  providerInUse: string;
  method: BasisMethodName;
  k: number;
  /** The document's computed bases, oldest first (the last one with a provider says where Jacobians run). */
  history: readonly MeasuredBasis[];
  /** This basis is already computed (the engine's cache answers it): nothing to estimate or ask. */
  cached: boolean;
}

export interface PendingEstimate {
  estimate: BasisEstimate;
  text: string;
}

/** Where the Jacobians of the next basis will run, as far as the editor knows, and whether the forward's cost applies. */
export function jacobianDevice(req: Pick<EstimateRequest, 'provider' | 'providerInUse' | 'history'>): { provider: string; forwardApplies: boolean } {
  const last = [...req.history].reverse().find((b) => !b.cacheHit && b.provider)?.provider;
  const forward = req.providerInUse || (req.provider === 'auto' ? '' : req.provider);
  const provider = last ?? (forward || 'this device');
  // A forward measured on another provider than the Jacobians run on says nothing about their cost.
  return { provider, forwardApplies: !last || !forward || last === forward };
}

/** The galleries' computed bases as measurements, oldest first (cache hits stay out in estimateBasis). */
export function measuredBases(galleries: readonly Gallery[]): MeasuredBasis[] {
  return galleries.flatMap((g) =>
    g.status === 'done' && g.stats && g.stats.products !== undefined
      ? [{ method: g.method, k: g.k, products: g.stats.products, seconds: g.stats.seconds, cacheHit: g.stats.cacheHit, ...(g.stats.jacobianProvider ? { provider: g.stats.jacobianProvider } : {}) }]
      : [],
  );
}

export class BasisEstimates {
  readonly #api: PullbackApi;
  #pending = $state.raw<PendingEstimate | null>(null);
  #note = $state<string | null>(null);
  #answer: ((go: boolean) => void) | null = null;

  constructor(api: PullbackApi) {
    this.#api = api;
  }

  /** The estimate waiting for "Compute anyway" / "Cancel". */
  get pending(): PendingEstimate | null {
    return this.#pending;
  }
  /** Said beside the running basis: no measurement yet, so no estimate. */
  get note(): string | null {
    return this.#note;
  }

  /** Resolves true when the basis should start: short, cached, unmeasured, or the user chose Compute anyway. */
  async confirm(req: EstimateRequest): Promise<boolean> {
    this.answer(false); // a question still open belongs to an earlier press
    this.#note = null;
    if (req.cached) return true;
    const device = jacobianDevice(req);
    let forward;
    try {
      forward = (await runJob(this.#api, 'model.info', { modelDir: req.modelDir, provider: req.provider })).forwardCost;
    } catch {
      // The basis job reports what is wrong with the model (with its typed error); an estimate is not worth a second.
      forward = undefined;
    }
    const estimate = estimateBasis({ method: req.method, k: req.k, provider: device.provider, history: req.history, ...(forward && device.forwardApplies ? { forward } : {}) });
    const text = estimateText(estimate, req.method, req.k);
    if (estimate.kind === 'unmeasured') {
      this.#note = text;
      return true;
    }
    if (!needsConfirmation(estimate)) return true;
    return new Promise<boolean>((resolve) => {
      this.#pending = { estimate, text };
      this.#answer = resolve;
    });
  }

  /** The user's choice (also: a newer press or the document going away cancels the open question). */
  answer(go: boolean): void {
    const resolve = this.#answer;
    this.#answer = null;
    this.#pending = null;
    resolve?.(go);
  }

  clearNote(): void {
    this.#note = null;
  }
}
