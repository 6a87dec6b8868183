/**
 * Transformer behaviour that needs no onnxruntime: validation and typed errors, h selection and
 * candidates, constant folding of shape plumbing, activity (timestep/cross-attention branches stay
 * primal), opset-aware emission, external-data bookkeeping.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import {
  ContribOpError,
  OnnxDeriveError,
  UnsupportedOpError,
  buildForwardGraph,
  deriveGraph,
  deriveGraphs,
  externalizeWeights,
  listHCandidates,
  readModel,
} from '../../src-main/core/onnx';
import { normSlice, broadcastShapes } from '../../src-main/core/onnx/fold';
import { isExternal, makeNode, writeModel } from '../../src-main/core/onnx/proto';
import { TestGraph } from './onnx-testgraph';

const sample = [{ name: 'sample', dims: ['b', 4, 'h', 'w'] as (number | string)[] }];
const size = { height: 8, width: 8 };

/** A toy encoder/decoder with torch-style scopes: down conv, mid conv, up (Resize + skip Concat). */
function scopedUnet(scoped = true): Uint8Array {
  const g = new TestGraph(14);
  const conv = (x: string, stride: number) =>
    g.op('Conv', [x, g.weight([4, 4, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] });
  g.scope = scoped ? '/conv_in/' : '';
  const c0 = conv('sample', 1);
  g.scope = scoped ? '/down_blocks.0/resnets.0/' : '';
  const d0 = conv(c0, 2);
  g.scope = scoped ? '/mid_block/resnets.0/' : '';
  const m0 = conv(d0, 1);
  const m1 = g.op('Mul', [m0, g.op('Sigmoid', [m0])]);
  g.scope = scoped ? '/up_blocks.0/' : '';
  const cat = g.op('Concat', [m1, d0], { axis: 1 });
  const up = g.op('Resize', [cat, '', g.floats([4], [1, 1, 2, 2])], { mode: 'nearest' });
  const out = g.op('Conv', [up, g.weight([4, 8, 1, 1])], { kernel_shape: [1, 1] });
  return g.model(sample, out, [1, 4, 8, 8]);
}

describe('validation and typed errors', () => {
  it('rejects bytes that are not a model', () => {
    expect(() => readModel(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(OnnxDeriveError);
  });

  it('refuses com.microsoft fused ops with a clear message', async () => {
    const m = fromBinary(ModelProtoSchema, scopedUnet());
    m.graph!.node.push(makeNode('GroupNorm', ['sample'], ['gn'], 'fused_gn', {}, 'com.microsoft'));
    const err = await deriveGraphs(writeModel(m), size).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContribOpError);
    expect((err as ContribOpError).code).toBe('contrib-op');
    expect((err as Error).message).toMatch(/com\.microsoft::GroupNorm.*fused_gn|fused_gn.*com\.microsoft::GroupNorm/);
  });

  it('refuses opsets below 13', async () => {
    const m = fromBinary(ModelProtoSchema, scopedUnet());
    m.opsetImport[0].version = 11n;
    const err = await deriveGraphs(writeModel(m), size).catch((e: unknown) => e);
    expect((err as OnnxDeriveError).code).toBe('unsupported-opset');
  });

  it('names op and node of an op without a rule on the active path', async () => {
    const g = new TestGraph(14);
    const a = g.op('Atan', ['sample']);
    const bytes = g.model(sample, g.op('Add', [a, 'sample']), [1, 4, 8, 8]);
    const err = await deriveGraphs(bytes, { ...size, h: 'out' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as UnsupportedOpError).code).toBe('unsupported-op');
    expect((err as Error).message).toContain('Atan');
    expect((err as Error).message).toContain('/Atan_0');
  });

  it('accepts ops without rules off the active path (primal-only branch)', async () => {
    const g = new TestGraph(14);
    const side = g.op('Atan', [g.weight([1, 4, 1, 1])]); // depends on weights only
    const bytes = g.model(sample, g.op('Mul', ['sample', side]), [1, 4, 8, 8]);
    const r = await deriveGraphs(bytes, { ...size, h: 'out' });
    expect(r.info.activeOps).toEqual({ Mul: 1, Identity: 1 });
  });

  it('refuses LayerNormalization whose Mean output is used on the path (no rule gives it a tangent)', async () => {
    const g = new TestGraph(17);
    const [y, mean] = g.opN('LayerNormalization', ['sample', g.weight([8]), g.weight([8])], { axis: -1 }, 'LayerNormalization', 2);
    const bytes = g.model(sample, g.op('Add', [y, mean]), [1, 4, 8, 8]);
    const err = await deriveGraphs(bytes, { ...size, h: 'out' }).catch((e: unknown) => e);
    expect((err as OnnxDeriveError).code).toBe('unsupported-op');
    expect((err as Error).message).toMatch(/LayerNormalization.*tangent/);
  });

  it('refuses derivatives through a non-differentiable input (conv weight computed from x)', async () => {
    const g = new TestGraph(14);
    const w = g.op('Reshape', [g.op('ReduceMean', ['sample'], { axes: [2, 3], keepdims: 1 }), g.i64([1, 4, 1, 1])]);
    const bytes = g.model(sample, g.op('Conv', ['sample', w], { kernel_shape: [1, 1] }), [1, 1, 8, 8]);
    const err = await deriveGraphs(bytes, { ...size, h: 'out' }).catch((e: unknown) => e);
    expect((err as OnnxDeriveError).code).toBe('active-nondiff-input');
  });

  it('asks for H/W when the model has dynamic spatial dims', async () => {
    const err = await deriveGraphs(scopedUnet(), {}).catch((e: unknown) => e);
    expect((err as OnnxDeriveError).code).toBe('bad-option');
    expect((err as Error).message).toMatch(/--height/);
  });

  it('rejects an unknown explicit h tensor', async () => {
    const err = await deriveGraphs(scopedUnet(), { ...size, h: 'nope' }).catch((e: unknown) => e);
    expect((err as OnnxDeriveError).code).toBe('h-not-found');
  });
});

describe('choosing h', () => {
  it('auto: last node scoped /mid_block; candidates per top-level scope with shapes', async () => {
    const r = await listHCandidates(scopedUnet(), size);
    expect(r.auto).toMatch(/^\/mid_block\/resnets\.0\/Mul_/);
    expect(r.candidates.map((c) => c.scope)).toEqual(['conv_in', 'down_blocks.0', 'mid_block', 'up_blocks.0']);
    expect(r.candidates.find((c) => c.scope === 'mid_block')!.shape).toEqual([1, 4, 4, 4]);
    expect(r.candidates.find((c) => c.scope === 'up_blocks.0')!.shape).toEqual([1, 4, 8, 8]);
    const d = await deriveGraphs(scopedUnet(), { ...size, h: 'auto' });
    expect(d.info.h).toBe(r.auto);
    expect(d.info.hSelectedBy).toBe('scope');
  });

  it('auto without scopes: the running hidden state entering the first skip concatenation', async () => {
    const d = await deriveGraphs(scopedUnet(false), size);
    expect(d.info.hSelectedBy).toBe('structural');
    expect(d.info.h).toMatch(/^\/Mul_/);
    expect(d.info.hShape).toEqual([1, 4, 4, 4]);
  });

  it('explicit node name resolves to its first output', async () => {
    const { candidates } = await listHCandidates(scopedUnet(), size);
    const mid = candidates.find((c) => c.scope === 'mid_block')!;
    const d = await deriveGraphs(scopedUnet(), { ...size, h: mid.node });
    expect(d.info.h).toBe(mid.tensor);
  });

  it('explicit tensor name', async () => {
    const d = await deriveGraphs(scopedUnet(), { ...size, h: 'out' });
    expect(d.info.hSelectedBy).toBe('explicit');
    expect(d.info.hShape).toEqual([1, 4, 8, 8]);
    expect(d.info.tangentShape).toEqual([1, 4, 8, 8]);
  });
});

describe('static shapes, folding, emission', () => {
  it('folds Shape→Gather→Unsqueeze→Concat plumbing into constant Reshape targets', async () => {
    const g = new TestGraph(14);
    const shp = g.op('Shape', ['sample']);
    const n = g.op('Unsqueeze', [g.op('Gather', [shp, g.constI64([0], [])], { axis: 0 }), g.constI64([0])]);
    const tgt = g.op('Concat', [n, g.constI64([4]), g.constI64([-1])], { axis: 0 });
    const r = g.op('Reshape', [g.op('Sigmoid', ['sample']), tgt]);
    const bytes = g.model(sample, g.op('Reshape', [r, shp]), [1, 4, 8, 8]);
    const f = await buildForwardGraph(bytes, { ...size, h: 'out' });
    const m = readModel(f.bytes);
    const ops = m.graph!.node.map((x) => x.opType);
    expect(ops).not.toContain('Shape');
    expect(ops).not.toContain('Concat');
    expect(ops.filter((o) => o === 'Reshape')).toHaveLength(2);
    const p = await deriveGraph(bytes, 'pullback', { ...size, h: 'out', tangents: 4 });
    expect(readModel(p.bytes).graph!.node.map((x) => x.opType)).not.toContain('Shape');
  });

  it('emits ReduceMean axes as an attribute before opset 18 and as an input from 18', async () => {
    for (const opset of [17, 18]) {
      const g = new TestGraph(opset);
      const ln = g.op('LayerNormalization', ['sample', g.weight([8]), g.weight([8])], { axis: -1 });
      const bytes = g.model(sample, ln, [1, 4, 8, 8]);
      const d = await deriveGraphs(bytes, { ...size, h: 'out', tangents: 2 });
      const rm = readModel(d.pullback).graph!.node.filter((n) => n.opType === 'ReduceMean');
      expect(rm.length).toBeGreaterThan(0);
      for (const n of rm) {
        expect(n.input.length).toBe(opset >= 18 ? 2 : 1);
        expect(n.attribute.some((a) => a.name === 'axes')).toBe(opset < 18);
      }
    }
  });

  it('derived graphs declare static inputs/outputs with the contract names', async () => {
    const d = await deriveGraphs(scopedUnet(), { ...size, tangents: 5 });
    const io = (b: Uint8Array) => {
      const g = readModel(b).graph!;
      const dims = (vi: (typeof g.input)[number]) =>
        vi.type!.value.case === 'tensorType' ? vi.type!.value.value.shape!.dim.map((x) => Number(x.value.value)) : [];
      return { in: g.input.map((i) => [i.name, dims(i)]), out: g.output.map((o) => [o.name, dims(o)]) };
    };
    expect(io(d.jvp)).toEqual({ in: [['sample', [1, 4, 8, 8]], ['tangent', [5, 4, 8, 8]]], out: [['h', [1, 4, 4, 4]], ['h_dot', [5, 4, 4, 4]]] });
    expect(io(d.vjp)).toEqual({ in: [['sample', [1, 4, 8, 8]], ['cotangent', [5, 4, 4, 4]]], out: [['h', [1, 4, 4, 4]], ['x_bar', [5, 4, 8, 8]]] });
    expect(io(d.pullback).out.map((o) => o[0])).toEqual(['h', 'h_dot', 'x_bar']);
    expect(d.info.K).toBe(5);
  });

  it('differentiates SiLU (Mul(a, Sigmoid(a))) as one function: a single Mul by a primal factor per sweep', async () => {
    const g = new TestGraph(14);
    const bytes = g.model(sample, g.op('Mul', ['sample', g.op('Sigmoid', ['sample'])]), [1, 4, 8, 8]);
    const d = await deriveGraphs(bytes, { ...size, h: 'out', tangents: 3 });
    const muls = (b: Uint8Array) => readModel(b).graph!.node.filter((n) => n.opType === 'Mul').length;
    // primal y = a·s (1) + factor s·(1 + a·(1 − s)) (2) + one tangent Mul; the pullback adds one more
    expect(muls(d.jvp)).toBe(4);
    expect(muls(d.pullback)).toBe(5);
    expect(readModel(d.jvp).graph!.node.filter((n) => n.opType === 'Sigmoid')).toHaveLength(1);
  });

  it('differentiates the exported Erf-GELU chain as one Gelu (one Mul per sweep), both 0.5 placements', async () => {
    for (const halfFirst of [false, true]) {
      const g = new TestGraph(14);
      const e = g.op('Add', [g.op('Erf', [g.op('Div', ['sample', g.floats([], [Math.SQRT2])])]), g.floats([], [1])]);
      const y = halfFirst
        ? g.op('Mul', [g.op('Mul', ['sample', g.floats([], [0.5])]), e])
        : g.op('Mul', [g.op('Mul', ['sample', e]), g.floats([], [0.5])]);
      const d = await deriveGraphs(g.model(sample, y, [1, 4, 8, 8]), { ...size, h: 'out', tangents: 2 });
      const nodes = readModel(d.jvp).graph!.node;
      // primal Erf + the factor's Erf (Φ); op by op the Erf rule would use Exp only
      expect(nodes.filter((n) => n.opType === 'Erf')).toHaveLength(2);
      // exactly one node reads the reshaped tangent and it is the Mul by the GELU factor
      const t = nodes.find((n) => n.opType === 'Reshape' && n.input[0] === 'tangent')!.output[0];
      expect(nodes.filter((n) => n.input.includes(t)).map((n) => n.opType)).toEqual(['Mul']);
    }
  });

  it('passes tangents straight through Div/Mul by a constant 1 (output_scale_factor)', async () => {
    const g = new TestGraph(14);
    const y = g.op('Div', [g.op('Mul', [g.floats([1, 1, 1, 1], [1]), 'sample']), g.floats([], [1])]);
    const d = await deriveGraphs(g.model(sample, y, [1, 4, 8, 8]), { ...size, h: 'out', tangents: 2 });
    const count = (b: Uint8Array, op: string) => readModel(b).graph!.node.filter((n) => n.opType === op).length;
    expect(count(d.pullback, 'Div')).toBe(1); // the primal one only
    expect(count(d.pullback, 'Mul')).toBe(1);
  });

  it('fold helpers follow ONNX Slice clamping and numpy broadcasting', () => {
    expect(normSlice(0, Number.MAX_SAFE_INTEGER, 1, 5)).toMatchObject({ start: 0, end: 5, len: 5 });
    expect(normSlice(-1, -Number.MAX_SAFE_INTEGER, -1, 5)).toMatchObject({ start: 4, end: -1, len: 5 });
    expect(normSlice(1, 4, 2, 5)).toMatchObject({ start: 1, len: 2 });
    expect(broadcastShapes([3, 1, 5], [4, 1])).toEqual([3, 4, 5]);
    expect(broadcastShapes([2, 3], [4, 3])).toBeUndefined();
  });
});

const FIX = path.resolve(__dirname, '../fixtures/unets');
describe('activity on a real export', () => {
  it('timestep embedding and cross-attention keys/values stay primal-only', async () => {
    const d = await deriveGraphs(path.join(FIX, 'sd_cond_unet_op14/model.onnx'), { height: 16, width: 16, seq: 5, tangents: 2 });
    expect(d.info.activeOps.Sin ?? 0).toBe(0);
    expect(d.info.activeOps.Cos ?? 0).toBe(0);
    expect(d.info.activeOps.Gemm ?? 0).toBe(0);
    expect(d.info.activeOps.Shape ?? 0).toBe(0);
    expect(d.info.activeOps.Conv).toBeGreaterThan(0);
    // every tangent MatMul has exactly one primal operand and K-shaped tangents; the h path is the mid block
    expect(d.info.h.startsWith('/mid_block/')).toBe(true);
    // the largest tangent is an attention score tensor [heads, L, L] (or [B·heads, L, L]) of the 16×16 level
    expect(d.info.activeElementsPerColumn.largest).toBeGreaterThanOrEqual(256 * 256);
    expect(d.info.activeElementsPerColumn.total).toBeGreaterThan(d.info.activeElementsPerColumn.largest);
  });
});

describe('external data', () => {
  it('moves inline weights to one aligned file and keeps graphs referencing it', async () => {
    const src = scopedUnet();
    const { model, data } = externalizeWeights(src, 'weights.bin', 16);
    const m = readModel(model);
    const ext = m.graph!.initializer.filter(isExternal);
    expect(ext.length).toBeGreaterThan(0);
    for (const t of ext) {
      const offset = Number(t.externalData.find((e) => e.key === 'offset')!.value);
      expect(offset % 4096).toBe(0);
      expect(t.externalData.find((e) => e.key === 'location')!.value).toBe('weights.bin');
    }
    expect(data.length).toBeGreaterThan(0);
    const d = await deriveGraphs(model, { ...size, tangents: 2 });
    expect(d.info.externalData).toEqual(['weights.bin']);
    const dm = readModel(d.pullback);
    expect(dm.graph!.initializer.filter(isExternal).length).toBeGreaterThan(0);
    expect(() => externalizeWeights(src, '../w.bin')).toThrow(OnnxDeriveError);
  });
});

