/**
 * ModelProto I/O with onnx-buf (@bufbuild/protobuf v2). Initializers stored as external data are
 * kept as they are (location/offset/length entries) and never read: generated graphs reference the
 * same weight file, resolved by ORT against `session.model_external_initializers_file_folder_path`.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { OnnxDeriveError } from './errors';

export type { AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto };

/** ONNX TensorProto.DataType values used here. */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

export const isFloatType = (dt: number): boolean =>
  dt === DT.FLOAT || dt === DT.DOUBLE || dt === DT.FLOAT16 || dt === DT.BFLOAT16;

export function readModel(bytes: Uint8Array): ModelProto {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new OnnxDeriveError('bad-onnx', `not an ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph || model.graph.node.length === 0) throw new OnnxDeriveError('bad-onnx', 'ONNX model has no graph');
  return model;
}

export function writeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

export const isExternal = (t: TensorProto): boolean => t.dataLocation === TensorProto_DataLocation.EXTERNAL;

// ---------------------------------------------------------------------------------------------
// Attributes

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? Number(a.i) : dflt;
}
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? a.f : dflt;
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? a.ints.map(Number) : undefined;
}
export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = attr(node, name);
  return a ? new TextDecoder().decode(a.s) : dflt;
}

export type AttrValue = number | number[] | string | TensorProto | { floats: number[] } | { float: number };

/** Build an attribute; plain numbers are INT, use {float} / {floats} for FLOAT(S). */
export function makeAttr(name: string, v: AttrValue): AttributeProto {
  const T = AttributeProto_AttributeType;
  if (typeof v === 'number') return create(AttributeProtoSchema, { name, type: T.INT, i: BigInt(v) });
  if (typeof v === 'string') return create(AttributeProtoSchema, { name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return create(AttributeProtoSchema, { name, type: T.INTS, ints: v.map((x) => BigInt(x)) });
  if ('floats' in v) return create(AttributeProtoSchema, { name, type: T.FLOATS, floats: v.floats });
  if ('float' in v) return create(AttributeProtoSchema, { name, type: T.FLOAT, f: v.float });
  return create(AttributeProtoSchema, { name, type: T.TENSOR, t: v });
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, AttrValue | undefined> = {},
  domain = '',
): NodeProto {
  const attribute = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => makeAttr(k, v as AttrValue));
  return create(NodeProtoSchema, { opType, input: inputs, output: outputs, name, attribute, domain });
}

// ---------------------------------------------------------------------------------------------
// Tensors

/** A tensor literal: dims + values as JS numbers (small tensors only: shapes, constants). */
export interface Literal {
  dtype: number;
  dims: number[];
  values: number[];
}

export function makeTensor(name: string, dtype: number, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new RangeError(`tensor ${name}: ${values.length} values for dims [${dims.join(',')}]`);
  const t = create(TensorProtoSchema, { name, dataType: dtype, dims: dims.map((d) => BigInt(d)) });
  // raw_data little-endian, the layout every ONNX reader accepts.
  if (dtype === DT.FLOAT) t.rawData = new Uint8Array(Float32Array.from(values).buffer);
  else if (dtype === DT.DOUBLE) t.rawData = new Uint8Array(Float64Array.from(values).buffer);
  else if (dtype === DT.INT64) {
    // INT64_MAX ("to the end" in Slice) arrives as a rounded double: clamp instead of wrapping
    const max = 2n ** 63n - 1n;
    const big = (v: number): bigint => {
      const b = BigInt(Math.round(v));
      return b > max ? max : b < -max - 1n ? -max - 1n : b;
    };
    t.rawData = new Uint8Array(BigInt64Array.from(Array.from(values, big)).buffer);
  }
  else if (dtype === DT.INT32) t.rawData = new Uint8Array(Int32Array.from(values).buffer);
  else if (dtype === DT.BOOL) t.rawData = Uint8Array.from(values, (v) => (v ? 1 : 0));
  else if (dtype === DT.UINT8) t.rawData = Uint8Array.from(values);
  else throw new OnnxDeriveError('unsupported-dtype', `cannot build a tensor literal of ONNX dtype ${dtype}`);
  return t;
}

function bytesOf(t: TensorProto): DataView {
  const r = t.rawData;
  return new DataView(r.buffer, r.byteOffset, r.byteLength);
}

/**
 * Read the values of an inline tensor (undefined for external data or unsupported dtypes).
 * int64 beyond 2^53 (INT64_MAX used as "to the end" in Slice) is clamped to ±Number.MAX_SAFE_INTEGER.
 */
export function tensorValues(t: TensorProto, maxElems = Infinity): number[] | undefined {
  if (isExternal(t)) return undefined;
  const n = t.dims.reduce((a, b) => a * Number(b), 1);
  if (n > maxElems) return undefined;
  const raw = t.rawData.length > 0;
  const clamp = (b: bigint): number =>
    b > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : b < -BigInt(Number.MAX_SAFE_INTEGER) ? -Number.MAX_SAFE_INTEGER : Number(b);
  const out: number[] = new Array(n);
  switch (t.dataType) {
    case DT.FLOAT:
      if (!raw) return t.floatData.slice(0, n);
      for (let i = 0; i < n; i++) out[i] = bytesOf(t).getFloat32(i * 4, true);
      return out;
    case DT.DOUBLE:
      if (!raw) return t.doubleData.slice(0, n);
      for (let i = 0; i < n; i++) out[i] = bytesOf(t).getFloat64(i * 8, true);
      return out;
    case DT.INT64:
      if (!raw) return t.int64Data.slice(0, n).map(clamp);
      for (let i = 0; i < n; i++) out[i] = clamp(bytesOf(t).getBigInt64(i * 8, true));
      return out;
    case DT.INT32:
    case DT.INT8:
    case DT.UINT8:
    case DT.BOOL: {
      if (!raw) return t.int32Data.slice(0, n);
      const dv = bytesOf(t);
      for (let i = 0; i < n; i++) {
        out[i] = t.dataType === DT.INT32 ? dv.getInt32(i * 4, true) : t.dataType === DT.INT8 ? dv.getInt8(i) : dv.getUint8(i);
      }
      return out;
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Value infos

export function makeValueInfo(name: string, dtype: number, dims: readonly (number | string)[]): ValueInfoProto {
  const shape = create(TensorShapeProtoSchema, {
    dim: dims.map((d) =>
      create(TensorShapeProto_DimensionSchema, {
        value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
      }),
    ),
  });
  const type = create(TypeProtoSchema, {
    value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: dtype, shape }) },
  });
  return create(ValueInfoProtoSchema, { name, type });
}

/** dtype and dims of a value info; symbolic or missing dims are returned as strings / '?'. */
export function valueInfoType(vi: ValueInfoProto): { dtype: number; dims: (number | string)[] } | undefined {
  if (vi.type?.value.case !== 'tensorType') return undefined;
  const tt = vi.type.value.value;
  const dims = (tt.shape?.dim ?? []).map((d) =>
    d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?',
  );
  return { dtype: tt.elemType, dims };
}
