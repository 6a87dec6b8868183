/**
 * How long a basis will take, said before it starts (issue 11 item 8: SD-sized bases are impractical on 2 CPU cores,
 * and the editor must say so before a long job, not after). Pure: the editor passes what was measured, this multiplies.
 *
 *   time ≈ Jacobian products × cost of one product
 *
 * Products: a basis of the same method and k computed before on this model, else the method's own numbers — krylov
 * hands blocks of b = k + oversampling columns to J·v and Jᵀ(J·v) (2 products a column) and a cold start typically
 * stops after 7 iterations at its default tolerance (k = 8: b = 14, at most 7 × 28 = 196 products; the last blocks
 * narrow to the pairs still open, so avatars64 measured 154–182: the estimate errs high, not low);
 * subspace iteration runs k columns at least its 10 minimum iterations, so its count is a lower bound.
 *
 * Cost of one product: the one a basis on this model measured (its seconds over its products, on the provider its
 * Jacobians ran on), else the forward pass the engine measured (model.info `forwardCost`, on the job's device) times
 * FORWARDS_PER_PRODUCT. With neither, no estimate: the editor says nothing was measured instead of guessing.
 */
import { defaultOversampling } from '../core/geometry/krylov';
import type { Provider } from './wire';

export type BasisMethodName = 'krylov' | 'subspace';

/** Krylov iterations of a typical cold basis at tol 1e-3 (avatars64, k = 8: 7 iterations, 154–182 products). */
export const TYPICAL_KRYLOV_ITERATIONS = 7;
/** Subspace iteration's minimum iterations (core/geometry/subspace.ts minIterations default). */
export const SUBSPACE_MIN_ITERATIONS = 10;
/**
 * One Jacobian product (one column of J·v or of Jᵀu, h = the mid block) in forward passes of the whole U-Net, for a
 * whole krylov basis (graph calls plus the method's linear algebra): k = 8 on avatars64, CPU, 2 cores shared with
 * other work, took 0.24, 0.40 and 0.50 forwards a product in 3 runs of `npm run bench -- jacobian-cost` (the graph
 * calls alone 0.15–0.25). The median, 0.4; the first basis on a model replaces it with its own measurement.
 */
export const FORWARDS_PER_PRODUCT = 0.4;
/** Above this, the editor asks before starting ("Compute anyway" / "Cancel"). */
export const CONFIRM_ABOVE_SECONDS = 30;

/** A basis computed before on this model (a gallery's stats). */
export interface MeasuredBasis {
  method: BasisMethodName;
  k: number;
  products: number;
  seconds: number;
  /** The provider its Jacobians ran on (absent: unknown, e.g. from an engine before this was reported). */
  provider?: Provider | string;
  cacheHit: boolean;
}

export interface EstimateInput {
  method: BasisMethodName;
  k: number;
  /** The provider the Jacobians will run on, as far as known (the forward's, or the last basis's). */
  provider: string;
  /** model.info forwardCost under the job's device preference. */
  forward?: { msPerForward: number; forwards: number };
  /** Bases this model computed before (cache hits are ignored: they measured nothing). */
  history?: readonly MeasuredBasis[];
}

export type BasisEstimate =
  | {
      kind: 'estimate';
      seconds: number;
      products: number;
      /** 'previous': a basis of the same method and k; 'typical': the method's numbers; 'minimum': a lower bound. */
      productsFrom: 'previous' | 'typical' | 'minimum';
      msPerProduct: number;
      /** 'basis': measured by an earlier basis; 'forward': the forward's measurement × FORWARDS_PER_PRODUCT. */
      costFrom: 'basis' | 'forward';
      provider: string;
      forwardMs?: number;
    }
  | { kind: 'unmeasured'; provider: string };

