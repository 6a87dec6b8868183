import { describe, expect, it } from 'vitest';
import { directionMagnitude, directionMagnitudeImage } from '../../src-main/core/geometry/magnitude-map';
import { GeometryError } from '../../src-main/core/geometry/errors';

describe('direction magnitude map', () => {
  it('is the channel norm of v per pixel', () => {
    // v [1, 2, 2, 2]: pixel 1 has (3, 4) → 5, pixel 2 has (0, -1) → 1, others 0.
    const data = new Float32Array(8);
    data[1] = 3;
    data[4 + 1] = 4;
    data[4 + 2] = -1;
    const m = directionMagnitude({ dims: [1, 2, 2, 2], data });
    expect([...m.values]).toEqual([0, 5, 1, 0]);
    expect([m.width, m.height]).toEqual([2, 2]);
  });

  it('colours the largest magnitude brightest and zero darkest', () => {
    const data = new Float32Array(3 * 4 * 4);
    data[5] = 2; // channel 0, pixel 5
    data[16 + 9] = 1; // channel 1, pixel 9
    const img = directionMagnitudeImage({ dims: [1, 3, 4, 4], data });
    expect([img.width, img.height, img.channels]).toEqual([4, 4, 3]);
    const red = (i: number) => img.pixels[3 * i];
    expect(red(5)).toBe(255);
    expect(red(0)).toBe(30);
    expect(red(9)).toBeGreaterThan(red(0));
    expect(red(9)).toBeLessThan(red(5));
  });

  it('refuses a batch of directions', () => {
    expect(() => directionMagnitude({ dims: [2, 1, 2, 2], data: new Float32Array(8) })).toThrow(GeometryError);
  });
});
