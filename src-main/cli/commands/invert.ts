/**
 * `pullback invert [model-dir] --image in.png [--steps N] --out <dir>`: DDIM inversion (η = 0) to x_T; writes
 * xT.npy, input.png (the image as the model sees it), recon.png (regenerated from x_T) and invert.json with the
 * PSNR of invert → regenerate, also printed as JSON. A `poor` reconstruction is also reported on stderr.
 * With --t F (or --timestep N on the schedule) it also writes xt.npy, the image's x_t there, for basis/edit --xt.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../core/tensor/npy';
import { fromPayload } from '../../engine/jobs/support/wire-tensors';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { int, num } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';

export const invertCommand: CliCommand = {
  name: 'invert',
  summary:
    'invert [model-dir] --image in.png [--steps N] [--t F | --timestep N] [--poor-psnr DB] --out <dir>' +
    '  DDIM inversion: xT.npy (and xt.npy at --t for editing), recon.png, PSNR JSON',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        image: { type: 'string' },
        steps: { type: 'string' },
        'poor-psnr': { type: 'string' },
        t: { type: 'string' },
        timestep: { type: 'string' },
        provider: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
    });
    if (!values.out) throw new UsageError('--out <dir> is required');
    await checkOutDir(values.out);
    if (!values.image) throw new UsageError('--image <file> is required');
    let image: Uint8Array<ArrayBuffer>;
    try {
      image = new Uint8Array(await readFile(values.image));
    } catch {
      throw new UsageError(`--image: cannot read ${values.image}`);
    }
    const steps = int('steps', values.steps);
    const out = await runCliJob(
      'invert',
      {
        modelDir: resolveModelDir(positionals, 'invert'),
        image,
        steps,
        poorPsnrDb: num('poor-psnr', values['poor-psnr']),
        t: num('t', values.t),
        timestep: int('timestep', values.timestep),
        ...(values.provider ? { provider: values.provider as 'auto' } : {}),
      },
      { quiet: values.quiet },
    );
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'xT.npy'), encodeNpy(fromPayload(out.xT, 'xT')));
    await writeFile(join(values.out, 'recon.png'), out.recon.bytes);
    await writeFile(join(values.out, 'input.png'), out.input.bytes);
    if (out.xt) await writeFile(join(values.out, 'xt.npy'), encodeNpy(fromPayload(out.xt, 'xt')));
    const report = {
      psnr: out.psnr,
      poor: out.poor,
      timestep: out.timestep,
      ...(out.xtTimestep !== undefined ? { xt_timestep: out.xtTimestep } : {}),
      steps: steps ?? 100,
      seconds: out.elapsedMs / 1000,
    };
    await writeFile(join(values.out, 'invert.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (out.poor && !values.quiet) {
      process.stderr.write(`warning: poor reconstruction (PSNR ${out.psnr.toFixed(1)} dB); edits of this image may not resemble it\n`);
    }
    return 0;
  },
};
