import { describe, expect, it } from 'vitest';
import { RecentlyUsed } from '../../src-main/core/recently-used';

describe('RecentlyUsed', () => {
  it('drops the least recently used entry beyond its capacity; a read counts as a use', () => {
    const m = new RecentlyUsed<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now more recent than b
    m.set('c', 3);
    expect(m.get('b')).toBeUndefined();
    expect([m.get('a'), m.get('c')]).toEqual([1, 3]);
    // Writing an existing key replaces it and makes it the most recent.
    m.set('a', 10);
    m.set('d', 4);
    expect([m.get('a'), m.get('c'), m.get('d')]).toEqual([10, undefined, 4]);
  });

  it('keeps falsy values, deletes and clears', () => {
    const m = new RecentlyUsed<string, number>(3);
    m.set('zero', 0);
    expect(m.get('zero')).toBe(0);
    m.delete('zero');
    expect(m.get('zero')).toBeUndefined();
    m.set('x', 1);
    m.clear();
    expect(m.get('x')).toBeUndefined();
  });
});
