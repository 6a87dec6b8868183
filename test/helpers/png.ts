/** Decoding PNG outputs in tests, so a test checks what an image shows (size, pixels), not only that a file exists. */
import { readFile } from 'node:fs/promises';
import { decodePng } from '../../src-main/engine/png';
import type { RawImage } from '../../src-main/core/diffusion/image';

export async function readPng(file: string): Promise<RawImage> {
  return decodePng(await readFile(file));
}

/** Mean absolute difference of two images' 8-bit values (0 = identical pixels). */
export function meanAbsDiff(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) throw new Error('images differ in size');
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) sum += Math.abs(a.pixels[i] - b.pixels[i]);
  return sum / a.pixels.length;
}
