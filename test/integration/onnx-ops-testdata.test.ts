/**
 * Per-op conformance on the ONNX project's backend node tests (libonnx-testdata 1.12, copied to
 * test/fixtures/onnx-ops/testdata so CI needs no Debian package). For each case:
 *  1. ORT runs the original model on the stored inputs and must reproduce the stored output
 *     (validates reading the test data);
 *  2. the non-x inputs are frozen into initializers, our `forward` graph must reproduce the same
 *     output (validates our graph reading, shape folding and primal emission);
 *  3. jvp/vjp/pullback pass the dot-product test (< 1e-6), central differences, pullback = vjp∘jvp,
 *     batch consistency — with graph optimisation 'disabled' and 'all'.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create, fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import { deriveGraph, OnnxDeriveError } from '../../src-main/core/onnx';
import { makeTensor, tensorValues, writeModel } from '../../src-main/core/onnx/proto';
import { TensorProtoSchema } from 'onnx-buf';
import { LEVELS, expectDerivativesPass, checkDerivatives, readPb, relErr, run, session, type Arr, Worst } from './onnx-harness';

const ROOT = path.resolve(__dirname, '../fixtures/onnx-ops/testdata');

/** Ops whose schema changed before opset 13 (lifting an older test model to 13 would change its meaning). */
const NOT_LIFTABLE = new Set(['Softmax', 'LogSoftmax', 'Split', 'Squeeze', 'Unsqueeze', 'ReduceSum', 'Pad', 'Resize', 'Upsample', 'Clip', 'Slice']);

interface Case {
  dir: string;
  /** index of the model input differentiated (x) */
  x: number;
  /** index of the graph output used as h */
  out?: number;
}

