/**
 * Test harness for the ONNX transformer: ORT sessions, seeded random data, model building in TS,
 * and the derivative checks of issue 3 (dot-product test, central differences with an ε sweep,
 * pullback = vjp∘jvp, batch consistency, linearity, symmetry of JᵀJ), all accumulated in float64.
 */
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { deriveGraph, deriveGraphs, type DeriveOptions } from '../../src-main/core/onnx';
import { DT, tensorValues } from '../../src-main/core/onnx/proto';
import { numel, randn } from '../unit/onnx-testgraph';

export { TestGraph, buildModel, numel, randn, type ModelSpec, type NodeSpec } from '../unit/onnx-testgraph';

export type Level = 'disabled' | 'all';
export const LEVELS: Level[] = ['disabled', 'all'];

export async function session(bytes: Uint8Array, level: Level, modelDir?: string): Promise<ort.InferenceSession> {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: level, executionProviders: ['cpu'], intraOpNumThreads: 2 };
  if (modelDir) (opts as Record<string, unknown>).extra = { session: { model_external_initializers_file_folder_path: modelDir } };
  return ort.InferenceSession.create(bytes, opts);
}

export interface Arr {
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array;
  type?: ort.Tensor.Type;
}

export async function run(s: ort.InferenceSession, feeds: Record<string, Arr>): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    const type: ort.Tensor.Type = v.type ?? (v.data instanceof BigInt64Array ? 'int64' : v.data instanceof Int32Array ? 'int32' : v.data instanceof Float64Array ? 'float64' : v.data instanceof Uint8Array ? 'bool' : 'float32');
    f[k] = new ort.Tensor(type, v.data as Float32Array, v.dims);
  }
  const out = await s.run(f);
  const res: Record<string, { dims: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(out)) {
    res[k] = { dims: [...t.dims], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>) };
  }
  return res;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, off = 0, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[off + i] * b[off + i];
  return s;
}
export const norm = (a: ArrayLike<number>, off = 0, n = a.length): number => Math.sqrt(dot(a, a, off, n));
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(s), 1e-30);
}

/** Read a TensorProto .pb (ONNX backend test data) as an Arr. */
export function readPb(bytes: Uint8Array): { name: string; arr: Arr; dtype: number } {
  const t = fromBinary(TensorProtoSchema, bytes);
  const dims = t.dims.map(Number);
  const v = tensorValues(t)!;
  const data =
    t.dataType === DT.INT64 ? BigInt64Array.from(v.map((x) => BigInt(x))) : t.dataType === DT.BOOL ? Uint8Array.from(v) : Float32Array.from(v);
  return { name: t.name, arr: { dims, data, type: t.dataType === DT.BOOL ? 'bool' : undefined }, dtype: t.dataType };
}

// ---- derivative checks ------------------------------------------------------------------------

export interface CheckReport {
  dotResidual: number;
  fdError: number;
  pullbackError: number;
  hError: number;
  batchError: number;
  linearityError: number;
  symmetry: number;
}

/**
 * Derive jvp/vjp/pullback/forward for K columns, then run the checks with one optimisation level.
 * `feeds` are the model's other inputs (batch 1); x is given separately.
 */
