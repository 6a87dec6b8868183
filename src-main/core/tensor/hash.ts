/**
 * Content hash of a tensor: sha256 over a small self-describing header (dtype tag, rank, dims) and the
 * float32 values in little-endian order. Two tensors hash equal exactly when their dims and bit patterns are
 * equal, which is what the basis cache needs to key "the same x_t" (NaN payloads and -0 are kept distinct on
 * purpose: a cache must never conflate inputs that could produce different bits downstream).
 */
import { createHash } from 'node:crypto';
import type { Tensor } from './tensor';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function tensorSha256(t: Tensor): string {
  const h = createHash('sha256');
  const header = new DataView(new ArrayBuffer(8 + 4 * t.dims.length));
  // "f32" tag so a future dtype cannot collide with a float32 tensor of the same bytes.
  header.setUint8(0, 0x66);
  header.setUint8(1, 0x33);
  header.setUint8(2, 0x32);
  header.setUint8(3, 0);
  header.setUint32(4, t.dims.length, true);
  t.dims.forEach((d, i) => header.setUint32(8 + 4 * i, d, true));
  h.update(new Uint8Array(header.buffer));
  if (LITTLE_ENDIAN) {
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  } else {
    const le = new DataView(new ArrayBuffer(t.data.byteLength));
    t.data.forEach((v, i) => le.setFloat32(4 * i, v, true));
    h.update(new Uint8Array(le.buffer));
  }
  return h.digest('hex');
}
