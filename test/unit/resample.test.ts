/**
 * The export's resampler (src-renderer/src/lib/resample.ts): nearest is exact pixel replication, Lanczos keeps a
 * constant image constant and a linear ramp linear away from the edges, both give exactly the asked size, and alpha is
 * handled premultiplied (a transparent pixel's colour does not bleed).
 */
import { describe, expect, it } from 'vitest';
import { resample, upscale, type RgbaImage } from '../../src-renderer/src/lib/resample';

function image(width: number, height: number, px: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(px(x, y), (y * width + x) * 4);
  return { width, height, data };
}
const at = (img: RgbaImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

/** A deterministic "random" image (LCG), so the check covers every channel and value range. */
function noise(width: number, height: number, seed = 1): RgbaImage {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  return image(width, height, () => [next(), next(), next(), next()]);
}

describe('resample', () => {
  it('nearest: every source pixel becomes an exact s×s block', () => {
    const src = noise(7, 5);
    for (const s of [2, 4]) {
      const out = upscale(src, s, 'nearest');
      expect([out.width, out.height, out.data.length]).toEqual([7 * s, 5 * s, 7 * s * 5 * s * 4]);
      for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) expect(at(out, x, y)).toEqual(at(src, Math.floor(x / s), Math.floor(y / s)));
    }
  });

  it('nearest works on data at an unaligned offset (a subarray)', () => {
    const src = noise(3, 3, 5);
    const backing = new Uint8ClampedArray(src.data.length + 1);
    backing.set(src.data, 1);
    const shifted = { width: 3, height: 3, data: backing.subarray(1) };
    expect(Array.from(upscale(shifted, 2, 'nearest').data)).toEqual(Array.from(upscale(src, 2, 'nearest').data));
  });

  it('lanczos: a constant image stays exactly constant (weights are normalised at every phase)', () => {
    const src = image(9, 6, () => [200, 17, 93, 255]);
    for (const s of [2, 4]) {
      const out = upscale(src, s, 'lanczos');
      for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) expect(at(out, x, y)).toEqual([200, 17, 93, 255]);
    }
  });

  it('lanczos: a linear ramp stays linear away from the edges (within rounding)', () => {
    // Value 10·x + 20 along x, constant along y; at 4× the output centre u maps to source x = (u + 0.5)/4 − 0.5.
    const src = image(16, 4, (x) => [10 * x + 20, 0, 0, 255]);
    const out = upscale(src, 4, 'lanczos');
    let worst = 0;
    // Lanczos-3 reaches 3 source pixels a side: only those clear of the clamped edges are exactly linear.
    for (let u = 4 * 4; u < out.width - 4 * 4; u++) {
      const expected = 10 * ((u + 0.5) / 4 - 0.5) + 20;
      for (let y = 0; y < out.height; y++) worst = Math.max(worst, Math.abs(at(out, u, y)[0] - expected));
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
    // And it is smooth, unlike nearest's steps: neighbouring outputs differ by about 10/4, never by a whole step of 10.
    const row = Array.from({ length: out.width }, (_, u) => at(out, u, 0)[0]);
    const steps = row.slice(17, -17).map((v, i) => row[i + 18] - v);
    expect(Math.max(...steps)).toBeLessThanOrEqual(4);
  });

  it('lanczos: a transparent neighbour does not tint opaque pixels (premultiplied alpha)', () => {
    // Left half opaque grey, right half fully transparent *red*: straight-alpha filtering would pull red into the grey.
    const src = image(8, 2, (x) => (x < 4 ? [128, 128, 128, 255] : [255, 0, 0, 0]));
    const out = upscale(src, 2, 'lanczos');
    for (let x = 0; x < 8; x++) {
      const [r, g, b, a] = at(out, x, 0);
      if (a > 0) expect(Math.max(Math.abs(r - 128), Math.abs(g - 128), Math.abs(b - 128))).toBeLessThanOrEqual(1);
    }
  });

  it('gives exactly the asked size, also for non-integer ratios and downscaling', () => {
    const src = noise(10, 7);
    for (const [w, h] of [
      [23, 5],
      [3, 14],
      [1, 1],
    ]) {
      for (const f of ['nearest', 'lanczos'] as const) {
        const out = resample(src, w, h, f);
        expect([out.width, out.height, out.data.length]).toEqual([w, h, w * h * 4]);
      }
    }
    expect(upscale(src, 1, 'lanczos')).toBe(src);
  });

  it('refuses sizes and data that do not fit', () => {
    const src = noise(2, 2);
    expect(() => resample(src, 0, 2, 'nearest')).toThrow(RangeError);
    expect(() => resample(src, 2.5, 2, 'lanczos')).toThrow(RangeError);
    expect(() => upscale(src, 3.5, 'nearest')).toThrow(RangeError);
    expect(() => resample({ width: 3, height: 2, data: src.data }, 4, 4, 'nearest')).toThrow(RangeError);
  });
});