const both = (dir: string): Case[] => [{ dir, x: 0 }, { dir, x: 1 }];
const CASES: Case[] = [
  ...['test_basic_conv_with_padding', 'test_basic_conv_without_padding', 'test_conv_with_autopad_same', 'test_conv_with_strides_and_asymmetric_padding',
    'test_conv_with_strides_no_padding', 'test_conv_with_strides_padding'].map((dir) => ({ dir, x: 0 })),
  ...['test_convtranspose', 'test_convtranspose_1d', 'test_convtranspose_3d', 'test_convtranspose_dilations', 'test_convtranspose_pads'].map((dir) => ({ dir, x: 0 })),
  { dir: 'test_constant_pad', x: 0 },
  { dir: 'test_instancenorm_epsilon', x: 0 },
  { dir: 'test_instancenorm_example', x: 0 },
  ...['2d_axis0', '2d_axis1', '3d_axis1_epsilon', '3d_axis_negative_1_epsilon', '4d_axis1', '4d_axis_negative_2', 'default_axis']
    .flatMap((s) => [`test_layer_normalization_${s}`, `test_layer_normalization_${s}_expanded`]).map((dir) => ({ dir, x: 0 })),
  { dir: 'test_sigmoid', x: 0 },
  { dir: 'test_sigmoid_example', x: 0 },
  { dir: 'test_erf', x: 0 },
  ...['test_softmax_axis_0', 'test_softmax_axis_1', 'test_softmax_axis_2', 'test_softmax_default_axis', 'test_softmax_negative_axis', 'test_softmax_example']
    .map((dir) => ({ dir, x: 0 })),
  ...['test_matmul_2d', 'test_matmul_3d', 'test_matmul_4d'].flatMap(both),
  ...['test_gemm_all_attributes', 'test_gemm_alpha', 'test_gemm_beta', 'test_gemm_default_matrix_bias', 'test_gemm_default_no_bias',
    'test_gemm_default_scalar_bias', 'test_gemm_default_single_elem_vector_bias', 'test_gemm_default_vector_bias', 'test_gemm_transposeA',
    'test_gemm_transposeB'].flatMap(both),
  { dir: 'test_gemm_all_attributes', x: 2 },
  { dir: 'test_gemm_default_matrix_bias', x: 2 },
  ...['test_add', 'test_add_bcast', 'test_sub', 'test_sub_bcast', 'test_mul', 'test_mul_bcast', 'test_div', 'test_div_bcast'].flatMap(both),
  ...['test_pow_bcast_array', 'test_pow_bcast_scalar', 'test_pow_example'].map((dir) => ({ dir, x: 0 })),
  ...['test_sqrt', 'test_sqrt_example', 'test_reciprocal', 'test_reciprocal_example', 'test_identity'].map((dir) => ({ dir, x: 0 })),
  ...['extended_dims', 'negative_dim', 'negative_extended_dims', 'one_dim', 'reduced_dims', 'reordered_all_dims', 'reordered_last_dims',
    'zero_and_negative_dim', 'zero_dim'].map((s) => ({ dir: `test_reshape_${s}`, x: 0 })),
  ...['default', 'all_permutations_0', 'all_permutations_1', 'all_permutations_2', 'all_permutations_3', 'all_permutations_4', 'all_permutations_5']
    .map((s) => ({ dir: `test_transpose_${s}`, x: 0 })),
  ...['test_slice', 'test_slice_default_axes', 'test_slice_default_steps', 'test_slice_end_out_of_bounds', 'test_slice_neg', 'test_slice_neg_steps',
    'test_slice_negative_axes', 'test_slice_start_out_of_bounds'].map((dir) => ({ dir, x: 0 })),
  ...['equal_parts_1d', 'equal_parts_2d', 'equal_parts_default_axis', 'variable_parts_1d', 'variable_parts_2d', 'variable_parts_default_axis']
    .flatMap((s) => [{ dir: `test_split_${s}`, x: 0, out: 0 }, { dir: `test_split_${s}`, x: 0, out: 1 }]),
  ...['1d_axis_0', '2d_axis_0', '2d_axis_1', '2d_axis_negative_2', '3d_axis_1', '3d_axis_negative_1'].flatMap((s) => both(`test_concat_${s}`)),
  ...['test_squeeze', 'test_squeeze_negative_axes', 'test_unsqueeze_axis_0', 'test_unsqueeze_axis_1', 'test_unsqueeze_axis_2', 'test_unsqueeze_two_axes',
    'test_unsqueeze_three_axes', 'test_unsqueeze_unsorted_axes', 'test_unsqueeze_negative_axes', 'test_expand_dim_changed', 'test_expand_dim_unchanged']
    .map((dir) => ({ dir, x: 0 })),
  { dir: 'test_where_example', x: 1 },
  { dir: 'test_where_example', x: 2 },
  ...['1d_default', '2d_default', '2d_ceil', '2d_pads', '2d_pads_count_include_pad', '2d_precomputed_pads', '2d_precomputed_pads_count_include_pad',
    '2d_precomputed_strides', '2d_same_lower', '2d_same_upper', '2d_strides']
    .map((s) => ({ dir: `test_averagepool_${s}`, x: 0 })),
  { dir: 'test_globalaveragepool', x: 0 },
  ...['default_axes_keepdims', 'do_not_keepdims', 'keepdims', 'negative_axes_keepdims'].flatMap((s) => [
    { dir: `test_reduce_mean_${s}_random`, x: 0 },
    { dir: `test_reduce_sum_${s}_random`, x: 0 },
  ]),
  { dir: 'test_reduce_sum_empty_axes_input_noop_random', x: 0 },
  { dir: 'test_resize_upsample_scales_nearest', x: 0 },
];

interface Loaded {
  original: Uint8Array;
  frozen: Uint8Array;
  xName: string;
  x: Arr & { data: Float32Array };
  feeds: Record<string, Arr>;
  hName: string;
  expected: Float32Array;
}

