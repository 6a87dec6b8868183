/**
 * `pullback generate <model-dir> --seed N --steps N [--eta E] [--batch B] [--provider P] --out file.png`.
 * Runs the engine's `generate` job in-process (same code as the app, no worker needed for a one-shot run).
 * With --batch B > 1, images go to file-0.png ... file-(B-1).png.
 */
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { GenerateInputSchema } from '../../shared/api';
import { generateJob } from '../../engine/jobs/generate';
import { ModelCache } from '../../engine/model-cache';
import { UsageError, type CliCommand } from '../types';
import { resolveModelDir } from '../default-model';

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
  summary: 'generate [model-dir] --seed N --steps N [--eta E] [--batch B] [--provider auto|cpu|...] --out file.png',
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
      },
    });
    if (!values.out) throw new UsageError('--out is required');
    const parsed = GenerateInputSchema.safeParse({
      modelDir: resolveModelDir(positionals, 'generate'),
      seed: intArg('seed', values.seed, true),
      steps: intArg('steps', values.steps, true),
      eta: intArg('eta', values.eta, false),
      batch: intArg('batch', values.batch, false),
      provider: values.provider,
    });
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    const models = new ModelCache();
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await generateJob.run(parsed.data, {
        signal: controller.signal,
        onProgress: (p) => {
          if (!values.quiet) process.stderr.write(`\r${p.message} (${Math.round(p.fraction * 100)}%)   `);
        },
        loadModel: (dir, pref) => models.load(dir, pref),
        inspectModel: (dir) => models.inspect(dir),
      });
      const out = await generateJob.finalize!(result);
      const files = out.images.length === 1 ? [values.out] : out.images.map((_, i) => values.out!.replace(/(\.png)?$/i, `-${i}.png`));
      await Promise.all(out.images.map((img, i) => writeFile(files[i], img.bytes)));
      if (!values.quiet) process.stderr.write(`\nprovider ${out.provider}; wrote ${files.join(', ')}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await models.release();
    }
  },
};
