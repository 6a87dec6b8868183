/**
 * `npm run bench -- text [--sd15 DIR] [--k 8] [--K 8] [--sd15-K 8] [--runs 5] [--sd15-runs 2] [--no-sd15]
 * [--no-fixtures]`: the text-conditioned (Stable Diffusion) models on the CPU (onnxruntime-node, its default thread
 * count = the cores), issue 11's benchmark.
 *
 * Rows: every tiny pipeline fixture (test/fixtures/text-pipelines/*: both layouts, fp16, SD 2.x v) at its own
 * latent size, and the SD-1.5-shaped U-Net with random weights (tools/fixtures/export_sd15_unet.py; default folder
 * ~/.cache/pullback-bench/sd15-unet, skipped with a note when absent) at 64×64 latents. Each row runs three child
 * processes in turn (so each peak RSS is that stage's alone), all through the engine's ModelCache / JacobianSessions /
 * OrtJacobianOperator:
 * 1. U-Net parameters (float initializers' dims in unet/model.onnx; the weight file is not read); open
 *    (ModelCache.load: U-Net session, text encoder, VAE decoder); forward: one raw U-Net pass at batch 1 with the
 *    empty-prompt embedding (TextPipeline.runUnet), median of `--runs` after one warm-up; derive: jvp/vjp/pullback
 *    graphs derived into an empty temporary data folder (the model's content hash is taken first and not counted; an
 *    fp16 model's float32 copy is counted); the derived graphs' size on disk (the derive cache's sizes.json).
 * 2. J·V with k tangents, 3. Jᵀ·U with k cotangents (graphs from stage 1's cache), K columns per derived-graph call:
 *    the operator cuts the k columns into ⌈k / K⌉ calls as the engine does. `--K` defaults to the engine's
 *    PULLBACK_JACOBIAN_K (8), `--sd15-K` the SD row's alone (default the same); the K column shows what the engine
 *    used: it takes fewer columns per call where K would not fit in memory (engine/worker/jacobian-memory.ts; at
 *    64×64 latents the first down block's attention-score tangents are [K·8 heads, 4096, 4096] floats, and J·V at
 *    K = 8 was killed for memory at 22.9 GB on a 24 GB machine before the engine did so). The U-Net session is released once the prompt is embedded, so these peaks are the
 *    product's own (an engine worker keeping the U-Net open needs stage 1's peak on top). Session creation is timed
 *    apart; then the median of the runs (SD row: one run, its first), and per product = that time / k.
 * Peak RSS = process.resourceUsage().maxRSS of the child: ORT runs in-process, so the weights ORT loads count; JS
 * never holds them (derived graphs reference the model's weight file by path).
 * J is taken at x = seed 0's x_T at timestep T − 1 (the cost of a product does not depend on the point), h = the
 * mid-block output the engine picks ('auto').
 */
import { runBenchChild } from './lib/child';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { markdownTable } from './lib/table';
import { benchOption, onnxParameterCount, ROOT } from './lib/model';
import { ModelCache } from '../src-main/engine/worker/model-cache';
import { defaultJacobianK, JacobianSessions, type DerivedKind } from '../src-main/engine/worker/jacobian-operator';
import { modelContentHash } from '../src-main/engine/worker/model-hash';
import { resolveXt } from '../src-main/engine/jobs/support/latent';
import { initialNoise } from '../src-main/core/diffusion/generate';
import { isTextModel } from '../src-main/core/diffusion/text-model-folder';

const FIXTURES = path.join(ROOT, 'test/fixtures/text-pipelines');
/** Where tools/fixtures/export_sd15_unet.py writes by default. */
const DEFAULT_SD15 = path.join(homedir(), '.cache', 'pullback-bench', 'sd15-unet');

