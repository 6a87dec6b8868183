/**
 * The painted mask as a file: an 8-bit greyscale PNG (grey level = weight, white selects), which is what the engine's
 * `mask.image` / `region.image` take (engine/jobs/support/mask.ts decodes it with sharp) and what `pullback edit
 * --mask FILE` reads, so the editor and the CLI send the same bytes. Pure byte handling (fflate), no DOM: the
 * project blob is decoded again on open and in unit tests without a canvas. Deterministic: equal levels give equal
 * bytes, so the content hash names the mask (gallery keys, project blobs).
 */
import { unzlibSync, zlibSync } from 'fflate';

/** Mask levels at the image's size: one byte a pixel, row-major, 0 = outside, 255 = fully inside. */
export interface MaskLevels {
  width: number;
  height: number;
  data: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encode levels as a greyscale PNG (filter 0 on every row: masks are flat, zlib does the work). */
export function encodeMaskPng(m: MaskLevels): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, m.width);
  dv.setUint32(4, m.height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (grey), deflate, filter 0, no interlace
  const raw = new Uint8Array((m.width + 1) * m.height);
  for (let y = 0; y < m.height; y++) raw.set(m.data.subarray(y * m.width, (y + 1) * m.width), y * (m.width + 1) + 1);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decode an 8-bit greyscale, non-interlaced PNG (what encodeMaskPng writes: a project's mask blob), any row filter.
 * Null for anything else or damaged bytes; the page decodes other pictures ("Load mask…") with the browser's codec.
 */
export function decodeMaskPng(png: Uint8Array): MaskLevels | null {
  if (png.length < 8 || !SIGNATURE.every((v, i) => png[i] === v)) return null;
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off + 12 <= png.length; ) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(off + 8);
      height = dv.getUint32(off + 12);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) return null;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (width < 1 || height < 1 || width * height > 1 << 26 || idat.length === 0) return null;
  let raw: Uint8Array;
  try {
    const joined = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
    let o = 0;
    for (const d of idat) {
      joined.set(d, o);
      o += d.length;
    }
    raw = unzlibSync(joined);
  } catch {
    return null;
  }
  if (raw.length < (width + 1) * height) return null;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)];
    const src = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? out[row + x - 1] : 0;
      const b = y > 0 ? out[row - width + x] : 0;
      const c = x > 0 && y > 0 ? out[row - width + x - 1] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? paeth(a, b, c) : -1;
      if (pred < 0) return null;
      out[row + x] = (src[x] + pred) & 255;
    }
  }
  return { width, height, data: out };
}
