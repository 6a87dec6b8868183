/** Equal-change slider units (issue 13 item 5): the factor from the gallery's measured change, and the conversions. */
import { describe, expect, it } from 'vitest';
import { StrengthUnits, changeFactor } from '../../src-renderer/src/lib/state/strength-units.svelte';
import type { Gallery } from '../../src-renderer/src/lib/state/galleries.svelte';

const gallery = (changes: (number | undefined)[]): Gallery => ({
  key: 't595-krylov-k3',
  timestep: 595,
  k: changes.length,
  method: 'krylov',
  rows: changes.map((change, index) => ({ index, sigma: 1, ...(change !== undefined ? { change } : {}) })),
  sigmas: changes.map(() => 1),
  strength: 3,
  status: 'done',
});

describe('changeFactor', () => {
  it('is the direction\'s change over the mean of the measured rows', () => {
    const g = gallery([2, 4, 6]);
    expect(changeFactor(g, 0)).toBeCloseTo(0.5, 12);
    expect(changeFactor(g, 2)).toBeCloseTo(1.5, 12);
  });
  it('null without a measurement for that direction, or without the gallery', () => {
    expect(changeFactor(gallery([2, undefined, 6]), 1)).toBeNull();
    expect(changeFactor(gallery([2, undefined, 6]), 0)).toBeCloseTo(0.5, 12);
    expect(changeFactor(undefined, 0)).toBeNull();
    expect(changeFactor(gallery([0, 0]), 0)).toBeNull();
  });
});

describe('StrengthUnits', () => {
  it('off: fields show and take real strengths', () => {
    const u = new StrengthUnits();
    expect(u.shown(2, 1.5)).toBe(2);
    expect(u.strength(2, 1.5)).toBe(2);
  });
  it('on: a direction that changes the picture 1.5× the mean shows 1.5× its strength, and back', () => {
    const u = new StrengthUnits();
    u.equal = true;
    expect(u.shown(2, 1.5)).toBe(3);
    expect(u.strength(3, 1.5)).toBe(2);
    // Two directions at equal shown values: strengths inversely proportional to their change.
    expect(u.strength(3, 1.5) * 1.5).toBeCloseTo(u.strength(3, 0.5) * 0.5, 12);
    // Unmeasured: real units.
    expect(u.shown(2, null)).toBe(2);
    expect(u.strength(2, null)).toBe(2);
  });
});