/** Jacobian products a basis is expected to take. */
export function expectedProducts(method: BasisMethodName, k: number, history: readonly MeasuredBasis[] = []): { products: number; from: 'previous' | 'typical' | 'minimum' } {
  const same = history.filter((b) => !b.cacheHit && b.method === method && b.k === k && b.products > 0);
  if (same.length) return { products: Math.round(same.reduce((n, b) => n + b.products, 0) / same.length), from: 'previous' };
  if (method === 'krylov') return { products: 2 * (k + defaultOversampling(k)) * TYPICAL_KRYLOV_ITERATIONS, from: 'typical' };
  return { products: 2 * k * SUBSPACE_MIN_ITERATIONS, from: 'minimum' };
}

/** The estimate, or 'unmeasured' when neither a basis nor a forward pass was measured on this provider. */
export function estimateBasis(input: EstimateInput): BasisEstimate {
  const { products, from } = expectedProducts(input.method, input.k, input.history);
  // Only a basis whose Jacobians ran on the same provider measured what this one will cost.
  const measured = (input.history ?? []).filter((b) => !b.cacheHit && b.products > 0 && b.seconds > 0 && b.provider === input.provider);
  if (measured.length) {
    const msPerProduct = (1000 * measured.reduce((s, b) => s + b.seconds, 0)) / measured.reduce((n, b) => n + b.products, 0);
    return { kind: 'estimate', seconds: (products * msPerProduct) / 1000, products, productsFrom: from, msPerProduct, costFrom: 'basis', provider: input.provider };
  }
  if (input.forward && input.forward.msPerForward > 0) {
    const msPerProduct = input.forward.msPerForward * FORWARDS_PER_PRODUCT;
    return {
      kind: 'estimate',
      seconds: (products * msPerProduct) / 1000,
      products,
      productsFrom: from,
      msPerProduct,
      costFrom: 'forward',
      provider: input.provider,
      forwardMs: input.forward.msPerForward,
    };
  }
  return { kind: 'unmeasured', provider: input.provider };
}

/** Whether the editor should ask before starting. An unmeasured basis is not asked about: nothing says it is long. */
export function needsConfirmation(e: BasisEstimate, aboveSeconds = CONFIRM_ABOVE_SECONDS): boolean {
  return e.kind === 'estimate' && e.seconds > aboveSeconds;
}

/** "≈ 45 s", "≈ 6 min", "≈ 1 h 20 min". */
export function formatApproxDuration(seconds: number): string {
  if (seconds < 90) return `≈ ${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `≈ ${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `≈ ${h} h${m ? ` ${m} min` : ''}`;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toPrecision(2)} s` : `${Math.round(ms)} ms`;
}

/**
 * The estimate with its reasons: "≈ 6 min on cpu: about 196 Jacobian products (krylov, k = 8, typical), each ≈ 0.4
 * forward passes of 4.5 s measured".
 */
export function estimateText(e: BasisEstimate, method: BasisMethodName, k: number): string {
  if (e.kind === 'unmeasured') {
    return `No estimate yet: nothing has been measured on ${e.provider} for this model. Render an image first and the editor can say how long a basis takes.`;
  }
  const count =
    e.productsFrom === 'previous'
      ? `${e.products} Jacobian products (as the last ${method} basis with k = ${k})`
      : e.productsFrom === 'minimum'
        ? `at least ${e.products} Jacobian products (${method}, k = ${k}, its minimum of ${SUBSPACE_MIN_ITERATIONS} iterations)`
        : `about ${e.products} Jacobian products (${method}, k = ${k}, typical)`;
  const each =
    e.costFrom === 'basis'
      ? `each ${seconds(e.msPerProduct)} as measured by an earlier basis`
      : `each ≈ ${FORWARDS_PER_PRODUCT} forward passes of ${seconds(e.forwardMs ?? 0)} measured`;
  const time = e.productsFrom === 'minimum' ? `at least ${formatApproxDuration(e.seconds).replace('≈ ', '')}` : formatApproxDuration(e.seconds);
  return `${time} on ${e.provider}: ${count}, ${each}`;
}

/** "cpu", or "cpu (fell back from cuda: …)": what the Jacobians ran on, as the editor and the CLI show it. */
export function jacobianProviderText(provider: string, fallbackReason?: string): string {
  return fallbackReason ? `${provider} (fell back from ${fallbackReason})` : provider;
}
