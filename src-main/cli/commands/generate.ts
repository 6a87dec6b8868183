/**
 * `pullback generate <model-dir> --seed N --steps N [--eta E] [--batch B] [--provider P] --out file.png`.
 * Runs the engine's `generate` job in-process (same code as the app, no worker needed for a one-shot run).
 * With --batch B > 1, images go to file-0.png ... file-(B-1).png.
 */
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import type { JobInput } from '../../shared/api';
import { runCliJob } from '../run-job';
import { UsageError, type CliCommand } from '../types';
import { checkOutFile } from '../out-check';
import { resolveModelDir } from '../default-model';
import { promptNotice, TEXT_OPTIONS, textArgs } from '../pullback-args';

function intArg(name: string, v: string | undefined, required: boolean): number | undefined {
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary:
    'generate [model-dir] --seed N --steps N [--eta E] [--batch B] [--provider auto|cpu|...] ' +
    '[--prompt TEXT --negative-prompt TEXT --guidance-scale G (text models)] --out file.png',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        seed: { type: 'string' },
        steps: { type: 'string' },
        eta: { type: 'string' },
        batch: { type: 'string' },
        provider: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        ...TEXT_OPTIONS,
      },
    });
    if (!values.out) throw new UsageError('--out is required');
    await checkOutFile(values.out);
    const input = {
      modelDir: resolveModelDir(positionals, 'generate'),
      seed: intArg('seed', values.seed, true),
      steps: intArg('steps', values.steps, true),
      eta: intArg('eta', values.eta, false),
      batch: intArg('batch', values.batch, false),
      provider: values.provider,
      ...textArgs(values),
    };
    // The schema checks the values; its messages name the option (--seed: …) as usage errors.
    const out = await runCliJob('generate', input as JobInput<'generate'>, { quiet: values.quiet });
    const files = out.images.length === 1 ? [values.out] : out.images.map((_, i) => values.out!.replace(/(\.png)?$/i, `-${i}.png`));
    await Promise.all(out.images.map((img, i) => writeFile(files[i], img.bytes)));
    promptNotice(out.prompt, values.quiet);
    if (!values.quiet) process.stderr.write(`provider ${out.provider}; wrote ${files.join(', ')}\n`);
    return 0;
  },
};
