/**
 * `npm run bench -- analyze [model-dir] [--seeds 8] [--timesteps 10] [--k 8]`: the geometry analysis of the paper's
 * protocol on the CPU — seeds 0…n−1 × t = 0.1, 0.2, …, 1.0 (snapped to the 100-step schedule), krylov — once
 * with warm starts (each basis started from the Ritz vectors of the same sample's basis at the next larger t, a sample's first from the previous sample's first) and once cold.
 * Each variant runs the real `analyze` job in its own child process on an empty basis cache (derived graphs are
 * made once beforehand and shared), and reports wall time, Jacobian products and the child's peak RSS.
 * Model: the given folder, else the bundled resources/models/avatars64.
 */
import { runBenchChild } from './lib/child';
import { ROOT } from './lib/model';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runJobInProcess } from '../src-main/engine/run-in-process';
import { markdownTable } from './lib/table';


interface Row {
  variant: 'warm' | 'cold';
  bases: number;
  seconds: number;
  products: number;
  coldMean: number | null;
  warmMean: number | null;
  peakRssMb: number;
}

interface Plan {
  modelDir: string;
  seeds: number;
  timesteps: number;
  k: number;
}

function input(plan: Plan, warmStart: boolean) {
  return {
    modelDir: plan.modelDir,
    provider: 'cpu' as const,
    samples: Array.from({ length: plan.seeds }, (_, seed) => ({ kind: 'seed' as const, seed })),
    t: Array.from({ length: plan.timesteps }, (_, i) => (i + 1) / plan.timesteps),
    steps: 100,
    k: plan.k,
    warmStart,
  };
}

async function child(variant: 'warm' | 'cold', plan: Plan): Promise<Row> {
  const started = performance.now();
  const out = await runJobInProcess('analyze', input(plan, variant === 'warm'), { quiet: true });
  return {
    variant,
    bases: out.run.bases,
    seconds: (performance.now() - started) / 1000,
    products: out.run.jacobianProducts,
    coldMean: out.run.coldProductsMean,
    warmMean: out.run.warmProductsMean,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function runChild(variant: 'warm' | 'cold', plan: Plan, dataDir: string): Promise<Row> {
  return runBenchChild<Row>('analyze', [variant, JSON.stringify(plan)], { ...process.env, PULLBACK_DATA_DIR: dataDir });
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    process.send!(await child(args[1] as 'warm' | 'cold', JSON.parse(args[2]) as Plan));
    return;
  }
  const opt = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  const plan: Plan = {
    modelDir: positional[0] ?? path.join(ROOT, 'resources/models/avatars64'),
    seeds: Number(opt('--seeds', '8')),
    timesteps: Number(opt('--timesteps', '10')),
    k: Number(opt('--k', '8')),
  };
  const data = await mkdtemp(path.join(tmpdir(), 'pullback-bench-analyze-'));
  try {
    process.env.PULLBACK_DATA_DIR = data;
    // Derive the Jacobian graphs once (a one-basis analysis), so neither variant pays for derivation.
    await runJobInProcess('analyze', { ...input({ ...plan, seeds: 1, timesteps: 1 }, false) }, { quiet: true });
    process.stdout.write(
      `analyze benchmark: ${path.basename(plan.modelDir)}, ${plan.seeds} seeds × ${plan.timesteps} timesteps, k = ${plan.k}, krylov, CPU onnxruntime-node, empty basis cache per variant\n\n`,
    );
    const rows: Row[] = [];
    for (const variant of ['warm', 'cold'] as const) {
      await rm(path.join(data, 'basis'), { recursive: true, force: true });
      rows.push(await runChild(variant, plan, data));
    }
    const head = ['variant', 'bases', 'wall s', 'Jacobian products', 'products / basis', 'peak RSS MB'];
    const body = rows.map((r) => [r.variant, String(r.bases), r.seconds.toFixed(1), String(r.products), (r.products / r.bases).toFixed(1), r.peakRssMb.toFixed(0)]);
    process.stdout.write(`${markdownTable(head, body)}\n\n`);
    const [warm, cold] = rows;
    process.stdout.write(`warm starts: ${(100 * (1 - warm.products / cold.products)).toFixed(1)} % fewer Jacobian products, ${(100 * (1 - warm.seconds / cold.seconds)).toFixed(1)} % less wall time\n`);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}
