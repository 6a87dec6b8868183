/**
 * Fuzzing project files (issue 14): a valid project with lying size fields, bit flips, truncation, extra entries
 * and bombs in any entry. decodeProject (and the async path the server uses) must end in a project or a
 * ProjectError, quickly, with memory bounded by the caps rather than by what the file declares.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deflateRawSync } from 'node:zlib';
import { decodeProject, decodeProjectAsync, sha256Hex, ProjectError, PROJECT_FORMAT_VERSION, type ProjectManifest } from '../../src-main/core/project';
import { buildZip, deflateBomb, type RawEntry } from './zip-build';
import { withDeadline } from './raw-net';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const MiB = 1024 * 1024;
const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);
const hash = sha256Hex(png);
const state = { timestep: 600, edits: [] };
const manifest: ProjectManifest = {
  format: 'pullback-project',
  formatVersion: PROJECT_FORMAT_VERSION,
  appVersion: '0.1.0',
  createdAt: 'a',
  modifiedAt: 'b',
  model: { name: 'm', dir: '/m' },
  source: { kind: 'seed', seed: 5, steps: 10 },
  state,
  bases: [],
  history: { entries: [{ label: 'New', state }], index: 0 },
  images: { result: hash },
};
const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
const bomb = deflateBomb(300);

const entry = fc.oneof(
  fc.record({ which: fc.constant('manifest' as const), deflate: fc.boolean(), lie: fc.constantFrom(0, 1, 1000 * MiB, 0xffffffff) }),
  fc.record({ which: fc.constant('blob' as const), deflate: fc.boolean(), lie: fc.constantFrom(0, 11, 1000 * MiB, 0xffffffff) }),
  fc.record({ which: fc.constant('bomb' as const), name: fc.constantFrom('manifest.json', `blobs/${hash}`, 'other'), lie: fc.constantFrom(0, 20, 900 * MiB) }),
  fc.record({ which: fc.constant('junk' as const), name: fc.string({ maxLength: 20 }), data: fc.uint8Array({ maxLength: 64 }), method: fc.constantFrom(0 as const, 8 as const) }),
);

function toEntry(e: Record<string, unknown>): RawEntry {
  switch (e.which) {
    case 'manifest':
      return { name: 'manifest.json', data: e.deflate ? deflateRawSync(manifestBytes) : manifestBytes, method: e.deflate ? 8 : 0, declaredSize: e.lie as number };
    case 'blob':
      return { name: `blobs/${hash}`, data: e.deflate ? deflateRawSync(png) : png, method: e.deflate ? 8 : 0, declaredSize: e.lie as number };
    case 'bomb':
      return { name: e.name as string, data: bomb, method: 8, declaredSize: e.lie as number };
    default:
      return { name: e.name as string, data: e.data as Uint8Array, method: e.method as 0 | 8, declaredSize: (e.data as Uint8Array).length };
  }
}

describe('project file fuzz', () => {
  it('lying sizes, bombs, junk entries, flips and truncation end in a project or a ProjectError (300 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.boolean(),
        async (entries, flips, keep, useAsync) => {
          const zip = Buffer.from(buildZip(entries.map((e) => toEntry(e as Record<string, unknown>))));
          for (const i of flips) zip[i % zip.length] ^= 0xa5;
          const bytes = zip.subarray(0, Math.max(1, Math.floor(zip.length * keep)));
          const result = await withDeadline('decodeProject', 5000, async () => {
            try {
              return useAsync ? await decodeProjectAsync(bytes) : decodeProject(bytes);
            } catch (err) {
              return err;
            }
          });
          if (result instanceof Error) expect(result).toBeInstanceOf(ProjectError);
          else expect((result as { manifest: ProjectManifest }).manifest.format).toBe('pullback-project');
        },
      ),
      { numRuns: 300, ...(seed !== undefined ? { seed } : {}) },
    );
  });
});
