/**
 * `pullback transport [model-dir] --from <basis-dir> --direction I --to (seed:N | xt:b.npy | image:b.png)
 * [--t F | --timestep N] [--steps N] [--mask FILE [--mask-invert]] --out <dir>`: parallel transport (method.md §5) of direction I of sample A's local
 * basis to sample B, with the `transport` job. Writes `v.npy` ([1, …x], the unit direction at B) and
 * `transport.json` (`surviving_share` = ‖U_Bᵀ u_A‖ / ‖u_A‖ ∈ [0, 1], the coefficients, both bases' stats).
 *
 * A is the basis folder `pullback basis --out` wrote: its `xt.npy` is A's x_t and `basis.json` its timestep and basis
 * parameters. The job recomputes A's basis from them, which the basis cache turns into a load (u_A itself, U.npy,
 * is not sent: the job takes A's x_t, so A's basis and B's come from the same code and cache). A different cache
 * entry than the folder's is reported. B's basis is computed at A's timestep; `--t`/`--timestep` may be given only to
 * confirm it. `image:` inverts the picture (the `invert` job) and uses its x_t at that timestep. A masked basis
 * folder is transported with its mask (B's basis is of J·M too); a mask whose content differs is refused.
 *
 * `--direction v.npy` instead of an index: an explicit x-space direction (a row of `pullback global-basis`'s V.npy,
 * [1, …x] or […x]) projected onto B's local basis in x, v_B ∝ V_Bᵀ (V_B v), `surviving_share` = ‖V_B v‖ / ‖v‖. A's
 * basis is not needed then, so `--from` is optional: without it `--t F | --timestep N` gives the timestep and
 * `--k K` (8) / `--method` (krylov) B's basis; with it, its basis.json gives them as for an index.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../core/tensor/npy';
import { snapToSchedule } from '../../shared/schedule';
import { fromPayload, toPayload } from '../../engine/jobs/support/wire-tensors';
import { runCliJob } from '../run-job';
import type { Float32TensorPayload } from '../../shared/api';
import { resolveModelDir } from '../default-model';
import { providerArg } from '../edit-args';
import { int, num, readNpy, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';
import { MASK_OPTIONS, maskArgs, maskMeta } from '../mask-args';

/** What transport reads from basis.json (written by `pullback basis`). */
interface BasisMeta {
  timestep: number;
  steps?: number;
  method: 'krylov' | 'subspace';
  k: number;
  tol?: number;
  seed?: number;
  h_tensor?: string;
  cache_id?: string;
  prompt?: { prompt: string; negativePrompt: string; guidanceScale: number; basisPrompt?: string } | null;
  /** `pullback basis --mask`: the mask file and how it was used (maskMeta). */
  mask?: { file: string; invert: boolean; sha256: string | null } | null;
}

type Target = { kind: 'seed'; seed: number } | { kind: 'xt'; file: string } | { kind: 'image'; file: string };

/** `seed:N`, `xt:b.npy`, `image:b.png`; a bare integer is a seed and a bare `.npy` path an x_t. */
export function parseTarget(v: string): Target {
  const m = /^(seed|xt|image):(.+)$/.exec(v);
  if (m?.[1] === 'seed' || (!m && /^\d+$/.test(v))) {
    const seed = int('to', m ? m[2] : v)!;
    if (seed < 0) throw new UsageError('--to seed:N needs N ≥ 0');
    return { kind: 'seed', seed };
  }
  if (m?.[1] === 'xt' || (!m && v.endsWith('.npy'))) return { kind: 'xt', file: m ? m[2] : v };
  if (m?.[1] === 'image') return { kind: 'image', file: m[2] };
  throw new UsageError(`--to must be seed:N, xt:file.npy or image:file.png, got "${v}"`);
}

async function readBasisMeta(dir: string): Promise<BasisMeta> {
  let text: string;
  try {
    text = await readFile(join(dir, 'basis.json'), 'utf8');
  } catch {
    throw new UsageError(`--from ${dir}: no basis.json there (give a folder written by \`pullback basis --out\`)`);
  }
  let meta: Partial<BasisMeta>;
  try {
    meta = JSON.parse(text) as Partial<BasisMeta>;
  } catch {
    throw new UsageError(`--from ${dir}: basis.json is not JSON`);
  }
  if (!Number.isInteger(meta.timestep) || !Number.isInteger(meta.k) || (meta.method !== 'krylov' && meta.method !== 'subspace')) {
    throw new UsageError(`--from ${dir}: basis.json lacks timestep, k or method`);
  }
  return meta as BasisMeta;
}

