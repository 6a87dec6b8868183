/**
 * Single-op graphs for cases the ONNX backend node tests do not cover in float32: Einsum contractions
 * (the backend tests are float64), opset-18 spellings (ReduceMean axes input, Split num_outputs, Pad
 * axes), negative Pad, strided and reversed Slice, Resize nearest with torch/ONNX coordinate modes,
 * MatMul where the active operand has lower rank than the primal one, Gemm with both operands active,
 * the other unary ops with rules. Same checks as the node tests, both optimisation levels.
 */
import { afterAll, describe, it } from 'vitest';
import { DT } from '../../src-main/core/onnx/proto';
import { LEVELS, expectDerivativesPass, TestGraph, checkDerivatives, randn, Worst } from './onnx-harness';

interface OpCase {
  opset?: number;
  x: number[];
  out: number[];
  build(g: TestGraph, x: string): string;
  /** keep x away from singular points (Log, Sqrt) */
  positive?: boolean;
}

const CASES: Record<string, OpCase> = {
  'Einsum bct,bcs->bts (ADM attention weights)': { x: [2, 3, 4], out: [2, 4, 4], build: (g, x) => g.op('Einsum', [x, g.op('Mul', [x, g.weight([2, 3, 4])])], { equation: 'bct,bcs->bts' }) },
  'Einsum bts,bcs->bct with a primal operand': { x: [2, 4, 4], out: [2, 3, 4], build: (g, x) => g.op('Einsum', [x, g.weight([2, 3, 4])], { equation: 'bts,bcs->bct' }) },
  'Einsum ij->i (summed-out letter)': { x: [3, 4], out: [3], build: (g, x) => g.op('Einsum', [x], { equation: 'ij->i' }) },
  'Einsum ...ij,jk->...ik (ellipsis)': { x: [2, 3, 4], out: [2, 3, 5], build: (g, x) => g.op('Einsum', [x, g.weight([4, 5])], { equation: '...ij,jk->...ik' }) },
  'Einsum i,i (implicit output, both active)': { x: [5], out: [], build: (g, x) => g.op('Einsum', [x, x], { equation: 'i,i' }) },
  'ReduceMean opset 18 (axes input)': { opset: 18, x: [2, 3, 4], out: [2, 1, 4], build: (g, x) => g.op('ReduceMean', [x, g.i64([1])], { keepdims: 1 }) },
  'Split opset 18 num_outputs': { opset: 18, x: [2, 6], out: [2, 3], build: (g, x) => g.opN('Split', [x], { axis: 1, num_outputs: 2 }, 'Split', 2)[1] },
  'Pad opset 18 with axes': { opset: 18, x: [1, 2, 3, 3], out: [1, 2, 4, 6], build: (g, x) => g.op('Pad', [x, g.i64([0, 1, 1, 2]), '', g.i64([2, 3])]) },
  'Pad with negative pads (crop)': { x: [1, 2, 5, 5], out: [1, 2, 4, 5], build: (g, x) => g.op('Pad', [x, g.i64([0, 0, -1, 1, 0, 0, 0, -1])]) },
  'Slice step 2 and reversed': {
    x: [4, 7],
    out: [2, 7],
    build: (g, x) => g.op('Slice', [x, g.i64([3, -1]), g.i64([-10, -(2 ** 63)]), g.i64([0, 1]), g.i64([-2, -1])]),
  },
  'Slice step 3 from Shape arithmetic': { x: [2, 10], out: [2, 3], build: (g, x) => g.op('Slice', [x, g.i64([1]), g.i64([9]), g.i64([1]), g.i64([3])]) },
  'Resize nearest ×2 half_pixel/round_prefer_floor (ONNX default)': {
    x: [1, 2, 3, 3],
    out: [1, 2, 6, 6],
    build: (g, x) => g.op('Resize', [x, '', g.floats([4], [1, 1, 2, 2])], { mode: 'nearest' }),
  },
  'Resize nearest ×3 by sizes, asymmetric/floor (torch)': {
    x: [1, 2, 2, 3],
    out: [1, 2, 6, 9],
    build: (g, x) => g.op('Resize', [x, '', '', g.i64([1, 2, 6, 9])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
  },
  'MatMul: active rank-2 operand against rank-4 primal': { x: [3, 5], out: [2, 4, 3, 6], build: (g, x) => g.op('MatMul', [x, g.weight([2, 4, 5, 6])]) },
  'MatMul: rank-4 primal against active rank-2': { x: [5, 6], out: [2, 4, 3, 6], build: (g, x) => g.op('MatMul', [g.weight([2, 4, 3, 5]), x]) },
  'Gemm with A, B and C all depending on x': {
    x: [4, 4],
    out: [4, 4],
    build: (g, x) => g.op('Gemm', [x, g.op('Sigmoid', [x]), g.op('ReduceSum', [x, g.i64([0])], { keepdims: 1 })], { transA: 1, transB: 1, alpha: { float: 0.7 }, beta: { float: 1.3 } }),
  },
  'Tanh, Exp, Neg, Softplus chain': { x: [3, 4], out: [3, 4], build: (g, x) => g.op('Softplus', [g.op('Neg', [g.op('Exp', [g.op('Tanh', [x])])])]) },
  'Log of positive input': { x: [3, 4], out: [3, 4], positive: true, build: (g, x) => g.op('Log', [x]) },
  'Pow with non-integer exponent': { x: [3, 4], out: [3, 4], positive: true, build: (g, x) => g.op('Pow', [x, g.floats([], [1.7])]) },
  'Cast float→double→float around Mul': {
    x: [3, 4],
    out: [3, 4],
    build: (g, x) => {
      const d = g.op('Cast', [x], { to: DT.DOUBLE });
      return g.op('Cast', [g.op('Mul', [d, d])], { to: DT.FLOAT });
    },
  },
  'GroupNormalization-18 (scale per group)': {
    opset: 18,
    x: [1, 6, 3, 3],
    out: [1, 6, 3, 3],
    build: (g, x) => g.op('GroupNormalization', [x, g.weight([3], 0.5), g.weight([3], 0.5)], { num_groups: 3, epsilon: { float: 1e-5 } }),
  },
  'GroupNormalization-21 (scale per channel)': {
    opset: 21,
    x: [1, 6, 3, 3],
    out: [1, 6, 3, 3],
    build: (g, x) => g.op('GroupNormalization', [x, g.weight([6], 0.5), g.weight([6], 0.5)], { num_groups: 2, epsilon: { float: 1e-5 } }),
  },
  'Gelu-20 exact': { opset: 20, x: [3, 4], out: [3, 4], build: (g, x) => g.op('Gelu', [x]) },
  'Gelu-20 tanh approximation': { opset: 20, x: [3, 4], out: [3, 4], build: (g, x) => g.op('Gelu', [x], { approximate: 'tanh' }) },
  'Erf-GELU chain with 0.5 applied to x first (fused as Gelu)': {
    x: [3, 4],
    out: [3, 4],
    build: (g, x) => {
      const e = g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.floats([], [Math.SQRT1_2])])]), g.floats([], [1])]);
      return g.op('Mul', [g.op('Mul', [x, g.floats([], [0.5])]), e]);
    },
  },
  'LogSoftmax axis 1': { x: [2, 5, 3], out: [2, 5, 3], build: (g, x) => g.op('LogSoftmax', [x], { axis: 1 }) },
  'LeakyRelu, Elu, Abs, Clip': {
    x: [4, 5],
    out: [4, 5],
    build: (g, x) =>
      g.op('Clip', [g.op('Abs', [g.op('Elu', [g.op('LeakyRelu', [x], { alpha: { float: 0.2 } })], { alpha: { float: 0.7 } })]), g.floats([], [0.1]), g.floats([], [1.5])]),
  },
  'Tile': { x: [2, 1, 3], out: [4, 3, 6], build: (g, x) => g.op('Tile', [g.op('Mul', [x, x]), g.i64([2, 3, 2])]) },
  'Flatten + Expand + Unsqueeze': {
    opset: 14,
    x: [2, 3, 1],
    out: [4, 2, 3, 5],
    build: (g, x) => g.op('Expand', [g.op('Unsqueeze', [g.op('Flatten', [x], { axis: 1 }), g.i64([2])]), g.i64([4, 2, 3, 5])]),
  },
};

const worst = new Worst();

describe('single-op graphs', () => {
  afterAll(() => worst.print('onnx-ops-extra'));
  it.each(Object.keys(CASES))('%s', async (name) => {
    const c = CASES[name];
    const g = new TestGraph(c.opset ?? 17);
    const model = g.model([{ name: 'x', dims: c.x }], c.build(g, 'x'), c.out);
    const n = c.x.reduce((a, b) => a * b, 1);
    const data = randn(n, 77);
    if (c.positive) for (let i = 0; i < n; i++) data[i] = 0.5 + Math.abs(data[i]);
    for (const level of LEVELS) {
      const r = await checkDerivatives(model, { dims: c.x, data }, {}, { x: 'x', h: 'out', inputDims: { x: c.x }, tangents: 3 }, level, 5);
      worst.add(`${name} ${level}`, r);
      expectDerivativesPass(r, level);
    }
  });
});
