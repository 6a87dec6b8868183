/**
 * Small-tensor arithmetic for constant folding (shape plumbing: Shape→Gather→Concat→Reshape,
 * attention scales, Slice bounds). Values are JS numbers in row-major order; float results are
 * rounded to float32 so folded constants equal what ORT would compute.
 */
import { DT } from './proto';

export const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** numpy broadcast of shapes; undefined when incompatible. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | undefined {
  const r = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(r).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = r - s.length + i;
      if (s[i] === out[o] || s[i] === 1) continue;
      if (out[o] === 1) out[o] = s[i];
      else return undefined;
    }
  }
  return out;
}

/** Read `values` (of shape `dims`) broadcast to `target`. */
export function broadcastTo(values: readonly number[], dims: readonly number[], target: readonly number[]): number[] {
  const n = numel(target);
  if (numel(dims) === n && dims.length === target.length) return values.slice();
  const pad = target.length - dims.length;
  const src = stridesOf(dims);
  const tstr = stridesOf(target);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let a = 0; a < target.length; a++) {
      const idx = Math.floor(rem / tstr[a]);
      rem -= idx * tstr[a];
      if (a >= pad && dims[a - pad] !== 1) off += idx * src[a - pad];
    }
    out[i] = values[off];
  }
  return out;
}

export function castValue(v: number, dtype: number): number {
  switch (dtype) {
    case DT.FLOAT:
      return Math.fround(v);
    case DT.INT64:
    case DT.INT32:
    case DT.INT8:
    case DT.UINT8:
      return Number.isFinite(v) ? Math.trunc(v) : v;
    case DT.BOOL:
      return v ? 1 : 0;
    default:
      return v;
  }
}

const isInt = (dt: number): boolean => dt === DT.INT64 || dt === DT.INT32 || dt === DT.INT8 || dt === DT.UINT8;

export const UNARY: Record<string, (x: number) => number> = {
  Identity: (x) => x,
  Neg: (x) => -x,
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Exp: Math.exp,
  Log: Math.log,
  Sin: Math.sin,
  Cos: Math.cos,
  Tanh: Math.tanh,
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Relu: (x) => Math.max(0, x),
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: (x) => {
    const f = Math.floor(x);
    const d = x - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1; // half to even
  },
  Sign: Math.sign,
  Not: (x) => (x ? 0 : 1),
};

export function binaryFn(op: string, dtype: number): ((a: number, b: number) => number) | undefined {
  switch (op) {
    case 'Add':
      return (a, b) => a + b;
    case 'Sub':
      return (a, b) => a - b;
    case 'Mul':
      return (a, b) => a * b;
    case 'Div':
      return isInt(dtype) ? (a, b) => Math.trunc(a / b) : (a, b) => a / b;
    case 'Pow':
      return Math.pow;
    case 'Mod':
      return (a, b) => a - b * Math.floor(a / b);
    case 'Min':
      return Math.min;
    case 'Max':
      return Math.max;
    case 'Equal':
      return (a, b) => (a === b ? 1 : 0);
    case 'Less':
      return (a, b) => (a < b ? 1 : 0);
    case 'LessOrEqual':
      return (a, b) => (a <= b ? 1 : 0);
    case 'Greater':
      return (a, b) => (a > b ? 1 : 0);
    case 'GreaterOrEqual':
      return (a, b) => (a >= b ? 1 : 0);
    case 'And':
      return (a, b) => (a && b ? 1 : 0);
    case 'Or':
      return (a, b) => (a || b ? 1 : 0);
    case 'Xor':
      return (a, b) => ((a ? 1 : 0) ^ (b ? 1 : 0));
    default:
      return undefined;
  }
}

/** Gather along `axis` with (already non-negative) indices. */
export function gatherValues(
  values: readonly number[],
  dims: readonly number[],
  indices: readonly number[],
  idxDims: readonly number[],
  axis: number,
): { dims: number[]; values: number[] } {
  const outer = numel(dims.slice(0, axis));
  const inner = numel(dims.slice(axis + 1));
  const n = dims[axis];
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices) {
      const i = raw < 0 ? raw + n : raw;
      for (let k = 0; k < inner; k++) out.push(values[(o * n + i) * inner + k]);
    }
  }
  return { dims: [...dims.slice(0, axis), ...idxDims, ...dims.slice(axis + 1)], values: out };
}

export function transposeValues(values: readonly number[], dims: readonly number[], perm: readonly number[]): number[] {
  const outDims = perm.map((p) => dims[p]);
  const src = stridesOf(dims);
  const dst = stridesOf(outDims);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    let rem = i;
    let off = 0;
    for (let a = 0; a < outDims.length; a++) {
      const idx = Math.floor(rem / dst[a]);
      rem -= idx * dst[a];
      off += idx * src[perm[a]];
    }
    out[i] = values[off];
  }
  return out;
}

/** Normalised Slice parameters for one axis (ONNX Slice-13 semantics, clamping included). */
export function normSlice(start: number, end: number, step: number, dim: number): { start: number; end: number; step: number; len: number } {
  if (step === 0) throw new RangeError('Slice step 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const len = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, end: e, step, len };
}

/** General strided slice of a small tensor: per axis, output index j reads start + j*step. */
export function sliceValues(
  values: readonly number[],
  dims: readonly number[],
  per: readonly { start: number; step: number; len: number }[],
): number[] {
  const outDims = per.map((p) => p.len);
  const src = stridesOf(dims);
  const dst = stridesOf(outDims);
  const n = numel(outDims);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let a = 0; a < dims.length; a++) {
      const idx = Math.floor(rem / dst[a]);
      rem -= idx * dst[a];
      off += (per[a].start + idx * per[a].step) * src[a];
    }
    out[i] = values[off];
  }
  return out;
}
