/**
 * `global-basis`: one basis shared by many samples (method.md §5, issue 13 item 4): the local bases of the samples
 * (DDIM paths of `seeds`, or given latents `xts`, all at the same timestep; each through the basis cache, masked
 * when the basis params carry a mask) averaged in x (rows of V) or in h (rows of U) by core/geometry's subspaceMean:
 * the chordal mean (SVD of the stacked bases, optionally σ-weighted) or the Grassmannian Karcher mean. Every sample's
 * geodesic distance to the mean is reported, so an outlier sample shows.
 */
import type { EngineJob } from './types';
import { subspaceMean } from '../../core/geometry/grassmann-mean';
import type { JobOutput } from '../../shared/api';
import { asUserError } from './support/user-errors';
import { localBasis, type BasisStats } from './support/local-basis';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { toPayload } from './support/wire-tensors';

export const globalBasisJob: EngineJob<'global-basis', JobOutput<'global-basis'>> = {
  name: 'global-basis',
  async run(input, ctx) {
    const { model, predictor, pathKey, condition, forwardProvider } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const sources = input.seeds ? input.seeds.map((seed) => ({ seed, steps: input.steps })) : input.xts!.map((xt) => ({ xt, steps: input.steps }));
    const bases = [];
    const samples: { seed?: number; index: number; basis: BasisStats }[] = [];
    for (const [i, source] of sources.entries()) {
      const span = (a: number) => (i + a) / sources.length;
      const label = 'seed' in source ? `seed ${source.seed}` : `xt ${i + 1}`;
      const xt = await resolveXt(source, model, predictor, timestep, ctx.signal, undefined, pathKey);
      const r = await localBasis(
        ctx.jacobians,
        model,
        xt,
        timestep,
        { ...input, forwardProvider },
        ctx.signal,
        (p) => ctx.onProgress({ fraction: span(p.fraction), message: `sample ${i + 1}/${sources.length} (${label}): ${p.message}` }),
        condition,
      );
      bases.push(r.basis);
      samples.push({ ...('seed' in source ? { seed: source.seed } : {}), index: i, basis: r.stats });
    }
    let g;
    try {
      g = subspaceMean(
        bases.map((b) => ({ rows: input.space === 'h' ? b.U : b.V, S: b.S })),
        { k: input.kGlobal, mean: input.mean, weighting: input.weighting },
      );
    } catch (err) {
      throw asUserError(err);
    }
    return {
      timestep,
      space: input.space,
      mean: input.mean,
      ...(input.space === 'h' ? { U: toPayload(g.basis) } : { V: toPayload(g.basis) }),
      S: toPayload(g.S),
      samples: samples.map((s, i) => ({ ...s, distance: g.distances[i] })),
      ...(g.karcher ? { karcher: g.karcher } : {}),
    };
  },
};
