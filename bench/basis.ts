/**
 * `npm run bench -- basis [model-dir] [--ks 2,8,16] [--methods krylov,subspace]`: the pullback engine on CPU.
 * Model: the given folder, else the bundled resources/models/avatars64, else the largest U-Net fixture
 * (test/fixtures/unets/ho_ddpm_op14 in a temp diffusers folder).
 *
 * Rows: for k = 2, 8, 16 and both methods, the local basis at t = 0.6·T (snapped to the 100-step DDIM schedule)
 * of x_t from seed 0, computed through the ORT operator (no basis cache; derived graphs from the on-disk cache,
 * derived once beforehand): seconds, Jacobian products (columns; a fused pullback column counts 2), iterations,
 * converged, worst residual, peak RSS of the process that ran it (each row in its own child process). Then the
 * time of one ± gallery preview pair (GALLERY_DEFAULTS: guidance n = 8, s = 0.2 each, both rendered as one batch of
 * 2 with 10 DDIM steps)
 * and of one full edit (guidance n = 16, render at 50 steps with the η = 1 tail).
 * Warm rows (`--warm-ks`, default 8; krylov): the basis one schedule step either side of t, cold and warm-started
 * from the basis at t (what the editor does when the timestep moves one step: warmFromCacheId, from its k + p Ritz
 * vectors), and warm-started from that basis's V alone (the editor's start before the Ritz vectors were kept).
 */
import { runBenchChild } from './lib/child';
import { markdownTable } from './lib/table';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadBenchModel, ROOT } from './lib/model';
import { JacobianSessions } from '../src-main/engine/worker/jacobian-operator';
import { modelStepper, resolveXt } from '../src-main/engine/jobs/support/latent';
import { basisRow } from '../src-main/engine/jobs/support/wire-tensors';
import { jacobianK } from '../src-main/engine/jobs/support/local-basis';
import { computeLocalBasis } from '../src-main/core/geometry';
import { editLatent } from '../src-main/core/edit/guidance';
import { renderFrom } from '../src-main/core/edit/render';
import { GALLERY_DEFAULTS } from '../src-main/shared/edit-defaults';
import { ddimTimesteps } from '../src-main/core/diffusion/ddim';
import { stackBatch } from '../src-main/core/tensor';


interface BasisRow {
  kind: 'basis';
  /** Session creation + first call (not in `seconds`). */
  warmupSeconds: number;
  /** Derived-graph calls (K columns each). */
  graphCalls: number;
  method: 'krylov' | 'subspace';
  k: number;
  seconds: number;
  products: number;
  iterations: number;
  converged: boolean;
  maxResidual: number;
  peakRssMb: number;
}
interface WarmRow {
  kind: 'warm';
  k: number;
  from: number;
  to: number;
  coldSeconds: number;
  coldProducts: number;
  warmSeconds: number;
  warmProducts: number;
  /** Warm from the neighbour's V alone (before its Ritz vectors were kept). */
  fromVSeconds: number;
  fromVProducts: number;
}
interface EditRow {
  kind: 'edit';
  previewPairSeconds: number;
  editSeconds: number;
  peakRssMb: number;
}

const setup = (modelDir: string) => loadBenchModel(modelDir);

/** This bench process's derived-graph sessions (the engine worker owns its own). */
const jacobianSessions = new JacobianSessions();

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

async function childBasis(modelDir: string, method: 'krylov' | 'subspace', k: number): Promise<BasisRow> {
  const { models, model, timestep, xt } = await setup(modelDir);
  const op = await jacobianSessions.operator({ model, K: jacobianK(method, k) }, xt, timestep);
  // Session creation (graph optimisation of the derived pullback graph) is a one-off per model: warm up with
  // one call outside the timing, and report it separately.
  let t0 = performance.now();
  await op.pullback({ dims: [1, ...op.xDims], data: new Float32Array(op.xDims.reduce((a, c) => a * c, 1)) });
  const warmupSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const calls0 = op.calls;
  const b = await computeLocalBasis(op, { method, k, seed: 0, maxBatch: op.K } as Parameters<typeof computeLocalBasis>[1]);
  const graphCalls = op.calls - calls0;
  await models.release();
  return {
    warmupSeconds,
    graphCalls,
    kind: 'basis',
    method,
    k,
    seconds: b.seconds,
    products: b.jacobianProducts.total,
    iterations: b.iterations,
    converged: b.converged,
    maxResidual: Math.max(...b.residuals),
    peakRssMb: peakRssMb(),
  };
}

