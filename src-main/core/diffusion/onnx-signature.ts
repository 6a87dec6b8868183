/**
 * Reads a model's graph inputs/outputs straight from the ONNX protobuf bytes, without decoding initializers.
 * Why not ORT: core never imports onnxruntime, and a typed error ("truncated", "not ONNX", "wrong inputs") must come
 * before a session is ever created. Why not a full decode: weights can be gigabytes; we only skip over them.
 */

export type OnnxElemType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'other';

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxElemType;
  /** Dims: a number when static, the symbolic name (or null) when dynamic. */
  dims: (number | string | null)[];
}

export interface OnnxSignature {
  irVersion: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Names of external-data files referenced by initializers (weights stored outside model.onnx). */
  externalDataFiles: string[];
}

/** The bytes are not a parseable ONNX model; `reason` says where parsing failed. */
export class OnnxParseError extends Error {
  override readonly name = 'OnnxParseError';
}

/**
 * Caps on what one graph may list. Real U-Nets have 2–3 inputs of rank ≤ 4 and a handful of external files; the caps
 * only keep a crafted file from growing these arrays without bound while we skim it.
 */
const MAX_VALUE_INFOS = 4096;
const MAX_RANK = 64;
const MAX_EXTERNAL_FILES = 4096;
const MAX_LOCATION_LENGTH = 4096;

const ELEM: Record<number, OnnxElemType> = { 1: 'float32', 10: 'float16', 11: 'float64', 7: 'int64', 6: 'int32' };

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxParseError('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new OnnxParseError('varint too long');
  }
  /** Returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0) throw new OnnxParseError('field number 0');
    return [field, wire];
  }
  /** Sub-reader over a length-delimited field. */
  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new OnnxParseError('length-delimited field runs past the end (file truncated?)');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  string(): string {
    const r = this.sub();
    return new TextDecoder('utf-8', { fatal: false }).decode(this.buf.subarray(r.pos, r.end));
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.sub();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new OnnxParseError(`unsupported protobuf wire type ${wire}`);
    }
  }
  private advance(n: number): void {
    if (this.pos + n > this.end) throw new OnnxParseError('fixed-width field runs past the end (file truncated?)');
    this.pos += n;
  }
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 'other', dims: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) info.name = r.string();
    else if (f === 2 && w === 2) {
      const type = r.sub(); // TypeProto
      while (!type.done) {
        const [tf, tw] = type.tag();
        if (tf === 1 && tw === 2) {
          const tt = type.sub(); // TypeProto.Tensor
          while (!tt.done) {
            const [f2, w2] = tt.tag();
            if (f2 === 1 && w2 === 0) info.elemType = ELEM[tt.varint()] ?? 'other';
            else if (f2 === 2 && w2 === 2) {
              const shape = tt.sub(); // TensorShapeProto
              while (!shape.done) {
                const [sf, sw] = shape.tag();
                if (sf === 1 && sw === 2) {
                  const dim = shape.sub();
                  let d: number | string | null = null;
                  while (!dim.done) {
                    const [df, dw] = dim.tag();
                    if (df === 1 && dw === 0) d = dim.varint();
                    else if (df === 2 && dw === 2) d = dim.string();
                    else dim.skip(dw);
                  }
                  if (info.dims.length >= MAX_RANK) throw new OnnxParseError(`"${info.name}" has more than ${MAX_RANK} dims`);
                  info.dims.push(d);
                } else shape.skip(sw);
              }
            } else tt.skip(w2);
          }
        } else type.skip(tw);
      }
    } else r.skip(w);
  }
  return info;
}

/** Name and external-data location of an initializer (TensorProto fields 8 and 13), skipping its data. */
function readInitializer(r: Reader): { name: string; location?: string } {
  let name = '';
  let location: string | undefined;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 8 && w === 2) name = r.string();
    else if (f === 13 && w === 2) {
      // StringStringEntryProto {key=1, value=2}
      const e = r.sub();
      let key = '';
      let value = '';
      while (!e.done) {
        const [ef, ew] = e.tag();
        if (ef === 1 && ew === 2) key = e.string();
        else if (ef === 2 && ew === 2) value = e.string();
        else e.skip(ew);
      }
      if (key === 'location') location = value;
    } else r.skip(w);
  }
  return { name, location };
}

/** Parse the graph signature of ONNX bytes. Throws OnnxParseError for anything that is not a well-formed model. */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  const r = new Reader(bytes, 0, bytes.length);
  let irVersion = 0;
  let graph: Reader | null = null;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 0) irVersion = r.varint();
    else if (f === 7 && w === 2) graph = r.sub();
    else r.skip(w);
  }
  if (irVersion < 1 || irVersion > 20) throw new OnnxParseError(`no valid ir_version (got ${irVersion})`);
  if (!graph) throw new OnnxParseError('model has no graph');
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initNames = new Set<string>();
  const external = new Set<string>();
  while (!graph.done) {
    const [f, w] = graph.tag();
    if (f === 11 && w === 2) inputs.push(readValueInfo(graph.sub()));
    else if (f === 12 && w === 2) outputs.push(readValueInfo(graph.sub()));
    else if (f === 5 && w === 2) {
      const init = readInitializer(graph.sub());
      initNames.add(init.name);
      if (init.location) {
        if (init.location.length > MAX_LOCATION_LENGTH) throw new OnnxParseError(`external data location of "${init.name}" is longer than ${MAX_LOCATION_LENGTH} characters`);
        external.add(init.location);
        if (external.size > MAX_EXTERNAL_FILES) throw new OnnxParseError(`more than ${MAX_EXTERNAL_FILES} external data files`);
      }
    } else graph.skip(w);
    if (inputs.length > MAX_VALUE_INFOS || outputs.length > MAX_VALUE_INFOS) throw new OnnxParseError(`more than ${MAX_VALUE_INFOS} graph inputs or outputs`);
  }
  if (outputs.length === 0) throw new OnnxParseError('graph has no outputs');
  // Before IR 4, initializers were also listed as graph inputs; they are not inputs the caller must feed.
  return {
    irVersion,
    inputs: inputs.filter((i) => !initNames.has(i.name)),
    outputs,
    externalDataFiles: [...external],
  };
}
