/**
 * Export at 1×, 2× or 4×: the shown PNG (with its recipe chunks) decoded in the page, upscaled by resample.ts and
 * encoded again, with the same tEXt chunks plus what the scaling was. The codec is a parameter so the pipeline is
 * tested in Node (no DOM here); the page passes canvas-codec.ts.
 */
import { addPngText, readPngText } from './png-text';
import { upscale, type ResampleFilter, type RgbaImage } from './resample';

export const EXPORT_SCALES = [1, 2, 4] as const;
export type ExportScale = (typeof EXPORT_SCALES)[number];

/** The machine-readable record of an export's scaling (the human one is `Scale`). */
export const EXPORT_KEY = 'pullback:export';

export interface PngCodec {
  decode(png: Uint8Array): Promise<RgbaImage>;
  encode(img: RgbaImage): Promise<Uint8Array>;
}

/** `name.png` → `name@2x.png` (1× keeps the name). */
export function scaledName(name: string, scale: ExportScale): string {
  return scale === 1 ? name : name.replace(/(\.png)?$/i, `@${scale}x.png`);
}

/**
 * The PNG scaled by `scale` with `filter`, carrying the input's tEXt chunks (the recipe) and the scaling
 * (`Scale`: "2× lanczos from 64×64"; `pullback:export`: JSON). 1× returns the input unchanged.
 */
export async function scalePng(png: Uint8Array, scale: ExportScale, filter: ResampleFilter, codec: PngCodec): Promise<Uint8Array> {
  if (scale === 1) return png;
  const text = readPngText(png);
  const src = await codec.decode(png);
  const out = await codec.encode(upscale(src, scale, filter));
  return addPngText(out, {
    ...text,
    Scale: `${scale}× ${filter} from ${src.width}×${src.height}`,
    [EXPORT_KEY]: JSON.stringify({ scale, filter, from: [src.width, src.height], to: [src.width * scale, src.height * scale] }),
  });
}