async function childWarm(modelDir: string, k: number): Promise<WarmRow[]> {
  const { models, model, predictor, timestep, xt } = await setup(modelDir);
  const K = jacobianK('krylov', k);
  const basisAt = async (x: typeof xt, t: number, warmStart?: typeof xt) => {
    const op = await jacobianSessions.operator({ model, K }, x, t);
    return computeLocalBasis(op, { method: 'krylov', k, seed: 0, maxBatch: op.K, ...(warmStart ? { warmStart } : {}) } as Parameters<typeof computeLocalBasis>[1]);
  };
  const centre = await basisAt(xt, timestep);
  const schedule = ddimTimesteps(100, model.scheduler.numTrainTimesteps);
  const i = schedule.indexOf(timestep);
  const rows: WarmRow[] = [];
  for (const to of [schedule[i - 1], schedule[i + 1]].filter((t) => t !== undefined)) {
    const x = await resolveXt({ seed: 0, steps: 100 }, model, predictor, to);
    const cold = await basisAt(x, to);
    // The editor's warm start (local-basis.ts warmFromCacheId): all of the neighbour's Ritz vectors; V alone for comparison.
    const warm = await basisAt(x, to, centre.warmRows ?? centre.V);
    const fromV = await basisAt(x, to, centre.V);
    rows.push({
      kind: 'warm',
      k,
      from: timestep,
      to,
      coldSeconds: cold.seconds,
      coldProducts: cold.jacobianProducts.total,
      warmSeconds: warm.seconds,
      warmProducts: warm.jacobianProducts.total,
      fromVSeconds: fromV.seconds,
      fromVProducts: fromV.jacobianProducts.total,
    });
  }
  await models.release();
  return rows;
}

async function childEdit(modelDir: string): Promise<EditRow> {
  const { models, model, predictor, timestep, xt } = await setup(modelDir);
  const op = await jacobianSessions.operator({ model, K: jacobianK('krylov', 2) }, xt, timestep);
  const basis = await computeLocalBasis(op, { k: 2, seed: 0, maxBatch: op.K });
  // Warm the U-Net session's batch-2 shapes so the timings below are steady-state.
  await predictor.predictEps(stackBatch([xt, xt]), timestep);
  const v = basisRow(basis.V, 0);
  const T = model.scheduler.numTrainTimesteps;
  const stepper = modelStepper(model, predictor);
  const guidance = (strength: number, steps = 16, scale = 0.1) => editLatent(predictor, xt, [{ v, strength }], { timestep, steps, scale });
  let t0 = performance.now();
  // The gallery's preview defaults (same n·s as the final edit's 16 × 0.1); the unedited preview is not in it (the
  // gallery job renders it once per x_t).
  const { guidanceSteps, scale, previewSteps } = GALLERY_DEFAULTS;
  const pair = stackBatch([await guidance(-1, guidanceSteps, scale), await guidance(1, guidanceSteps, scale)]);
  await renderFrom(stepper, pair, { timestep, schedule: ddimTimesteps(previewSteps, T), T });
  const previewPairSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await renderFrom(stepper, await guidance(1), { timestep, schedule: ddimTimesteps(50, T), T });
  const editSeconds = (performance.now() - t0) / 1000;
  await models.release();
  return { kind: 'edit', previewPairSeconds, editSeconds, peakRssMb: peakRssMb() };
}

async function wrapFixture(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `pullback-bench-${name}-`));
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await mkdir(path.join(dir, 'unet'), { recursive: true });
  await writeFile(path.join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'DDPMPipeline' }));
  await writeFile(
    path.join(dir, 'scheduler', 'scheduler_config.json'),
    JSON.stringify({ num_train_timesteps: 1000, beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02, clip_sample: true }),
  );
  await copyFile(path.join(ROOT, 'test/fixtures/unets', name, 'model.onnx'), path.join(dir, 'unet', 'model.onnx'));
  return dir;
}

const runChild = <R>(args: string[]) => runBenchChild<R>('basis', args);


