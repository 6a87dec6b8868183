/**
 * Self-consistency of the committed U-Net fixtures (test/fixtures/unets, made by tools/fixtures/export_unets.py;
 * contract in its README.md), without onnxruntime: every meta.json parses and lists files that exist, the .npy
 * shapes match meta, and the autograd references satisfy the identities every J has:
 *   ⟨J·V_i, U_j⟩ = ⟨V_i, Jᵀ·U_j⟩,  ⟨V_i, JᵀJ·V_j⟩ = ⟨J·V_i, J·V_j⟩ (hence symmetric),  and for tiny_dense J.npy
 * reproduces JV, JtU and JtJV. Comparing the derived ONNX graphs against these references is another suite's job.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNpy, sizeOf, type Tensor } from '../../src-main/core/tensor';

const ROOT = fileURLToPath(new URL('../fixtures/unets/', import.meta.url));
const EXPECTED = [
  'tiny_dense',
  'ddpm_unet2d_op14',
  'ddpm_unet2d_op17',
  'sd_cond_unet_op14',
  'sd_cond_unet_op17',
  'ho_ddpm_op14',
  'adm_unet_op14',
];
const TOL = 1e-5;

interface InputMeta {
  name: string;
  dims: number[];
  dtype: 'float32' | 'int64';
}
interface FixtureMeta {
  name: string;
  family: string;
  opset: number;
  inputs: InputMeta[];
  output: InputMeta;
  h_tensor: string;
  h_scope: string;
  h_dims: number[];
  x_dims: number[];
  timestep: number;
  K: number;
  files: string[];
  op_counts: Record<string, number>;
  notes: string;
}

const fixtureNames = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((n) => existsSync(join(ROOT, n, 'meta.json')))
      .sort()
  : [];

function readMeta(name: string): FixtureMeta {
  return JSON.parse(readFileSync(join(ROOT, name, 'meta.json'), 'utf8')) as FixtureMeta;
}

function load(name: string, file: string): Tensor {
  return decodeNpy(new Uint8Array(readFileSync(join(ROOT, name, file))));
}

/** Row i of a [K, ...] tensor as a view. */
function row(t: Tensor, i: number): Float32Array {
  const n = t.data.length / t.dims[0];
  return t.data.subarray(i * n, (i + 1) * n);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const norm = (a: Float32Array): number => Math.sqrt(dot(a, a));

function relDiff(a: Float64Array | Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function std(a: Float32Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
}

describe('U-Net fixture set', () => {
  it('has every family the Jacobian tests need', () => {
    expect(fixtureNames).toEqual([...EXPECTED].sort());
    const metas = fixtureNames.map(readMeta);
    expect(new Set(metas.map((m) => m.opset))).toEqual(new Set([14, 17]));
    const tsTypes = new Set(metas.map((m) => m.inputs.find((i) => i.name === 'timestep')?.dtype));
    expect(tsTypes).toEqual(new Set(['int64', 'float32']));
    expect(metas.some((m) => m.inputs.some((i) => i.name === 'encoder_hidden_states'))).toBe(true);
  });
});

describe.each(fixtureNames)('fixture %s', (name) => {
  const meta = readMeta(name);
  const xRest = meta.x_dims.slice(1);
  const hRest = meta.h_dims.slice(1);

  it('meta.json is complete and consistent', () => {
    expect(meta.name).toBe(name);
    expect(typeof meta.family).toBe('string');
    expect([14, 15, 16, 17]).toContain(meta.opset);
    expect(meta.K).toBeGreaterThanOrEqual(1);
    expect(meta.timestep).toBe(500);
    expect(meta.h_tensor.startsWith(meta.h_scope)).toBe(true);
    expect(meta.x_dims[0]).toBe(1);
    expect(meta.h_dims[0]).toBe(1);
    const names = meta.inputs.map((i) => i.name);
    expect(names.slice(0, 2)).toEqual(['sample', 'timestep']);
    expect(meta.inputs[0]).toEqual({ name: 'sample', dims: meta.x_dims, dtype: 'float32' });
    const t = meta.inputs[1];
    expect(t.dims).toEqual(t.dtype === 'int64' ? [1] : []);
    if (names.length === 3) {
      expect(names[2]).toBe('encoder_hidden_states');
      expect(meta.inputs[2].dims.length).toBe(3);
    } else {
      expect(names.length).toBe(2);
    }
    expect(meta.output.name).toBe('out_sample');
    expect(Object.values(meta.op_counts).every((c) => Number.isInteger(c) && c > 0)).toBe(true);
  });

  it('lists files that exist, and only those', () => {
    const required = ['model.onnx', 'x.npy', 'V.npy', 'U.npy', 'JV.npy', 'JtU.npy', 'JtJV.npy', 'h.npy', 'eps.npy'];
    if (meta.inputs.length === 3) required.push('ehs.npy');
    if (name === 'tiny_dense') required.push('J.npy');
    expect([...meta.files].sort()).toEqual(required.sort());
    const onDisk = readdirSync(join(ROOT, name)).filter((f) => f !== 'meta.json');
    expect(onDisk.sort()).toEqual([...meta.files].sort());
  });

  it('model.onnx is small and names its inputs, output and h tensor', () => {
    const path = join(ROOT, name, 'model.onnx');
    expect(statSync(path).size).toBeLessThan(1.5e6);
    const text = new TextDecoder('latin1').decode(readFileSync(path));
    for (const i of meta.inputs) expect(text.includes(i.name)).toBe(true);
    expect(text.includes('out_sample')).toBe(true);
    expect(text.includes(meta.h_tensor)).toBe(true);
  });

  it('.npy shapes match meta, values are finite and not degenerate', () => {
    const K = meta.K;
    const expected: Record<string, number[]> = {
      'x.npy': meta.x_dims,
      'h.npy': meta.h_dims,
      'eps.npy': meta.output.dims,
      'V.npy': [K, ...xRest],
      'JtU.npy': [K, ...xRest],
      'JtJV.npy': [K, ...xRest],
      'U.npy': [K, ...hRest],
      'JV.npy': [K, ...hRest],
    };
    if (meta.inputs.length === 3) expected['ehs.npy'] = meta.inputs[2].dims;
    if (meta.files.includes('J.npy')) expected['J.npy'] = [sizeOf(meta.h_dims), sizeOf(meta.x_dims)];
    for (const [file, dims] of Object.entries(expected)) {
      const t = load(name, file);
      expect(t.dims, file).toEqual(dims);
      expect(t.data.every(Number.isFinite), file).toBe(true);
      expect(std(t.data), file).toBeGreaterThan(1e-3);
    }
  });

  it('dot-product test: ⟨J·V_i, U_j⟩ = ⟨V_i, Jᵀ·U_j⟩', () => {
    const [V, U, JV, JtU] = ['V.npy', 'U.npy', 'JV.npy', 'JtU.npy'].map((f) => load(name, f));
    for (let i = 0; i < meta.K; i++) {
      for (let j = 0; j < meta.K; j++) {
        const a = dot(row(JV, i), row(U, j));
        const b = dot(row(V, i), row(JtU, j));
        const scale = norm(row(JV, i)) * norm(row(U, j)) + norm(row(V, i)) * norm(row(JtU, j));
        expect(Math.abs(a - b) / scale, `i=${i} j=${j}`).toBeLessThan(TOL);
      }
    }
  });

  it('JᵀJ: ⟨V_i, JᵀJ·V_j⟩ is symmetric and equals ⟨J·V_i, J·V_j⟩', () => {
    const [V, JV, JtJV] = ['V.npy', 'JV.npy', 'JtJV.npy'].map((f) => load(name, f));
    for (let i = 0; i < meta.K; i++) {
      for (let j = 0; j < meta.K; j++) {
        const ij = dot(row(V, i), row(JtJV, j));
        const ji = dot(row(V, j), row(JtJV, i));
        const gram = dot(row(JV, i), row(JV, j));
        const scale = norm(row(V, i)) * norm(row(JtJV, j)) + norm(row(V, j)) * norm(row(JtJV, i));
        expect(Math.abs(ij - ji) / scale, `sym i=${i} j=${j}`).toBeLessThan(TOL);
        expect(Math.abs(ij - gram) / scale, `gram i=${i} j=${j}`).toBeLessThan(TOL);
      }
      // JᵀJ is positive semi-definite and J is not trivially zero here.
      expect(dot(row(V, i), row(JtJV, i))).toBeGreaterThan(0);
    }
  });

  if (name === 'tiny_dense') it('dense J reproduces JV, JtU and JtJV', () => {
    const [J, V, U, JV, JtU, JtJV] = ['J.npy', 'V.npy', 'U.npy', 'JV.npy', 'JtU.npy', 'JtJV.npy'].map((f) =>
      load(name, f),
    );
    const [m, n] = J.dims;
    const Jv = (v: Float32Array | Float64Array) => {
      const out = new Float64Array(m);
      for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) out[r] += J.data[r * n + c] * v[c];
      return out;
    };
    const Jtu = (u: Float32Array | Float64Array) => {
      const out = new Float64Array(n);
      for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) out[c] += J.data[r * n + c] * u[r];
      return out;
    };
    for (let i = 0; i < meta.K; i++) {
      expect(relDiff(Jv(row(V, i)), row(JV, i))).toBeLessThan(TOL);
      expect(relDiff(Jtu(row(U, i)), row(JtU, i))).toBeLessThan(TOL);
      expect(relDiff(Jtu(Jv(row(V, i))), row(JtJV, i))).toBeLessThan(TOL);
    }
  });
});
