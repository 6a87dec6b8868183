/**
 * A −/0/+ strip of one direction as a PNG (the gallery previews side by side), with the direction's recipe in tEXt
 * chunks. Built in the page from the preview PNGs; no latents involved.
 */
import { addPngText } from './png-text';

export async function stripPng(images: Uint8Array[], text: Record<string, string>, gap = 2): Promise<Uint8Array> {
  const bitmaps = await Promise.all(images.map((b) => createImageBitmap(new Blob([b as BlobPart], { type: 'image/png' }))));
  const h = Math.max(...bitmaps.map((b) => b.height));
  const w = bitmaps.reduce((s, b) => s + b.width, 0) + gap * (bitmaps.length - 1);
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  let x = 0;
  for (const b of bitmaps) {
    ctx.drawImage(b, x, 0);
    x += b.width + gap;
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return addPngText(new Uint8Array(await blob.arrayBuffer()), text);
}
