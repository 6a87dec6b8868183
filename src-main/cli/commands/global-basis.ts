/**
 * `pullback global-basis [model-dir] (--seeds 0,1,2 | --xt a.npy --xt b.npy ...) (--t F | --timestep N) --k K
 * [--k-global KG] [--space x|h] [--mean chordal|karcher] [--weighting uniform|sigma] [--method krylov|subspace]
 * [--tol E] [--basis-seed N] [--h TENSOR] [--steps N] [--mask FILE [--mask-invert]] --out <dir>`
 *
 * One basis shared by the samples (method.md §5, the `global-basis` job): each sample's local basis (k directions,
 * through the basis cache), averaged in x (rows of V) or in h (rows of U) by the chordal mean (SVD of the stacked
 * bases) or the Grassmannian Karcher mean. Writes V.npy [KG, *x] (space x) or U.npy [KG, *h] (space h), like
 * `pullback basis` writes them, S.npy [KG], global.json (settings, per-sample distance and basis stats, Karcher
 * iterations) and distances.csv (one row per sample: its geodesic distance ‖θ‖₂ to the mean, radians).
 * KG defaults to K: a Karcher mean of K-dimensional subspaces is K-dimensional (KG ≤ K keeps its top KG directions).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../core/tensor/npy';
import { fromPayload } from '../../engine/jobs/support/wire-tensors';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { COMMON_OPTIONS, int, readNpy, TEXT_OPTIONS, textArgs, geometryPromptArgs, BASIS_PROMPT_OPTION, timeArgs, writeJsonLine } from '../pullback-args';
import { BASIS_PARAM_OPTIONS, basisParamArgs, providerArg } from '../edit-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';
import { MASK_OPTIONS, maskArgs, maskMeta } from '../mask-args';

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got "${v}"`);
  return v as T;
}

/** "0,1,2" or "0-3" pieces → seeds. */
export function parseSeeds(v: string): number[] {
  const seeds: number[] = [];
  for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a || b - a > 255) throw new UsageError(`--seeds range "${part}" must be ascending and at most 256 long`);
      for (let s = a; s <= b; s++) seeds.push(s);
    } else {
      const s = int('seeds', part)!;
      if (s < 0) throw new UsageError('--seeds must be ≥ 0');
      seeds.push(s);
    }
  }
  if (seeds.length === 0) throw new UsageError('--seeds needs at least one seed (e.g. 0,1,2 or 0-7)');
  return seeds;
}

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export const globalBasisCommand: CliCommand = {
  name: 'global-basis',
  summary:
    'global-basis [model-dir] (--seeds 0,1,2 | --xt a.npy --xt b.npy ...) (--t F | --timestep N) --k K [--k-global KG] ' +
    '[--space x|h] [--mean chordal|karcher] [--weighting uniform|sigma] [--method krylov|subspace] [--steps N] ' +
    '[--mask FILE [--mask-invert]] --out <dir>' +
    '  one basis shared by the samples: V.npy (x) or U.npy (h), S.npy, global.json, distances.csv',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...COMMON_OPTIONS,
        ...TEXT_OPTIONS,
        ...BASIS_PROMPT_OPTION,
        ...MASK_OPTIONS,
        xt: { type: 'string', multiple: true },
        seeds: { type: 'string' },
        ...BASIS_PARAM_OPTIONS,
        'k-global': { type: 'string' },
        space: { type: 'string' },
        mean: { type: 'string' },
        weighting: { type: 'string' },
      },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (values.seed !== undefined) throw new UsageError('global-basis takes --seeds 0,1,2 (a list), not --seed');
    if ((values.seeds === undefined) === (values.xt === undefined)) throw new UsageError('give exactly one of --seeds 0,1,2 or --xt a.npy [--xt b.npy ...]');
    if (values.k === undefined) throw new UsageError('--k K is required');
    const k = int('k', values.k)!;
    const space = oneOf('space', values.space, ['x', 'h'] as const) ?? 'x';
    const mean = oneOf('mean', values.mean, ['chordal', 'karcher'] as const) ?? 'chordal';
    const weighting = oneOf('weighting', values.weighting, ['uniform', 'sigma'] as const);
    const time = timeArgs(values);
    const seeds = values.seeds !== undefined ? parseSeeds(values.seeds) : undefined;
    const xtFiles = values.xt ?? [];
    const xts = [];
    for (const f of xtFiles) {
      const t = await readNpy(f, '--xt');
      xts.push({ dims: [...t.dims], data: new Uint8Array(t.data.slice().buffer) });
    }
    const mask = await maskArgs(values);
    const out = await runCliJob(
      'global-basis',
      {
        modelDir: resolveModelDir(positionals, 'global-basis'),
        ...(seeds ? { seeds } : { xts }),
        ...time,
        ...basisParamArgs(values),
        kGlobal: int('k-global', values['k-global']) ?? k,
        space,
        mean,
        ...(weighting ? { weighting } : {}),
        ...(mask ? { mask } : {}),
        ...providerArg(values.provider),
        ...textArgs(values),
        ...geometryPromptArgs(values),
      },
      { quiet: values.quiet },
    );
    await mkdir(values.out, { recursive: true });
    const basis = fromPayload(space === 'h' ? out.U! : out.V!, space === 'h' ? 'U' : 'V');
    await writeFile(join(values.out, space === 'h' ? 'U.npy' : 'V.npy'), encodeNpy(basis));
    await writeFile(join(values.out, 'S.npy'), encodeNpy(fromPayload(out.S, 'S')));
    const samples = out.samples.map((s) => ({
      index: s.index,
      seed: s.seed ?? null,
      xt: s.seed === undefined ? xtFiles[s.index] : null,
      distance: s.distance,
      cache_hit: s.basis.cacheHit,
      cache_id: s.basis.cacheId,
      jacobian_products: s.basis.jacobianProducts.total,
      converged: s.basis.converged,
    }));
    const meta = {
      timestep: out.timestep,
      t: time.t ?? null,
      steps: time.steps ?? 100,
      space,
      mean,
      weighting: weighting ?? 'uniform',
      k,
      k_global: basis.dims[0],
      singular_values: Array.from(fromPayload(out.S, 'S').data),
      // Karcher only: gradient-descent iterations, whether the mean tangent reached the tolerance, its final norm
      karcher: out.karcher ? { iterations: out.karcher.iterations, converged: out.karcher.converged, tangent_norm: out.karcher.tangentNorm } : null,
      distance: 'geodesic distance on the Grassmannian, 2-norm of the principal angles (radians), mean span vs sample span',
      samples,
      h_tensor: out.samples[0]?.basis.hTensor ?? null,
      model_hash: out.samples[0]?.basis.modelHash ?? null,
      mask: maskMeta(values.mask, values['mask-invert'], out.samples[0]?.basis.maskHash),
      dims: { [space === 'h' ? 'U' : 'V']: basis.dims, S: out.S.dims },
    };
    await writeFile(join(values.out, 'global.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const csv = ['index,seed,xt,distance,cache_hit', ...samples.map((s) => [s.index, s.seed ?? '', csvField(s.xt ?? ''), s.distance, s.cache_hit].join(','))];
    await writeFile(join(values.out, 'distances.csv'), `${csv.join('\n')}\n`);
    if (!values.quiet) {
      writeJsonLine({
        timestep: meta.timestep,
        space,
        mean,
        k_global: meta.k_global,
        singular_values: meta.singular_values.map((s) => Number(s.toPrecision(6))),
        distances: samples.map((s) => Number(s.distance.toPrecision(6))),
        karcher: meta.karcher,
      });
    }
    return 0;
  },
};
