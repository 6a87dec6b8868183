/**
 * What an imported picture may be, in one place for the renderer (which refuses before sending), the transports and
 * the engine (which refuses before decoding). Pure: no Node imports, so the renderer uses the same numbers.
 *
 * Why these numbers:
 * - MAX_IMAGE_BYTES (48 MiB): the picture travels in one WebSocket message (WS_MAX_REQUEST_BYTES, 64 MiB) and again
 *   inside every project save of the document (a blob of ProjectRequestSchema, same cap), next to the other blobs
 *   and the manifest. 48 MiB leaves that room; the engine only ever uses the picture at the model's size (≤ 4096 px
 *   a side), so a file this big is a camera original that loses nothing by being saved smaller first.
 * - MAX_IMAGE_PIXELS (8192 × 8192): a PNG or WebP decodes to ~4 bytes per pixel in native memory before it is
 *   resized; 2^26 pixels is ≈ 256 MiB, twice the side of the largest model. A small file declaring more (a
 *   decompression bomb) is refused from its header, before any pixel is allocated.
 * - Formats: PNG, JPEG and WebP, sniffed from the bytes (not the name). SVG (an XML renderer with external
 *   references), GIF, HEIF, TIFF and the rest of what libvips reads are refused before any decoder sees them.
 */

export const MAX_IMAGE_BYTES = 48 * 1024 * 1024;
export const MAX_IMAGE_SIDE = 8192;
export const MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE;

export const IMAGE_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** The format the bytes start with, or null for anything else (including SVG, GIF, TIFF, HEIF, text). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  const at = (i: number, ...xs: number[]) => xs.every((x, k) => b[i + k] === x);
  if (b.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (b.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  // RIFF <size> WEBP
  if (b.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  return null;
}

/** MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}

/**
 * Why `bytes` cannot be imported, or null when it may be sent: the one check the renderer runs before sending and
 * the engine runs again before decoding (both say the same thing).
 */
export function importProblem(bytes: Uint8Array): { code: 'unsupported-image' | 'image-too-large'; message: string } | null {
  if (bytes.length > MAX_IMAGE_BYTES) {
    return { code: 'image-too-large', message: `the picture is ${mib(bytes.length)} MiB; at most ${mib(MAX_IMAGE_BYTES)} MiB can be imported (save a smaller copy: the model uses it at its own size anyway)` };
  }
  if (!sniffImageFormat(bytes)) return { code: 'unsupported-image', message: 'only PNG, JPEG and WebP pictures can be imported (this file is none of them)' };
  return null;
}
