/** The `transport` job's input: exactly one of `index` (A's basis) and `direction` (explicit, A's source optional then). */
import { describe, expect, it } from 'vitest';
import { TransportInputSchema } from '../../../src-main/shared/api';

const direction = { dims: [1, 3, 1, 1], data: new Uint8Array(12) };
const base = { modelDir: '/m', timestep: 500, seedB: 2 };
const issues = (v: unknown) => {
  const r = TransportInputSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe('TransportInputSchema', () => {
  it('takes an index with A’s source, or a direction with or without it', () => {
    expect(issues({ ...base, seed: 1, index: 0 })).toEqual([]);
    expect(issues({ ...base, direction })).toEqual([]);
    expect(issues({ ...base, seed: 1, direction })).toEqual([]);
  });
  it('refuses both, neither, and an index without A', () => {
    expect(issues({ ...base, seed: 1, index: 0, direction })).toContain('give exactly one of index, direction');
    expect(issues({ ...base, seed: 1 })).toContain('give exactly one of index, direction');
    expect(issues({ ...base, index: 0 })).toContain('give exactly one of seed, xt, xT');
  });
});
