/**
 * `pullback gallery`, `strip` and `transport` on the bundled model (avatars64), run as a user runs them, with small
 * k and few steps: the files they write, what the pictures show (the strip's frames are `pullback edit`'s images
 * with that many guidance steps, bit for bit), the σ table against `pullback basis`, transport A → A returning v_A
 * with the whole share surviving, and typed usage errors (help and usage errors through main() in this process).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/index';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { pullbackCli } from '../helpers/cli';
import { meanAbsDiff, readPng } from '../helpers/png';
import { decodePng } from '../../src-main/engine/png';
import sharp from 'sharp';

let tmp: string;
const pullback = pullbackCli(() => join(tmp, 'data'));
const at = ['--seed', '3', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '-q'];
const bytesOf = (f: string) => readFile(f);
const sameFile = async (a: string, b: string) => (await bytesOf(a)).equals(await bytesOf(b));

/**
 * The CLI's main() in this process, its stdout and stderr captured: for checks that end before any job runs (help,
 * usage errors), where spawning a process per case would only add start-up time.
 */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => (into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()), true);
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out) as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture(err) as typeof process.stderr.write);
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** Panel i (64 px wide, 2 px gutters) of a horizontal strip, as decoded pixels. */
async function panel(file: string, i: number) {
  const png = await sharp(file).extract({ left: i * 66, top: 0, width: 64, height: 64 }).png().toBuffer();
  return decodePng(png);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-gst-'));
  // The basis the three commands share (it also fills the basis cache they then load from).
  const r = await pullback(['basis', ...at, '--k', '2', '--out', join(tmp, 'basis')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback gallery / strip / transport', () => {
  it('--help prints each command\'s usage and exits 0', async () => {
    for (const name of ['gallery', 'strip', 'transport']) {
      const r = await inProcess([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: pullback ${name} `);
    }
  });

  it('gallery writes a −/0/+ strip and a heat map per direction and σ equal to the basis', async () => {
    const out = join(tmp, 'gallery');
    const r = await pullback(['gallery', ...at, '--k', '2', '--preview-steps', '5', '--out', out]);
    expect(r.code).toBe(0);
    const S = decodeNpy(await readFile(join(tmp, 'basis', 'S.npy')));
    const csv = (await readFile(join(out, 'sigma.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('index,sigma');
    expect(csv.slice(1).map((l) => l.split(',').map(Number))).toEqual([
      [0, S.data[0]],
      [1, S.data[1]],
    ]);
    for (const i of [0, 1]) {
      const strip = await readPng(join(out, `direction-${i}.png`));
      expect([strip.width, strip.height]).toEqual([3 * 64 + 2 * 2, 64]);
      // The middle panel is the unedited preview; the sides are edits of it.
      const center = await readPng(join(out, 'center.png'));
      expect(meanAbsDiff(await panel(join(out, `direction-${i}.png`), 1), center)).toBe(0);
      expect(meanAbsDiff(await panel(join(out, `direction-${i}.png`), 0), center)).toBeGreaterThan(0);
      expect((await readPng(join(out, `heat-${i}.png`))).width).toBe(64);
    }
    const meta = JSON.parse(await readFile(join(out, 'gallery.json'), 'utf8'));
    expect(meta.preview_steps).toBe(5);
    expect(meta.approximate).toMatch(/few DDIM steps/);
  });

  it('gallery --center-image: the centre is that picture, byte for byte; an unreadable one is a usage error', async () => {
    const picture = join(tmp, 'picture.png');
    expect((await pullback(['generate', '--seed', '11', '--steps', '4', '--provider', 'cpu', '--out', picture])).code).toBe(0);
    const out = join(tmp, 'gallery-centered');
    const r = await pullback(['gallery', ...at, '--k', '2', '--directions', '0', '--preview-steps', '5', '--center-image', picture, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await sameFile(join(out, 'center.png'), picture)).toBe(true);
    const missing = await inProcess(['gallery', ...at, '--k', '2', '--center-image', join(tmp, 'nope.png'), '--out', join(tmp, 'gx')]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('--center-image: cannot read');
  });

  it('strip frames are `pullback edit` with that many guidance steps, bit for bit; strip.png lays out −n … 0 … +n', async () => {
    const out = join(tmp, 'strip');
    const r = await pullback(['strip', ...at, '--k', '2', '--direction', '0', '--n', '4', '--every', '2', '--strength', '1', '--out', out]);
    expect(r.code).toBe(0);
    const edit = async (steps: number, strength: string, file: string) => {
      const e = await pullback(['edit', ...at, '--basis', join(tmp, 'basis'), '--direction', '0', '--strength', strength, '--guidance-steps', String(steps), '--out', file]);
      expect(e.code).toBe(0);
    };
    await edit(2, '1', join(tmp, 'plus-2.png'));
    await edit(4, '-1', join(tmp, 'minus-4.png'));
    await edit(0, '1', join(tmp, 'zero.png'));
    expect(await sameFile(join(out, 'plus-2.png'), join(tmp, 'plus-2.png'))).toBe(true);
    expect(await sameFile(join(out, 'minus-4.png'), join(tmp, 'minus-4.png'))).toBe(true);
    expect(await sameFile(join(out, 'unedited.png'), join(tmp, 'zero.png'))).toBe(true);
    expect(await sameFile(join(out, 'plus-2.png'), join(out, 'plus-4.png'))).toBe(false);
    const strip = await readPng(join(out, 'strip.png'));
    expect([strip.width, strip.height]).toEqual([5 * 64 + 4 * 2, 64]);
    expect(meanAbsDiff(await panel(join(out, 'strip.png'), 0), await readPng(join(out, 'minus-4.png')))).toBe(0);
    expect(meanAbsDiff(await panel(join(out, 'strip.png'), 2), await readPng(join(out, 'unedited.png')))).toBe(0);
    expect(meanAbsDiff(await panel(join(out, 'strip.png'), 4), await readPng(join(out, 'plus-4.png')))).toBe(0);
    const meta = JSON.parse(await readFile(join(out, 'strip.json'), 'utf8'));
    expect(meta.frames).toEqual([0, 2, 4]);
    expect(meta.strip.map((s: { strength: number }) => s.strength)).toEqual([-1, -1, 0, 1, 1]);
  });

  it('transport to the same sample returns v_A with share 1; to another sample a unit v with share in [0, 1]', async () => {
    const self = join(tmp, 'tr-self');
    const r = await pullback(['transport', '--from', join(tmp, 'basis'), '--direction', '1', '--to', 'seed:3', '--provider', 'cpu', '-q', '--out', self]);
    expect(r.code).toBe(0);
    const V = decodeNpy(await readFile(join(tmp, 'basis', 'V.npy')));
    const n = V.data.length / 2;
    const v = decodeNpy(await readFile(join(self, 'v.npy')));
    expect(v.dims).toEqual([1, 3, 64, 64]);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += v.data[i] * V.data[n + i];
    expect(Math.abs(dot)).toBeGreaterThan(0.999);
    const selfMeta = JSON.parse(await readFile(join(self, 'transport.json'), 'utf8'));
    expect(selfMeta.surviving_share).toBeCloseTo(1, 4);
    expect(selfMeta.basis_a.cacheHit).toBe(true); // recomputed from the folder's x_t: a cache load

    const other = join(tmp, 'tr-other');
    const o = await pullback(['transport', '--from', join(tmp, 'basis'), '--direction', '0', '--to', 'seed:5', '--timestep', String(selfMeta.timestep), '--provider', 'cpu', '-q', '--out', other]);
    expect(o.code).toBe(0);
    const meta = JSON.parse(await readFile(join(other, 'transport.json'), 'utf8'));
    expect(meta.surviving_share).toBeGreaterThanOrEqual(0);
    expect(meta.surviving_share).toBeLessThanOrEqual(1);
    // The share is ‖c‖ (U_B has orthonormal rows): the reported coefficients say the same.
    expect(Math.hypot(...(meta.coefficients as number[]))).toBeCloseTo(meta.surviving_share, 5);
    const w = decodeNpy(await readFile(join(other, 'v.npy')));
    expect(Math.hypot(...w.data)).toBeCloseTo(1, 4);

    // A picture as B: inverted at A's timestep first, then transported like an x_t.
    expect((await pullback(['sample', '--seed', '5', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '-q', '--out', join(tmp, 's5')])).code).toBe(0);
    const pic = join(tmp, 'tr-image');
    const p = await pullback(['transport', '--from', join(tmp, 'basis'), '--direction', '0', '--to', `image:${join(tmp, 's5', 'x0.png')}`, '--provider', 'cpu', '-q', '--out', pic]);
    expect(p.code).toBe(0);
    const picMeta = JSON.parse(await readFile(join(pic, 'transport.json'), 'utf8'));
    expect(picMeta.to).toEqual({ image: join(tmp, 's5', 'x0.png') });
    expect(picMeta.surviving_share).toBeGreaterThan(0);
    expect(picMeta.surviving_share).toBeLessThanOrEqual(1);
  });

  it('usage errors are typed (exit 64) and name the option', async () => {
    const basis = join(tmp, 'basis');
    const cases: [string[], RegExp][] = [
      [['transport', '--from', basis, '--direction', '7', '--to', 'seed:1', '--out', join(tmp, 'x')], /--direction 7 is outside the basis \(k = 2\)/],
      [['transport', '--from', basis, '--direction', '0', '--to', 'seed:1', '--timestep', '1', '--out', join(tmp, 'x')], /is at timestep/],
      [['transport', '--from', tmp, '--direction', '0', '--to', 'seed:1', '--out', join(tmp, 'x')], /no basis\.json/],
      [['transport', '--from', basis, '--direction', '0', '--to', 'pic.gif', '--out', join(tmp, 'x')], /--to must be/],
      [['strip', ...at, '--direction', '0', '--strength', '-1', '--out', join(tmp, 'x')], /--strength must be > 0/],
      [['strip', ...at, '--direction', '0', '--out', join(tmp, 'x')], /--strength S is required/],
      [['gallery', ...at, '--mode', 'push', '--out', join(tmp, 'x')], /--mode must be guidance or move/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(message);
    }
  });
});
