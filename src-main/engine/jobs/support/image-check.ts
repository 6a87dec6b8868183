/**
 * The engine's check of a picture before any decoder touches its pixels (invert's images, mask images): over the
 * byte cap or not PNG/JPEG/WebP by its signature (shared/image-limits.ts), a format libvips reads otherwise, or a
 * header declaring more than MAX_IMAGE_PIXELS. Decoders then pass `limitInputPixels: MAX_IMAGE_PIXELS` as well.
 */
import sharp from 'sharp';
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import { IMAGE_FORMATS, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, importProblem } from '../../../shared/image-limits';

/** A picture the engine will not decode: its API code is the error's `code` (toApiError passes it through). */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: 'unsupported-image' | 'image-too-large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Refuse what the engine does not decode, from the bytes and the header only: over the byte cap, not PNG/JPEG/WebP
 * by its signature or by libvips' own reading of it, or declaring more than MAX_IMAGE_PIXELS.
 */
export async function checkImage(bytes: Uint8Array): Promise<void> {
  const problem = importProblem(bytes);
  if (problem) throw new ImageError(problem.code, problem.message);
  // The header only (no pixels are decoded here), read without libvips' limit so the size check below can say how
  // big the picture is instead of libvips' bare "exceeds pixel limit".
  const meta = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((err: unknown) => {
      throw new InvalidArgumentError(`cannot decode the image: ${err instanceof Error ? err.message : String(err)}`);
    });
  // The signature matched, but libvips decides which loader runs: both must agree.
  if (!(IMAGE_FORMATS as readonly string[]).includes(meta.format ?? '')) {
    throw new ImageError('unsupported-image', `only PNG, JPEG and WebP pictures can be imported (this one reads as ${meta.format ?? 'unknown'})`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > MAX_IMAGE_PIXELS) {
    throw new ImageError('image-too-large', `the picture is ${w} × ${h} pixels; at most ${MAX_IMAGE_SIDE} × ${MAX_IMAGE_SIDE} (${Math.round(MAX_IMAGE_PIXELS / 1e6)} megapixels) can be imported`);
  }
}

