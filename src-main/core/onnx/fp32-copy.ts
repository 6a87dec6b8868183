/**
 * A float32 copy of a float16 export (diffusers' --fp16, Optimum's --dtype fp16), made once so the Jacobian graphs
 * are derived and run in float32: tangents of a deep U-Net in float16 are not usable for a power iteration
 * (onnx-autodiff.md §4.3), while the fp16 weights themselves are exact in float32.
 *
 * Every float16 tensor becomes float32 with the same values: initializers (inline, int32_data-packed or external),
 * Constant / ConstantOfShape values, Cast(to=float16) and dtype attributes, graph inputs/outputs/value_infos. Fp32
 * islands of the export (the timestep embedding) keep their Casts, which become no-ops. Weights over `inlineLimit`
 * bytes go to one external file written piece by piece (a 1.7 GB fp16 U-Net becomes 3.4 GB: never one buffer), each
 * at a 64-byte-aligned offset; initializers that were external in another dtype are copied there too, because the
 * copy's external data resolves against its own folder.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation, type AttributeProto, type TensorProto } from 'onnx-buf';
import { OnnxDeriveError } from './errors';
import { DT, isExternal, readModel, writeModel } from './proto';

export interface Float32CopyOptions {
  /** Folder the source's external data locations are relative to. */
  sourceDir: string;
  /** The external data file to write (absolute). */
  dataFile: string;
  /** Its location as the copy records it (relative to the copy's folder). */
  dataLocation: string;
  /** Initializers up to this many bytes stay inline (default 1024, the ONNX saver's default threshold). */
  inlineLimit?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface Float32CopyResult {
  model: Uint8Array;
  /** float16 tensors converted. */
  converted: number;
  dataBytes: number;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function externalEntry(t: TensorProto, key: string): string | undefined {
  return t.externalData.find((e) => e.key === key)?.value;
}

/** fp16 bit patterns of an inline tensor (raw_data, or int32_data holding one pattern per element). */
function inlineHalf(t: TensorProto, n: number): Uint16Array {
  if (t.rawData.length > 0) {
    if (t.rawData.length !== 2 * n) throw new OnnxDeriveError('bad-onnx', `float16 tensor "${t.name}" has ${t.rawData.length} bytes for ${n} values`);
    return new Uint16Array(new Uint8Array(t.rawData).buffer); // a copy: rawData may be a view of a Node Buffer
  }
  if (t.int32Data.length !== n) throw new OnnxDeriveError('bad-onnx', `float16 tensor "${t.name}" has ${t.int32Data.length} values, its dims say ${n}`);
  return Uint16Array.from(t.int32Data);
}

function toFloatBytes(half: Uint16Array): Uint8Array<ArrayBuffer> {
  const f = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) f[i] = halfToFloat(half[i]);
  return new Uint8Array(f.buffer);
}

/** A float16 Constant/attribute tensor (always inline) → float32, in place. */
function convertInlineTensor(t: TensorProto): boolean {
  if (t.dataType !== DT.FLOAT16) return false;
  if (isExternal(t)) throw new OnnxDeriveError('bad-onnx', `attribute tensor "${t.name}" is external`);
  const n = t.dims.reduce((a, b) => a * Number(b), 1);
  t.rawData = toFloatBytes(inlineHalf(t, n));
  t.int32Data = [];
  t.dataType = DT.FLOAT;
  return true;
}

function convertAttribute(a: AttributeProto): number {
  let n = 0;
  if (a.t && convertInlineTensor(a.t)) n++;
  for (const t of a.tensors) if (convertInlineTensor(t)) n++;
  // Cast(to), RandomNormal*(dtype), EyeLike(dtype)...: an element-type attribute naming float16
  if ((a.name === 'to' || a.name === 'dtype') && Number(a.i) === DT.FLOAT16) {
    a.i = BigInt(DT.FLOAT);
    n++;
  }
  return n;
}

