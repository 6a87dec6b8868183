/**
 * `basis`: the local latent basis (V, σ, U) of J = ∂h/∂x_t at (x_t, t), through the on-disk basis cache.
 * Progress per iteration carries the residual; cancel stops between Jacobian calls.
 */
import type { EngineJob } from './types';
import type { JobOutput } from '../../shared/api';
import { localBasis } from './support/local-basis';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';

export const basisJob: EngineJob<'basis', JobOutput<'basis'>> = {
  name: 'basis',
  async run(input, ctx) {
    const { model, predictor, pathKey, condition, prompt, forwardProvider } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const xt = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.1), pathKey);
    const { basis, stats } = await localBasis(ctx.jacobians, model, xt, timestep, { ...input, forwardProvider }, ctx.signal, subProgress(ctx.onProgress, 0.1, 1), condition);
    return { ...stats, V: toPayload(basis.V), S: toPayload(basis.S), U: toPayload(basis.U), xt: toPayload(xt), ...(prompt ? { prompt } : {}) };
  },
};