function load(c: Case): Loaded {
  const dir = path.join(ROOT, c.dir);
  const original = new Uint8Array(readFileSync(path.join(dir, 'model.onnx')));
  const m = fromBinary(ModelProtoSchema, original);
  const g = m.graph!;
  const data = path.join(dir, 'test_data_set_0');
  const pbs = readdirSync(data).filter((f) => f.startsWith('input_')).sort((a, b) => Number(a.slice(6, -3)) - Number(b.slice(6, -3)));
  const inputs = pbs.map((f) => readPb(new Uint8Array(readFileSync(path.join(data, f)))));
  const names = g.input.filter((i) => !g.initializer.some((t) => t.name === i.name)).map((i) => i.name);
  const feeds: Record<string, Arr> = {};
  inputs.forEach((inp, i) => (feeds[inp.name || names[i]] = inp.arr));
  const xName = names[c.x];
  const out = c.out ?? 0;
  const hName = g.output[out].name;
  const exp = fromBinary(TensorProtoSchema, new Uint8Array(readFileSync(path.join(data, `output_${out}.pb`))));
  const expected = Float32Array.from(tensorValues(exp)!);
  // freeze every other input as an initializer; lift old opsets where the op's schema is unchanged
  for (const [name, arr] of Object.entries(feeds)) {
    if (name === xName) continue;
    const inp = inputs.find((p) => (p.name || names[inputs.indexOf(p)]) === name)!;
    g.initializer.push(makeTensor(name, inp.dtype, arr.dims, Array.from(arr.data as ArrayLike<number | bigint>, Number)));
  }
  g.input = g.input.filter((i) => i.name === xName);
  g.output = [g.output[out]];
  const opset = Number(m.opsetImport.find((o) => o.domain === '')!.version);
  if (opset < 13) {
    if (g.node.some((n) => NOT_LIFTABLE.has(n.opType))) throw new Error(`${c.dir}: opset ${opset} not liftable`);
    m.opsetImport = [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })];
  }
  const x = feeds[xName] as Arr & { data: Float32Array };
  if (!(x.data instanceof Float32Array)) throw new Error(`${c.dir}: x is not float32`);
  const rest = { ...feeds };
  delete rest[xName];
  return { original, frozen: writeModel(m), xName, x, feeds: rest, hName, expected };
}

const label = (c: Case): string => `${c.dir.replace(/^test_/, '')} x=${c.x}${c.out !== undefined ? ` h=out${c.out}` : ''}`;

const worst = new Worst();

describe('libonnx-testdata node models', () => {
  afterAll(() => worst.print('onnx-ops-testdata'));
  it('covers every case directory', () => {
    for (const c of CASES) expect(existsSync(path.join(ROOT, c.dir, 'model.onnx')), c.dir).toBe(true);
  });
  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const l = load(c);
    const xDims = { [l.xName]: l.x.dims };
    // 1. the original model on the stored inputs reproduces the stored output
    const s0 = await session(l.original, 'disabled');
    const o0 = await run(s0, { ...l.feeds, [l.xName]: l.x });
    expect(relErr(Object.values(o0)[c.out ?? 0].data, l.expected)).toBeLessThan(1e-5);
    await s0.release();
    // 2. our forward graph (frozen inputs, folded shapes) reproduces it too
    const fwd = await deriveGraph(l.frozen, 'forward', { x: l.xName, h: l.hName, inputDims: xDims });
    const s1 = await session(fwd.bytes, 'all');
    expect(relErr((await run(s1, { [l.xName]: l.x })).h.data, l.expected)).toBeLessThan(1e-5);
    await s1.release();
    // 3. derivatives
    for (const level of LEVELS) {
      const r = await checkDerivatives(l.frozen, l.x, {}, { x: l.xName, h: l.hName, inputDims: xDims, tangents: 3 }, level, 11);
      worst.add(`${label(c)} ${level}`, r);
      expectDerivativesPass(r, level);
    }
  });

  it.each([
    ['test_resize_upsample_sizes_nearest', 'unsupported-attr'], // 2→7, 2→8: not block replication
    ['test_resize_upsample_scales_linear', 'unsupported-attr'],
    ['test_resize_downsample_scales_nearest', 'unsupported-attr'],
    ['test_pow_bcast_array', 'active-nondiff-input'], // exponent depends on x
  ])('refuses %s with %s', async (dir, code) => {
    const l = load({ dir, x: code === 'active-nondiff-input' ? 1 : 0 });
    const err = await deriveGraph(l.frozen, 'jvp', { x: l.xName, h: l.hName, inputDims: { [l.xName]: l.x.dims } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxDeriveError);
    expect((err as OnnxDeriveError).code).toBe(code);
  });
});
