/**
 * NumPy .npy (format 1.0/2.0) for float32 little-endian C-order arrays: the CLI's exchange format,
 * so bases and latents can be checked with other tools. Reading also accepts float64 (converted).
 */
import type { Tensor } from './tensor';
import { sizeOf } from './tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyFormatError extends Error {
  override readonly name = 'NpyFormatError';
}

export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Total header (magic 6 + version 2 + length 2 + text + newline) is padded to a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  out.set(body, 10 + header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array): Tensor {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new NpyFormatError('not a .npy file (magic bytes missing)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw new NpyFormatError(`unsupported .npy version ${major}`);
  }
  if (offset + headerLen > bytes.length) throw new NpyFormatError('.npy header is truncated');
  const header = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyFormatError('.npy header is malformed');
  if (fortran === 'True') throw new NpyFormatError('Fortran-order .npy arrays are not supported');
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyFormatError('.npy shape is malformed');
  const n = sizeOf(dims);
  const dataStart = offset + headerLen;
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (width === 0) throw new NpyFormatError(`.npy dtype ${descr} is not supported (need <f4 or <f8)`);
  if (bytes.length - dataStart < n * width) throw new NpyFormatError('.npy data is truncated');
  const data = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart, n * width);
  for (let i = 0; i < n; i++) data[i] = width === 4 ? dv.getFloat32(i * 4, true) : dv.getFloat64(i * 8, true);
  return { dims, data };
}
