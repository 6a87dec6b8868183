/** Which finished gallery starts the next basis of the document (Galleries.compute passes its cacheId). */
import { describe, expect, it } from 'vitest';
import { warmStartSource, type Gallery } from '../../src-renderer/src/lib/state/galleries.svelte';

const gallery = (timestep: number, k: number, extra: Partial<Gallery> = {}): Gallery => ({
  key: `t${timestep}-krylov-k${k}`,
  timestep,
  k,
  method: 'krylov',
  rows: [],
  sigmas: [],
  strength: 1,
  status: 'done',
  cacheId: `id-${timestep}-${k}`,
  ...extra,
});

describe('warmStartSource', () => {
  it('picks the nearest finished krylov basis, preferring the same k at equal distance', () => {
    const list = [gallery(595, 8), gallery(615, 4), gallery(615, 8), gallery(400, 8)];
    expect(warmStartSource(list, 605, 8)?.cacheId).toBe('id-595-8');
    expect(warmStartSource(list, 610, 8)?.cacheId).toBe('id-615-8');
    expect(warmStartSource(list, 610, 4)?.cacheId).toBe('id-615-4');
  });

  it('never uses the same timestep, an unfinished or subspace gallery, or one without a cache id', () => {
    const list = [
      gallery(605, 8),
      gallery(595, 8, { status: 'computing' }),
      gallery(596, 8, { method: 'subspace' }),
      gallery(597, 8, { cacheId: undefined }),
      gallery(300, 8),
    ];
    expect(warmStartSource(list, 605, 8)?.cacheId).toBe('id-300-8');
    expect(warmStartSource([], 605, 8)).toBeNull();
  });
});
