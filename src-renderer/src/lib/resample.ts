/**
 * Resampling of RGBA pixels for export at 2× and 4× (the model renders at its own size, 64×64 for the bundled one).
 * Pure TypeScript over plain arrays, so it is tested in Node; the page decodes and encodes the PNG around it
 * (export-png.ts). Two filters, the user's choice:
 * - 'nearest': every source pixel becomes an exact s×s block (pixel art stays crisp, no new colours).
 * - 'lanczos': separable Lanczos-3 (a = 3), weights normalised per output pixel, edges clamped; done on
 *   premultiplied alpha so transparent pixels do not bleed their colour into opaque neighbours.
 */

export type ResampleFilter = 'nearest' | 'lanczos';
export const RESAMPLE_FILTERS: readonly ResampleFilter[] = ['nearest', 'lanczos'];

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, row-major, straight (not premultiplied) alpha, as ImageData holds them. */
  readonly data: Uint8ClampedArray;
}

const LOBES = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const p = Math.PI * x;
  return Math.sin(p) / p;
}

function lanczos(x: number): number {
  return Math.abs(x) < LOBES ? sinc(x) * sinc(x / LOBES) : 0;
}

/** For each output index along one axis: the first source index and the normalised weights of its taps. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output index (the unused tail is 0). */
  weights: Float64Array;
  maxTaps: number;
}

function lanczosTaps(srcLen: number, dstLen: number): Taps {
  const ratio = srcLen / dstLen;
  // Downscaling widens the kernel by the ratio (so it low-passes); upscaling keeps it at 3 source pixels a side.
  const stretch = Math.max(1, ratio);
  const support = LOBES * stretch;
  const maxTaps = Math.ceil(2 * support) + 1;
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const weights = new Float64Array(dstLen * maxTaps);
  for (let o = 0; o < dstLen; o++) {
    // Pixel centres line up: output centre o + 0.5 maps to source coordinate (o + 0.5)·ratio.
    const centre = (o + 0.5) * ratio - 0.5;
    const first = Math.ceil(centre - support);
    const last = Math.floor(centre + support);
    let sum = 0;
    let n = 0;
    for (let i = first; i <= last && n < maxTaps; i++, n++) {
      const w = lanczos((i - centre) / stretch);
      weights[o * maxTaps + n] = w;
      sum += w;
    }
    // Normalise, so a constant image stays exactly constant whatever the phase.
    for (let k = 0; k < n; k++) weights[o * maxTaps + k] /= sum;
    start[o] = first;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

function clampIndex(i: number, len: number): number {
  return i < 0 ? 0 : i >= len ? len - 1 : i;
}

function nearest(src: RgbaImage, width: number, height: number): RgbaImage {
  const out = new Uint8ClampedArray(width * height * 4);
  // A Uint32 view moves whole pixels; a view at an unaligned offset is not allowed, so such data is copied first.
  const bytes = src.data.byteOffset % 4 === 0 ? src.data : new Uint8ClampedArray(src.data);
  const s32 = new Uint32Array(bytes.buffer, bytes.byteOffset, src.width * src.height);
  const o32 = new Uint32Array(out.buffer);
  for (let y = 0; y < height; y++) {
    // Integer arithmetic: at an integer scale every source pixel maps to exactly scale × scale outputs.
    const sy = Math.min(src.height - 1, Math.floor((y * src.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(src.width - 1, Math.floor((x * src.width) / width));
      o32[y * width + x] = s32[sy * src.width + sx];
    }
  }
  return { width, height, data: out };
}

function lanczosResample(src: RgbaImage, width: number, height: number): RgbaImage {
  const { width: sw, height: sh, data } = src;
  // Premultiplied floats: colour × alpha, so a transparent pixel contributes nothing to its neighbours' colour.
  const pre = new Float64Array(sw * sh * 4);
  for (let p = 0; p < sw * sh; p++) {
    const a = data[p * 4 + 3] / 255;
    pre[p * 4] = data[p * 4] * a;
    pre[p * 4 + 1] = data[p * 4 + 1] * a;
    pre[p * 4 + 2] = data[p * 4 + 2] * a;
    pre[p * 4 + 3] = data[p * 4 + 3];
  }
  // Horizontal pass: sw → width, rows unchanged.
  const tx = lanczosTaps(sw, width);
  const mid = new Float64Array(width * sh * 4);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < tx.count[x]; k++) {
        const w = tx.weights[x * tx.maxTaps + k];
        const i = (y * sw + clampIndex(tx.start[x] + k, sw)) * 4;
        r += pre[i] * w;
        g += pre[i + 1] * w;
        b += pre[i + 2] * w;
        a += pre[i + 3] * w;
      }
      const o = (y * width + x) * 4;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
      mid[o + 3] = a;
    }
  }
  // Vertical pass: sh → height, then un-premultiply and round (Uint8ClampedArray clamps Lanczos' over/undershoot).
  const ty = lanczosTaps(sh, height);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < ty.count[y]; k++) {
        const w = ty.weights[y * ty.maxTaps + k];
        const i = (clampIndex(ty.start[y] + k, sh) * width + x) * 4;
        r += mid[i] * w;
        g += mid[i + 1] * w;
        b += mid[i + 2] * w;
        a += mid[i + 3] * w;
      }
      const o = (y * width + x) * 4;
      // Un-premultiply by the filtered alpha before clamping it: Lanczos overshoots alpha too near an edge, and
      // dividing by the clamped value would brighten the colour there.
      const alpha = Math.min(255, Math.max(0, a));
      const un = a > 1e-6 ? 255 / a : 0;
      out[o] = Math.round(r * un);
      out[o + 1] = Math.round(g * un);
      out[o + 2] = Math.round(b * un);
      out[o + 3] = Math.round(alpha);
    }
  }
  return { width, height, data: out };
}

/** `src` resampled to exactly width × height with the chosen filter. */
export function resample(src: RgbaImage, width: number, height: number, filter: ResampleFilter): RgbaImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`bad target size ${width}×${height}`);
  if (src.data.length !== src.width * src.height * 4) throw new RangeError(`RGBA data of ${src.data.length} bytes for ${src.width}×${src.height}`);
  return filter === 'nearest' ? nearest(src, width, height) : lanczosResample(src, width, height);
}

/** `src` scaled by an integer factor (the export's 1×, 2×, 4×). */
export function upscale(src: RgbaImage, scale: number, filter: ResampleFilter): RgbaImage {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`bad scale ${scale}`);
  if (scale === 1) return src;
  return resample(src, src.width * scale, src.height * scale, filter);
}
