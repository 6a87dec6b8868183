/** Pixel-space samples ([-1, 1], 1 or 3 channels) to interleaved 8-bit pixels, the form image encoders take. */
import type { Tensor } from '../tensor';
import { InvalidArgumentError } from './errors';

export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Interleaved HWC, row-major. */
  pixels: Uint8Array;
}

/** Convert batch item `index` of x [B, C, H, W] to an 8-bit image: round(clamp((x+1)/2) · 255). */
export function sampleToImage(x: Tensor, index = 0): RawImage {
  const [B, C, H, W] = x.dims;
  if (x.dims.length !== 4 || index < 0 || index >= B) throw new InvalidArgumentError('sampleToImage: need [B, C, H, W] and a valid index');
  if (C !== 1 && C !== 3) {
    throw new InvalidArgumentError(`sampleToImage: ${C}-channel samples are latents and need a VAE decoder`);
  }
  const pixels = new Uint8Array(H * W * C);
  const base = index * C * H * W;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) {
      const v = (x.data[base + c * H * W + i] + 1) / 2;
      pixels[i * C + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width: W, height: H, channels: C as 1 | 3, pixels };
}
