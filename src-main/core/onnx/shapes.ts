/**
 * Static shape inference with constant folding for one chosen input size (batch 1, H, W, seq).
 * Every tensor gets dtype + concrete dims; small integer/float tensors whose inputs are all known
 * also get their values (the exporter's Shape→Gather→Concat→Reshape plumbing, Slice bounds, scale
 * constants), so the derived graphs can use static Reshape targets / pads / axes.
 * Inference is tolerant: a node it cannot handle only marks its outputs unknown with a reason;
 * callers ask for the tensors they need with `need()` and get a typed error if one is unknown.
 *
 * Over 400 lines on purpose: it is one dispatch table of per-op shape/folding rules that share the same few
 * folding helpers; split by op family, every part would import the others' helpers and the table would be
 * assembled from five files for no gain in clarity.
 */
import { OnnxDeriveError } from './errors';
import type { Graph } from './graph';
import {
  DT,
  attr,
  attrInt,
  attrInts,
  attrString,
  tensorValues,
  type NodeProto,
  type TensorProto,
} from './proto';
import {
  UNARY,
  binaryFn,
  broadcastShapes,
  broadcastTo,
  castValue,
  gatherValues,
  normSlice,
  numel,
  sliceValues,
  transposeValues,
} from './fold';
import { windowGeom, windowOutSize } from './convgeom';

export interface TInfo {
  dtype: number;
  shape: number[];
  /** Known values (row-major) for small folded tensors. */
  value?: number[];
}

export class ShapeInfo {
  constructor(
    readonly infos: Map<string, TInfo>,
    readonly failures: Map<string, string>,
  ) {}
  has(name: string): boolean {
    return this.infos.has(name);
  }
  need(name: string): TInfo {
    const t = this.infos.get(name);
    if (!t) {
      throw new OnnxDeriveError(
        'unknown-shape',
        `static shape of tensor "${name}" is unknown: ${this.failures.get(name) ?? 'not computed'}`,
        { tensor: name },
      );
    }
    return t;
  }
  shape(name: string): number[] {
    return this.need(name).shape;
  }
  value(name: string): number[] | undefined {
    return this.infos.get(name)?.value;
  }
}

/** Largest tensor whose values are folded (shape plumbing is tiny; activations must never be). */
export const MAX_FOLD = 4096;

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

const UNARY_SAME = new Set([
  'Identity', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Sin', 'Cos', 'Tanh', 'Sigmoid', 'Erf', 'Relu',
  'Floor', 'Ceil', 'Round', 'Sign', 'Softmax', 'LogSoftmax', 'LeakyRelu', 'HardSigmoid', 'Softplus', 'Gelu',
  'Elu', 'Selu', 'Clip', 'CumSum', 'Trilu', 'InstanceNormalization', 'GroupNormalization', 'Not', 'Mish',
  'HardSwish', 'ScatterND', 'ScatterElements', 'Atan', 'Asin', 'Acos', 'Tan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Softsign', 'ThresholdedRelu', 'Shrink', 'IsNaN', 'IsInf', 'BitwiseNot',
]);
const BOOL_OUT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Min', 'Max', 'Sum', 'Mean', 'Equal', 'Less',
  'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceSumSquare', 'ReduceL1', 'ReduceLogSumExp']);

/** Axes of a Reduce* node: attribute before opset 18 (13 for ReduceSum), input from then on. */
export function reduceAxes(node: NodeProto, opset: number, axesValue: number[] | undefined, rank: number): number[] {
  const asInput = node.opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const axes = asInput ? axesValue : attrInts(node, 'axes');
  if (asInput && node.input[1] && axesValue === undefined) {
    throw new OnnxDeriveError('shape-inference', `axes of ${node.opType} "${node.name}" are not constant`, { node: node.name });
  }
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return [...Array(rank).keys()];
  }
  return axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
}

