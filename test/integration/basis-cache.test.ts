/**
 * The `basis` job through the on-disk cache (PULLBACK_DATA_DIR in a temp folder): a second identical request is a
 * hit with identical bytes; a truncated entry is detected, discarded and recomputed (same bytes again, as the
 * computation is seeded); a different seed is a different entry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('cache');
let modelDir: string;

beforeAll(async () => {
  modelDir = await wrapUnet('ddpm_unet2d_op14', tmp.root);
});

async function entries(): Promise<string[]> {
  const root = join(tmp.root, 'data', 'basis');
  const out: string[] = [];
  for (const d of await readdir(root)) for (const f of await readdir(join(root, d))) if (f.endsWith('.pbasis')) out.push(join(root, d, f));
  return out;
}

describe('basis job cache', () => {
  const input = { modelDir, seed: 4, t: 0.6, steps: 20, k: 3, provider: 'cpu' as const };
  it('second request is a hit with identical bytes; a truncated entry is recomputed', async () => {
    const req = { ...input, modelDir };
    const first = await runJobInProcess('basis', req, { quiet: true });
    expect(first.cacheHit).toBe(false);
    expect(first.timestep).toBe(578); // 0.6·T = 600 snapped onto round(linspace(0, 999, 20)): …, 526, 578, 631, …
    const second = await runJobInProcess('basis', req, { quiet: true });
    expect(second.cacheHit).toBe(true);
    expect(second.cacheId).toBe(first.cacheId);
    for (const key of ['V', 'S', 'U'] as const) expect(Buffer.from(second[key].data).equals(Buffer.from(first[key].data))).toBe(true);
    expect(second.jacobianProducts).toEqual(first.jacobianProducts);

    const [file] = await entries();
    await truncate(file, (await stat(file)).size - 100);
    const third = await runJobInProcess('basis', req, { quiet: true });
    expect(third.cacheHit).toBe(false);
    for (const key of ['V', 'S', 'U'] as const) expect(Buffer.from(third[key].data).equals(Buffer.from(first[key].data))).toBe(true);
    const fourth = await runJobInProcess('basis', req, { quiet: true });
    expect(fourth.cacheHit).toBe(true);

    const other = await runJobInProcess('basis', { ...req, basisSeed: 9 }, { quiet: true });
    expect(other.cacheHit).toBe(false);
    expect(other.cacheId).not.toBe(first.cacheId);
  });

  it('an x_t given as a tensor hits the entry computed from the seed it came from', async () => {
    const fromSeed = await runJobInProcess('basis', { ...input, modelDir }, { quiet: true });
    const fromXt = await runJobInProcess('basis', { modelDir, xt: fromSeed.xt, timestep: fromSeed.timestep, steps: 20, k: 3, provider: 'cpu' }, { quiet: true });
    expect(fromXt.cacheHit).toBe(true);
    expect(Buffer.from(fromXt.V.data).equals(Buffer.from(fromSeed.V.data))).toBe(true);
  });

  it('a changed model folder (scheduler config) has another model hash, so its bases are not reused', async () => {
    const before = await runJobInProcess('basis', { ...input, modelDir }, { quiet: true });
    expect(before.cacheHit).toBe(true);
    const cfgFile = join(modelDir, 'scheduler', 'scheduler_config.json');
    const cfg = JSON.parse(await readFile(cfgFile, 'utf8'));
    await writeFile(cfgFile, JSON.stringify({ ...cfg, beta_end: 0.021 }));
    const after = await runJobInProcess('basis', { ...input, modelDir }, { quiet: true });
    expect(after.modelHash).not.toBe(before.modelHash);
    expect(after.cacheHit).toBe(false);
  });

  it('warm start from the basis at a nearby timestep: its own cache entry, same subspace, no more products', async () => {
    const near = await runJobInProcess('basis', { ...input, modelDir, k: 4, t: undefined, timestep: 631 }, { quiet: true });
    const cold = await runJobInProcess('basis', { ...input, modelDir, k: 4 }, { quiet: true });
    const warm = await runJobInProcess('basis', { ...input, modelDir, k: 4, warmStart: near.V }, { quiet: true });
    expect(warm.cacheHit).toBe(false);
    expect(warm.cacheId).not.toBe(cold.cacheId);
    expect(warm.converged).toBe(true);
    console.log(`[basis-cache] warm start: ${warm.jacobianProducts.total} products vs cold ${cold.jacobianProducts.total}`);
    expect(warm.jacobianProducts.total).toBeLessThanOrEqual(cold.jacobianProducts.total);
    const S = (r: typeof cold) => new Float32Array(r.S.data.slice().buffer);
    for (let i = 0; i < 4; i++) expect(Math.abs(S(warm)[i] - S(cold)[i]) / S(cold)[i]).toBeLessThan(1e-3);
    await expect(runJobInProcess('basis', { ...input, modelDir, k: 4, method: 'subspace', warmStart: near.V }, { quiet: true })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });
});
