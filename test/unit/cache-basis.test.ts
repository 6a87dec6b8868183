/** The on-disk basis cache: content addressing, hits with identical bytes, restart, corruption handling. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, copyFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { krylovBasis } from '../../src-main/core/geometry';
import type { LocalBasis } from '../../src-main/core/geometry';
import { BasisCache, basisCacheId, canonicalKey, type BasisCacheKey } from '../../src-main/engine/jobs/support/basis-store';
import { tensorSha256 } from '../../src-main/core/tensor/hash';
import { denseFixture } from './geometry-fixture';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pb-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const key: BasisCacheKey = {
  modelHash: 'm'.repeat(64),
  xtHash: tensorSha256({ dims: [1, 2], data: new Float32Array([1, 2]) }),
  timestep: 600,
  prompt: null,
  hTensor: 'mid_block',
  k: 4,
  method: 'krylov',
  tol: 1e-3,
  seed: 0,
};

let computed = 0;
async function compute(): Promise<LocalBasis> {
  computed++;
  return krylovBasis(denseFixture({}).op, { k: 4, seed: 0 });
}
const bytes = (b: LocalBasis) => [b.V, b.S, b.U].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));

function allFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('cache key', () => {
  it('is canonical: field order and number spelling do not matter, every field does', () => {
    const reordered = Object.fromEntries(Object.entries(key).reverse()) as unknown as BasisCacheKey;
    expect(basisCacheId(reordered)).toBe(basisCacheId(key));
    expect(basisCacheId({ ...key, tol: 0.001 })).toBe(basisCacheId(key));
    expect(basisCacheId({ ...key, extra: { b: 1, a: 'x' } })).toBe(basisCacheId({ ...key, extra: { a: 'x', b: 1 } }));
    const variants: Partial<BasisCacheKey>[] = [
      { modelHash: 'n'.repeat(64) },
      { xtHash: tensorSha256({ dims: [1, 2], data: new Float32Array([1, 2.0000002]) }) },
      { timestep: 601 },
      { prompt: '' },
      { prompt: 'a smiling face' },
      { hTensor: 'up_blocks.0' },
      { k: 5 },
      { method: 'subspace' },
      { tol: 1e-4 },
      { seed: 1 },
      { extra: { oversampling: 4 } },
    ];
    const ids = new Set([basisCacheId(key), ...variants.map((v) => basisCacheId({ ...key, ...v }))]);
    expect(ids.size).toBe(variants.length + 1);
    expect(canonicalKey(key)).toContain('"prompt":null');
    // Tensor hash covers dims too, not only bytes.
    expect(tensorSha256({ dims: [2, 1], data: new Float32Array([1, 2]) })).not.toBe(key.xtHash);
  });
});

describe('tensorSha256', () => {
  it('is sha256 of "f32\\0", rank, dims (u32 LE) and the float32 LE bytes; sensitive to every bit', () => {
    const t = { dims: [2, 1], data: new Float32Array([1.5, -0]) };
    const manual = Buffer.alloc(8 + 8 + 8);
    manual.write('f32\0', 0, 'latin1');
    manual.writeUInt32LE(2, 4);
    manual.writeUInt32LE(2, 8);
    manual.writeUInt32LE(1, 12);
    manual.writeFloatLE(1.5, 16);
    manual.writeFloatLE(-0, 20);
    expect(tensorSha256(t)).toBe(createHash('sha256').update(manual).digest('hex'));
    expect(tensorSha256({ dims: [2, 1], data: new Float32Array([1.5, 0]) })).not.toBe(tensorSha256(t));
    // A view into a larger buffer hashes only its own bytes.
    const big = new Float32Array([9, 1.5, -0, 9]);
    expect(tensorSha256({ dims: [2, 1], data: big.subarray(1, 3) })).toBe(tensorSha256(t));
  });
});

describe('BasisCache', () => {
  it('second request is a hit with identical bytes and metadata; survives a new instance (restart)', async () => {
    computed = 0;
    const cache = new BasisCache(dir);
    const first = await cache.getOrCompute(key, compute);
    expect(first.lookup).toMatchObject({ hit: false, reason: 'absent' });
    const second = await cache.getOrCompute(key, compute);
    expect(second.lookup.hit).toBe(true);
    expect(computed).toBe(1);
    bytes(second.basis).forEach((b, i) => expect(b.equals(bytes(first.basis)[i])).toBe(true));
    expect(second.basis.V.dims).toEqual(first.basis.V.dims);
    expect(second.basis.U.dims).toEqual(first.basis.U.dims);
    const { V: _v, S: _s, U: _u, ...meta } = first.basis;
    expect(second.basis).toMatchObject(meta);

    const restarted = await new BasisCache(dir).get(key);
    expect(restarted.hit).toBe(true);
    if (restarted.hit) bytes(restarted.basis).forEach((b, i) => expect(b.equals(bytes(first.basis)[i])).toBe(true));
    // Atomic write leaves exactly one file and no temp files behind.
    expect(allFiles(dir)).toEqual([cache.pathFor(basisCacheId(key))]);
    expect((await cache.get({ ...key, seed: 1 })).hit).toBe(false);
  });

  it('stores the krylov warm rows when the basis has them, and reads an entry without them as one without', async () => {
    const basis = await compute();
    expect(basis.warmRows?.dims[0]).toBeGreaterThan(basis.V.dims[0]);
    const cache = new BasisCache(dir);
    await cache.put(key, basis);
    const withRows = await new BasisCache(dir).get(key);
    expect(withRows.hit && withRows.basis.warmRows?.dims).toEqual(basis.warmRows!.dims);
    expect(withRows.hit && Buffer.from(withRows.basis.warmRows!.data.buffer).equals(Buffer.from(basis.warmRows!.data.buffer))).toBe(true);
    // An entry written before warm rows existed (or by subspace iteration): the same layout without W.
    const { warmRows: _rows, ...older } = basis;
    await cache.put({ ...key, seed: 1 }, older);
    const without = await new BasisCache(dir).get({ ...key, seed: 1 });
    expect(without.hit).toBe(true);
    if (without.hit) {
      expect(without.basis.warmRows).toBeUndefined();
      bytes(without.basis).forEach((b, i) => expect(b.equals(bytes(basis)[i])).toBe(true));
    }
  });

  it('a truncated entry is a miss, is deleted, and the next request recomputes', async () => {
    computed = 0;
    const cache = new BasisCache(dir);
    await cache.getOrCompute(key, compute);
    const file = cache.pathFor(basisCacheId(key));
    const full = readFileSync(file);
    const original = await cache.get(key);
    for (const cut of [full.length - 1, full.length - 33, 100, 10, 0]) {
      writeFileSync(file, full.subarray(0, cut));
      const lookup = await cache.get(key);
      expect(lookup).toMatchObject({ hit: false, reason: 'corrupt' });
      expect(existsSync(file)).toBe(false);
    }
    const again = await cache.getOrCompute(key, compute);
    expect(again.lookup).toMatchObject({ hit: false, reason: 'absent' });
    expect(computed).toBe(2);
    // Recomputed and stored again: same basis bytes (the header's `seconds` may differ, so not the file size).
    const reread = await cache.get(key);
    expect(reread.hit && original.hit).toBe(true);
    if (reread.hit && original.hit) bytes(reread.basis).forEach((b, i) => expect(b.equals(bytes(original.basis)[i])).toBe(true));
    expect(statSync(file).size).toBeGreaterThan(100);
  });

  it('a single flipped bit anywhere is detected', async () => {
    const cache = new BasisCache(dir);
    await cache.put(key, await compute());
    const file = cache.pathFor(basisCacheId(key));
    const full = readFileSync(file);
    for (const at of [3, 20, Math.floor(full.length / 2), full.length - 40, full.length - 1]) {
      const bad = Buffer.from(full);
      bad[at] ^= 0x10;
      writeFileSync(file, bad);
      expect(await cache.get(key)).toMatchObject({ hit: false, reason: 'corrupt' });
    }
  });

  it('an intact entry stored under the wrong name is not trusted', async () => {
    const cache = new BasisCache(dir);
    await cache.put(key, await compute());
    const other = { ...key, timestep: 800 };
    const target = cache.pathFor(basisCacheId(other));
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(cache.pathFor(basisCacheId(key)), target);
    expect(await cache.get(other)).toMatchObject({ hit: false, reason: 'key-mismatch' });
    expect(existsSync(target)).toBe(false);
    expect((await cache.get(key)).hit).toBe(true);
  });

  it('concurrent writers of the same key both succeed and leave one valid entry', async () => {
    const cache = new BasisCache(dir);
    const b = await compute();
    await Promise.all([cache.put(key, b), new BasisCache(dir).put(key, b), cache.put(key, b)]);
    expect(allFiles(dir)).toHaveLength(1);
    expect((await cache.get(key)).hit).toBe(true);
  });
});
