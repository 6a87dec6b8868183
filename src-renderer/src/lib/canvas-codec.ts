/**
 * The page's PNG codec for the scaled export (export-png.ts): createImageBitmap + OffscreenCanvas. Kept apart from
 * export-png.ts because it needs the DOM, which the Node type-check of the state and dispatcher tests does not have.
 */
import type { PngCodec } from './export-png';

/** The browser's codec: straight alpha and no colour-space conversion, so 1 → decode → encode keeps the pixels. */
export const canvasCodec: PngCodec = {
  async decode(png) {
    const bitmap = await createImageBitmap(new Blob([png as BlobPart], { type: 'image/png' }), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width: data.width, height: data.height, data: data.data };
  },
  async encode(img) {
    const canvas = new OffscreenCanvas(img.width, img.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return new Uint8Array(await blob.arrayBuffer());
  },
};
