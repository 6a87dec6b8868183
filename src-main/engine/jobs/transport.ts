/**
 * `transport`: parallel transport of direction `index` of sample A's basis to sample B at the same timestep
 * (method.md §5): u_A (h-space) is projected onto B's tangent basis and mapped back, v_B ∝ V_B (U_B u_A).
 * Both bases go through the basis cache.
 */
import type { EngineJob } from './types';
import { transportDirection } from '../../core/geometry/transport';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import type { JobOutput } from '../../shared/api';
import { localBasis } from './support/local-basis';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';

export const transportJob: EngineJob<'transport', JobOutput<'transport'>> = {
  name: 'transport',
  async run(input, ctx) {
    const { model, predictor, pathKey, condition } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const xa = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.05), pathKey);
    const xb = await resolveXt({ seed: input.seedB, xt: input.xtB, steps: input.steps }, model, predictor, timestep, ctx.signal, undefined, pathKey);
    const a = await localBasis(ctx.jacobians, model, xa, timestep, input, ctx.signal, subProgress(ctx.onProgress, 0.05, 0.5), condition);
    const b = await localBasis(ctx.jacobians, model, xb, timestep, input, ctx.signal, subProgress(ctx.onProgress, 0.5, 1), condition);
    const k = a.basis.U.dims[0];
    if (input.index >= k) throw new InvalidArgumentError(`direction index ${input.index} is outside the basis (k = ${k})`);
    const m = a.basis.U.data.length / k;
    const uA = { dims: [1, ...a.basis.U.dims.slice(1)], data: a.basis.U.data.subarray(input.index * m, (input.index + 1) * m) };
    const r = transportDirection(uA, b.basis);
    return { timestep, v: toPayload(r.v), coefficients: r.coefficients, captured: r.captured, basisA: a.stats, basisB: b.stats };
  },
};
