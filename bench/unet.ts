/**
 * `npm run bench -- unet [model-dir] [--threads ort,engine] [--runs 10]`: ms per full U-Net forward (ε) with
 * onnxruntime-node on CPU at batch 1, 2, 4 and 8 — the model card's speed row, the unit every job's cost is made of, and
 * whether batching (± previews together, ε(x) with ε(x + δv)) pays per image on this CPU.
 *
 * `--threads` lists the intra-op thread settings to compare: `ort` (ORT's own default, its count of physical cores),
 * `engine` (what the engine's sessions use: engine/worker/cpu-threads.ts) and plain numbers.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFolder } from '../src-main/core/diffusion/model-folder';
import { resolveModelDir } from '../src-main/cli/default-model';
import { timestepTensor } from '../src-main/engine/worker/ort-predictor';
import { intraOpThreads } from '../src-main/engine/worker/cpu-threads';

export async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { threads: { type: 'string', default: 'ort,engine' }, runs: { type: 'string', default: '10' } },
  });
  const dir = resolveModelDir(positionals, 'bench unet');
  const folder = await loadModelFolder(dir);
  const runs = Number(values.runs);
  const rows: string[] = [];
  for (const setting of values.threads.split(',')) {
    const threads = setting === 'ort' ? undefined : setting === 'engine' ? intraOpThreads() : Number(setting);
    const label = setting === 'ort' ? "ORT's default" : setting === 'engine' ? `engine (${threads ?? "ORT's default"})` : setting;
    rows.push(...(await timeForwards(dir, folder, threads, runs, label)));
  }
  process.stdout.write(`U-Net forward, ${folder.name}, CPU, median of ${runs}\n`);
  process.stdout.write('| intra-op threads | batch | ms/forward | ms/image | best ms |\n|---|---|---|---|---|\n' + rows.join('\n') + '\n');
  process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}

async function timeForwards(
  dir: string,
  folder: Awaited<ReturnType<typeof loadModelFolder>>,
  threads: number | undefined,
  runs: number,
  label: string,
): Promise<string[]> {
  const [c, h, w] = folder.unet.sampleDims;
  const session = await ort.InferenceSession.create(join(dir, 'unet', 'model.onnx'), {
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
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
    rows.push(`| ${label} | ${batch} | ${median.toFixed(1)} | ${(median / batch).toFixed(1)} | ${times[0].toFixed(1)} |`);
  }
  await session.release();
  return rows;
}
