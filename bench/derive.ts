/**
 * `npm run bench -- derive [fixture...]`: cost of the derived graphs on CPU (onnxruntime-node,
 * graph optimisation 'all'). For every U-Net fixture (test/fixtures/unets/*) and every bundled model
 * (resources/**\/unet/model.onnx), plus one synthetic model of realistic width: ms of the plain forward to h at batch 1, ms of `pullback` at
 * K = 1, 4, 8, 16, the ratio pullback(K) / (K · forward) (issue 3 target: ≤ 3.0 for K ≥ 4) and the
 * peak RSS. Each model is measured in its own child process so the peak RSS is that model's.
 */
import { runBenchChild } from './lib/child';
import { ROOT } from './lib/model';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildForwardGraph, deriveGraph, type DeriveOptions } from '../src-main/core/onnx';
import { TestGraph } from '../test/unit/onnx-testgraph';

const KS = [1, 4, 8, 16];

interface Row {
  name: string;
  x: string;
  h: string;
  forwardMs: number;
  pullbackMs: Record<number, number>;
  peakRssMb: number;
}

function findModels(filter: string[]): { name: string; file: string }[] {
  const out: { name: string; file: string }[] = [];
  const fx = path.join(ROOT, 'test/fixtures/unets');
  if (existsSync(fx)) {
    for (const d of readdirSync(fx).sort()) {
      const f = path.join(fx, d, 'model.onnx');
      if (existsSync(f)) out.push({ name: d, file: f });
    }
  }
  const walk = (dir: string, depth: number): void => {
    if (depth > 4 || !existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (e === 'model.onnx' && path.basename(dir) === 'unet') out.push({ name: `bundled:${path.relative(ROOT, path.dirname(dir))}`, file: p });
    }
  };
  walk(path.join(ROOT, 'resources'), 0);
  return filter.length ? out.filter((m) => filter.some((f) => m.name.includes(f))) : out;
}

/**
 * A synthetic encoder at a realistic width (64 channels, 32×32 → 16×16, GN-as-InstanceNorm + SiLU +
 * 3×3 convs, as diffusers exports them): the fixtures are so small that per-node overhead, not
 * arithmetic, dominates their timings; this row shows the ratio where convolutions dominate.
 */
function syntheticModel(C = 64, S = 32): Uint8Array {
  const g = new TestGraph(14);
  const gn = (x: string) => {
    const r = g.op('Reshape', [x, g.i64([0, 8, -1])]);
    const n = g.op('InstanceNormalization', [r, g.floats([8], new Array(8).fill(1)), g.floats([8], new Array(8).fill(0))], { epsilon: { float: 1e-6 } });
    return g.op('Add', [g.op('Mul', [g.op('Reshape', [n, g.op('Shape', [x])]), g.weight([C, 1, 1])]), g.weight([C, 1, 1])]);
  };
  const silu = (x: string) => g.op('Mul', [x, g.op('Sigmoid', [x])]);
  const conv = (x: string, cin: number, s = 1) =>
    g.op('Conv', [x, g.weight([C, cin, 3, 3], 0.05), g.weight([C])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [s, s] });
  const res = (h: string) => g.op('Add', [h, conv(silu(gn(conv(silu(gn(h)), C))), C)]);
  g.scope = '/conv_in/';
  let h = conv('sample', 3);
  g.scope = '/down_blocks.0/';
  h = conv(res(res(h)), C, 2);
  g.scope = '/mid_block/';
  h = res(res(h));
  return g.model([{ name: 'sample', dims: [1, 3, S, S] }], h, [1, C, S / 2, S / 2]);
}

/** Input sizes: fixtures carry meta.json, model folders unet/config.json (sample_size); else 64×64, seq 77. */
function sizeOptions(file: string): DeriveOptions {
  const meta = path.join(path.dirname(file), 'meta.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { x_dims: number[]; inputs: { name: string; dims: number[] }[] };
    const ehs = m.inputs.find((i) => i.name === 'encoder_hidden_states');
    return { height: m.x_dims[2], width: m.x_dims[3], seq: ehs?.dims[1] };
  }
  // diffusers model folders: unet/config.json carries the native sample_size
  const cfg = path.join(path.dirname(file), 'config.json');
  if (existsSync(cfg)) {
    const c = JSON.parse(readFileSync(cfg, 'utf8')) as { sample_size?: number | number[] };
    const s = Array.isArray(c.sample_size) ? c.sample_size : c.sample_size ? [c.sample_size, c.sample_size] : undefined;
    if (s) return { height: s[0], width: s[1], seq: 77 };
  }
  return { height: 64, width: 64, seq: 77 };
}

