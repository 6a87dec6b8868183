/**
 * The host's only post-processing of a worker result: raw pixels become PNG files. Workers return images as
 * RawImage ({width, height, channels, pixels}); encoding them here keeps the worker's single compute lane on model
 * work while a finished result is being compressed. Walking the result generically means no job needs host-side
 * code, so the host never imports a job (and with it onnxruntime-node).
 */
import type { RawImage } from '../../core/diffusion/image';
import type { EncodedImage } from '../../shared/api';
import { encodePng } from '../png';

/** A job's API output as its worker produces it: every EncodedImage may still be raw pixels. */
export type WithRawImages<T> = T extends EncodedImage
  ? RawImage | EncodedImage
  : T extends Uint8Array
    ? T
    : T extends readonly (infer E)[]
      ? WithRawImages<E>[]
      : T extends object
        ? { [K in keyof T]: WithRawImages<T[K]> }
        : T;

function isRawImage(v: object): v is RawImage {
  const r = v as Partial<RawImage>;
  return r.pixels instanceof Uint8Array && typeof r.width === 'number' && typeof r.height === 'number' && (r.channels === 1 || r.channels === 3);
}

/** Replace every RawImage inside a result by its PNG (deterministic bytes: equal pixels, equal files). */
export async function encodeRawImages(value: unknown): Promise<unknown> {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return Promise.all(value.map(encodeRawImages));
  if (isRawImage(value)) {
    const png: EncodedImage = { mime: 'image/png', width: value.width, height: value.height, bytes: await encodePng(value) };
    return png;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await encodeRawImages(v);
  return out;
}
