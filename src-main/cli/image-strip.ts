/**
 * Side-by-side PNG strips for the CLI's gallery and strip commands: equal-sized frames in one row, separated by a
 * white gutter so neighbouring frames stay distinguishable. sharp is Node-only, hence here and not in core.
 * The row is assembled as raw RGB and encoded once (as engine/png.ts encodes), so the file is RGB without alpha
 * and each panel holds its frame's pixels exactly.
 */
import sharp from 'sharp';

/** One PNG of `frames` (PNG bytes, all the same size) left to right, `gap` white pixels between them. */
export async function horizontalStrip(frames: readonly Uint8Array[], gap = 2): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('horizontalStrip needs at least one frame');
  const decoded = await Promise.all(frames.map((f) => sharp(f).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })));
  const { width, height } = decoded[0].info;
  if (decoded.some((d) => d.info.width !== width || d.info.height !== height || d.info.channels !== 3)) throw new Error('strip frames differ in size');
  const total = frames.length * width + (frames.length - 1) * gap;
  const pixels = Buffer.alloc(total * height * 3, 255);
  decoded.forEach(({ data }, i) => {
    for (let y = 0; y < height; y++) data.copy(pixels, (y * total + i * (width + gap)) * 3, y * width * 3, (y + 1) * width * 3);
  });
  const out = await sharp(pixels, { raw: { width: total, height, channels: 3 } }).png({ compressionLevel: 9, adaptiveFiltering: false }).toBuffer();
  return new Uint8Array(out);
}
