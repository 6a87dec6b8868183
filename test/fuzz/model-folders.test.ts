/**
 * Fuzzing model folders (issue 14): random and truncated files, random config values, special files and links in
 * place of any file. loadModelFolder must end in a model or a ModelFolderError within a deadline: never another
 * exception, never a hang, never an allocation sized by the file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { ModelFolderError } from '../../src-main/core/diffusion/errors';
import { ANALYTIC_EXTERNAL, ANALYTIC_INT64 } from '../helpers/model-folders';
import { withDeadline } from './raw-net';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const posix = process.platform !== 'win32';
const root = mkdtempSync(join(tmpdir(), 'pb-fuzz-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = ['model_index.json', 'scheduler/scheduler_config.json', 'unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data'];
const SCHED_FIELDS = ['num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'prediction_type', 'trained_betas', 'clip_sample', 'clip_sample_range'];

const hugeNumber = fc.constantFrom(0, -1, 1, 2, 1000, 1e5, 1e5 + 1, 1e8, 1e12, 2 ** 53, 1e308, -1e308, 0.5, Number.MIN_VALUE);

type Mutation =
  | { kind: 'truncate'; file: string; fraction: number }
  | { kind: 'random'; file: string; bytes: Uint8Array }
  | { kind: 'flip'; file: string; at: number[]; mask: number }
  | { kind: 'field'; field: string; value: unknown }
  | { kind: 'unetConfig'; field: string; value: unknown }
  | { kind: 'special'; file: string; what: 'fifo' | 'devzero' | 'dir' | 'link-out' | 'dangling' | 'empty' | 'self-loop' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), file: fc.constantFrom(...FILES), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('random' as const), file: fc.constantFrom(...FILES), bytes: fc.uint8Array({ maxLength: 512 }) }),
  fc.record({ kind: fc.constant('flip' as const), file: fc.constantFrom(...FILES), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...SCHED_FIELDS), value: fc.oneof(hugeNumber, fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ kind: fc.constant('unetConfig' as const), field: fc.constantFrom('in_channels', 'sample_size'), value: fc.oneof(hugeNumber, fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({
    kind: fc.constant('special' as const),
    file: fc.constantFrom(...FILES),
    what: fc.constantFrom('fifo' as const, 'devzero' as const, 'dir' as const, 'link-out' as const, 'dangling' as const, 'empty' as const, 'self-loop' as const),
  }),
);

let n = 0;
/** The file's bytes when it is a regular file (an earlier mutation may have made it a FIFO: reading would block). */
function readIfRegular(file: string): Buffer | null {
  try {
    return lstatSync(file).isFile() ? readFileSync(file) : null;
  } catch {
    return null;
  }
}

function apply(dir: string, m: Mutation): void {
  const path = (f: string) => join(dir, f);
  const replace = (f: string) => rmSync(path(f), { recursive: true, force: true });
  switch (m.kind) {
    case 'truncate': {
      const b = readIfRegular(path(m.file));
      if (!b) return;
      writeFileSync(path(m.file), b.subarray(0, Math.floor(b.length * m.fraction)));
      return;
    }
    case 'random':
      replace(m.file);
      writeFileSync(path(m.file), m.bytes);
      return;
    case 'flip': {
      const b = readIfRegular(path(m.file));
      if (!b || b.length === 0) return;
      for (const i of m.at) b[i % b.length] ^= m.mask;
      writeFileSync(path(m.file), b);
      return;
    }
    case 'field':
    case 'unetConfig': {
      const f = path(m.kind === 'field' ? 'scheduler/scheduler_config.json' : 'unet/config.json');
      let o: Record<string, unknown> = {};
      try {
        o = JSON.parse(readIfRegular(f)?.toString('utf8') ?? '{}') as Record<string, unknown>;
      } catch {
        /* already broken */
      }
      replace(m.kind === 'field' ? 'scheduler/scheduler_config.json' : 'unet/config.json');
      writeFileSync(f, JSON.stringify({ ...o, [m.field]: m.value }));
      return;
    }
    case 'special':
      replace(m.file);
      if (m.what === 'fifo' && posix) execFileSync('mkfifo', [path(m.file)]);
      else if (m.what === 'devzero' && posix) symlinkSync('/dev/zero', path(m.file));
      else if (m.what === 'dir') mkdirSync(path(m.file));
      else if (m.what === 'link-out') symlinkSync(join(ANALYTIC_INT64, 'unet', 'model.onnx'), path(m.file));
      else if (m.what === 'dangling') symlinkSync(join(dir, 'nowhere'), path(m.file));
      else if (m.what === 'self-loop') symlinkSync(path(m.file), path(m.file));
      else writeFileSync(path(m.file), '');
  }
}

describe('model folder fuzz', () => {
  it('every mutated folder loads or fails with a ModelFolderError, within a deadline (120 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(ANALYTIC_INT64, ANALYTIC_EXTERNAL), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (source, mutations) => {
        const dir = join(root, `m${n++}`);
        cpSync(source, dir, { recursive: true });
        for (const m of mutations) apply(dir, m);
        const result = await withDeadline('loadModelFolder', 5000, () => loadModelFolder(dir).then(() => 'ok', (e: unknown) => e));
        if (result !== 'ok') {
          expect(result).toBeInstanceOf(ModelFolderError);
          expect((result as ModelFolderError).file).toBeTruthy();
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 120, ...(seed !== undefined ? { seed } : {}) },
    );
  });
});
