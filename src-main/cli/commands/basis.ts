/**
 * `pullback basis [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --k K [--method krylov|subspace]
 * [--tol E] [--basis-seed N] [--h TENSOR] [--steps N] [--mask FILE [--mask-invert]] --out <dir>` writes V.npy
 * [K, *x] (unit rows), S.npy [K] (descending), U.npy [K, *h], xt.npy (the x_t used) and basis.json. Repeated requests
 * load from the basis cache. With --mask the basis is of J restricted to the region (directions 0 outside it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../core/tensor/npy';
import { tensorSha256 } from '../../core/tensor/hash';
import { fromPayload } from '../../engine/jobs/support/wire-tensors';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { COMMON_OPTIONS, promptNotice, sourceArgs, TEXT_OPTIONS, textArgs, geometryPromptArgs, BASIS_PROMPT_OPTION, timeArgs, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';
import { MASK_OPTIONS, maskArgs, maskMeta } from '../mask-args';
import { BASIS_PARAM_OPTIONS, basisParamArgs, providerArg } from '../edit-args';

export const basisCommand: CliCommand = {
  name: 'basis',
  summary:
    'basis [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --k K [--method krylov|subspace] [--tol E] [--steps N] ' +
    '[--prompt TEXT --negative-prompt TEXT --guidance-scale G (text models: J at the prompt)] [--basis-prompt TEXT (J at another prompt than the path\'s)] ' +
    '[--mask FILE (image or .npy weights: directions only inside) [--mask-invert]] --out <dir>' +
    '  local latent basis: V.npy, S.npy, U.npy, basis.json',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...COMMON_OPTIONS, ...TEXT_OPTIONS, ...BASIS_PROMPT_OPTION, ...MASK_OPTIONS, ...BASIS_PARAM_OPTIONS },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (values.k === undefined) throw new UsageError('--k K is required');
    const time = timeArgs(values);
    const mask = await maskArgs(values);
    const out = await runCliJob(
      'basis',
      {
        modelDir: resolveModelDir(positionals, 'basis'),
        ...(await sourceArgs(values)),
        ...time,
        ...basisParamArgs(values),
        ...(mask ? { mask } : {}),
        ...providerArg(values.provider),
        ...textArgs(values),
        ...geometryPromptArgs(values),
      },
      { quiet: values.quiet },
    );
    promptNotice(out.prompt, values.quiet);
    await mkdir(values.out, { recursive: true });
    const xt = fromPayload(out.xt, 'xt');
    await writeFile(join(values.out, 'V.npy'), encodeNpy(fromPayload(out.V, 'V')));
    await writeFile(join(values.out, 'S.npy'), encodeNpy(fromPayload(out.S, 'S')));
    await writeFile(join(values.out, 'U.npy'), encodeNpy(fromPayload(out.U, 'U')));
    await writeFile(join(values.out, 'xt.npy'), encodeNpy(xt));
    const meta = {
      timestep: out.timestep,
      t: time.t ?? null,
      steps: time.steps ?? 100,
      method: out.method,
      k: out.S.dims[0],
      tol: out.tol,
      seed: out.seed,
      iterations: out.iterations,
      converged: out.converged,
      jacobian_products: out.jacobianProducts.total,
      jacobian_products_detail: out.jacobianProducts,
      residuals: out.residuals,
      singular_values: Array.from(fromPayload(out.S, 'S').data),
      seconds: out.seconds,
      h_tensor: out.hTensor,
      // the execution provider the Jacobian graphs ran on, and why the ones before it were skipped (null: cache hit)
      jacobian_provider: out.jacobianProvider ?? null,
      jacobian_fallback_reason: out.jacobianFallbackReason ?? null,
      model_hash: out.modelHash,
      xt_sha256: tensorSha256(xt),
      cache_hit: out.cacheHit,
      cache_id: out.cacheId,
      dims: { V: out.V.dims, S: out.S.dims, U: out.U.dims },
      // text models: the prompt J was taken at (and of the x_t path, with its guidance); null for unconditional ones
      prompt: out.prompt ?? null,
      // the region the basis is restricted to (null: the whole latent); sha256 of its weights on the latent grid
      mask: maskMeta(values.mask, values['mask-invert'], out.maskHash),
    };
    await writeFile(join(values.out, 'basis.json'), `${JSON.stringify(meta, null, 2)}\n`);
    if (!values.quiet) writeJsonLine({ ...meta, residuals: undefined, singular_values: meta.singular_values.map((s) => Number(s.toPrecision(6))) });
    return 0;
  },
};
