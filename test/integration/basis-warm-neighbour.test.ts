/**
 * warmFromCacheId: the editor moves the timestep one step and starts the new basis from the old one. On the
 * bundled model: fewer Jacobian products than a cold start at the same point, the same subspace (within the
 * krylov tolerance), a stable cache entry for the same neighbour, and the cold entry preferred when it exists.
 */
import { describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { grassmannDistance } from '../../src-main/core/geometry/metrics';
import { fromPayload } from '../../src-main/engine/jobs/support/wire-tensors';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('warm-neighbour');
const modelDir = defaultModelDir();
// Three neighbouring steps of the 100-step schedule of T = 1000 (…, 585, 595, 605, …).
const base = { modelDir, seed: 3, steps: 100, k: 4, provider: 'cpu' as const };

describe('basis warm-started from a neighbouring timestep (warmFromCacheId)', () => {
  it('costs fewer products than a cold start and finds the same subspace; the same neighbour hits the same entry', async () => {
    const neighbour = await runJobInProcess('basis', { ...base, timestep: 595 }, { quiet: true });
    expect(neighbour.warmStarted).toBeUndefined();

    const warm = await runJobInProcess('basis', { ...base, timestep: 605, warmFromCacheId: neighbour.cacheId }, { quiet: true });
    expect(warm.warmStarted).toBe(true);
    expect(warm.cacheHit).toBe(false);
    expect(warm.converged).toBe(true);
    // The cold reference at the same point under another start seed (another cache entry, computed cold).
    const cold = await runJobInProcess('basis', { ...base, timestep: 605, basisSeed: 1 }, { quiet: true });
    expect(cold.warmStarted).toBeUndefined();
    expect(warm.jacobianProducts.total).toBeLessThan(cold.jacobianProducts.total);
    expect(grassmannDistance(fromPayload(warm.V, 'V'), fromPayload(cold.V, 'V'))).toBeLessThan(0.05);

    const again = await runJobInProcess('basis', { ...base, timestep: 605, warmFromCacheId: neighbour.cacheId }, { quiet: true });
    expect(again.cacheHit).toBe(true);
    expect(again.cacheId).toBe(warm.cacheId);
    expect(Buffer.from(again.V.data).equals(Buffer.from(warm.V.data))).toBe(true);
  });

  it('uses a cold entry of the same point as it is, and ignores an unknown id', async () => {
    const coldFirst = await runJobInProcess('basis', { ...base, timestep: 585 }, { quiet: true });
    const neighbour = await runJobInProcess('basis', { ...base, timestep: 595 }, { quiet: true });
    const withWarm = await runJobInProcess('basis', { ...base, timestep: 585, warmFromCacheId: neighbour.cacheId }, { quiet: true });
    expect(withWarm.cacheHit).toBe(true);
    expect(withWarm.cacheId).toBe(coldFirst.cacheId);
    expect(withWarm.warmStarted).toBeUndefined();

    const unknown = await runJobInProcess('basis', { ...base, timestep: 575, warmFromCacheId: 'f'.repeat(64) }, { quiet: true });
    expect(unknown.warmStarted).toBeUndefined();
    expect(unknown.converged).toBe(true);
  });
});
