/**
 * A restored gallery re-renders a new preview strength from its cached basis with everything its key names: the mask
 * PNG of a masked basis (from the project's mask blobs) and the basis prompt of a text model's basis; without the mask
 * PNG it cannot, and asks nothing of the engine.
 */
import { describe, expect, it } from 'vitest';
import { Galleries, basisKey } from '../../src-renderer/src/lib/state/galleries.svelte';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { Notices } from '../../src-renderer/src/lib/state/notices.svelte';
import { ScriptedApi } from '../helpers/scripted-api';

const flush = () => new Promise((r) => setTimeout(r, 0));
const CACHE_ID = 'c0'.repeat(32);
const MASK = 'ab'.repeat(32);
const PNG = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
const request = { modelDir: '/m', xt: { seed: 1 }, steps: 10, provider: 'cpu' as const };

function galleries(mask: string | null) {
  const api = new ScriptedApi();
  const g = new Galleries({ jobs: new JobsState(api), notices: new Notices(), timestep: () => 555, onChange: () => {}, mask: () => mask });
  return { api, g };
}

describe('restored galleries re-render with what their key names', () => {
  it('a masked basis: with its mask PNG', async () => {
    const { api, g } = galleries(MASK);
    const key = basisKey(555, 'krylov', 2, MASK);
    g.restore([{ key, t: 555, k: 2, method: 'krylov', sigmas: [1, 0.5], cacheId: CACHE_ID }], key, { request, maskPng: (h) => (h === MASK ? PNG : undefined) });
    expect(g.current?.key).toBe(key);
    void g.setPreviewStrength(5);
    await flush();
    expect(api.started).toHaveLength(1);
    expect(api.started[0].input).toMatchObject({ cacheId: CACHE_ID, strength: 5, mask: { image: PNG } });
  });

  it('a masked basis whose mask PNG is gone: no job (it would be the unmasked basis)', async () => {
    const { api, g } = galleries(MASK);
    const key = basisKey(555, 'krylov', 2, MASK);
    g.restore([{ key, t: 555, k: 2, method: 'krylov', sigmas: [1, 0.5], cacheId: CACHE_ID }], key, { request, maskPng: () => undefined });
    void g.setPreviewStrength(5);
    await flush();
    expect(api.started).toHaveLength(0);
  });

  it('a basis prompt: with that prompt, in the gallery of that key', async () => {
    const { api, g } = galleries(null);
    const key = basisKey(555, 'krylov', 2, null, 'a dog');
    g.restore([{ key, t: 555, k: 2, method: 'krylov', sigmas: [1, 0.5], cacheId: CACHE_ID, basisPrompt: 'a dog' }], key, { request });
    g.basisPrompt = 'a dog';
    expect(g.current?.basisPrompt).toBe('a dog');
    void g.setPreviewStrength(5);
    await flush();
    expect(api.started[0].input).toMatchObject({ cacheId: CACHE_ID, strength: 5, basisPrompt: 'a dog' });
    expect(g.current?.key).toBe(key);
  });
});
