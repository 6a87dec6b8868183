/** PNG encoding/decoding with sharp, on the Node side only (never in the renderer). */
import sharp from 'sharp';
import type { RawImage } from '../core/diffusion/image';

/** Deterministic PNG bytes for raw pixels: no metadata, fixed compression, so equal pixels give equal files. */
export async function encodePng(img: RawImage): Promise<Uint8Array<ArrayBuffer>> {
  const buf = await sharp(img.pixels, { raw: { width: img.width, height: img.height, channels: img.channels } })
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buf); // copy into a plain ArrayBuffer so it can be transferred/cloned
}

export async function decodePng(bytes: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 && info.channels !== 3) throw new Error(`unsupported channel count ${info.channels}`);
  return { width: info.width, height: info.height, channels: info.channels, pixels: new Uint8Array(data) };
}
