/** Entry point that picks the method (krylov by default, subspace for reproducing the authors), optionally masked. */
import { krylovBasis } from './krylov';
import { subspaceBasis } from './subspace';
import { maskedOperator, restrictToSupport, type LatentMask } from './mask';
import type { BasisMethod, JacobianOperator, KrylovOptions, LocalBasis, SubspaceOptions } from './types';

export type LocalBasisOptions = (
  | ({ method?: 'krylov' } & KrylovOptions)
  | ({ method: 'subspace' } & SubspaceOptions)
) & {
  /** Restrict J to a region: the basis of J·M (mask.ts), its directions exactly 0 where M = 0. */
  mask?: LatentMask;
};

export const DEFAULT_METHOD: BasisMethod = 'krylov';

export async function computeLocalBasis(op: JacobianOperator, options: LocalBasisOptions): Promise<LocalBasis> {
  if (!options.mask) return options.method === 'subspace' ? subspaceBasis(op, options) : krylovBasis(op, options);
  const masked = maskedOperator(op, options.mask);
  const basis = options.method === 'subspace' ? await subspaceBasis(masked, options) : await krylovBasis(masked, options);
  return restrictToSupport(basis, masked.weights);
}
