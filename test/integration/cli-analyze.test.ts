/**
 * The `pullback analyze` contract, run as a user runs it (node bin/pullback.js) on a fixture U-Net: the files,
 * their exact headers and row counts, plots as SVG and PNG, the report, and usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullbackCli } from '../helpers/cli';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPng } from '../helpers/png';
import { wrapUnet } from './basis-fixture';

let tmp: string;
let model: string;

const pullback = pullbackCli(() => join(tmp, 'data'));

const lines = async (f: string) => (await readFile(f, 'utf8')).trimEnd().split('\n');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-analyze-'));
  model = await wrapUnet('ddpm_unet2d_op14', tmp);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback analyze', () => {
  it('writes the CSVs with their exact headers and rows, analysis.json, plots (SVG + PNG) and report.html', async () => {
    const out = join(tmp, 'a');
    const r = await pullback(['analyze', model, '--seeds', '0,1,2', '--t', '0.5,1.0', '--k', '2', '--steps', '10', '--provider', 'cpu', '--out', out, '-q']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const analysis = JSON.parse(await readFile(join(out, 'analysis.json'), 'utf8'));
    const timesteps: number[] = analysis.settings.timesteps;
    expect(timesteps).toEqual([555, 999]); // 0.5 on linspace(0, 999, 10): 4·111 = 444 or 5·111 = 555 → |555 − 500| < |444 − 500|
    expect(analysis.run).toMatchObject({ bases: 6, cacheHits: 0, hTensor: expect.stringContaining('mid_block') });
    const spectrum = await lines(join(out, 'spectrum.csv'));
    expect(spectrum[0]).toBe('sample,timestep,index,sigma');
    expect(spectrum).toHaveLength(1 + 3 * 2 * 2);
    const frequency = await lines(join(out, 'frequency.csv'));
    expect(frequency[0]).toBe('sample,timestep,index,radius,power');
    // 16×16 latents: radii 0..round(√(8² + 8²)) = 0..11, 12 bins per direction.
    expect(frequency).toHaveLength(1 + 3 * 2 * 2 * 12);
    const similarity = await lines(join(out, 'similarity.csv'));
    expect(similarity[0]).toBe('timestep,space,sample_a,sample_b,geodesic,max_angle');
    expect(similarity).toHaveLength(1 + 3 * 2 * 2); // 3 pairs × 2 timesteps × (x, h)
    const similarityT = await lines(join(out, 'similarity_t.csv'));
    expect(similarityT[0]).toBe('sample,timestep_a,timestep_b,space,geodesic,max_angle');
    expect(similarityT).toHaveLength(1 + 3 * 1 * 2);
    for (const row of similarity.slice(1)) {
      const [, space, a, b, geodesic, maxAngle] = row.split(',');
      expect(['x', 'h']).toContain(space);
      expect(Number(a)).toBeLessThan(Number(b));
      expect(Number(geodesic)).toBeGreaterThanOrEqual(Number(maxAngle));
      expect(Number(geodesic)).toBeLessThanOrEqual(Math.sqrt(2) * (Math.PI / 2) + 1e-6);
    }
    const plots = await readdir(join(out, 'plots'));
    const svgs = plots.filter((p) => p.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThanOrEqual(4);
    for (const svg of svgs) {
      expect(plots).toContain(svg.replace(/\.svg$/, '.png'));
      const png = await readPng(join(out, 'plots', svg.replace(/\.svg$/, '.png')));
      expect(png.width).toBeGreaterThan(100);
    }
    const report = await readFile(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).not.toMatch(/<script|src="http/);
  }, 300_000);

  it('usage errors exit 64 with a sentence', async () => {
    const both = await pullback(['analyze', model, '--seeds', '0', '--xt', 'a.npy', '--t', '0.5', '--k', '2', '--out', join(tmp, 'x')]);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('exactly one of --seeds');
    const badList = await pullback(['analyze', model, '--seeds', '0,,1', '--t', '0.5', '--k', '2', '--out', join(tmp, 'x')]);
    expect(badList.code).toBe(64);
    const noOut = await pullback(['analyze', model, '--seeds', '0', '--t', '0.5', '--k', '2']);
    expect(noOut.code).toBe(64);
  }, 60_000);
});