/** `--direction`: an index of A's basis (an integer) or an explicit direction (a .npy file). */
export function parseDirectionArg(v: string): { index: number } | { file: string } {
  if (/^\s*-?\d+\s*$/.test(v)) return { index: int('direction', v)! };
  if (v.endsWith('.npy')) return { file: v };
  throw new UsageError(`--direction must be an index of the basis (an integer) or a direction file v.npy, got "${v}"`);
}

/** Without --from (an explicit direction only): B's basis from --k / --method and the timestep from --t / --timestep. */
async function metaWithoutFrom(values: { t?: string; timestep?: string; steps?: string; k?: string; method?: string }, modelDir: string): Promise<BasisMeta> {
  if ((values.t === undefined) === (values.timestep === undefined)) throw new UsageError('without --from, give exactly one of --t F or --timestep N');
  const k = int('k', values.k) ?? 8;
  if (k < 1) throw new UsageError('--k must be ≥ 1');
  const method = values.method ?? 'krylov';
  if (method !== 'krylov' && method !== 'subspace') throw new UsageError(`--method must be krylov or subspace, got "${method}"`);
  const steps = int('steps', values.steps) ?? 100;
  let timestep = int('timestep', values.timestep);
  if (timestep === undefined) {
    const info = await runCliJob('model.info', { modelDir }, { quiet: true });
    timestep = snapToSchedule(num('t', values.t)!, steps, info.scheduler.numTrainTimesteps);
  }
  return { timestep, steps, k, method };
}

