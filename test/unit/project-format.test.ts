/**
 * Project format: round trip, older and newer fixtures, and fuzzing — malformed manifests, random bytes and truncated
 * zips only ever throw ProjectError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import {
  PROJECT_FORMAT_VERSION,
  ProjectError,
  decodeProject,
  encodeProject,
  loadProjectFile,
  saveProjectFile,
  sha256Hex,
  type ProjectManifest,
} from '../../src-main/core/project';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'projects');

function blob(seed: number, n = 300): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 255;
  return b;
}

function sample(result: Uint8Array, source?: Uint8Array): { manifest: ProjectManifest; blobs: Map<string, Uint8Array> } {
  const r = sha256Hex(result);
  const blobs = new Map([[r, result]]);
  const state = { timestep: 600, edits: [{ id: 'e1', basisKey: 'k600', index: 1, t: 600, strength: 2, enabled: true }] };
  let s: string | undefined;
  if (source) {
    s = sha256Hex(source);
    blobs.set(s, source);
  }
  return {
    blobs,
    manifest: {
      format: 'pullback-project',
      formatVersion: PROJECT_FORMAT_VERSION,
      appVersion: '0.1.0',
      createdAt: '2026-01-01T00:00:00.000Z',
      modifiedAt: '2026-01-01T00:00:00.000Z',
      model: { name: 'avatars64', dir: '/models/avatars64' },
      source: s ? { kind: 'image', blob: s, name: 'me.png', steps: 20, psnr: 31.5 } : { kind: 'seed', seed: 42, steps: 20 },
      state,
      bases: [{ key: 'k600', t: 600, k: 4, method: 'fast', sigmas: [9, 4, 2, 1] }],
      history: { entries: [{ label: 'New', state: { timestep: null, edits: [] } }, { label: 'Add direction 2', state }], index: 1 },
      images: { result: r, ...(s ? { source: s } : {}) },
    },
  };
}

function expectProjectError(fn: () => unknown): ProjectError | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ProjectError);
    return err as ProjectError;
  }
}

describe('project format', () => {
  it('round-trips manifest and blobs (seed and imported image)', () => {
    for (const p of [sample(blob(1)), sample(blob(2), blob(3, 999))]) {
      const back = decodeProject(encodeProject(p));
      expect(back.manifest).toEqual(p.manifest);
      expect(back.readOnly).toBe(false);
      expect([...back.blobs.keys()].sort()).toEqual([...p.blobs.keys()].sort());
      for (const [h, b] of p.blobs) expect(Buffer.from(back.blobs.get(h)!).equals(Buffer.from(b))).toBe(true);
    }
  });

  it('drops blobs nobody refers to, and refuses to save a missing or mismatched one', () => {
    const p = sample(blob(1));
    const orphan = blob(9);
    p.blobs.set(sha256Hex(orphan), orphan);
    expect(decodeProject(encodeProject(p)).blobs.size).toBe(1);
    const missing = sample(blob(1));
    missing.blobs.clear();
    expect(expectProjectError(() => encodeProject(missing))?.code).toBe('project-corrupt');
    const wrong = sample(blob(1));
    wrong.blobs.set(wrong.manifest.images.result!, blob(5));
    expect(expectProjectError(() => encodeProject(wrong))?.code).toBe('project-corrupt');
  });

  it('opens the version 1 fixture, migrated (weight → strength, history of one entry)', () => {
    const p = loadProjectFile(join(FIXTURES, 'v1-seed.pbproj'));
    expect(p.fromVersion).toBe(1);
    expect(p.readOnly).toBe(false);
    expect(p.manifest.formatVersion).toBe(PROJECT_FORMAT_VERSION);
    expect(p.manifest.source).toEqual({ kind: 'seed', seed: 7, steps: 10 });
    expect(p.manifest.state.edits.map((e) => [e.index, e.strength, e.enabled])).toEqual([
      [0, 2, true],
      [2, -1.5, false],
    ]);
    expect(p.manifest.history.entries).toHaveLength(1);
    expect(p.blobs.get(p.manifest.images.result!)?.length).toBeGreaterThan(0);
    // And it saves in the current version.
    const again = decodeProject(encodeProject(p));
    expect(again.fromVersion).toBe(PROJECT_FORMAT_VERSION);
  });

  it('opens the version 2 fixture (no analyses) and saves it in the current version', () => {
    const p = loadProjectFile(join(FIXTURES, 'v2-seed.pbproj'));
    expect(p.fromVersion).toBe(2);
    expect(p.readOnly).toBe(false);
    expect(p.manifest.formatVersion).toBe(PROJECT_FORMAT_VERSION);
    expect(p.manifest.analyses).toBeUndefined();
    expect(p.manifest.state.edits.map((e) => [e.basisKey, e.index, e.strength])).toEqual([['t600-krylov-k4', 1, 0.5]]);
    expect(p.manifest.history.index).toBe(1);
    const again = decodeProject(encodeProject(p));
    expect(again.fromVersion).toBe(PROJECT_FORMAT_VERSION);
    expect(again.manifest).toEqual(p.manifest);
  });

  it('keeps the analyses saved with the document (deflated JSON blobs), and refuses a missing one', async () => {
    const p = sample(blob(1));
    // Repetitive like real analysis JSON: deflating it must shrink the file.
    const json = strToU8(JSON.stringify({ format: 'pullback-geometry-analysis', sigma: Array.from({ length: 4000 }, (_, i) => i % 17) }));
    const comparison = strToU8(JSON.stringify({ format: 'pullback-geometry-analysis', label: 'other model' }));
    for (const b of [json, comparison]) p.blobs.set(sha256Hex(b), b);
    p.manifest.analyses = [
      { blob: sha256Hex(json), role: 'result', label: 'avatars64, 4 seeds' },
      { blob: sha256Hex(comparison), role: 'comparison', label: 'other model' },
    ];
    const bytes = encodeProject(p);
    expect(bytes.length).toBeLessThan(json.length / 2);
    const back = decodeProject(bytes);
    expect(back.manifest.analyses).toEqual(p.manifest.analyses);
    expect(Buffer.from(back.blobs.get(sha256Hex(json))!).equals(Buffer.from(json))).toBe(true);
    // The async writer (the main process's) writes the same entries.
    const { encodeProjectAsync } = await import('../../src-main/core/project');
    const parts = await encodeProjectAsync(p);
    const joined = Buffer.concat(parts.map((x) => Buffer.from(x)));
    expect(decodeProject(new Uint8Array(joined)).manifest.analyses).toEqual(p.manifest.analyses);
    p.blobs.delete(sha256Hex(comparison));
    expect(expectProjectError(() => encodeProject(p))?.code).toBe('project-corrupt');
  });

  it('opens a readable newer-version file read-only, and refuses an unreadable one with newer-version', () => {
    const p = loadProjectFile(join(FIXTURES, 'v4-future.pbproj'));
    expect(p.readOnly).toBe(true);
    expect(p.fromVersion).toBe(4);
    const alien = zipSync({ 'manifest.json': strToU8(JSON.stringify({ format: 'pullback-project', formatVersion: 9, everything: 'changed' })) });
    expect(expectProjectError(() => decodeProject(alien))?.code).toBe('project-newer-version');
  });

  it('a missing file is project-not-found, and garbage is project-corrupt naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbproj-'));
    expect(expectProjectError(() => loadProjectFile(join(dir, 'nope.pbproj')))?.code).toBe('project-not-found');
    writeFileSync(join(dir, 'junk.pbproj'), 'hello');
    const err = expectProjectError(() => loadProjectFile(join(dir, 'junk.pbproj')));
    expect(err?.code).toBe('project-corrupt');
    expect(err?.file).toBe('junk.pbproj');
  });

  it('a second save keeps the first as .bak and leaves no temp files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbproj-'));
    const f = join(dir, 'a.pbproj');
    const a = sample(blob(1));
    const b = sample(blob(2));
    saveProjectFile(f, a);
    expect(existsSync(`${f}.bak`)).toBe(false);
    saveProjectFile(f, b);
    expect(loadProjectFile(f).manifest.images.result).toBe(b.manifest.images.result);
    expect(loadProjectFile(`${f}.bak`).manifest.images.result).toBe(a.manifest.images.result);
    expect(readdirSync(dir).sort()).toEqual(['a.pbproj', 'a.pbproj.bak']);
  });

  it('fuzz: arbitrary JSON manifests only ever throw ProjectError', () => {
    const good = sample(blob(1));
    const keys = Object.keys(good.manifest);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ format: fc.constant('pullback-project'), formatVersion: fc.oneof(fc.integer(), fc.double()) }), fc.tuple(fc.constantFrom(...keys), fc.jsonValue()).map(([k, v]) => ({ ...good.manifest, [k]: v }))), (m) => {
        const zip = zipSync({ 'manifest.json': strToU8(JSON.stringify(m) ?? 'null'), ['blobs/' + good.manifest.images.result]: good.blobs.get(good.manifest.images.result!)! });
        try {
          decodeProject(zip);
        } catch (err) {
          if (!(err instanceof ProjectError)) throw err;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: truncated, bit-flipped and random bytes only ever throw ProjectError', () => {
    const bytes = encodeProject(sample(blob(1), blob(2, 2000)));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: bytes.length - 1 }).map((n) => bytes.slice(0, n)),
          fc.tuple(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const c = bytes.slice();
            c[i] ^= x;
            return c;
          }),
          fc.uint8Array({ maxLength: 4096 }),
        ),
        (b) => {
          try {
            const p = decodeProject(b);
            // A flip that survives must still be a valid project (e.g. inside the zip's comment or a date field).
            expect(p.manifest.formatVersion).toBe(PROJECT_FORMAT_VERSION);
          } catch (err) {
            if (!(err instanceof ProjectError)) throw err;
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});