export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const [, what, modelDir, method, k] = args;
    const row =
      what === 'edit' ? await childEdit(modelDir) : what === 'warm' ? await childWarm(modelDir, Number(k)) : await childBasis(modelDir, method as 'krylov' | 'subspace', Number(k));
    process.send!(row);
    return;
  }
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  const ks = (opt('--ks') ?? '2,8,16').split(',').map(Number);
  const methods = (opt('--methods') ?? 'krylov,subspace').split(',') as ('krylov' | 'subspace')[];
  const warmKs = (opt('--warm-ks') ?? '8').split(',').filter((s) => s !== '').map(Number);
  const bundled = path.join(ROOT, 'resources/models/avatars64');
  let modelDir = positional[0];
  let label = modelDir;
  if (!modelDir) {
    if (existsSync(path.join(bundled, 'unet', 'model.onnx'))) {
      modelDir = bundled;
      label = 'bundled avatars64';
    } else {
      modelDir = await wrapFixture('ho_ddpm_op14');
      label = 'fixture ho_ddpm_op14 (largest; bundled model absent)';
    }
  }
  // Derive (or load) the graphs of every K the rows use once here, so no row pays for derivation.
  const { models, model, timestep, xt } = await setup(modelDir);
  for (const K of new Set([...ks.flatMap((k) => methods.map((m) => jacobianK(m, k))), ...warmKs.map((k) => jacobianK('krylov', k))])) {
    await jacobianSessions.operator({ model, K }, xt, timestep);
    await jacobianSessions.release();
  }
  await models.release();
  process.stdout.write(
    `basis benchmark: ${label}, x [${model.unet.sampleDims.join(', ')}], t = 0.6·T → timestep ${timestep}, CPU onnxruntime-node, ` +
      `${(await import('node:os')).cpus().length} cores; products = Jacobian columns (fused pullback column = 2), tol = method default (krylov residual 1e-3, subspace change 1e-4)\n`,
  );
  const rows: BasisRow[] = [];
  for (const k of ks) {
    for (const method of methods) {
      const r = await runChild<BasisRow>(['basis', modelDir, method, String(k)]);
      rows.push(r);
      process.stdout.write(`  ${method} k=${k}: ${r.seconds.toFixed(2)} s, ${r.products} products (session warm-up ${r.warmupSeconds.toFixed(1)} s, not included)\n`);
    }
  }
  process.stdout.write(
    `\n${markdownTable(
      ['k', 'method', 'seconds', 'Jacobian products', 'graph calls (K cols)', 'iterations', 'converged', 'max residual', 'peak RSS MB'],
      rows.map((r) => [
        String(r.k),
        r.method,
        r.seconds.toFixed(2),
        String(r.products),
        String(r.graphCalls),
        String(r.iterations),
        String(r.converged),
        r.maxResidual.toExponential(1),
        r.peakRssMb.toFixed(0),
      ]),
    )}\n`,
  );
  const warm: WarmRow[] = [];
  for (const k of warmKs) warm.push(...(await runChild<WarmRow[]>(['warm', modelDir, 'krylov', String(k)])));
  if (warm.length) {
    process.stdout.write(
      `\n${markdownTable(
        ['k', 'timestep', 'cold seconds', 'cold products', 'warm seconds (from the basis one step away: its k + p Ritz vectors)', 'warm products', 'warm from its V alone: seconds', 'products'],
        warm.map((r) => [
          String(r.k),
          `${r.to} (from ${r.from})`,
          r.coldSeconds.toFixed(2),
          String(r.coldProducts),
          r.warmSeconds.toFixed(2),
          String(r.warmProducts),
          r.fromVSeconds.toFixed(2),
          String(r.fromVProducts),
        ]),
      )}\n`,
    );
  }
  const e = await runChild<EditRow>(['edit', modelDir]);
  process.stdout.write(
    `\n${markdownTable(
      ['operation', 'seconds', 'peak RSS MB'],
      [
        [
          `± preview pair (gallery defaults: guidance n=${GALLERY_DEFAULTS.guidanceSteps} s=${GALLERY_DEFAULTS.scale} each, render ${GALLERY_DEFAULTS.previewSteps} steps, batch 2)`,
          e.previewPairSeconds.toFixed(2),
          e.peakRssMb.toFixed(0),
        ],
        ['full edit (guidance n=16, render 50 steps, η=1 tail)', e.editSeconds.toFixed(2), e.peakRssMb.toFixed(0)],
      ],
    )}\n`,
  );
}
