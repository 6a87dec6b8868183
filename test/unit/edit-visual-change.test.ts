/** The image change per unit strength the gallery reports beside σ (issue 13 item 5). */
import { describe, expect, it } from 'vitest';
import type { RawImage } from '../../src-main/core/diffusion/image';
import { changePerUnitStrength, meanAbsLevels } from '../../src-main/core/edit/visual-change';
import { EditError } from '../../src-main/core/edit/errors';

const image = (values: number[], width = values.length / 3): RawImage => ({ width, height: 1, channels: 3, pixels: Uint8Array.from(values) });

describe('visual change', () => {
  it('meanAbsLevels is the mean absolute difference over pixels and channels, in levels', () => {
    expect(meanAbsLevels(image([0, 0, 0, 10, 20, 30]), image([0, 0, 0, 10, 20, 30]))).toBe(0);
    // |10| + |−20| + 0 + 255 + 0 + 0 over 6 values.
    expect(meanAbsLevels(image([10, 0, 5, 255, 1, 1]), image([0, 20, 5, 0, 1, 1]))).toBeCloseTo(285 / 6, 12);
  });

  it('changePerUnitStrength averages − and + and divides by the strength', () => {
    const center = image([100, 100, 100]);
    const minus = image([94, 94, 94]); // 6 levels
    const plus = image([110, 110, 110]); // 10 levels
    expect(changePerUnitStrength(minus, plus, center, 2)).toBe(4);
    expect(changePerUnitStrength(minus, plus, center, 1)).toBe(8);
  });

  it('refuses images of different sizes and a non-positive strength', () => {
    expect(() => meanAbsLevels(image([0, 0, 0]), image([0, 0, 0, 0, 0, 0]))).toThrow(EditError);
    expect(() => changePerUnitStrength(image([0, 0, 0]), image([0, 0, 0]), image([0, 0, 0]), 0)).toThrow(/strength must be > 0/);
  });
});
