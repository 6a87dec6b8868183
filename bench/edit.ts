/**
 * `npm run bench -- edit [model-dir] [--repeats 3]`: how live editing feels, through the real engine (EngineHost,
 * its worker and scheduler) on the bundled model, CPU — issue 12's table.
 *
 * Rows, each the median of `--repeats` runs on an x_t whose basis (k = 2) is already cached, as in the editor after
 * the gallery:
 * - first preview: a strength change's live preview (shared/live-preview.ts) at preview priority, submit → done;
 * - Apply at 50 and at 100 render steps (the exact edit, applyJobInput);
 * - ± pair: the gallery's − and + thumbnails of one direction (gallery job, one direction, basis from the cache).
 * Then the first preview and Apply (50) again while an `analyze` job (2 seeds × 3 timesteps, k = 8, cold cache) runs
 * in the same engine: the scheduler pauses it between Jacobian products while the interactive jobs run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EngineHost } from '../src-main/engine/host/engine-host';
import type { JobEvent, JobName, StartJobOptions } from '../src-main/shared/api';
import { applyJobInput, type ApplyRequest } from '../src-main/shared/edit-job';
import { livePreviewJobInput } from '../src-main/shared/live-preview';
import { EDIT_PARAMS_DEFAULT } from '../src-main/shared/edit-defaults';
import { markdownTable } from './lib/table';
import { benchOption, BUNDLED_MODEL, hasBundledModel } from './lib/model';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(args: string[]): Promise<void> {
  const repeats = Number(benchOption(args, '--repeats') ?? 3);
  const modelDir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? (hasBundledModel() ? BUNDLED_MODEL : undefined);
  if (!modelDir) throw new Error('give a model folder (the bundled avatars64 is absent)');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pullback-bench-edit-'));
  process.env.PULLBACK_DATA_DIR = dataDir;
  const host = new EngineHost();
  const waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const started = new Map<string, () => void>();
  host.onEvent((e: JobEvent) => {
    if (e.type === 'progress' && e.state === 'running') started.get(e.jobId)?.();
    if (e.type === 'done') waiters.get(e.jobId)?.resolve(e.output);
    if (e.type === 'error') waiters.get(e.jobId)?.reject(new Error(`${e.error.code}: ${e.error.message}`));
  });
  const submit = (name: JobName, input: unknown, options?: StartJobOptions) => {
    const jobId = host.submit(name, input, undefined, options);
    const done = new Promise((resolve, reject) => waiters.set(jobId, { resolve, reject }));
    const running = new Promise<void>((resolve) => started.set(jobId, resolve));
    return { jobId, done, running };
  };
  const timed = async (name: JobName, input: unknown, options?: StartJobOptions) => {
    const t0 = performance.now();
    await submit(name, input, options).done;
    return (performance.now() - t0) / 1000;
  };
  try {
    const request = (strength: number, renderSteps: number): ApplyRequest => ({
      modelDir,
      source: { seed: 0 },
      timestep: 595,
      steps: 100,
      basis: { k: 2, method: 'krylov' },
      edits: [{ index: 0, strength }],
      params: { ...EDIT_PARAMS_DEFAULT, renderSteps },
      textConditioned: false,
      provider: 'cpu',
    });
    process.stdout.write(`edit benchmark: ${modelDir === BUNDLED_MODEL ? 'bundled avatars64' : modelDir}, timestep 595, k = 2, median of ${repeats}\n`);
    // Warm-up: the basis (cached from here on), the model session, the derived graphs and the batch shapes.
    await timed('edit', applyJobInput(request(1, 50)));
    await timed('edit', livePreviewJobInput(request(1, 100)), { priority: 'preview' });
    // Each repeat changes the strength, so no row is a render cache hit (the engine has none; the editor's would be).
    const strengthOf = (i: number) => 1 + 0.1 * (i + 1);
    const rows: string[][] = [];
    const measure = async (label: string, run: (i: number) => Promise<number>) => {
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) times.push(await run(i));
      rows.push([label, median(times).toFixed(2)]);
      process.stdout.write(`  ${label}: ${times.map((t) => t.toFixed(2)).join(', ')} s\n`);
    };
    const preview = (i: number) => timed('edit', livePreviewJobInput(request(strengthOf(i), 100)), { priority: 'preview' });
    const apply = (steps: number) => (i: number) => timed('edit', applyJobInput(request(strengthOf(i), steps)));
    await measure('first preview (idle)', preview);
    await measure('Apply, 50 render steps (idle)', apply(50));
    await measure('Apply, 100 render steps (idle)', apply(100));
    // The editor sends the canvas image it shows (the seed's generate PNG) as the gallery's centre (centerImage), so
    // the gallery renders only the previews; the editor has that image already, so it is made outside the timing.
    const canvas = ((await submit('generate', { modelDir, seed: 0, steps: 100, provider: 'cpu' }).done) as { images: { bytes: Uint8Array }[] }).images[0].bytes;
    await measure('± pair: gallery thumbnails of one direction (idle)', (i) =>
      timed('gallery', { modelDir, seed: 0, timestep: 595, steps: 100, k: 2, directions: [0], strength: strengthOf(i), provider: 'cpu', centerImage: canvas }),
    );
    const analysis = submit('analyze', {
      modelDir,
      provider: 'cpu',
      samples: [{ kind: 'seed', seed: 11 }, { kind: 'seed', seed: 12 }],
      t: [0.3, 0.6, 0.9],
      k: 8,
    });
    analysis.done.catch(() => undefined);
    await analysis.running;
    await measure('first preview (analysis running)', preview);
    await measure('Apply, 50 render steps (analysis running)', apply(50));
    host.cancel(analysis.jobId);
    // Let the worker leave its native call before the engine shuts down.
    await analysis.done.catch(() => undefined);
    process.stdout.write(`\n${markdownTable(['operation', 'seconds'], rows)}\n`);
  } finally {
    await host.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
