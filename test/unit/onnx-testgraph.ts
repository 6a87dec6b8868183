/**
 * Building small ONNX models in TS for tests (no onnxruntime import, so unit tests can use it):
 * seeded random data, a ModelSpec → bytes builder, and TestGraph, a terse builder with torch-like
 * scoped node names.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import { DT, makeNode, makeTensor, makeValueInfo, writeModel, type AttrValue } from '../../src-main/core/onnx/proto';

/** Deterministic normal samples (mulberry32 + Box–Muller). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  return out;
}

export const numel = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

// ---- building small models --------------------------------------------------------------------

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
}
export interface ModelSpec {
  opset?: number;
  inputs: { name: string; dims: (number | string)[]; dtype?: number }[];
  outputs: { name: string; dims: (number | string)[]; dtype?: number }[];
  inits?: { name: string; dims: number[]; values: ArrayLike<number>; dtype?: number }[];
  nodes: NodeSpec[];
}
export function buildModel(spec: ModelSpec): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'test',
    node: spec.nodes.map((n, i) => makeNode(n.op, n.inputs, n.outputs, n.name ?? `/${n.op}_${i}`, n.attrs ?? {})),
    initializer: (spec.inits ?? []).map((t) => makeTensor(t.name, t.dtype ?? DT.FLOAT, t.dims, t.values)),
    input: spec.inputs.map((i) => makeValueInfo(i.name, i.dtype ?? DT.FLOAT, i.dims)),
    output: spec.outputs.map((o) => makeValueInfo(o.name, o.dtype ?? DT.FLOAT, o.dims)),
  });
  return writeModel(
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(spec.opset ?? 17) })],
      graph,
    }),
  );
}

/** Terse builder for exporter-like test graphs (random seeded weights, int64 constants). */
export class TestGraph {
  readonly nodes: NodeSpec[] = [];
  readonly inits: NonNullable<ModelSpec['inits']> = [];
  private n = 0;
  private seed = 100;
  constructor(readonly opset = 17) {}
  private fresh(h: string): string {
    return `${h.startsWith('/') ? '' : '/'}${h}_${this.n++}`;
  }
  weight(dims: number[], scale = 0.3, name = this.fresh('w')): string {
    this.inits.push({ name, dims, values: randn(numel(dims), this.seed++, scale) });
    return name;
  }
  floats(dims: number[], values: number[]): string {
    const name = this.fresh('f');
    this.inits.push({ name, dims, values });
    return name;
  }
  i64(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('i');
    this.inits.push({ name, dims, values, dtype: DT.INT64 });
    return name;
  }
  /** Node names follow torch's module scoping when `scope` is set ("/mid_block/..."). */
  scope = '';
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = type, nOut = 1): string {
    return this.opN(type, inputs, attrs, hint, nOut)[0];
  }
  opN(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = type, nOut = 1): string[] {
    const base = this.fresh(`${this.scope}${hint}`);
    const outputs = Array.from({ length: nOut }, (_, k) => `${base}_output_${k}`);
    this.nodes.push({ op: type, inputs, outputs, attrs, name: base });
    return outputs;
  }
  /** Constant node (exporters emit these rather than initializers for shape literals). */
  constI64(values: number[], dims: number[] = [values.length]): string {
    return this.op('Constant', [], { value: makeTensor('v', DT.INT64, dims, values) }, 'Constant');
  }
  model(inputs: ModelSpec['inputs'], output: string, outDims: (number | string)[]): Uint8Array {
    const nodes = this.nodes.slice();
    nodes.push({ op: 'Identity', inputs: [output], outputs: ['out'] });
    return buildModel({ opset: this.opset, inputs, outputs: [{ name: 'out', dims: outDims }], inits: this.inits, nodes });
  }
}
