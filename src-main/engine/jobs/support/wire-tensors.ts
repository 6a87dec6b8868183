/** Float32 tensors on the wire (shared/api.ts Float32TensorSchema): C-order little-endian bytes in a Uint8Array. */
import type { Tensor } from '../../../core/tensor';
import { sizeOf } from '../../../core/tensor';
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import type { Float32TensorPayload } from '../../../shared/api';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Tensor → wire form (a fresh buffer, so the worker can transfer it). */
export function toPayload(t: Tensor): Float32TensorPayload {
  const data = new Uint8Array(t.data.byteLength);
  if (LITTLE_ENDIAN) data.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  else {
    const dv = new DataView(data.buffer);
    t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  }
  return { dims: [...t.dims], data };
}

export function fromPayload(p: Float32TensorPayload, what: string): Tensor {
  const n = sizeOf(p.dims);
  if (p.data.byteLength !== 4 * n) {
    throw new InvalidArgumentError(`${what}: ${p.data.byteLength} bytes do not hold float32 dims [${p.dims.join(', ')}]`);
  }
  const data = new Float32Array(n);
  const dv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
  return { dims: [...p.dims], data };
}

/** Row i of V as a direction [1, ...x]. */
export function basisRow(V: Tensor, i: number): Tensor {
  const k = V.dims[0];
  if (!Number.isInteger(i) || i < 0 || i >= k) throw new InvalidArgumentError(`direction index ${i} is outside the basis (k = ${k})`);
  const n = V.data.length / k;
  return { dims: [1, ...V.dims.slice(1)], data: V.data.subarray(i * n, (i + 1) * n) };
}