/** What the three child processes of a row measure (each its own process, so each peak RSS is that stage's). */
interface ForwardStage {
  parameters: number;
  openSeconds: number;
  forwardMs: number;
  hashSeconds: number;
  deriveSeconds: number;
  derivedMb: Record<DerivedKind, number>;
  x: number[];
  h: number[];
  hTensor: string;
  peakRssMb: number;
}
interface ProductStage {
  K: number;
  calls: number;
  sessionSeconds: number;
  seconds: number;
  peakRssMb: number;
}
interface TextRow {
  label: string;
  k: number;
  runs: number;
  productRuns: number;
  forward: ForwardStage;
  /** A stage's result, or why its child failed (e.g. killed for memory): the other stages still run. */
  jvp: ProductStage | string;
  vjp: ProductStage | string;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const seconds = (t0: number) => (performance.now() - t0) / 1000;

async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The model opened through the engine's ModelCache, x = seed 0's x_T at T − 1, the empty prompt's embedding. */
async function openTextModel(dir: string) {
  const models = new ModelCache();
  const t0 = performance.now();
  const loaded = await models.load(dir, 'cpu');
  const openSeconds = seconds(t0);
  const { model, text } = loaded;
  if (!isTextModel(model) || !text) throw new Error(`${dir} is not a text-conditioned model folder (model_index.json names no text components)`);
  const timestep = model.scheduler.numTrainTimesteps - 1;
  const xt = await resolveXt({ seed: 0, steps: 100 }, model, loaded.predictor, timestep);
  const emb = (await text.embed('')).embedding;
  return { models, model, text, timestep, xt, emb, openSeconds };
}

/** Stage 1: open, U-Net forward, derive the graphs into `dataRoot` (empty: they are really derived). */
async function childForward(dir: string, dataRoot: string, K: number, runs: number, stage: (what: string) => void): Promise<ForwardStage> {
  const parameters = await onnxParameterCount(path.join(dir, 'unet', 'model.onnx'));
  const { models, model, text, timestep, xt, emb, openSeconds } = await openTextModel(dir);
  stage(`opened in ${openSeconds.toFixed(1)} s`);
  await text.runUnet(xt, timestep, emb); // warm-up: first run allocates and pre-packs weights
  const forwardMs = await median(runs, () => text.runUnet(xt, timestep, emb));
  stage(`forward ${forwardMs.toFixed(0)} ms`);
  const jacobians = new JacobianSessions(() => dataRoot);
  let t0 = performance.now();
  await modelContentHash(model); // memoised: graphs() below does not hash again
  const hashSeconds = seconds(t0);
  t0 = performance.now();
  const set = await jacobians.graphs({ model, K });
  const deriveSeconds = seconds(t0);
  if (jacobians.derivations !== 1) throw new Error(`expected one derivation into the empty data folder, saw ${jacobians.derivations}`);
  stage(`derived in ${deriveSeconds.toFixed(1)} s`);
  const sizes = JSON.parse(await readFile(path.join(set.dir, 'sizes.json'), 'utf8')) as Record<DerivedKind, number>;
  const result: ForwardStage = {
    parameters,
    openSeconds,
    forwardMs,
    hashSeconds,
    deriveSeconds,
    derivedMb: { jvp: sizes.jvp / 2 ** 20, vjp: sizes.vjp / 2 ** 20, pullback: sizes.pullback / 2 ** 20 },
    x: [...set.info.xShape.slice(1)],
    h: [...set.info.hShape.slice(1)],
    hTensor: set.info.h,
    peakRssMb: peakRssMb(),
  };
  await jacobians.release();
  await models.release();
  return result;
}

/** Stages 2 and 3: J·V or Jᵀ·U of k columns, the U-Net session released first (see the header). */
async function childProduct(dir: string, dataRoot: string, kind: 'jvp' | 'vjp', k: number, K: number, runs: number, stage: (what: string) => void): Promise<ProductStage> {
  const { models, model, timestep, xt, emb } = await openTextModel(dir);
  await models.release();
  const jacobians = new JacobianSessions(() => dataRoot);
  const spec = { model, K };
  const set = await jacobians.graphs(spec);
  if (jacobians.derivations !== 0) throw new Error('the graphs were derived again instead of loaded from the first stage\'s cache');
  const op = await jacobians.operator(spec, xt, timestep, undefined, emb);
  let t0 = performance.now();
  await jacobians.session(set, kind);
  const sessionSeconds = seconds(t0);
  const block = kind === 'jvp' ? initialNoise(op.xDims, 1, k) : initialNoise(op.hDims, 2, k);
  t0 = performance.now();
  const ms = await median(runs, () => (kind === 'jvp' ? op.jvp(block) : op.vjp(block)));
  const expectedCalls = runs * Math.ceil(k / op.K);
  if (op.calls !== expectedCalls) throw new Error(`expected ${expectedCalls} derived-graph calls, made ${op.calls}`);
  stage(`${kind === 'jvp' ? 'J·V' : 'Jᵀ·U'} ${(ms / 1000).toFixed(ms < 1000 ? 3 : 1)} s`);
  const result: ProductStage = { K: op.K, calls: op.calls / runs, sessionSeconds, seconds: ms / 1000, peakRssMb: peakRssMb() };
  await jacobians.release();
  return result;
}

const runChild = <R>(args: string[]) => runBenchChild<R>('text', args);

/** One row: the three stages in turn, sharing one temporary data folder (the derive cache). */
async function measureRow(label: string, dir: string, k: number, K: number, runs: number, productRuns: number): Promise<TextRow> {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'pullback-bench-text-'));
  try {
    const common = [label, dir, dataRoot, String(k), String(K)];
    const forward = await runChild<ForwardStage>(['forward', ...common, String(runs)]);
    const failed = (err: unknown) => (err instanceof Error ? err.message : String(err));
    const jvp = await runChild<ProductStage>(['jvp', ...common, String(productRuns)]).catch(failed);
    const vjp = await runChild<ProductStage>(['vjp', ...common, String(productRuns)]).catch(failed);
    return { label, k, runs, productRuns, forward, jvp, vjp };
  } finally {
    await rm(dataRoot, { recursive: true, force: true });
  }
}

