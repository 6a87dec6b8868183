/**
 * `invert`: a real image → x_T by DDIM inversion (η = 0, the paper's timesteps, no clip_sample), with the quality
 * of the inversion measured as PSNR of invert → regenerate (deterministic DDIM from x_T, also unclipped, so the
 * number measures the inversion alone). Below `poorPsnrDb` the result is flagged `poor`: edits of this image will
 * not look like edits of it.
 *
 * Decoding uses sharp, for PNG, JPEG and WebP only (shared/image-limits.ts: the format is sniffed from the bytes and
 * anything else, SVG and GIF included, is refused before a decoder sees it), with the pixel count checked from the
 * header and passed to libvips as `limitInputPixels`, so a small file declaring a huge image allocates nothing: EXIF
 * orientation applied, alpha flattened onto white, converted to sRGB (or grey for 1-channel models), resized to cover
 * the model size and centre-cropped.
 */
import sharp from 'sharp';
import type { EngineJob } from './types';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import { ddimDenoise, ddimInvert, psnr } from '../../core/diffusion/inversion';
import { sampleToImage, type RawImage } from '../../core/diffusion/image';
import type { Tensor } from '../../core/tensor';
import type { Float32TensorPayload } from '../../shared/api';
import { MAX_IMAGE_PIXELS } from '../../shared/image-limits';
import { checkImage } from './support/image-check';
export { ImageError } from './support/image-check';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';
import { resolveTimestep, openModel } from './support/latent';
import { canvasJob } from './support/canvas-job';

export interface InvertResult {
  xT: Float32TensorPayload;
  timestep: number;
  xt?: Float32TensorPayload;
  xtTimestep?: number;
  input: RawImage;
  recon: RawImage;
  psnr: number;
  poor: boolean;
  elapsedMs: number;
}

/** Image file bytes → one sample [1, C, H, W] in [−1, 1]. Throws ImageError or InvalidArgumentError. */
export async function imageToSample(bytes: Uint8Array, dims: readonly [number, number, number]): Promise<Tensor> {
  const [C, H, W] = dims;
  if (C !== 1 && C !== 3) throw new InvalidArgumentError(`only pixel-space models (1 or 3 channels) can invert images; this one has ${C}`);
  await checkImage(bytes);
  let data: Buffer;
  try {
    // limitInputPixels again: the header was checked above, but the decoder enforces it for what it actually reads.
    let img = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).rotate().flatten({ background: '#ffffff' });
    img = C === 1 ? img.grayscale() : img.toColourspace('srgb');
    img = img.resize(W, H, { fit: 'cover', position: 'centre' });
    const out = await img.raw().toBuffer({ resolveWithObject: true });
    if (out.info.channels !== C) {
      // sharp keeps 3 channels for grayscale() on some inputs; take the first.
      const px = Buffer.alloc(H * W * C);
      for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) px[i * C + c] = out.data[i * out.info.channels + c];
      data = px;
    } else data = out.data;
  } catch (err) {
    throw new InvalidArgumentError(`cannot decode the image: ${err instanceof Error ? err.message : String(err)}`);
  }
  const x = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) x[c * H * W + i] = (data[i * C + c] / 255) * 2 - 1;
  return { dims: [1, C, H, W], data: x };
}

/** 8-bit pixels back to [−1, 1] [1, C, H, W] (the decoded reconstruction as the PSNR sees the input). */
function rawToSample(img: RawImage): Tensor {
  const { width: W, height: H, channels: C, pixels } = img;
  const x = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) x[c * H * W + i] = (pixels[i * C + c] / 255) * 2 - 1;
  return { dims: [1, C, H, W], data: x };
}

export const invertJob: EngineJob<'invert', InvertResult> = {
  name: 'invert',
  async run(input, ctx) {
    // Text models (the authors' setting): VAE encode, then inversion with the empty prompt and no guidance (the
    // job has no prompt, so openModel's predictor is exactly that); the PSNR is of encode → invert → regenerate →
    // decode against the input pixels.
    const opened = await openModel(input, ctx);
    const { model, start, imageDims, toLatent } = opened;
    const pixels = await imageToSample(input.image, imageDims);
    const x0 = await toLatent(pixels, ctx.signal);
    if (input.t !== undefined && input.timestep !== undefined) throw new InvalidArgumentError('give at most one of t, timestep');
    const editTimestep = input.t !== undefined || input.timestep !== undefined ? resolveTimestep(input, model) : undefined;
    // Counted calls for the ETA (N up, N down, the decode) and x̂₀ previews: the inversion's x̂₀ is the picture
    // as the model sees it at each level, the regeneration's converges to the reconstruction.
    const job = canvasJob(ctx.onProgress, model, opened);
    job.meter.expect({ [job.pathUnit]: 2 * input.steps, decode: job.decodeUnits });
    const { x: xT, timestep, captured } = await ddimInvert(x0, {
      predictor: job.path,
      alphasCumprod: model.alphasCumprod,
      steps: input.steps,
      captureTimestep: editTimestep,
      signal: ctx.signal,
      onProgress: subProgress(job.onProgress, 0, 0.5),
    });
    const recon = await ddimDenoise(xT, {
      predictor: job.path,
      alphasCumprod: model.alphasCumprod,
      steps: input.steps,
      fromTimestep: timestep,
      signal: ctx.signal,
      onProgress: subProgress(job.onProgress, 0.5, 1),
    });
    const reconImage = await job.toImage(recon, 0, ctx.signal);
    const score = model.text ? psnr(pixels, rawToSample(reconImage)) : psnr(x0, recon);
    return {
      xT: toPayload(xT),
      timestep,
      ...(captured && editTimestep !== undefined ? { xt: toPayload(captured), xtTimestep: editTimestep } : {}),
      input: sampleToImage(pixels),
      recon: reconImage,
      psnr: Number.isFinite(score) ? score : 99,
      poor: score < input.poorPsnrDb,
      elapsedMs: performance.now() - start,
    };
  },
};
