/**
 * Where a direction acts: the per-pixel magnitude of a latent direction v [1, C, H, W] (the norm over channels),
 * normalised by its maximum and coloured with a dark-to-amber ramp, as a small image for the gallery.
 * Computed from v itself, not from rendered previews, so it shows the direction, not what the sampler made of it.
 */
import type { Tensor } from '../tensor';
import type { RawImage } from '../diffusion/image';
import { GeometryError } from './errors';

export function directionMagnitude(v: Tensor): { width: number; height: number; values: Float32Array } {
  if (v.dims.length !== 4 || v.dims[0] !== 1) throw new GeometryError('bad-shape', `direction must be [1, C, H, W], got [${v.dims.join(', ')}]`);
  const [, C, H, W] = v.dims;
  const n = H * W;
  const values = new Float32Array(n);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) values[i] += v.data[c * n + i] ** 2;
  for (let i = 0; i < n; i++) values[i] = Math.sqrt(values[i]);
  return { width: W, height: H, values };
}

export function directionMagnitudeImage(v: Tensor): RawImage {
  const { width, height, values } = directionMagnitude(v);
  let max = 0;
  for (const x of values) max = Math.max(max, x);
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < values.length; i++) {
    const t = max > 0 ? values[i] / max : 0;
    pixels[3 * i] = Math.round(30 + 225 * t);
    pixels[3 * i + 1] = Math.round(32 + 150 * t * t);
    pixels[3 * i + 2] = Math.round(40 + 20 * t);
  }
  return { width, height, channels: 3, pixels };
}
