/**
 * The pixel size a PNG, JPEG or WebP file declares in its header, read without decoding (the renderer says "Resized
 * from 800×600 to 64×64" after an import; the engine resizes with sharp). Pure, no Node imports. The size is the
 * stored one: a JPEG whose EXIF orientation rotates it by 90° shows with width and height swapped.
 */
import { sniffImageFormat } from './image-limits';

export interface ImageSize {
  width: number;
  height: number;
}

function pngSize(b: Uint8Array, dv: DataView): ImageSize | null {
  // Signature (8), IHDR length (4) and type (4), then width and height (big-endian).
  if (b.length < 24 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== 'IHDR') return null;
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame's height and width. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(b: Uint8Array, dv: DataView): ImageSize | null {
  let off = 2;
  while (off + 4 <= b.length) {
    if (b[off] !== 0xff) return null;
    const marker = b[off + 1];
    // Fill bytes (FF FF …) and the parameterless markers (TEM, RSTn) have no length field.
    if (marker === 0xff) {
      off += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      off += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / start of scan before any frame header
    const len = dv.getUint16(off + 2);
    if (isStartOfFrame(marker)) {
      if (off + 9 > b.length) return null;
      return { width: dv.getUint16(off + 7), height: dv.getUint16(off + 5) };
    }
    off += 2 + len;
  }
  return null;
}

function webpSize(b: Uint8Array, dv: DataView): ImageSize | null {
  if (b.length < 30) return null;
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === 'VP8 ') {
    // Lossy: after the 3-byte frame tag and the start code 9D 01 2A, 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    // Lossless: signature 0x2F, then width − 1 and height − 1 in 14 bits each, little-endian bit order.
    if (b[20] !== 0x2f) return null;
    const bits = dv.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    // Extended: canvas width − 1 and height − 1 as 24-bit little-endian after 4 bytes of flags.
    const u24 = (i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
    return { width: u24(24) + 1, height: u24(27) + 1 };
  }
  return null;
}

/** The declared size of a PNG, JPEG or WebP file, or null for anything else or a header it cannot read. */
export function imageSize(bytes: Uint8Array): ImageSize | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (sniffImageFormat(bytes)) {
    case 'png':
      return pngSize(bytes, dv);
    case 'jpeg':
      return jpegSize(bytes, dv);
    case 'webp':
      return webpSize(bytes, dv);
    default:
      return null;
  }
}

/**
 * The import notice when the engine resized the picture (it scales to cover the model's size and centre-crops,
 * engine/jobs/invert.ts), or null when the picture already had the model's size or its size is unknown.
 */
export function resizeNotice(original: ImageSize | null, model: ImageSize): string | null {
  if (!original || (original.width === model.width && original.height === model.height)) return null;
  // Cropped when the aspect ratios differ (compared exactly: w·H vs W·h).
  const cropped = original.width * model.height !== model.width * original.height;
  const shape = model.width === model.height ? 'a square' : `${model.width}:${model.height}`;
  return `Resized from ${original.width}×${original.height} to ${model.width}×${model.height}${cropped ? ` (centre-cropped to ${shape})` : ''}.`;
}
