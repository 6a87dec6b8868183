/**
 * Gallery previews in the project file (issue 16): a basis keeps its engine cache id and its preview PNGs (centre,
 * per-direction −/+/heat) as content-addressed blobs. Round trip; a file without them (older) still opens; a missing
 * or damaged preview blob costs that preview only, never the document; a damaged image blob still refuses the file;
 * the schema bounds the rows and the reader bounds the preview blobs it inflates.
 */
import { describe, expect, it } from 'vitest';
import { strToU8, zipSync } from 'fflate';
import { PROJECT_FORMAT_VERSION, ProjectError, decodeProject, encodeProject, sha256Hex, type ProjectManifest } from '../../src-main/core/project';
import { optionalBlobs } from '../../src-main/core/project/format';
import { BasisRefSchema, MAX_PREVIEW_BLOBS, ProjectManifestSchema } from '../../src-main/core/project/schema';
import { ProjectRequestSchema } from '../../src-main/shared/project-api';
import { MAX_IMAGE_BYTES } from '../../src-main/shared/image-limits';

function bytes(seed: number, n = 200): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 37 + i * 11) & 255;
  return b;
}

/** A seed document with one k = 2 basis whose previews are blobs 10…16 (centre, then −/+/heat per direction). */
function withPreviews() {
  const result = bytes(1);
  const previews = Array.from({ length: 7 }, (_, i) => bytes(10 + i));
  const h = previews.map(sha256Hex);
  const blobs = new Map<string, Uint8Array>([[sha256Hex(result), result], ...previews.map((b, i) => [h[i], b] as [string, Uint8Array])]);
  const cacheId = 'ab'.repeat(32);
  const manifest: ProjectManifest = {
    format: 'pullback-project',
    formatVersion: PROJECT_FORMAT_VERSION,
    appVersion: '0.1.0',
    createdAt: '2026-01-01T00:00:00.000Z',
    modifiedAt: '2026-01-01T00:00:00.000Z',
    model: { name: 'avatars64', dir: '/models/avatars64' },
    source: { kind: 'seed', seed: 42, steps: 100 },
    state: { timestep: 595, edits: [] },
    bases: [
      {
        key: 't595-krylov-k2',
        t: 595,
        k: 2,
        method: 'krylov',
        sigmas: [5, 3],
        cacheId,
        previews: {
          strength: 3,
          previewSteps: 20,
          center: h[0],
          rows: [
            { index: 0, minus: h[1], plus: h[2], heat: h[3] },
            { index: 1, minus: h[4], plus: h[5], heat: h[6] },
          ],
        },
      },
    ],
    history: { entries: [{ label: 'New', state: { timestep: 595, edits: [] } }], index: 0 },
    images: { result: sha256Hex(result) },
  };
  return { manifest, blobs, h, result };
}

/** Byte equality whatever the view (decoded blobs are Buffers, the originals Uint8Arrays). */
function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && Buffer.from(a).equals(Buffer.from(b));
}

function expectCorrupt(fn: () => unknown): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ProjectError);
  expect((err as ProjectError).code).toBe('project-corrupt');
}

/** A project zip written by hand, so its blobs can be damaged (encodeProject refuses to write a damaged one). */
function zipOf(manifest: ProjectManifest, entries: Record<string, Uint8Array>): Uint8Array {
  const files: Record<string, Uint8Array> = { 'manifest.json': strToU8(JSON.stringify(manifest)) };
  for (const [hash, b] of Object.entries(entries)) files[`blobs/${hash}`] = b;
  return zipSync(files);
}

