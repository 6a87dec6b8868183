/**
 * Image import (issue 14): the engine decodes PNG, JPEG and WebP only, sniffed from the bytes, and refuses anything
 * else (SVG, GIF, TIFF, …) with 'unsupported-image' before a decoder sees it; a picture over the byte cap or a header
 * declaring more than MAX_IMAGE_PIXELS is 'image-too-large' without its pixels being allocated. The codes reach the
 * API as themselves (toApiError), so the renderer shows what went wrong instead of a generic rejection.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { ImageError, imageToSample } from '../../src-main/engine/jobs/invert';
import { toApiError } from '../../src-main/engine/errors';
import { MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, importProblem, sniffImageFormat } from '../../src-main/shared/image-limits';

const raw = { raw: { width: 16, height: 16, channels: 3 as const } };
const pixels = () => sharp(Buffer.alloc(16 * 16 * 3, 90), raw);

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A valid-CRC PNG header declaring width × height RGB, with a tiny IDAT. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

async function refusal(bytes: Uint8Array): Promise<unknown> {
  return imageToSample(bytes, [3, 8, 8]).then(
    () => null,
    (e: unknown) => e,
  );
}

describe('invert decodes PNG, JPEG and WebP only', () => {
  it('PNG, JPEG and WebP decode to the model size', async () => {
    for (const bytes of [await pixels().png().toBuffer(), await pixels().jpeg().toBuffer(), await pixels().webp().toBuffer()]) {
      expect((await imageToSample(bytes, [3, 8, 8])).dims).toEqual([1, 3, 8, 8]);
    }
  });

  it('SVG, GIF and TIFF are refused as unsupported-image before decoding, and the API sees that code', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="red"/></svg>');
    // The SVG does decode with libvips: the refusal is ours, not a decode failure.
    expect((await sharp(svg).metadata()).format).toBe('svg');
    const gif = await pixels().gif().toBuffer();
    const tiff = await pixels().tiff().toBuffer();
    for (const bytes of [svg, gif, tiff]) {
      const err = await refusal(bytes);
      expect(err).toBeInstanceOf(ImageError);
      expect(toApiError(err)).toMatchObject({ code: 'unsupported-image' });
    }
  });

  it('a header declaring more than the pixel cap is image-too-large, refused from the header alone', async () => {
    const before = process.memoryUsage().rss;
    for (const [w, h] of [
      [MAX_IMAGE_SIDE + 1, MAX_IMAGE_SIDE],
      [100_000, 100_000],
    ]) {
      const t0 = performance.now();
      const err = await refusal(pngDeclaring(w, h));
      expect(toApiError(err)).toMatchObject({ code: 'image-too-large' });
      expect((err as Error).message).toContain(`${w} × ${h}`);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
    // At the cap itself the header passes (the truncated data then fails as a decode error, not a size error).
    expect(toApiError(await refusal(pngDeclaring(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)))).toMatchObject({ code: 'invalid-argument' });
  });

  it('a file over the byte cap is image-too-large before anything reads it', async () => {
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
    big.set(await pixels().png().toBuffer());
    expect(toApiError(await refusal(big))).toMatchObject({ code: 'image-too-large' });
    expect(importProblem(big)?.code).toBe('image-too-large');
    expect(importProblem(big.subarray(0, MAX_IMAGE_BYTES))).toBeNull();
  });

  it('sniffing reads the signature, not the name: text, GIF87a, RIFF without WEBP are none of the three', () => {
    expect(sniffImageFormat(Buffer.from('GIF87a....'))).toBeNull();
    expect(sniffImageFormat(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(sniffImageFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array([0x89, 0x50]))).toBeNull();
  });
});

describe('mask images get the same checks as imported pictures', () => {
  it('refuses a GIF, an SVG and a PNG declaring a huge size before decoding, and reads a PNG mask', async () => {
    const { resolveMask } = await import('../../src-main/engine/jobs/support/mask');
    const sharp = (await import('sharp')).default;
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).gif().toBuffer();
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#fff"/></svg>');
    for (const bytes of [new Uint8Array(gif), svg]) {
      const err = await resolveMask({ image: bytes, invert: false }, [3, 8, 8]).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('unsupported-image');
    }
    // A PNG whose header claims 100000 × 100000 pixels: refused from the header, nothing decoded.
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer();
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100000, 16);
    huge.writeUInt32BE(100000, 20);
    const err = await resolveMask({ image: new Uint8Array(huge), invert: false }, [3, 8, 8]).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('image-too-large');
    const ok = await resolveMask({ image: new Uint8Array(png), invert: false }, [3, 8, 8]);
    expect(ok.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
