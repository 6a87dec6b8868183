/** A PNG the page shows, with its size (bytes only: never a tensor). */
export interface ShownImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

/** Just the shown fields of an engine image (drops its mime type and anything else riding along). */
export function toShown(i: ShownImage): ShownImage {
  return { bytes: i.bytes, width: i.width, height: i.height };
}

/** Width and height from a PNG's IHDR (0×0 for anything else). */
export function pngSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 24) return { width: 0, height: 0 };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}