export const transportCommand: CliCommand = {
  name: 'transport',
  summary:
    'transport [model-dir] --from <basis-dir> --direction (I | v.npy) --to (seed:N | xt:b.npy | image:b.png) [--t F | --timestep N] [--steps N] [--mask FILE [--mask-invert]] --out <dir>' +
    '  parallel transport of a direction to another sample: v.npy and its surviving share (with v.npy: its projection onto B\'s basis; --from optional, then --t/--timestep [--k K] [--method M])',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        direction: { type: 'string' },
        to: { type: 'string' },
        t: { type: 'string' },
        timestep: { type: 'string' },
        steps: { type: 'string' },
        provider: { type: 'string' },
        k: { type: 'string' },
        method: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        ...MASK_OPTIONS,
      },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (values.direction === undefined) throw new UsageError('--direction (I | v.npy) is required');
    const which = parseDirectionArg(values.direction);
    if (!values.from && 'index' in which) throw new UsageError('--from <basis-dir> is required (a folder written by `pullback basis --out`)');
    if (!values.to) throw new UsageError('--to seed:N | xt:b.npy | image:b.png is required');
    if (values.t !== undefined && values.timestep !== undefined) throw new UsageError('give at most one of --t and --timestep');
    if (values.from && (values.k !== undefined || values.method !== undefined)) throw new UsageError(`--k and --method come from ${values.from}/basis.json; give them only without --from`);
    if ('index' in which && (values.k !== undefined || values.method !== undefined)) throw new UsageError('--k and --method go with --direction v.npy (an index refers to the --from basis)');
    const modelDir = resolveModelDir(positionals, 'transport');
    const meta = values.from ? await readBasisMeta(values.from) : await metaWithoutFrom(values, modelDir);
    if ('index' in which && (which.index < 0 || which.index >= meta.k)) throw new UsageError(`--direction ${which.index} is outside the basis (k = ${meta.k})`);
    const steps = int('steps', values.steps) ?? meta.steps ?? 100;
    // An index needs A (its basis is recomputed from A's x_t); an explicit direction needs only the vector.
    const a = 'index' in which ? { xt: toPayload(await readNpy(join(values.from!, 'xt.npy'), '--from')), index: which.index } : { direction: toPayload(await readNpy(which.file, '--direction')) };
    const target = parseTarget(values.to);
    const quiet = values.quiet;

    // --t / --timestep confirm A's timestep: x_t in the folder is at that timestep and nowhere else.
    if (values.from && values.timestep !== undefined && int('timestep', values.timestep) !== meta.timestep) {
      throw new UsageError(`--timestep ${values.timestep}: the basis in ${values.from} is at timestep ${meta.timestep}`);
    }
    if (values.from && values.t !== undefined) {
      const info = await runCliJob('model.info', { modelDir }, { quiet: true });
      const snapped = snapToSchedule(num('t', values.t)!, steps, info.scheduler.numTrainTimesteps);
      if (snapped !== meta.timestep) throw new UsageError(`--t ${values.t} is timestep ${snapped} on ${steps} steps; the basis in ${values.from} is at ${meta.timestep}`);
    }
    // A masked basis (`basis --mask`) is transported with its mask: A's basis is the cached masked one and B's is of
    // J·M too, so the direction stays in the region. --mask overrides the file basis.json names (e.g. it moved).
    const maskValues = values.mask !== undefined ? values : meta.mask ? { mask: meta.mask.file, 'mask-invert': meta.mask.invert } : {};
    const mask = await maskArgs(maskValues);
    // A's conditioning as basis.json records it (B's basis is taken at the same basis prompt).
    const text = meta.prompt
      ? {
          prompt: meta.prompt.prompt,
          negativePrompt: meta.prompt.negativePrompt,
          guidanceScale: meta.prompt.guidanceScale,
          ...(meta.prompt.basisPrompt !== undefined ? { basisPrompt: meta.prompt.basisPrompt } : {}),
        }
      : {};

    let b: { seedB: number } | { xtB: Float32TensorPayload };
    if (target.kind === 'seed') b = { seedB: target.seed };
    else if (target.kind === 'xt') b = { xtB: toPayload(await readNpy(target.file, '--to')) };
    else {
      let image: Uint8Array<ArrayBuffer>;
      try {
        image = new Uint8Array(await readFile(target.file));
      } catch {
        throw new UsageError(`--to: cannot read ${target.file}`);
      }
      const inv = await runCliJob('invert', { modelDir, image, steps, timestep: meta.timestep, ...providerArg(values.provider) }, { quiet });
      if (!inv.xt) throw new Error('invert returned no x_t at the timestep it was asked for');
      b = { xtB: inv.xt };
    }

    const out = await runCliJob(
      'transport',
      {
        modelDir,
        ...a,
        timestep: meta.timestep,
        steps,
        k: meta.k,
        method: meta.method,
        ...(meta.tol !== undefined ? { tol: meta.tol } : {}),
        ...(meta.seed !== undefined ? { basisSeed: meta.seed } : {}),
        ...(meta.h_tensor ? { h: meta.h_tensor } : {}),
        ...b,
        ...(mask ? { mask } : {}),
        ...providerArg(values.provider),
        ...text,
      },
      { quiet },
    );
    // Checked on B's basis with an explicit direction (A's is not computed): the same mask makes the same hash.
    const maskHash = (out.basisA ?? out.basisB).maskHash;
    if (meta.mask?.sha256 && maskHash !== meta.mask.sha256) {
      throw new UsageError(`the mask ${maskValues.mask} is not the one the basis in ${values.from} was computed with (its content changed?); give that mask with --mask`);
    }
    if (!quiet && out.basisA && meta.cache_id && out.basisA.cacheId !== meta.cache_id) {
      process.stderr.write(`warning: A's basis was recomputed and is not the cache entry ${values.from} came from (model or parameters differ?)\n`);
    }
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'v.npy'), encodeNpy(fromPayload(out.v, 'v')));
    const result = {
      timestep: out.timestep,
      direction: 'index' in which ? which.index : which.file,
      from: values.from ?? null,
      to: target.kind === 'seed' ? { seed: target.seed } : { [target.kind]: target.file },
      surviving_share: out.captured,
      mask: maskMeta(maskValues.mask, maskValues['mask-invert'], maskHash),
      coefficients: out.coefficients,
      basis_a: out.basisA ? { ...out.basisA, residuals: undefined } : null,
      basis_b: { ...out.basisB, residuals: undefined },
    };
    await writeFile(join(values.out, 'transport.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (!quiet) writeJsonLine({ out: values.out, timestep: out.timestep, direction: result.direction, surviving_share: out.captured });
    return 0;
  },
};
