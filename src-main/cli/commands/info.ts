/** `pullback info <model-dir>`: the model's scheduler, U-Net inputs/outputs and weight size as JSON. */
import { parseArgs } from 'node:util';
import { loadModelFolder } from '../../core/diffusion/model-folder';
import { describeModel } from '../../engine/jobs/model-info';
import { resolveModelDir } from '../default-model';
import { type CliCommand } from '../types';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'info [model-dir]  print scheduler, U-Net input names/shapes and weight size as JSON',
  async run(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
    const info = describeModel(await loadModelFolder(resolveModelDir(positionals, 'info')));
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  },
};
