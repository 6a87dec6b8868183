/**
 * `pullback edit [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --basis <dir> --direction I
 * --strength S [--direction I --strength S ...] [--mode guidance|move] [--composition summed|sequential]
 * [--guidance-steps n] [--scale s] [--delta d] [--alpha a] [--noise-seed N] [--boost F|none] [--steps N]
 * [--render-steps N] --out out.png`
 *
 * Directions are rows of <dir>/V.npy (written by `pullback basis`); the i-th --strength goes with the i-th
 * --direction. Several pairs compose: 'summed' (default; order-independent) or 'sequential' (in the order given).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tensorSha256 } from '../../core/tensor/hash';
import { sizeOf } from '../../core/tensor';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { COMMON_OPTIONS, int, num, promptNotice, readNpy, sourceArgs, TEXT_OPTIONS, textArgs, geometryPromptArgs, EDIT_PROMPT_OPTION, timeArgs } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutFile } from '../out-check';
import { MASK_OPTIONS, maskArgs } from '../mask-args';
import { EDIT_PARAM_OPTIONS, editParamArgs, joinNegativeNumbers, providerArg } from '../edit-args';

export const editCommand: CliCommand = {
  name: 'edit',
  summary:
    'edit [model-dir] (--seed N | --xt xt.npy) (--t F | --timestep N) --basis <dir> --direction I --strength S [...] ' +
    '[--mode guidance|move] [--composition summed|sequential] [--guidance-steps n] [--scale s] [--delta d] [--alpha a] ' +
    '[--boost F|none] [--noise-seed N] [--steps N] [--render-steps N] ' +
    '[--prompt TEXT --negative-prompt TEXT --guidance-scale G (text models: the path\'s and, unless --edit-prompt, the guidance\'s prompt)] [--edit-prompt TEXT] ' +
    '[--mask FILE [--mask-invert] (x_t changes only inside) [--mask-blend (and the picture outside stays the unedited one)]] --out out.png',
  async run(rawArgs) {
    // `--strength -2`: node's parseArgs would read -2 as an option; join negative numbers to their flag.
    const args = joinNegativeNumbers(rawArgs);
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...COMMON_OPTIONS,
        ...TEXT_OPTIONS,
        ...EDIT_PROMPT_OPTION,
        ...MASK_OPTIONS,
        'mask-blend': { type: 'boolean' },
        basis: { type: 'string' },
        ...EDIT_PARAM_OPTIONS,
        direction: { type: 'string', multiple: true },
        strength: { type: 'string', multiple: true },
        composition: { type: 'string' },
        'render-steps': { type: 'string' },
      },
    });
    if (!values.out) throw new UsageError('--out out.png is required');
    await checkOutFile(values.out);
    if (!values.basis) throw new UsageError('--basis <dir> is required (a folder written by `pullback basis`)');
    const dirs = values.direction ?? [];
    const strengths = values.strength ?? [];
    if (dirs.length === 0) throw new UsageError('give at least one --direction I --strength S pair');
    if (dirs.length !== strengths.length) throw new UsageError(`${dirs.length} --direction but ${strengths.length} --strength: give them in pairs`);
    const V = await readNpy(join(values.basis, 'V.npy'), '--basis');
    const k = V.dims[0];
    const n = sizeOf(V.dims.slice(1));
    const time = timeArgs(values);
    const source = await sourceArgs(values);
    let meta: { timestep?: number; xt_sha256?: string; prompt?: { prompt: string } | null } = {};
    try {
      meta = JSON.parse(await readFile(join(values.basis, 'basis.json'), 'utf8')) as typeof meta;
    } catch {
      // basis.json is informational here
    }
    const edits = dirs.map((d, i) => {
      const index = int('direction', d)!;
      if (index < 0 || index >= k) throw new UsageError(`--direction ${index} is outside the basis (k = ${k})`);
      const row = V.data.slice(index * n, (index + 1) * n);
      return { direction: { dims: [1, ...V.dims.slice(1)], data: new Uint8Array(row.buffer) }, strength: num('strength', strengths[i])! };
    });
    if (values.composition !== undefined && values.composition !== 'summed' && values.composition !== 'sequential') {
      throw new UsageError('--composition must be summed or sequential');
    }
    // --mask: the edit's region (every update of x_t weighted by it, so x_t outside stays put). Directions from a
    // `pullback basis --mask` folder already live in the region; this keeps the guidance's response there too.
    const region = await maskArgs(values);
    if (values['mask-blend'] && !region) throw new UsageError('--mask-blend needs --mask FILE');
    const out = await runCliJob(
      'edit',
      {
        modelDir: resolveModelDir(positionals, 'edit'),
        ...source,
        ...time,
        edits,
        ...editParamArgs(values),
        composition: values.composition as 'summed' | 'sequential' | undefined,
        ...(region ? { region, regionBlend: values['mask-blend'] ?? false } : {}),
        // Render schedule apart from the x_t path's --steps (the editor renders Apply with 100 whatever its steps).
        renderSteps: int('render-steps', values['render-steps']),
        ...providerArg(values.provider),
        ...textArgs(values),
        ...geometryPromptArgs(values),
      },
      { quiet: values.quiet },
    );
    if (!values.quiet) {
      promptNotice(out.prompt, values.quiet);
      if (meta.prompt && out.prompt && meta.prompt.prompt !== out.prompt.prompt) {
        process.stderr.write(`warning: the basis was computed at the prompt ${JSON.stringify(meta.prompt.prompt)}, this edit uses ${JSON.stringify(out.prompt.prompt)}\n`);
      }
      if (meta.timestep !== undefined && meta.timestep !== out.timestep) {
        process.stderr.write(`warning: the basis was computed at timestep ${meta.timestep}, this edit is at ${out.timestep}\n`);
      }
      if (source.seed === undefined && meta.xt_sha256 && source.xt) {
        const dims = source.xt.dims;
        const xt = { dims, data: new Float32Array(source.xt.data.buffer.slice(source.xt.data.byteOffset, source.xt.data.byteOffset + source.xt.data.byteLength)) };
        if (tensorSha256({ dims: [1, ...dims.slice(-3)], data: xt.data }) !== meta.xt_sha256) {
          process.stderr.write('warning: --xt is not the x_t the basis was computed at\n');
        }
      }
    }
    await writeFile(values.out, out.image.bytes);
    if (!values.quiet) process.stderr.write(`timestep ${out.timestep}; wrote ${values.out} (${(out.elapsedMs / 1000).toFixed(2)} s)\n`);
    return 0;
  },
};