/** Resolve a Reshape target (0 = copy unless allowzero, -1 = infer). */
export function reshapeTarget(inShape: readonly number[], target: readonly number[], allowzero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowzero ? inShape[i] : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = out.reduce((a, d, i) => (i === neg ? a : a * d), 1);
    out[neg] = numel(inShape) / known;
  }
  if (numel(out) !== numel(inShape)) throw new RangeError(`cannot reshape [${inShape}] to [${target}]`);
  return out;
}

/** Per-axis normalised Slice parameters for every axis of `shape` (untouched axes: full range). */
export function sliceParams(
  shape: readonly number[],
  starts: number[],
  ends: number[],
  axes: number[] | undefined,
  steps: number[] | undefined,
): { start: number; end: number; step: number; len: number }[] {
  const per = shape.map((d) => ({ start: 0, end: d, step: 1, len: d }));
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((a0, i) => {
    const a = normAxis(a0, shape.length);
    per[a] = normSlice(starts[i], ends[i], steps ? steps[i] : 1, shape[a]);
  });
  return per;
}

/** Split sizes of a Split node (attribute <13, input ≥13, num_outputs ≥18, else equal parts). */
export function splitSizes(node: NodeProto, opset: number, splitValue: number[] | undefined, dim: number): number[] {
  const n = node.output.length;
  const sizes = opset >= 13 ? splitValue : attrInts(node, 'split');
  if (sizes && sizes.length) return sizes;
  if (opset >= 13 && node.input[1] && !splitValue) {
    throw new OnnxDeriveError('shape-inference', `split sizes of "${node.name}" are not constant`, { node: node.name });
  }
  const chunk = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

/** Pads of a Pad node as [begin..., end...] over all axes. */
export function padPads(node: NodeProto, rank: number, padsValue: number[] | undefined, axesValue: number[] | undefined): number[] {
  if (!padsValue) throw new OnnxDeriveError('shape-inference', `pads of Pad "${node.name}" are not constant`, { node: node.name });
  if (!axesValue) return padsValue;
  const full = new Array(2 * rank).fill(0);
  axesValue.forEach((a0, i) => {
    const a = normAxis(a0, rank);
    full[a] = padsValue[i];
    full[a + rank] = padsValue[i + axesValue.length];
  });
  return full;
}

function literalOf(t: TensorProto): TInfo {
  const shape = t.dims.map(Number);
  const value = numel(shape) <= MAX_FOLD ? tensorValues(t) : undefined;
  return { dtype: t.dataType, shape, value };
}

function einsumShape(eq: string, shapes: number[][]): number[] {
  const [lhs, rhs] = eq.replace(/\s+/g, '').split('->');
  const terms = lhs.split(',');
  const sizes = new Map<string, number>();
  let ell: number[] = [];
  terms.forEach((term, k) => {
    const shape = shapes[k];
    const e = term.indexOf('...');
    const letters = term.replace('...', '');
    const nEll = shape.length - letters.length;
    if (e >= 0) ell = broadcastShapes(ell, shape.slice(e, e + nEll)) ?? ell;
    const before = e >= 0 ? term.slice(0, e) : term;
    const after = e >= 0 ? term.slice(e + 3) : '';
    [...before].forEach((c, i) => sizes.set(c, Math.max(sizes.get(c) ?? 1, shape[i])));
    [...after].forEach((c, i) => sizes.set(c, Math.max(sizes.get(c) ?? 1, shape[shape.length - after.length + i])));
  });
  let out = rhs;
  if (out === undefined) {
    const counts = new Map<string, number>();
    for (const c of lhs.replace(/[,.]/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    out = (lhs.includes('...') ? '...' : '') + [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
  }
  const res: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out.startsWith('...', i)) {
      res.push(...ell);
      i += 2;
    } else res.push(sizes.get(out[i])!);
  }
  return res;
}

/** One node: output infos from input infos. Throws (any error) when it cannot infer. */
function inferNode(node: NodeProto, ins: (TInfo | undefined)[], opset: number): TInfo[] {
  const op = node.opType;
  const need = (i: number): TInfo => {
    const t = ins[i];
    if (!t) throw new Error(`input ${i} missing`);
    return t;
  };
  const val = (i: number): number[] | undefined => ins[i]?.value;
  const needVal = (i: number, what: string): number[] => {
    const v = val(i);
    if (!v) throw new Error(`${what} (input ${i}) is not a constant`);
    return v;
  };
  const fold = (dtype: number, shape: number[], f: () => number[]): TInfo =>
    numel(shape) <= MAX_FOLD ? { dtype, shape, value: f().map((v) => castValue(v, dtype)) } : { dtype, shape };
  const allVals = (idx: number[]): boolean => idx.every((i) => !node.input[i] || ins[i]?.value !== undefined);

  if (op === 'Constant') {
    const a = node.attribute[0];
    if (!a) throw new Error('Constant without value');
    if (a.name === 'value' && a.t) return [literalOf(a.t)];
    if (a.name === 'value_float') return [{ dtype: DT.FLOAT, shape: [], value: [a.f] }];
    if (a.name === 'value_floats') return [{ dtype: DT.FLOAT, shape: [a.floats.length], value: a.floats.slice() }];
    if (a.name === 'value_int') return [{ dtype: DT.INT64, shape: [], value: [Number(a.i)] }];
    if (a.name === 'value_ints') return [{ dtype: DT.INT64, shape: [a.ints.length], value: a.ints.map(Number) }];
    throw new Error(`Constant attribute ${a.name}`);
  }
  if (op === 'Dropout') {
    const t = need(0);
    return [{ ...t }, { dtype: DT.BOOL, shape: t.shape }];
  }
  if (op === 'Cast' || op === 'CastLike') {
    const t = need(0);
    const to = op === 'Cast' ? attrInt(node, 'to', DT.FLOAT) : need(1).dtype;
    return [t.value ? { dtype: to, shape: t.shape, value: t.value.map((v) => castValue(v, to)) } : { dtype: to, shape: t.shape }];
  }
  if (op === 'LayerNormalization') {
    const t = need(0);
    const axis = normAxis(attrInt(node, 'axis', -1), t.shape.length);
    const stat = t.shape.map((d, i) => (i < axis ? d : 1));
    return [{ dtype: t.dtype, shape: t.shape }, { dtype: DT.FLOAT, shape: stat }, { dtype: DT.FLOAT, shape: stat }];
  }
  if (UNARY_SAME.has(op)) {
    const t = need(0);
    const dtype = BOOL_OUT.has(op) ? DT.BOOL : t.dtype;
    const f = UNARY[op];
    if (f && t.value) return [fold(dtype, t.shape, () => t.value!.map(f))];
    return [{ dtype, shape: t.shape.slice() }];
  }
  if (BINARY.has(op) || op === 'Where') {
    const shapes = ins.filter((t): t is TInfo => !!t).map((t) => t.shape);
    if (shapes.length !== node.input.filter((s) => s).length) throw new Error('missing input');
    const shape = broadcastShapes(...shapes);
    if (!shape) throw new Error(`incompatible broadcast ${shapes.map((s) => `[${s}]`).join(' ')}`);
    const dtype = BOOL_OUT.has(op) ? DT.BOOL : op === 'Where' ? need(1).dtype : need(0).dtype;
    if (allVals(ins.map((_, i) => i))) {
      const vs = ins.map((t) => broadcastTo(t!.value!, t!.shape, shape));
      if (op === 'Where') return [fold(dtype, shape, () => vs[0].map((c, i) => (c ? vs[1][i] : vs[2][i])))];
      const f = op === 'Sum' ? binaryFn('Add', dtype) : binaryFn(op, need(0).dtype);
      if (f) return [fold(dtype, shape, () => vs[0].map((_, i) => vs.slice(1).reduce((acc, v) => f(acc, v[i]), vs[0][i])))];
    }
    return [{ dtype, shape }];
  }
  switch (op) {
    case 'Shape': {
      const t = need(0);
      const r = t.shape.length;
      let s = attrInt(node, 'start', 0);
      let e = attrInt(node, 'end', r);
      s = Math.min(Math.max(normAxis(s, r), 0), r);
      e = Math.min(Math.max(normAxis(e, r), 0), r);
      const v = t.shape.slice(s, e);
      return [{ dtype: DT.INT64, shape: [v.length], value: v }];
    }
    case 'Size':
      return [{ dtype: DT.INT64, shape: [], value: [numel(need(0).shape)] }];
    case 'ConstantOfShape': {
      const shape = needVal(0, 'shape');
      const a = attr(node, 'value');
      const lit = a?.t ? literalOf(a.t) : { dtype: DT.FLOAT, shape: [1], value: [0] };
      return [fold(lit.dtype, shape, () => new Array(numel(shape)).fill(lit.value![0]))];
    }
    case 'Gather': {
      const t = need(0);
      const idx = need(1);
      const axis = normAxis(attrInt(node, 'axis', 0), t.shape.length);
      const shape = [...t.shape.slice(0, axis), ...idx.shape, ...t.shape.slice(axis + 1)];
      if (t.value && idx.value) return [fold(t.dtype, shape, () => gatherValues(t.value!, t.shape, idx.value!, idx.shape, axis).values)];
      return [{ dtype: t.dtype, shape }];
    }
    case 'Unsqueeze': {
      const t = need(0);
      const axes = opset >= 13 ? needVal(1, 'axes') : attrInts(node, 'axes')!;
      const r = t.shape.length + axes.length;
      const ax = new Set(axes.map((a) => normAxis(a, r)));
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) shape.push(ax.has(i) ? 1 : t.shape[k++]);
      return [{ dtype: t.dtype, shape, value: t.value?.slice() }];
    }
    case 'Squeeze': {
      const t = need(0);
      const axes = opset >= 13 ? val(1) : attrInts(node, 'axes');
      if (opset >= 13 && node.input[1] && !axes) throw new Error('axes not constant');
      const ax = new Set((axes ?? t.shape.map((d, i) => (d === 1 ? i : -999)).filter((i) => i >= 0)).map((a) => normAxis(a, t.shape.length)));
      return [{ dtype: t.dtype, shape: t.shape.filter((_, i) => !ax.has(i)), value: t.value?.slice() }];
    }
    case 'Reshape': {
      const t = need(0);
      const shape = reshapeTarget(t.shape, needVal(1, 'shape'), attrInt(node, 'allowzero', 0) === 1);
      return [{ dtype: t.dtype, shape, value: t.value?.slice() }];
    }
    case 'Flatten': {
      const t = need(0);
      const axis = normAxis(attrInt(node, 'axis', 1), t.shape.length);
      return [{ dtype: t.dtype, shape: [numel(t.shape.slice(0, axis)), numel(t.shape.slice(axis))], value: t.value?.slice() }];
    }
    case 'Expand': {
      const t = need(0);
      const shape = broadcastShapes(t.shape, needVal(1, 'shape'));
      if (!shape) throw new Error('incompatible Expand');
      if (t.value) return [fold(t.dtype, shape, () => broadcastTo(t.value!, t.shape, shape))];
      return [{ dtype: t.dtype, shape }];
    }
    case 'Tile': {
      const t = need(0);
      const reps = needVal(1, 'repeats');
      const shape = t.shape.map((d, i) => d * reps[i]);
      if (t.value) {
        return [fold(t.dtype, shape, () => {
          // Tile = modular indexing of each axis
          const out: number[] = [];
          const str = shape.map((_, a) => numel(shape.slice(a + 1)));
          const src = t.shape.map((_, a) => numel(t.shape.slice(a + 1)));
          for (let i = 0; i < numel(shape); i++) {
            let off = 0;
            for (let a = 0; a < shape.length; a++) off += (Math.floor(i / str[a]) % shape[a] % t.shape[a]) * src[a];
            out.push(t.value![off]);
          }
          return out;
        })];
      }
      return [{ dtype: t.dtype, shape }];
    }
    case 'Transpose': {
      const t = need(0);
      const perm = attrInts(node, 'perm') ?? t.shape.map((_, i) => t.shape.length - 1 - i);
      const shape = perm.map((p) => t.shape[p]);
      if (t.value) return [fold(t.dtype, shape, () => transposeValues(t.value!, t.shape, perm))];
      return [{ dtype: t.dtype, shape }];
    }
    case 'Concat': {
      const ts = node.input.map((_, i) => need(i));
      const r = ts[0].shape.length;
      const axis = normAxis(attrInt(node, 'axis', 0), r);
      const shape = ts[0].shape.slice();
      shape[axis] = ts.reduce((a, t) => a + t.shape[axis], 0);
      if (ts.every((t) => t.value)) {
        return [fold(ts[0].dtype, shape, () => {
          const outer = numel(shape.slice(0, axis));
          const out: number[] = [];
          for (let o = 0; o < outer; o++) {
            for (const t of ts) {
              const chunk = numel(t.shape.slice(axis));
              out.push(...t.value!.slice(o * chunk, (o + 1) * chunk));
            }
          }
          return out;
        })];
      }
      return [{ dtype: ts[0].dtype, shape }];
    }
    case 'Slice': {
      const t = need(0);
      const per = sliceParams(t.shape, needVal(1, 'starts'), needVal(2, 'ends'), node.input[3] ? needVal(3, 'axes') : undefined,
        node.input[4] ? needVal(4, 'steps') : undefined);
      const shape = per.map((p) => p.len);
      if (t.value) return [fold(t.dtype, shape, () => sliceValues(t.value!, t.shape, per))];
      return [{ dtype: t.dtype, shape }];
    }
    case 'Split': {
      const t = need(0);
      const axis = normAxis(attrInt(node, 'axis', 0), t.shape.length);
      const sizes = splitSizes(node, opset, val(1), t.shape[axis]);
      return sizes.map((s) => {
        const shape = t.shape.slice();
        shape[axis] = s;
        return { dtype: t.dtype, shape };
      });
    }
    case 'Range': {
      const [s, l, d] = [needVal(0, 'start')[0], needVal(1, 'limit')[0], needVal(2, 'delta')[0]];
      const n = Math.max(0, Math.ceil((l - s) / d));
      return [fold(need(0).dtype, [n], () => Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case 'Pad': {
      const t = need(0);
      const r = t.shape.length;
      const pads = opset >= 11 ? padPads(node, r, val(1), node.input[3] ? needVal(3, 'axes') : undefined) : attrInts(node, 'pads')!;
      return [{ dtype: t.dtype, shape: t.shape.map((d, i) => d + pads[i] + pads[i + r]) }];
    }
    case 'MatMul': {
      const a = need(0).shape;
      const b = need(1).shape;
      const a2 = a.length === 1 ? [1, a[0]] : a;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
      if (!batch || a2[a2.length - 1] !== b2[b2.length - 2]) throw new Error(`MatMul [${a}]x[${b}]`);
      const shape = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])];
      return [{ dtype: need(0).dtype, shape }];
    }
    case 'Gemm': {
      const a = need(0).shape;
      const b = need(1).shape;
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      return [{ dtype: need(0).dtype, shape: [m, n] }];
    }
    case 'Einsum':
      return [{ dtype: need(0).dtype, shape: einsumShape(attrString(node, 'equation', ''), node.input.map((_, i) => need(i).shape)) }];
    case 'Conv':
    case 'AveragePool':
    case 'MaxPool':
    case 'LpPool': {
      const t = need(0);
      const sp = t.shape.slice(2);
      const kernel = op === 'Conv' ? need(1).shape.slice(2) : attrInts(node, 'kernel_shape')!;
      const out = windowOutSize(windowGeom(node, sp, kernel), sp);
      const c = op === 'Conv' ? need(1).shape[0] : t.shape[1];
      return [{ dtype: t.dtype, shape: [t.shape[0], c, ...out] }];
    }
    case 'ConvTranspose': {
      const t = need(0);
      const w = need(1).shape;
      const sp = t.shape.slice(2);
      const r = sp.length;
      const group = attrInt(node, 'group', 1);
      const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
      const dil = attrInts(node, 'dilations') ?? new Array(r).fill(1);
      const op2 = attrInts(node, 'output_padding') ?? new Array(r).fill(0);
      const outShape = attrInts(node, 'output_shape');
      const kernel = w.slice(2);
      const pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
      if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET' || outShape) {
        // output size is given (output_shape) or is in·stride (SAME_*); pads are derived by ORT
        const out = outShape ?? sp.map((d, i) => d * strides[i]);
        return [{ dtype: t.dtype, shape: [t.shape[0], w[1] * group, ...out.slice(-r)] }];
      }
      const out = sp.map((d, i) => strides[i] * (d - 1) + op2[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + r]);
      return [{ dtype: t.dtype, shape: [t.shape[0], w[1] * group, ...out] }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const t = need(0);
      return [{ dtype: t.dtype, shape: t.shape.map((d, i) => (i < 2 ? d : 1)) }];
    }
    case 'Resize':
    case 'Upsample': {
      const t = need(0);
      const sizes = op === 'Resize' ? val(3) : undefined;
      const scales = op === 'Resize' ? val(2) : val(1);
      let shape: number[];
      if (sizes && sizes.length) shape = sizes.slice();
      else if (scales && scales.length) shape = t.shape.map((d, i) => Math.floor(d * scales[i]));
      else throw new Error('Resize scales/sizes are not constant');
      if (attr(node, 'axes')) throw new Error('Resize axes attribute');
      return [{ dtype: t.dtype, shape }];
    }
    default:
      if (REDUCE.has(op)) {
        const t = need(0);
        const axes = reduceAxes(node, opset, val(1), t.shape.length);
        const keep = attrInt(node, 'keepdims', 1) === 1;
        const shape = keep ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : t.shape.filter((_, i) => !axes.includes(i));
        if (t.value && (op === 'ReduceProd' || op === 'ReduceSum' || op === 'ReduceMax' || op === 'ReduceMin') && axes.length === t.shape.length) {
          const f = op === 'ReduceProd' ? (a: number, b: number) => a * b : op === 'ReduceSum' ? (a: number, b: number) => a + b : op === 'ReduceMax' ? (a: number, b: number) => Math.max(a, b) : (a: number, b: number) => Math.min(a, b);
          return [fold(t.dtype, shape, () => [t.value!.reduce(f)])];
        }
        return [{ dtype: t.dtype, shape }];
      }
      throw new Error(`no shape rule for ${op}`);
  }
}

/**
 * Infer static shapes for the whole graph given concrete shapes of the graph inputs.
 * `stopAt`: optional set of tensors; nodes not needed to compute them are still inferred
 * (candidate listing wants every tensor) — inference is cheap.
 */
export function inferShapes(g: Graph, inputShapes: Map<string, { dtype: number; dims: number[] }>): ShapeInfo {
  const infos = new Map<string, TInfo>();
  const failures = new Map<string, string>();
  for (const [name, t] of g.inits) infos.set(name, literalOf(t));
  for (const [name, s] of inputShapes) infos.set(name, { dtype: s.dtype, shape: s.dims.slice() });
  for (const node of g.nodes) {
    const bad = node.input.find((i) => i && !infos.has(i));
    if (bad) {
      const why = failures.get(bad) ?? `input "${bad}" has no shape`;
      for (const o of node.output) if (o) failures.set(o, why);
      continue;
    }
    try {
      const ins = node.input.map((i) => (i ? infos.get(i) : undefined));
      const outs = inferNode(node, ins, g.opset);
      node.output.forEach((o, k) => {
        if (o && outs[k]) infos.set(o, outs[k]);
      });
    } catch (e) {
      const why = `${node.opType} node "${node.name}": ${(e as Error).message}`;
      for (const o of node.output) if (o) failures.set(o, why);
    }
  }
  return new ShapeInfo(infos, failures);
}