const positiveInt = (s: string | undefined, dflt: number, name: string): number => {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${s}"`);
  return n;
};

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const [, what, label, dir, dataRoot, k, K, runs] = args;
    // At SD size every stage takes minutes: say where the child is.
    const stage = (msg: string) => process.stderr.write(`    ${label}: ${msg} (peak RSS ${peakRssMb().toFixed(0)} MB)\n`);
    process.send!(
      what === 'forward'
        ? await childForward(dir, dataRoot, Number(K), Number(runs), stage)
        : await childProduct(dir, dataRoot, what === 'jvp' ? 'jvp' : 'vjp', Number(k), Number(K), Number(runs), stage),
    );
    return;
  }
  const k = positiveInt(benchOption(args, '--k'), 8, '--k');
  const K = positiveInt(benchOption(args, '--K'), defaultJacobianK(), '--K');
  // K = 1 for the SD row unless asked: at K = 8 its J·V needed more than a 24 GB machine has (see the header).
  const sd15K = positiveInt(benchOption(args, '--sd15-K'), defaultJacobianK(), '--sd15-K');
  const runs = positiveInt(benchOption(args, '--runs'), 5, '--runs');
  const sd15Runs = positiveInt(benchOption(args, '--sd15-runs'), 2, '--sd15-runs');
  const sd15Dir = path.resolve(benchOption(args, '--sd15') ?? DEFAULT_SD15);
  const rows: { label: string; dir: string; K: number; runs: number; productRuns: number }[] = [];
  if (existsSync(FIXTURES) && !args.includes('--no-fixtures')) {
    for (const name of readdirSync(FIXTURES).sort()) {
      if (existsSync(path.join(FIXTURES, name, 'model_index.json'))) rows.push({ label: `fixture ${name}`, dir: path.join(FIXTURES, name), K, runs, productRuns: runs });
    }
  }
  let skipped = '';
  if (args.includes('--no-sd15')) skipped = 'SD-1.5-shaped row skipped (--no-sd15)';
  else if (existsSync(path.join(sd15Dir, 'unet', 'model.onnx'))) rows.push({ label: 'SD-1.5-shaped U-Net (random weights)', dir: sd15Dir, K: sd15K, runs: sd15Runs, productRuns: 1 });
  else {
    skipped =
      `SD-1.5-shaped row skipped: ${sd15Dir} has no unet/model.onnx. Create it (≈ 3.5 GB, several minutes, ≈ 7 GB RAM) with\n` +
      `  python3 tools/fixtures/export_sd15_unet.py${benchOption(args, '--sd15') ? ` --out ${sd15Dir}` : ''}\n` +
      `or point --sd15 at such a folder.`;
  }
  process.stdout.write(
    `text-model benchmark: CPU onnxruntime-node (default threads), ${cpus().length} cores; J = ∂h/∂x at x = seed 0's x_T, timestep T−1, ` +
      `empty prompt; k = ${k} tangents / cotangents per product, K columns per derived-graph call (⌈k / K⌉ calls)\n`,
  );
  const results: TextRow[] = [];
  for (const r of rows) {
    process.stdout.write(`  ${r.label}: measuring…\n`);
    try {
      const row = await measureRow(r.label, r.dir, k, r.K, r.runs, r.productRuns);
      results.push(row);
      const f = row.forward;
      const session = (p: ProductStage | string) => (typeof p === 'string' ? `FAILED (${p})` : `session ${p.sessionSeconds.toFixed(1)} s`);
      process.stdout.write(
        `  ${r.label}: h = ${f.hTensor}, open ${f.openSeconds.toFixed(1)} s, content hash ${f.hashSeconds.toFixed(1)} s, ` +
          `J·V ${session(row.jvp)}, Jᵀ·U ${session(row.vjp)}\n`,
      );
    } catch (err) {
      process.stdout.write(`  ${r.label}: FAILED — ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  const secs = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
  const product = (p: ProductStage | string, runs: number) =>
    typeof p === 'string'
      ? ['failed', '—', '—', '—']
      : [String(p.K), `${secs(p.seconds)}${runs > 1 ? ` (n=${runs})` : ''}`, secs(p.seconds / k), p.peakRssMb.toFixed(0)];
  process.stdout.write(
    `\n${markdownTable(
      [
        'model',
        'U-Net params',
        'x',
        'h',
        'forward (median)',
        'peak RSS MB (open+forward+derive)',
        'derive',
        'K (J·V)',
        `J·V k=${k}`,
        'per product',
        'peak RSS MB (J·V)',
        'K (Jᵀ·U)',
        `Jᵀ·U k=${k}`,
        'per product',
        'peak RSS MB (Jᵀ·U)',
        'derived jvp / vjp / pullback MB',
      ],
      results.map((r) => [
        r.label,
        `${(r.forward.parameters / 1e6).toFixed(r.forward.parameters < 1e7 ? 3 : 1)} M`,
        r.forward.x.join('×'),
        r.forward.h.join('×'),
        `${secs(r.forward.forwardMs / 1000)} (n=${r.runs})`,
        r.forward.peakRssMb.toFixed(0),
        secs(r.forward.deriveSeconds),
        ...product(r.jvp, r.productRuns),
        ...product(r.vjp, r.productRuns),
        `${r.forward.derivedMb.jvp.toFixed(2)} / ${r.forward.derivedMb.vjp.toFixed(2)} / ${r.forward.derivedMb.pullback.toFixed(2)}`,
      ]),
    )}\n`,
  );
  if (skipped) process.stdout.write(`\n${skipped}\n`);
}