describe('gallery previews in the project file', () => {
  it('round-trips the cache id, strength, preview steps and every preview blob', () => {
    const p = withPreviews();
    const back = decodeProject(encodeProject(p));
    expect(back.manifest.bases).toEqual(p.manifest.bases);
    for (const h of p.h) expect(same(back.blobs.get(h), p.blobs.get(h))).toBe(true);
    expect(back.fromVersion).toBe(PROJECT_FORMAT_VERSION);
  });

  it('opens a basis saved without previews or cache id (files before issue 16) unchanged', () => {
    const p = withPreviews();
    const bare = { ...p.manifest, bases: [{ key: 't595-krylov-k2', t: 595, k: 2, method: 'krylov', sigmas: [5, 3] }] };
    const back = decodeProject(encodeProject({ manifest: bare, blobs: p.blobs }));
    expect(back.manifest.bases).toEqual(bare.bases);
    // Preview blobs nobody refers to are not written.
    for (const h of p.h) expect(back.blobs.has(h)).toBe(false);
  });

  it('a preview blob missing from the file costs that preview only', () => {
    const p = withPreviews();
    const entries = Object.fromEntries(p.blobs);
    delete entries[p.h[2]];
    const back = decodeProject(zipOf(p.manifest, entries));
    expect(back.blobs.has(p.h[2])).toBe(false);
    for (const h of [p.h[0], p.h[1], p.h[3], p.h[4], p.h[5], p.h[6]]) expect(same(back.blobs.get(h), p.blobs.get(h))).toBe(true);
    expect(back.manifest.bases[0].previews?.rows[0].plus).toBe(p.h[2]);
    expect(same(back.blobs.get(sha256Hex(p.result)), p.result)).toBe(true);
  });

  it('a damaged preview blob (bytes that do not match its hash) is left out; the rest opens', () => {
    const p = withPreviews();
    const entries = Object.fromEntries(p.blobs);
    entries[p.h[0]] = bytes(99);
    const back = decodeProject(zipOf(p.manifest, entries));
    expect(back.blobs.has(p.h[0])).toBe(false);
    expect(same(back.blobs.get(p.h[1]), p.blobs.get(p.h[1]))).toBe(true);
  });

  it('a damaged image blob still refuses the file (only previews are optional)', () => {
    const p = withPreviews();
    const entries = Object.fromEntries(p.blobs);
    entries[sha256Hex(p.result)] = bytes(98);
    expectCorrupt(() => decodeProject(zipOf(p.manifest, entries)));
  });

  it('saving without a preview blob writes the rest and the document', () => {
    const p = withPreviews();
    p.blobs.delete(p.h[4]);
    const back = decodeProject(encodeProject(p));
    expect(back.blobs.has(p.h[4])).toBe(false);
    expect(same(back.blobs.get(p.h[5]), p.blobs.get(p.h[5]))).toBe(true);
  });

  it('a preview that is also an image (the centre is the canvas image) is one required blob', () => {
    const p = withPreviews();
    const image = sha256Hex(p.result);
    p.manifest.bases[0].previews!.center = image;
    expect(optionalBlobs(p.manifest)).not.toContain(image);
    const back = decodeProject(encodeProject(p));
    expect(same(back.blobs.get(image), p.result)).toBe(true);
  });

  it('bounds rows in the schema and preview blobs in the reader', () => {
    const p = withPreviews();
    const row = p.manifest.bases[0].previews!.rows[0];
    const tooMany = { ...p.manifest.bases[0], previews: { ...p.manifest.bases[0].previews!, rows: Array.from({ length: 65 }, (_, index) => ({ ...row, index })) } };
    expect(BasisRefSchema.safeParse(tooMany).success).toBe(false);
    expect(BasisRefSchema.safeParse({ ...p.manifest.bases[0], cacheId: 'not-a-hash' }).success).toBe(false);
    // 32 bases × 64 rows × 3 distinct hashes: the reader takes MAX_PREVIEW_BLOBS of them, never more.
    const hash = (i: number) => i.toString(16).padStart(64, '0');
    let i = 0;
    const bases = Array.from({ length: 32 }, (_, b) => ({
      key: `k${b}`,
      t: b,
      k: 64,
      method: 'krylov',
      sigmas: [],
      previews: { strength: 1, rows: Array.from({ length: 64 }, (_, index) => ({ index, minus: hash(i++), plus: hash(i++), heat: hash(i++) })) },
    }));
    const big = { ...p.manifest, bases };
    expect(ProjectManifestSchema.safeParse(big).success).toBe(true);
    expect(optionalBlobs(big)).toHaveLength(MAX_PREVIEW_BLOBS);
  });

  it('a save takes the previews on top of the 64 document blobs, and at most 512 MiB in all', () => {
    const { manifest } = withPreviews();
    const hash = (i: number) => i.toString(16).padStart(64, '0');
    const save = (blobs: Record<string, Uint8Array>) => ProjectRequestSchema.safeParse({ op: 'autosave', session: 's1', title: 't', manifest, blobs }).success;
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [hash(i), new Uint8Array(1)]));
    expect(save(many(64 + MAX_PREVIEW_BLOBS))).toBe(true);
    expect(save(many(65 + MAX_PREVIEW_BLOBS))).toBe(false);
    // One 48 MiB buffer named 11 times: each counts (528 MiB), without allocating them all.
    const big = new Uint8Array(MAX_IMAGE_BYTES);
    expect(save(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [hash(i), big])))).toBe(true);
    expect(save(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [hash(i), big])))).toBe(false);
  });
});
