/**
 * `pullback transport --direction v.npy` (an explicit x-space direction, e.g. a row of `pullback global-basis`'s
 * V.npy) on the bundled model, run as a user runs it: projected onto B's local basis, a row of B's own basis comes
 * back whole (surviving_share ≈ 1) with or without --from; usage errors name the option (main() in this process).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/cli/index';
import { decodeNpy, encodeNpy } from '../../src-main/core/tensor/npy';
import { pullbackCli } from '../helpers/cli';

let tmp: string;
const pullback = pullbackCli(() => join(tmp, 'data'));

async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => (err.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()), true)) as typeof process.stderr.write);
  try {
    return { code: await main(args), stderr: err.join('') };
  } finally {
    stderr.mockRestore();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-trdir-'));
  const r = await pullback(['basis', '--seed', '5', '--t', '0.6', '--steps', '10', '--k', '2', '--provider', 'cpu', '-q', '--out', join(tmp, 'basis')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // Row 1 of B's own basis as a direction file.
  const V = decodeNpy(await readFile(join(tmp, 'basis', 'V.npy')));
  const n = V.data.length / 2;
  await writeFile(join(tmp, 'v.npy'), encodeNpy({ dims: [1, ...V.dims.slice(1)], data: V.data.slice(n, 2 * n) }));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback transport --direction v.npy', () => {
  it('a row of B’s own basis survives whole, with --from (its basis parameters) or --timestep --k', async () => {
    const meta = JSON.parse(await readFile(join(tmp, 'basis', 'basis.json'), 'utf8'));
    const V = decodeNpy(await readFile(join(tmp, 'basis', 'V.npy')));
    const n = V.data.length / 2;
    for (const [name, extra] of [
      ['with-from', ['--from', join(tmp, 'basis')]],
      ['without-from', ['--timestep', String(meta.timestep), '--k', '2', '--steps', '10']],
    ] as const) {
      const out = join(tmp, name);
      const r = await pullback(['transport', ...extra, '--direction', join(tmp, 'v.npy'), '--to', 'seed:5', '--provider', 'cpu', '-q', '--out', out]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(await readFile(join(out, 'transport.json'), 'utf8'));
      expect(result.surviving_share).toBeGreaterThan(1 - 1e-4);
      expect(result.direction).toBe(join(tmp, 'v.npy'));
      expect(result.basis_a).toBeNull();
      expect(result.basis_b.cacheHit).toBe(true);
      const v = decodeNpy(await readFile(join(out, 'v.npy')));
      let dot = 0;
      for (let j = 0; j < n; j++) dot += v.data[j] * V.data[n + j];
      expect(dot).toBeGreaterThan(1 - 1e-5);
    }
  }, 600_000);

  it('usage errors are typed (exit 64) and name the option', async () => {
    const v = join(tmp, 'v.npy');
    const basis = join(tmp, 'basis');
    const cases: [string[], RegExp][] = [
      [['transport', '--direction', 'up', '--to', 'seed:1', '--out', join(tmp, 'x')], /--direction must be an index of the basis \(an integer\) or a direction file v\.npy/],
      [['transport', '--direction', '0', '--to', 'seed:1', '--timestep', '500', '--out', join(tmp, 'x')], /--from <basis-dir> is required/],
      [['transport', '--direction', v, '--to', 'seed:1', '--out', join(tmp, 'x')], /without --from, give exactly one of --t F or --timestep N/],
      [['transport', '--from', basis, '--direction', v, '--k', '4', '--to', 'seed:1', '--out', join(tmp, 'x')], /--k and --method come from/],
      [['transport', '--from', basis, '--direction', '0', '--method', 'krylov', '--to', 'seed:1', '--out', join(tmp, 'x')], /--k and --method come from/],
      [['transport', '--direction', join(tmp, 'missing.npy'), '--timestep', '500', '--to', 'seed:1', '--out', join(tmp, 'x')], /--direction: cannot read/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(message);
    }
  });
});
