/** Entry point that picks the method (krylov by default, subspace for reproducing the authors). */
import { krylovBasis } from './krylov';
import { subspaceBasis } from './subspace';
import type { BasisMethod, JacobianOperator, KrylovOptions, LocalBasis, SubspaceOptions } from './types';

export type LocalBasisOptions =
  | ({ method?: 'krylov' } & KrylovOptions)
  | ({ method: 'subspace' } & SubspaceOptions);

export const DEFAULT_METHOD: BasisMethod = 'krylov';

export function computeLocalBasis(op: JacobianOperator, options: LocalBasisOptions): Promise<LocalBasis> {
  return options.method === 'subspace' ? subspaceBasis(op, options) : krylovBasis(op, options);
}
