/**
 * Scaled export (src-renderer/src/lib/export-png.ts) with a real PNG codec (sharp stands in for the page's canvas):
 * the PNG comes out exactly s times the size, its pixels are the resampler's, and the recipe's tEXt chunks survive
 * next to the recorded scale. Also the header sniffer behind the import resize notice (shared/image-size.ts).
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { EXPORT_KEY, scalePng, scaledName, type PngCodec } from '../../src-renderer/src/lib/export-png';
import { addPngText, readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { upscale } from '../../src-renderer/src/lib/resample';
import { imageSize, resizeNotice } from '../../src-main/shared/image-size';

const sharpCodec: PngCodec = {
  async decode(png) {
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
  },
  async encode(img) {
    return new Uint8Array(await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 4 } }).png().toBuffer());
  },
};

async function gradientPng(width: number, height: number): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([(x * 37) & 255, (y * 53) & 255, (x * y) & 255, 255], (y * width + x) * 4);
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 4 } }).png().toBuffer());
}

describe('scalePng', () => {
  it('2× and 4× PNGs are exactly that size, carry the recipe chunks and record the scale', async () => {
    const base = addPngText(await gradientPng(8, 6), { Model: 'm', [RECIPE_KEY]: '{"app":"Pullback Studio"}' });
    for (const scale of [2, 4] as const) {
      for (const filter of ['nearest', 'lanczos'] as const) {
        const out = await scalePng(base, scale, filter, sharpCodec);
        const meta = await sharp(out).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['png', 8 * scale, 6 * scale]);
        const text = readPngText(out);
        expect(text.Model).toBe('m');
        expect(text[RECIPE_KEY]).toBe('{"app":"Pullback Studio"}');
        expect(text.Scale).toBe(`${scale}× ${filter} from 8×6`);
        expect(JSON.parse(text[EXPORT_KEY])).toEqual({ scale, filter, from: [8, 6], to: [8 * scale, 6 * scale] });
        // The pixels are the resampler's output of the decoded input.
        const decoded = await sharpCodec.decode(out);
        expect(Buffer.from(decoded.data).equals(Buffer.from(upscale(await sharpCodec.decode(base), scale, filter).data))).toBe(true);
      }
    }
  });

  it('1× is the input unchanged (no re-encoding)', async () => {
    const base = await gradientPng(4, 4);
    let used = false;
    const spy: PngCodec = { decode: async (b) => ((used = true), sharpCodec.decode(b)), encode: sharpCodec.encode };
    expect(await scalePng(base, 1, 'lanczos', spy)).toBe(base);
    expect(used).toBe(false);
  });

  it('names the file after its scale', () => {
    expect(scaledName('cat.png', 2)).toBe('cat@2x.png');
    expect(scaledName('cat', 4)).toBe('cat@4x.png');
    expect(scaledName('cat.png', 1)).toBe('cat.png');
  });
});

describe('imageSize and the resize notice', () => {
  it('reads the declared size of PNG, JPEG and lossy, lossless and extended WebP', async () => {
    const raw = sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080' } });
    expect(imageSize(new Uint8Array(await raw.clone().png().toBuffer()))).toEqual({ width: 800, height: 600 });
    expect(imageSize(new Uint8Array(await raw.clone().jpeg().toBuffer()))).toEqual({ width: 800, height: 600 });
    expect(imageSize(new Uint8Array(await raw.clone().jpeg({ progressive: true }).toBuffer()))).toEqual({ width: 800, height: 600 });
    expect(imageSize(new Uint8Array(await raw.clone().webp().toBuffer()))).toEqual({ width: 800, height: 600 });
    expect(imageSize(new Uint8Array(await raw.clone().webp({ lossless: true }).toBuffer()))).toEqual({ width: 800, height: 600 });
    const alpha = sharp({ create: { width: 801, height: 3, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } });
    expect(imageSize(new Uint8Array(await alpha.webp().toBuffer()))).toEqual({ width: 801, height: 3 });
    // EXIF metadata before the frame header (an APP1 segment) is skipped.
    const withExif = await raw.clone().jpeg().withMetadata({ orientation: 1 }).toBuffer();
    expect(imageSize(new Uint8Array(withExif))).toEqual({ width: 800, height: 600 });
  });

  it('is null for what it cannot read', () => {
    expect(imageSize(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(imageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toBeNull();
    expect(imageSize(new TextEncoder().encode('<svg width="10" height="10"/>'))).toBeNull();
  });

  it('says what was resized and whether it was cropped', () => {
    expect(resizeNotice({ width: 800, height: 600 }, { width: 64, height: 64 })).toBe('Resized from 800×600 to 64×64 (centre-cropped to a square).');
    expect(resizeNotice({ width: 512, height: 512 }, { width: 64, height: 64 })).toBe('Resized from 512×512 to 64×64.');
    expect(resizeNotice({ width: 300, height: 100 }, { width: 96, height: 64 })).toBe('Resized from 300×100 to 96×64 (centre-cropped to 96:64).');
    expect(resizeNotice({ width: 64, height: 64 }, { width: 64, height: 64 })).toBeNull();
    expect(resizeNotice(null, { width: 64, height: 64 })).toBeNull();
  });
});