/** Convert a float16 ONNX model to float32. Returns the serialized copy; its large weights are in `dataFile`. */
export async function float32Copy(modelBytes: Uint8Array, o: Float32CopyOptions): Promise<Float32CopyResult> {
  const model = readModel(modelBytes);
  const g = model.graph!;
  const limit = o.inlineLimit ?? 1024;
  const sources = new Map<string, FileHandle>();
  const out = await open(o.dataFile, 'w');
  let offset = 0;
  let converted = 0;
  const write = async (bytes: Uint8Array): Promise<{ offset: number; length: number }> => {
    const pad = (64 - (offset % 64)) % 64;
    if (pad) await out.write(new Uint8Array(pad), 0, pad, offset);
    offset += pad;
    const at = offset;
    await out.write(bytes, 0, bytes.length, at);
    offset += bytes.length;
    return { offset: at, length: bytes.length };
  };
  const readExternal = async (t: TensorProto): Promise<Uint8Array<ArrayBuffer>> => {
    const loc = externalEntry(t, 'location');
    if (!loc) throw new OnnxDeriveError('bad-onnx', `external tensor "${t.name}" has no location`);
    const file = resolve(o.sourceDir, loc);
    let h = sources.get(file);
    if (!h) {
      h = await open(file, 'r');
      sources.set(file, h);
    }
    const start = Number(externalEntry(t, 'offset') ?? 0);
    const length = Number(externalEntry(t, 'length') ?? (await h.stat()).size - start);
    const buf = new Uint8Array(length);
    const { bytesRead } = await h.read(buf, 0, length, start);
    if (bytesRead !== length) throw new OnnxDeriveError('bad-onnx', `external data of "${t.name}" is cut short in ${loc}`);
    return buf;
  };
  try {
    const inits = g.initializer;
    for (let i = 0; i < inits.length; i++) {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('cancelled');
      const t = inits[i];
      const n = t.dims.reduce((a, b) => a * Number(b), 1);
      const half = t.dataType === DT.FLOAT16;
      if (!half && !isExternal(t)) continue;
      let bytes: Uint8Array<ArrayBuffer>;
      if (half) {
        const src = isExternal(t) ? await readExternal(t) : null;
        bytes = toFloatBytes(src ? new Uint16Array(src.buffer) : inlineHalf(t, n));
        if (bytes.length !== 4 * n) throw new OnnxDeriveError('bad-onnx', `float16 initializer "${t.name}" has ${bytes.length / 4} values, its dims say ${n}`);
        t.dataType = DT.FLOAT;
        t.int32Data = [];
        converted++;
      } else bytes = await readExternal(t);
      if (bytes.length <= limit) {
        t.rawData = bytes;
        t.dataLocation = TensorProto_DataLocation.DEFAULT;
        t.externalData = [];
      } else {
        const at = await write(bytes);
        t.rawData = new Uint8Array(0);
        t.dataLocation = TensorProto_DataLocation.EXTERNAL;
        t.externalData = [
          create(StringStringEntryProtoSchema, { key: 'location', value: o.dataLocation }),
          create(StringStringEntryProtoSchema, { key: 'offset', value: String(at.offset) }),
          create(StringStringEntryProtoSchema, { key: 'length', value: String(at.length) }),
        ];
      }
      o.onProgress?.((i + 1) / inits.length);
    }
  } finally {
    await out.close();
    for (const h of sources.values()) await h.close().catch(() => undefined);
  }
  for (const node of g.node) {
    if (node.attribute.some((a) => a.g || a.graphs.length > 0)) {
      throw new OnnxDeriveError('unsupported-op', `node "${node.name}" (${node.opType}) has a subgraph; float32 copies of control flow are not supported`);
    }
    for (const a of node.attribute) converted += convertAttribute(a);
  }
  for (const vi of [...g.input, ...g.output, ...g.valueInfo]) {
    if (vi.type?.value.case === 'tensorType' && vi.type.value.value.elemType === DT.FLOAT16) vi.type.value.value.elemType = DT.FLOAT;
  }
  return { model: writeModel(model), converted, dataBytes: offset };
}
