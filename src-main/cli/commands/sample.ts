/**
 * `pullback sample [model-dir] --seed N (--t F | --timestep N) [--steps N] --out <dir>`: writes xt.npy (x_t on the
 * deterministic DDIM path of the seed), x0.png (the end of that path) and sample.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../core/tensor/npy';
import { fromPayload } from '../../engine/jobs/support/wire-tensors';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { COMMON_OPTIONS, int, promptNotice, TEXT_OPTIONS, textArgs, timeArgs, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';

export const sampleCommand: CliCommand = {
  name: 'sample',
  summary:
    'sample [model-dir] --seed N (--t F | --timestep N) [--steps N] [--prompt TEXT --negative-prompt TEXT --guidance-scale G] --out <dir>' +
    '  x_t (xt.npy) and x_0 (x0.png) of a seed',
  async run(args) {
    const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...TEXT_OPTIONS } });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (values.seed === undefined) throw new UsageError('--seed N is required');
    const input = {
      modelDir: resolveModelDir(positionals, 'sample'),
      seed: int('seed', values.seed),
      ...timeArgs(values),
      ...(values.provider ? { provider: values.provider as 'auto' } : {}),
      ...textArgs(values),
    };
    const out = await runCliJob('sample', input, { quiet: values.quiet });
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'xt.npy'), encodeNpy(fromPayload(out.xt, 'xt')));
    await writeFile(join(values.out, 'x0.png'), out.image.bytes);
    promptNotice(out.prompt, values.quiet);
    const meta = {
      timestep: out.timestep,
      seed: input.seed,
      steps: input.steps ?? 100,
      xt_dims: out.xt.dims,
      seconds: out.elapsedMs / 1000,
      ...(out.prompt ? { prompt: out.prompt } : {}),
    };
    await writeFile(join(values.out, 'sample.json'), `${JSON.stringify(meta, null, 2)}\n`);
    if (!values.quiet) writeJsonLine(meta);
    return 0;
  },
};
