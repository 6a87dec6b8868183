/**
 * PNG tEXt chunks: the recipe of an exported image (model, seed or source hash, t, directions, strengths) travels
 * inside the PNG, readable by any PNG tool (`identify -verbose`, exiftool). Pure byte handling, no DOM.
 */
const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** The machine-readable recipe key; the other keys are for people. */
export const RECIPE_KEY = 'pullback:recipe';

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

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
}

/** tEXt is Latin-1; anything else is escaped as \uXXXX so the chunk stays valid and JSON still parses it. */
function latin1(s: string): Uint8Array {
  const safe = s.replace(/[^\x20-\x7e\xa1-\xff\n]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Uint8Array.from(safe, (ch) => ch.charCodeAt(0));
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(latin1(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Add tEXt chunks (before IEND). Returns the input unchanged when it is not a PNG. */
export function addPngText(png: Uint8Array, entries: Record<string, string>): Uint8Array {
  if (!isPng(png)) return png;
  const iend = findChunk(png, 'IEND');
  if (iend < 0) return png;
  const chunks = Object.entries(entries).map(([k, v]) => {
    const key = latin1(k.slice(0, 79));
    const val = latin1(v);
    const data = new Uint8Array(key.length + 1 + val.length);
    data.set(key, 0);
    data.set(val, key.length + 1);
    return chunk('tEXt', data);
  });
  const extra = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(png.length + extra);
  out.set(png.subarray(0, iend), 0);
  let off = iend;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  out.set(png.subarray(iend), off);
  return out;
}

function findChunk(png: Uint8Array, type: string): number {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let off = 8;
  while (off + 12 <= png.length) {
    const len = dv.getUint32(off);
    const t = String.fromCharCode(png[off + 4], png[off + 5], png[off + 6], png[off + 7]);
    if (t === type) return off;
    off += 12 + len;
  }
  return -1;
}

/** Every tEXt entry of a PNG (empty for non-PNGs or damaged files; never throws). */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPng(png)) return out;
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let off = 8;
  while (off + 12 <= png.length) {
    const len = dv.getUint32(off);
    if (off + 12 + len > png.length) break;
    const t = String.fromCharCode(png[off + 4], png[off + 5], png[off + 6], png[off + 7]);
    if (t === 'tEXt') {
      const data = png.subarray(off + 8, off + 8 + len);
      const zero = data.indexOf(0);
      if (zero > 0) {
        const key = String.fromCharCode(...data.subarray(0, zero));
        let val = '';
        for (const b of data.subarray(zero + 1)) val += String.fromCharCode(b);
        out[key] = val;
      }
    }
    if (t === 'IEND') break;
    off += 12 + len;
  }
  return out;
}
