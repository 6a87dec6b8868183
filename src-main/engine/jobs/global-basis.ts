/**
 * `global-basis`: one basis shared by many samples (method.md §5): the local bases of the DDIM paths of `seeds`
 * at the same timestep (each through the basis cache), combined by core/geometry's globalBasis (leading right
 * singular vectors of the stacked local V's, optionally σ-weighted).
 */
import type { EngineJob } from './types';
import { globalBasis } from '../../core/geometry/transport';
import type { JobOutput } from '../../shared/api';
import { asUserError } from './support/user-errors';
import { localBasis, type BasisStats } from './support/local-basis';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { toPayload } from './support/wire-tensors';

export const globalBasisJob: EngineJob<'global-basis', JobOutput<'global-basis'>> = {
  name: 'global-basis',
  async run(input, ctx) {
    const { model, predictor, pathKey, condition } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const bases = [];
    const samples: { seed: number; basis: BasisStats }[] = [];
    for (let i = 0; i < input.seeds.length; i++) {
      const seed = input.seeds[i];
      const span = (a: number) => (i + a) / input.seeds.length;
      const xt = await resolveXt({ seed, steps: input.steps }, model, predictor, timestep, ctx.signal, undefined, pathKey);
      const r = await localBasis(
        ctx.jacobians,
        model,
        xt,
        timestep,
        input,
        ctx.signal,
        (p) => ctx.onProgress({ fraction: span(p.fraction), message: `sample ${i + 1}/${input.seeds.length} (seed ${seed}): ${p.message}` }),
        condition,
      );
      bases.push(r.basis);
      samples.push({ seed, basis: r.stats });
    }
    let g;
    try {
      g = globalBasis(bases, { k: input.kGlobal, weighting: input.weighting });
    } catch (err) {
      throw asUserError(err);
    }
    return { timestep, V: toPayload(g.V), S: toPayload(g.S), samples };
  },
};
