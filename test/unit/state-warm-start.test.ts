/** Which finished gallery starts the next basis of the document (Galleries.compute passes its cacheId). */
import { describe, expect, it } from 'vitest';
import { galleryTimingText, warmStartSource, type Gallery } from '../../src-renderer/src/lib/state/galleries.svelte';

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

describe('galleryTimingText (one duration for what the user waited for, and its parts)', () => {
  const stats = { iterations: 7, converged: true, seconds: 7.14, cacheHit: false };
  it('says the whole wait first, then what the basis took, and when it came from the cache', () => {
    expect(galleryTimingText({ ...stats, totalSeconds: 12.31 })).toBe('Done in 12.3 s: basis computed in 7.1 s, the rest previews');
    expect(galleryTimingText({ ...stats, warmStarted: true, totalSeconds: 9 })).toBe(
      'Done in 9.0 s: basis computed in 7.1 s (started from a neighbouring timestep), the rest previews',
    );
    expect(galleryTimingText({ ...stats, cacheHit: true, totalSeconds: 213.4 })).toBe('Done in 213.4 s: basis from the cache, the rest previews');
  });
  it('a restored gallery (no wait measured) names the basis only', () => {
    expect(galleryTimingText({ ...stats, cacheHit: true })).toBe('Basis from the cache');
    expect(galleryTimingText(stats)).toBe('Basis computed in 7.1 s');
  });
});
