/**
 * `--mask FILE [--mask-invert]` of the commands that take a region (basis, gallery, edit, global-basis): FILE is an image (any
 * format sharp reads; grey level = weight, white selects) or a float32 .npy of weights in [0, 1] ([h, w], or with
 * leading 1s). Either is resampled onto the latent grid by the engine (shared/wire.ts LatentMaskSchema).
 */
import { readFile } from 'node:fs/promises';
import { readNpy } from './pullback-args';
import { UsageError } from './types';

export const MASK_OPTIONS = {
  mask: { type: 'string' },
  'mask-invert': { type: 'boolean' },
} as const;

export interface MaskArg {
  image?: Uint8Array<ArrayBuffer>;
  weights?: { dims: number[]; data: Uint8Array<ArrayBuffer> };
  invert: boolean;
}

/** The job's mask field, or undefined without --mask. */
export async function maskArgs(values: { mask?: string; 'mask-invert'?: boolean }): Promise<MaskArg | undefined> {
  if (values.mask === undefined) {
    if (values['mask-invert']) throw new UsageError('--mask-invert needs --mask FILE');
    return undefined;
  }
  const invert = values['mask-invert'] ?? false;
  if (values.mask.toLowerCase().endsWith('.npy')) {
    const t = await readNpy(values.mask, '--mask');
    return { weights: { dims: [...t.dims], data: new Uint8Array(t.data.slice().buffer) }, invert };
  }
  try {
    return { image: new Uint8Array(await readFile(values.mask)), invert };
  } catch {
    throw new UsageError(`--mask: cannot read ${values.mask}`);
  }
}

/** What basis.json records about the mask (null without one). */
export function maskMeta(file: string | undefined, invert: boolean | undefined, sha256: string | undefined): { file: string; invert: boolean; sha256: string | null } | null {
  return file === undefined ? null : { file, invert: invert ?? false, sha256: sha256 ?? null };
}
