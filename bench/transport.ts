/**
 * `npm run bench -- transport [model-dir] [--n 8] [--k 8] [--seed 0] [--direction 0]`: transferring an edit to N
 * other images (issue 13 item 3), on the CPU. Model: the given folder, else the bundled resources/models/avatars64.
 *
 * A's basis (krylov, k, t = 0.6·T on the 100-step schedule, x_t of `--seed`) is computed once (its own row), then
 * direction `--direction` is transported to seeds seed+1 … seed+N with the real `transport` job, in a fresh data folder
 * so every target's basis is computed cold: per target the seconds, B's Jacobian products and the surviving share
 * ‖U_Bᵀ u_A‖; then the mean per image. Each target's cost is one basis (A's comes from the cache).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/model';
import { parseArgs } from 'node:util';
import { markdownTable } from './lib/table';
import { runJobInProcess } from '../src-main/engine/run-in-process';


export async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { n: { type: 'string' }, k: { type: 'string' }, seed: { type: 'string' }, direction: { type: 'string' } },
  });
  const modelDir = positionals[0] ?? path.join(ROOT, 'resources', 'models', 'avatars64');
  const n = Number(values.n ?? 8);
  const k = Number(values.k ?? 8);
  const seed = Number(values.seed ?? 0);
  const index = Number(values.direction ?? 0);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pullback-bench-transport-'));
  process.env.PULLBACK_DATA_DIR = dataDir;
  try {
    const common = { modelDir, t: 0.6, steps: 100, k, method: 'krylov' as const, provider: 'cpu' as const };
    const rows: string[][] = [];
    let started = performance.now();
    const a = await runJobInProcess('basis', { ...common, seed }, { quiet: true });
    rows.push([`A (seed ${seed})`, ((performance.now() - started) / 1000).toFixed(2), String(a.jacobianProducts.total), '—']);
    let total = 0;
    for (let j = 1; j <= n; j++) {
      started = performance.now();
      const out = await runJobInProcess('transport', { ...common, seed, seedB: seed + j, index }, { quiet: true });
      const s = (performance.now() - started) / 1000;
      total += s;
      rows.push([`→ seed ${seed + j}`, s.toFixed(2), String(out.basisB.jacobianProducts.total), out.captured.toFixed(3)]);
    }
    rows.push([`mean per image (N = ${n})`, (total / n).toFixed(2), '', '']);
    process.stdout.write(`transport of direction ${index} (k = ${k}, t = ${a.timestep}) to ${n} seeds, ${path.basename(modelDir)}, CPU\n\n`);
    process.stdout.write(`${markdownTable(['basis / target', 'seconds', 'Jacobian products', 'surviving share'], rows)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
