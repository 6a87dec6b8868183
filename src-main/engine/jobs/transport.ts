/**
 * `transport`: move a direction of sample A to sample B at the same timestep (method.md §5). Two forms:
 * - `index`: parallel transport of direction `index` of A's basis: u_A (h-space) is projected onto B's tangent basis
 *   and mapped back, v_B ∝ V_B (U_B u_A).
 * - `direction`: an explicit x-space direction v (a global direction shared by many samples, which has no u_A of
 *   its own) is projected onto B's local basis in x, v_B ∝ V_Bᵀ (V_B v), captured = ‖V_B v‖ / ‖v‖. A's basis is
 *   not computed (nor A's x_t resolved): only B's.
 * Both bases go through the basis cache.
 */
import type { EngineJob } from './types';
import { projectOntoLocalBasis, transportDirection } from '../../core/geometry/transport';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import type { JobOutput } from '../../shared/api';
import { localBasis } from './support/local-basis';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { fromPayload, toPayload } from './support/wire-tensors';

export const transportJob: EngineJob<'transport', JobOutput<'transport'>> = {
  name: 'transport',
  async run(input, ctx) {
    const { model, predictor, pathKey, condition, forwardProvider } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const request = { ...input, forwardProvider };
    if (input.direction !== undefined) {
      // Checked before B's basis is computed: a wrong-size vector should not cost k Jacobian sweeps first.
      const v = fromPayload(input.direction, 'direction');
      const xb = await resolveXt({ seed: input.seedB, xt: input.xtB, steps: input.steps }, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.05), pathKey);
      if (v.data.length !== xb.data.length) throw new InvalidArgumentError(`the direction has ${v.data.length} values, a sample of this model has ${xb.data.length}`);
      const b = await localBasis(ctx.jacobians, model, xb, timestep, request, ctx.signal, subProgress(ctx.onProgress, 0.05, 1), condition);
      const r = projectOntoLocalBasis(v, b.basis);
      return { timestep, v: toPayload(r.v), coefficients: r.coefficients, captured: r.captured, basisB: b.stats };
    }
    const index = input.index;
    // The schema asks for exactly one of index/direction; this narrows the type for the compiler.
    if (index === undefined) throw new InvalidArgumentError('give exactly one of index, direction');
    const xa = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.05), pathKey);
    const xb = await resolveXt({ seed: input.seedB, xt: input.xtB, steps: input.steps }, model, predictor, timestep, ctx.signal, undefined, pathKey);
    const a = await localBasis(ctx.jacobians, model, xa, timestep, request, ctx.signal, subProgress(ctx.onProgress, 0.05, 0.5), condition);
    const b = await localBasis(ctx.jacobians, model, xb, timestep, request, ctx.signal, subProgress(ctx.onProgress, 0.5, 1), condition);
    const k = a.basis.U.dims[0];
    if (index >= k) throw new InvalidArgumentError(`direction index ${index} is outside the basis (k = ${k})`);
    const m = a.basis.U.data.length / k;
    const uA = { dims: [1, ...a.basis.U.dims.slice(1)], data: a.basis.U.data.subarray(index * m, (index + 1) * m) };
    const r = transportDirection(uA, b.basis);
    return { timestep, v: toPayload(r.v), coefficients: r.coefficients, captured: r.captured, basisA: a.stats, basisB: b.stats };
  },
};
