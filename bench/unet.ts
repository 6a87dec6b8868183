/**
 * `npm run bench -- unet [model-dir] [--threads 2] [--runs 10]`: ms per full U-Net forward (ε) with
 * onnxruntime-node on CPU at batch 1, 2, 4 and 8 — the model card's speed row, the unit every job's cost is made of, and
 * whether batching (± previews together, ε(x) with ε(x + δv)) pays per image on this CPU.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFolder } from '../src-main/core/diffusion/model-folder';
import { resolveModelDir } from '../src-main/cli/default-model';
import { timestepTensor } from '../src-main/engine/worker/ort-predictor';

export async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { threads: { type: 'string', default: '2' }, runs: { type: 'string', default: '10' } },
  });
  const dir = resolveModelDir(positionals, 'bench unet');
  const folder = await loadModelFolder(dir);
  const [c, h, w] = folder.unet.sampleDims;
  const threads = Number(values.threads);
  const runs = Number(values.runs);
  const session = await ort.InferenceSession.create(join(dir, 'unet', 'model.onnx'), {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  const rows: string[] = [];
  for (const batch of [1, 2, 4, 8]) {
    const x = new Float32Array(batch * c * h * w);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 0.8;
    const feeds = {
      [folder.unet.sampleInput]: new ort.Tensor('float32', x, [batch, c, h, w]),
      [folder.unet.timestepInput]: timestepTensor(folder.unet, 500, batch),
    };
    await session.run(feeds); // warm-up: first run allocates and pre-packs weights
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    rows.push(`| ${batch} | ${median.toFixed(1)} | ${(median / batch).toFixed(1)} | ${times[0].toFixed(1)} |`);
  }
  await session.release();
  process.stdout.write(`U-Net forward, ${folder.name}, CPU, ${threads} threads, median of ${runs}\n`);
  process.stdout.write('| batch | ms/forward | ms/image | best ms |\n|---|---|---|---|\n' + rows.join('\n') + '\n');
  process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}
