/**
 * `npm run bench -- derive [fixture...]`: cost of the derived graphs on CPU (onnxruntime-node,
 * graph optimisation 'all'). For every U-Net fixture (test/fixtures/unets/*) and every bundled model
 * (resources/**\/unet/model.onnx): ms of the plain forward to h at batch 1, ms of `pullback` at
 * K = 1, 4, 8, 16, the ratio pullback(K) / (K · forward) (issue 3 target: ≤ 3.0 for K ≥ 4) and the
 * peak RSS. Each model is measured in its own child process so the peak RSS is that model's.
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildForwardGraph, deriveGraph, type DeriveOptions } from '../src-main/core/onnx';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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

/** Input sizes: fixtures carry meta.json; otherwise use the static dims of the model (or 64×64, seq 77). */
function sizeOptions(file: string): DeriveOptions {
  const meta = path.join(path.dirname(file), 'meta.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { x_dims: number[]; inputs: { name: string; dims: number[] }[] };
    const ehs = m.inputs.find((i) => i.name === 'encoder_hidden_states');
    return { height: m.x_dims[2], width: m.x_dims[3], seq: ehs?.dims[1] };
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

async function measure(name: string, file: string): Promise<Row> {
  const opts = sizeOptions(file);
  const dir = path.dirname(file);
  const sessOpts = {
    graphOptimizationLevel: 'all' as const,
    executionProviders: ['cpu'],
    extra: { session: { model_external_initializers_file_folder_path: dir } },
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
    const row = await measure(args[1], args[2]);
    process.send!(row);
    return;
  }
  const models = findModels(args);
  if (!models.length) {
    process.stdout.write('no models found (test/fixtures/unets/*/model.onnx, resources/**/unet/model.onnx)\n');
    return;
  }
  process.stdout.write(`derive benchmark: CPU, onnxruntime-node ${ort.env.versions.node ?? ''}, graph optimisation 'all', median of runs\n`);
  const rows: Row[] = [];
  const entry = path.join(ROOT, 'bench/index.ts');
  for (const m of models) {
    const row = await new Promise<Row>((resolve, reject) => {
      const child = fork(entry, ['derive', '--child', m.name, m.file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let got: Row | undefined;
      child.on('message', (msg) => (got = msg as Row));
      child.on('exit', (code) => (got ? resolve(got) : reject(new Error(`${m.name}: benchmark child exited with ${code}`))));
    });
    rows.push(row);
    process.stdout.write(`${m.name}: done\n`);
  }
  process.stdout.write(`\n${table(rows)}\n`);
}