export async function checkDerivatives(
  model: Uint8Array,
  x: Arr & { data: Float32Array },
  feeds: Record<string, Arr>,
  opts: DeriveOptions,
  level: Level,
  seed = 1,
): Promise<CheckReport> {
  const K = opts.tangents ?? 3;
  const xName = opts.x ?? 'sample';
  const graphs = await deriveGraphs(model, { ...opts, tangents: K });
  const one = await deriveGraphs(model, { ...opts, tangents: 1 });
  const fwd = await deriveGraph(model, 'forward', opts);
  const [sJ, sV, sP, sF, sP1] = await Promise.all([
    session(graphs.jvp, level), session(graphs.vjp, level), session(graphs.pullback, level), session(fwd.bytes, level), session(one.pullback, level),
  ]);
  const nx = numel(x.dims);
  const hShape = graphs.info.hShape;
  const nh = numel(hShape);
  const tDims = graphs.info.tangentShape;
  const cDims = graphs.info.cotangentShape;
  const V = randn(K * nx, seed);
  const U = randn(K * nh, seed + 7);
  const base = { ...feeds, [xName]: x };
  const J = await run(sJ, { ...base, tangent: { dims: tDims, data: V } });
  const B = await run(sV, { ...base, cotangent: { dims: cDims, data: U } });
  const P = await run(sP, { ...base, tangent: { dims: tDims, data: V } });
  const F = await run(sF, base);
  const jv = J.h_dot.data;
  const jtu = B.x_bar.data;

  let dotResidual = 0;
  for (let k = 0; k < K; k++) {
    const a = dot(jv, U, k * nh, nh);
    const b = dot(V, jtu, k * nx, nx);
    const den = norm(jv, k * nh, nh) * norm(U, k * nh, nh) + norm(V, k * nx, nx) * norm(jtu, k * nx, nx);
    dotResidual = Math.max(dotResidual, Math.abs(a - b) / Math.max(den, 1e-30));
  }

  // central differences, best ε of a sweep (truncation vs rounding), worst column
  let fdError = 0;
  const xn = norm(x.data);
  for (let k = 0; k < K; k++) {
    const v = V.subarray(k * nx, (k + 1) * nx);
    const jvk = jv.subarray(k * nh, (k + 1) * nh);
    let best = Infinity;
    for (const tau of [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4]) {
      const eps = (tau * Math.max(xn, 1)) / norm(v);
      const xp = Float32Array.from(x.data, (xi, i) => xi + eps * v[i]);
      const xm = Float32Array.from(x.data, (xi, i) => xi - eps * v[i]);
      const hp = (await run(sF, { ...base, [xName]: { dims: x.dims, data: xp } })).h.data;
      const hm = (await run(sF, { ...base, [xName]: { dims: x.dims, data: xm } })).h.data;
      // the step actually taken in float32
      const fd = Float64Array.from(hp, (p, i) => (p - hm[i]) / (2 * eps));
      // a large ε may leave the domain (Sqrt of a negative): NaN is ignored, not taken as best
      const e = relErr(fd, jvk);
      if (e < best) best = e;
    }
    fdError = Math.max(fdError, best);
  }

  // pullback == vjp(jvp(V)), its h == forward h
  const B2 = await run(sV, { ...base, cotangent: { dims: cDims, data: jv } });
  const pullbackError = Math.max(relErr(P.x_bar.data, B2.x_bar.data), relErr(P.h_dot.data, jv));
  const hError = Math.max(relErr(J.h.data, F.h.data), relErr(B.h.data, F.h.data), relErr(P.h.data, F.h.data));

  // batch consistency: K columns at once == K single-column runs
  let batchError = 0;
  for (let k = 0; k < K; k++) {
    const r = await run(sP1, { ...base, tangent: { dims: [1, ...tDims.slice(1)], data: V.slice(k * nx, (k + 1) * nx) } });
    batchError = Math.max(batchError, relErr(r.x_bar.data, P.x_bar.data.subarray(k * nx, (k + 1) * nx)));
    batchError = Math.max(batchError, relErr(r.h_dot.data, jv.subarray(k * nh, (k + 1) * nh)));
  }

  // linearity: J(2v0 − 3v1) == 2Jv0 − 3Jv1 (column 0 of a fresh call), symmetry ⟨v0, JᵀJv1⟩ = ⟨v1, JᵀJv0⟩
  let linearityError = 0;
  let symmetry = 0;
  if (K >= 2) {
    const comb = new Float32Array(K * nx);
    for (let i = 0; i < nx; i++) comb[i] = 2 * V[i] - 3 * V[nx + i];
    const L = await run(sJ, { ...base, tangent: { dims: tDims, data: comb } });
    const want = Float64Array.from({ length: nh }, (_, i) => 2 * jv[i] - 3 * jv[nh + i]);
    linearityError = relErr(L.h_dot.data.subarray(0, nh), want);
    const g = P.x_bar.data;
    let s01 = 0;
    let s10 = 0;
    for (let i = 0; i < nx; i++) {
      s01 += V[i] * g[nx + i];
      s10 += V[nx + i] * g[i];
    }
    const den = norm(V, 0, nx) * norm(g, nx, nx) + norm(V, nx, nx) * norm(g, 0, nx);
    symmetry = Math.abs(s01 - s10) / Math.max(den, 1e-30);
  }
  await Promise.all([sJ, sV, sP, sF, sP1].map((s) => s.release()));
  return { dotResidual, fdError, pullbackError, hError, batchError, linearityError, symmetry };
}

/** Worst values seen by a test file, printed once at its end (numbers for the closing note). */
export class Worst {
  private readonly worst = new Map<string, { v: number; at: string }>();
  add(at: string, r: CheckReport): void {
    for (const [k, v] of Object.entries(r)) {
      const w = this.worst.get(k);
      if (!w || v > w.v) this.worst.set(k, { v, at });
    }
  }
  print(label: string): void {
    const parts = [...this.worst].map(([k, w]) => `${k}=${w.v.toExponential(2)} (${w.at})`);
    console.log(`[${label}] worst: ${parts.join('; ')}`);
  }
}

/** Thresholds for float32 single-op / small graphs. */
export const TOL = { dot: 1e-6, fd: 1e-2, exact: 1e-5 };

/** Each check's limit: the dot-product test, central differences, the exact identities, linearity and symmetry. */
const LIMITS: Record<keyof CheckReport, number> = {
  dotResidual: TOL.dot,
  fdError: TOL.fd,
  pullbackError: TOL.exact,
  hError: TOL.exact,
  batchError: TOL.exact,
  linearityError: 1e-4,
  symmetry: 1e-5,
};

/**
 * The one set of derivative assertions every ONNX suite makes on a CheckReport. `skip` names checks a suite does
 * not apply, with the reason at its call site.
 */
export function expectDerivativesPass(r: CheckReport, level: Level, skip: readonly (keyof CheckReport)[] = []): void {
  for (const [check, limit] of Object.entries(LIMITS) as [keyof CheckReport, number][]) {
    if (!skip.includes(check)) expect(r[check], `${check} ${level}`).toBeLessThan(limit);
  }
}

