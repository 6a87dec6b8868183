/**
 * A job's mask (shared/wire.ts LatentMaskSchema) → core/geometry's LatentMask on the model's latent grid, plus the
 * content hash the basis cache key carries. Image decoding (sharp) lives here because core stays pure TypeScript;
 * the resampling onto the latent grid is core's resizeMaskCover, so image and float masks go through one path.
 */
import sharp, { type OutputInfo } from 'sharp';
import { MAX_IMAGE_PIXELS } from '../../../shared/image-limits';
import { checkImage } from './image-check';
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import { expandMask, latentMask, MaskError, resizeMaskCover, type LatentMask } from '../../../core/geometry/mask';
import { tensorSha256 } from '../../../core/tensor/hash';
import type { Float32TensorPayload } from '../../../shared/api';
import { fromPayload } from './wire-tensors';

/** The parsed wire form (LatentMaskSchema's output). */
export interface MaskRequest {
  image?: Uint8Array;
  weights?: Float32TensorPayload;
  invert: boolean;
}

export interface ResolvedMask {
  mask: LatentMask;
  /** sha256 of the effective weights [H, W] (after resampling and invert): equal masks share cache entries. */
  hash: string;
}

/** Grey levels of an image file in [0, 1]: EXIF orientation applied, alpha flattened onto black (unselected). */
async function decodeMaskImage(bytes: Uint8Array): Promise<{ height: number; width: number; weights: Float32Array }> {
  // The same checks as an imported picture: PNG/JPEG/WebP only, byte and pixel caps, before any pixel is decoded.
  await checkImage(bytes);
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).rotate().flatten({ background: '#000000' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new InvalidArgumentError(`cannot decode the mask image: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { width, height, channels } = out.info;
  const weights = new Float32Array(width * height);
  // sharp may keep 3 channels after greyscale() on some inputs; they are equal, take the first.
  for (let i = 0; i < weights.length; i++) weights[i] = out.data[i * channels] / 255;
  return { height, width, weights };
}

/** [h, w] of a float mask; leading axes of size 1 are allowed ([1, h, w], [1, 1, h, w]). */
function weightGrid(payload: Float32TensorPayload): { height: number; width: number; weights: Float32Array } {
  const t = fromPayload(payload, 'mask.weights');
  const dims = t.dims;
  if (dims.length < 2 || dims.slice(0, -2).some((d) => d !== 1)) {
    throw new InvalidArgumentError(`mask.weights must be [h, w] (or with leading 1s), got [${dims.join(', ')}]`);
  }
  return { height: dims[dims.length - 2], width: dims[dims.length - 1], weights: t.data };
}

/** The mask on the latent grid of a model with sample dims [C, H, W]. */
export async function resolveMask(request: MaskRequest, sampleDims: readonly number[]): Promise<ResolvedMask> {
  const H = sampleDims[sampleDims.length - 2];
  const W = sampleDims[sampleDims.length - 1];
  const src = request.image ? await decodeMaskImage(request.image) : weightGrid(request.weights!);
  try {
    const mask = latentMask(resizeMaskCover(src, H, W), H, W, { invert: request.invert });
    return { mask, hash: tensorSha256({ dims: [H, W], data: mask.weights }) };
  } catch (err) {
    if (err instanceof MaskError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** The mask broadcast over one sample (the edit's region weights). */
export async function resolveRegion(request: MaskRequest, sampleDims: readonly number[]): Promise<Float32Array> {
  return expandMask((await resolveMask(request, sampleDims)).mask, sampleDims);
}
