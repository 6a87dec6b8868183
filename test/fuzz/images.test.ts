/**
 * Fuzzing image import (issue 14): random bytes, truncated and bit-flipped PNG/JPEG, and headers declaring huge
 * dimensions. The engine's decoder (imageToSample) must end in a sample, an InvalidArgumentError or an ImageError
 * (unsupported-image / image-too-large) within a deadline, without allocating what a header declares.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { ImageError, imageToSample } from '../../src-main/engine/jobs/invert';
import { InvalidArgumentError } from '../../src-main/core/diffusion/errors';
import { withDeadline } from './raw-net';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A PNG whose IHDR declares width × height (valid CRCs), with a tiny IDAT that cannot fill it. */
function pngDeclaring(width: number, height: number, colorType: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

async function decodes(bytes: Uint8Array): Promise<void> {
  const r = await withDeadline('imageToSample', 10_000, () => imageToSample(bytes, [3, 8, 8]).then((t) => t, (e: unknown) => e));
  if (r instanceof Error) expect(r instanceof InvalidArgumentError || r instanceof ImageError, String(r)).toBe(true);
  else expect((r as { dims: number[] }).dims).toEqual([1, 3, 8, 8]);
}

describe('image decode fuzz', () => {
  let png: Buffer;
  let jpeg: Buffer;
  it('random bytes (150 cases)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), decodes), params(150));
  });
  it('truncated and bit-flipped PNG and JPEG (150 cases)', async () => {
    const raw = { raw: { width: 16, height: 16, channels: 3 as const } };
    png = await sharp(Buffer.alloc(16 * 16 * 3, 77), raw).png().toBuffer();
    jpeg = await sharp(Buffer.alloc(16 * 16 * 3, 77), raw).jpeg().toBuffer();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.nat(), { maxLength: 6 }), async (isPng, keep, flips) => {
        const b = Buffer.from(isPng ? png : jpeg);
        for (const i of flips) b[i % b.length] ^= 0x5a;
        await decodes(b.subarray(0, Math.max(1, Math.floor(b.length * keep))));
      }),
      params(150),
    );
  });
  it('PNG headers declaring huge dimensions are refused without allocating them (60 cases)', async () => {
    const before = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(0, 2, 6), async (w, h, ct) => decodes(pngDeclaring(w, h, ct))),
      params(60),
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(1024 * 1024 * 1024);
  });
});
