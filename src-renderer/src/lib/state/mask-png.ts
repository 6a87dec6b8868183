/**
 * The painted mask as a file: an 8-bit greyscale PNG (grey level = weight, white selects), which is what the engine's
 * `mask.image` / `region.image` take (engine/jobs/support/mask.ts decodes it with sharp) and what `pullback edit
 * --mask FILE` reads, so the editor and the CLI send the same bytes. Pure byte handling (fast-png), no DOM: the
 * project blob is decoded again on open and in unit tests without a canvas. Deterministic: equal levels give equal
 * bytes, so the content hash names the mask (gallery keys, project blobs).
 */
import { decode, encode } from 'fast-png';
import { pngSize } from './images';

/** Mask levels at the image's size: one byte a pixel, row-major, 0 = outside, 255 = fully inside. */
export interface MaskLevels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The largest mask decoded (64 Mi pixels): a project blob claiming more is damaged or hostile. */
const MAX_PIXELS = 1 << 26;

/** Encode levels as an 8-bit greyscale PNG (fast-png: deterministic, so equal levels give equal bytes). */
export function encodeMaskPng(m: MaskLevels): Uint8Array {
  return encode({ width: m.width, height: m.height, data: m.data, depth: 8, channels: 1 });
}

/**
 * Decode an 8-bit greyscale PNG (what encodeMaskPng writes: a project's mask blob). Null for anything else or damaged
 * bytes; the page decodes other pictures ("Load mask…") with the browser's codec.
 */
export function decodeMaskPng(png: Uint8Array): MaskLevels | null {
  // The size from IHDR before anything is inflated: a small blob must not inflate into gigabytes.
  const size = pngSize(png);
  if (size.width < 1 || size.height < 1 || size.width * size.height > MAX_PIXELS) return null;
  try {
    const d = decode(png);
    if (d.depth !== 8 || d.channels !== 1 || d.palette || d.width < 1 || d.height < 1 || d.width * d.height > MAX_PIXELS) return null;
    if (d.data.length < d.width * d.height) return null;
    return { width: d.width, height: d.height, data: Uint8Array.from(d.data.subarray(0, d.width * d.height)) };
  } catch {
    return null;
  }
}
