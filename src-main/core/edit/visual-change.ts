/**
 * How much a direction changes the picture, so a slider step can be predicted (issue 13 item 5): σ says how much h
 * moves, not how much the image does, and directions with similar σ can differ several-fold on screen. Measured on
 * the gallery's own previews: the mean absolute 8-bit difference of the − and + previews from the unedited centre,
 * per unit of strength (the previews are rendered at ±strength with the same noise, so the difference is the edit).
 */
import type { RawImage } from '../diffusion/image';
import { EditError } from './errors';

/** Mean |a − b| over every pixel and channel, in 8-bit levels (0–255). */
export function meanAbsLevels(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new EditError('bad-shape', `images differ in size: ${a.width}×${a.height}×${a.channels} vs ${b.width}×${b.height}×${b.channels}`);
  }
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) sum += Math.abs(a.pixels[i] - b.pixels[i]);
  return a.pixels.length > 0 ? sum / a.pixels.length : 0;
}

/** Levels of change per unit strength: the mean of the − and + previews' change, divided by the preview strength. */
export function changePerUnitStrength(minus: RawImage, plus: RawImage, center: RawImage, strength: number): number {
  if (!(strength > 0)) throw new EditError('bad-option', `the preview strength must be > 0, got ${strength}`);
  return (meanAbsLevels(minus, center) + meanAbsLevels(plus, center)) / (2 * strength);
}
