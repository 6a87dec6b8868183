/**
 * `pullback derive <model.onnx> --out <dir> [--h auto|<tensor>] [--tangents K] [--height H --width W] [--seq L]`
 * writes jvp.onnx, vjp.onnx, pullback.onnx and derive.json (h tensor, shapes, op counts, K);
 * `pullback derive <model.onnx> --list-h` prints the candidate h tensors with their shapes.
 * Weights stored as external data stay where they are: derive.json's `modelDir` is the folder to pass
 * as ORT's session.model_external_initializers_file_folder_path.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OnnxDeriveError, deriveGraphs, listHCandidates, type DeriveOptions } from '../../core/onnx';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';

function posInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

export const deriveCommand: CliCommand = {
  name: 'derive',
  summary:
    'derive <model.onnx> --out <dir> [--h auto|<tensor>] [--tangents K] [--height H --width W] [--seq L] | --list-h' +
    '  write jvp/vjp/pullback ONNX graphs of J = ∂h/∂sample',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        h: { type: 'string' },
        tangents: { type: 'string' },
        height: { type: 'string' },
        width: { type: 'string' },
        seq: { type: 'string' },
        'list-h': { type: 'boolean' },
      },
    });
    if (positionals.length !== 1) throw new UsageError('derive needs exactly one <model.onnx>');
    const model = positionals[0];
    const opts: DeriveOptions = {
      h: values.h ?? 'auto',
      tangents: posInt('tangents', values.tangents) ?? 1,
      height: posInt('height', values.height),
      width: posInt('width', values.width),
      seq: posInt('seq', values.seq),
    };
    try {
      if (values['list-h']) {
        const { candidates, auto } = await listHCandidates(model, opts);
        const w = Math.max(5, ...candidates.map((c) => c.scope.length));
        process.stdout.write(`${'scope'.padEnd(w)}  shape            tensor\n`);
        for (const c of candidates) {
          const mark = c.tensor === auto ? '  (auto)' : '';
          process.stdout.write(`${c.scope.padEnd(w)}  ${`[${c.shape.join(',')}]`.padEnd(15)}  ${c.tensor}${mark}\n`);
        }
        if (!auto) process.stdout.write('no automatic choice: pass --h <tensor>\n');
        return 0;
      }
      if (!values.out) throw new UsageError('derive needs --out <dir> (or --list-h)');
      await checkOutDir(values.out);
      const r = await deriveGraphs(model, opts);
      await mkdir(values.out, { recursive: true });
      await writeFile(path.join(values.out, 'jvp.onnx'), r.jvp);
      await writeFile(path.join(values.out, 'vjp.onnx'), r.vjp);
      await writeFile(path.join(values.out, 'pullback.onnx'), r.pullback);
      const info = {
        ...r.info,
        inputs: {
          jvp: [...r.info.inputs.map((i) => i.name), 'tangent'],
          vjp: [...r.info.inputs.map((i) => i.name), 'cotangent'],
          pullback: [...r.info.inputs.map((i) => i.name), 'tangent'],
        },
        modelInputs: r.info.inputs,
        outputs: { jvp: ['h', 'h_dot'], vjp: ['h', 'x_bar'], pullback: ['h', 'h_dot', 'x_bar'] },
      };
      await writeFile(path.join(values.out, 'derive.json'), `${JSON.stringify(info, null, 2)}\n`);
      process.stdout.write(
        `h = ${r.info.h} [${r.info.hShape.join(',')}] (${r.info.hSelectedBy}), x = ${r.info.x} [${r.info.xShape.join(',')}], K = ${r.info.K}\n` +
          `wrote jvp.onnx, vjp.onnx, pullback.onnx, derive.json to ${values.out}\n` +
          (r.info.externalData.length
            ? `weights stay in ${r.info.modelDir} (${r.info.externalData.join(', ')}): load with session option ` +
              `model_external_initializers_file_folder_path=${r.info.modelDir}\n`
            : ''),
      );
      return 0;
    } catch (err) {
      if (err instanceof OnnxDeriveError) {
        process.stderr.write(`error [${err.code}]: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
