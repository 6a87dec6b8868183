/**
 * Tangent columns per derived-graph call within the machine's memory (jacobian-memory.ts), against what was measured
 * (`npm run bench -- text`, 24 GB machine): an SD-1.5-shaped U-Net at 64×64 latents (largest active tensor 134 M
 * elements per column, 3.44 GB of weights) ran J·V with 1 and 2 columns and was killed for memory with 8.
 */
import { describe, expect, it } from 'vitest';
import { memoryFitK } from '../../../src-main/engine/worker/jacobian-memory';

const GB = 1e9;
const SD15 = { largest: 8 * 4096 * 4096, weights: 3.44 * GB };

describe('memoryFitK', () => {
  it('an SD-1.5-sized U-Net on 24 GB gets 2 columns (measured to fit), not the 8 that were killed', () => {
    expect(memoryFitK(8, SD15.largest, SD15.weights, 24 * GB)).toBe(2);
  });
  it('grows with the memory, never beyond what was asked', () => {
    expect(memoryFitK(8, SD15.largest, SD15.weights, 64 * GB)).toBe(7);
    expect(memoryFitK(8, SD15.largest, SD15.weights, 128 * GB)).toBe(8);
    expect(memoryFitK(4, SD15.largest, SD15.weights, 128 * GB)).toBe(4);
  });
  it('never below one column, even when nothing fits', () => {
    expect(memoryFitK(8, SD15.largest, SD15.weights, 8 * GB)).toBe(1);
  });
  it('a small model keeps the default (the bundled 64×64 U-Net: well under a million elements per column)', () => {
    expect(memoryFitK(8, 64 * 64 * 128, 0.05 * GB, 8 * GB)).toBe(8);
  });
});