function feedsFor(info: { inputs: { name: string; dtype: number; dims: number[] }[]; x: string }): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of info.inputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    if (i.dtype === 7) feeds[i.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => 500n), i.dims);
    else feeds[i.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.37) * (i.name === 'timestep' ? 0 : 1) + (i.name === 'timestep' ? 500 : 0)), i.dims);
  }
  return feeds;
}

/** Median wall time of `f` after warm-up, repeating until ~1.5 s or 15 runs. */
async function time(f: () => Promise<unknown>): Promise<number> {
  await f();
  await f();
  const ts: number[] = [];
  const start = performance.now();
  while (ts.length < 3 || (ts.length < 15 && performance.now() - start < 1500)) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

async function measure(name: string, where: string, threads: number): Promise<Row> {
  const synthetic = where === 'synthetic';
  const file: Uint8Array | string = synthetic ? syntheticModel() : where;
  let opts: DeriveOptions = synthetic ? {} : sizeOptions(where);
  // a model with static spatial dims refuses other sizes: then use its own
  opts = await buildForwardGraph(file, opts).then(
    () => opts,
    () => ({ seq: opts.seq }),
  );
  const sessOpts = {
    graphOptimizationLevel: 'all' as const,
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    ...(synthetic ? {} : { extra: { session: { model_external_initializers_file_folder_path: path.dirname(where) } } }),
  } as ort.InferenceSession.SessionOptions;
  const fwd = await buildForwardGraph(file, opts);
  const feeds = feedsFor(fwd.info);
  const sF = await ort.InferenceSession.create(fwd.bytes, sessOpts);
  const forwardMs = await time(() => sF.run(feeds));
  await sF.release();
  const pullbackMs: Record<number, number> = {};
  const nx = fwd.info.tangentShape.slice(1).reduce((a, b) => a * b, 1);
  for (const K of KS) {
    const pb = await deriveGraph(file, 'pullback', { ...opts, tangents: K });
    const s = await ort.InferenceSession.create(pb.bytes, sessOpts);
    const tangent = new ort.Tensor('float32', Float32Array.from({ length: K * nx }, (_, k) => Math.cos(k * 0.11)), pb.info.tangentShape);
    pullbackMs[K] = await time(() => s.run({ ...feeds, tangent }));
    await s.release();
  }
  return {
    name,
    x: `[${fwd.info.xShape.join(',')}]`,
    h: `[${fwd.info.hShape.join(',')}]`,
    forwardMs,
    pullbackMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function table(rows: Row[]): string {
  const head = ['model', 'x', 'h', 'fwd ms', ...KS.map((k) => `pb K=${k} ms`), ...KS.map((k) => `ratio K=${k}`), 'peak RSS MB'];
  const body = rows.map((r) => [
    r.name, r.x, r.h, r.forwardMs.toFixed(2),
    ...KS.map((k) => r.pullbackMs[k].toFixed(2)),
    ...KS.map((k) => (r.pullbackMs[k] / (k * r.forwardMs)).toFixed(2)),
    r.peakRssMb.toFixed(0),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    const row = await measure(args[1], args[2], Number(args[3]));
    process.send!(row);
    return;
  }
  // one intra-op thread by default: stable numbers on a shared CI machine; --threads N to change
  const ti = args.indexOf('--threads');
  const threads = ti >= 0 ? Number(args[ti + 1]) : 1;
  const filter = ti >= 0 ? args.filter((_, i) => i !== ti && i !== ti + 1) : args;
  const models = findModels(filter);
  if (!filter.length || filter.includes('synthetic')) models.push({ name: 'synthetic:64ch-32px', file: 'synthetic' });
  if (!models.length) {
    process.stdout.write('no models found (test/fixtures/unets/*/model.onnx, resources/**/unet/model.onnx)\n');
    return;
  }
  process.stdout.write(
    `derive benchmark: CPU, onnxruntime-node ${ort.env.versions.node ?? ''}, graph optimisation 'all', ` +
      `intraOpNumThreads ${threads}, median of runs; ratio = pullback(K) / (K · forward)\n`,
  );
  const rows: Row[] = [];
  for (const m of models) {
    rows.push(await runBenchChild<Row>('derive', [m.name, m.file, String(threads)]));
    process.stdout.write(`${m.name}: done\n`);
  }
  process.stdout.write(`\n${table(rows)}\n`);
}
