/**
 * The CLI on a text-conditioned model (the tiny SD fixture, Optimum layout), run as a user runs it:
 * --prompt / --negative-prompt / --guidance-scale on generate and sample, --prompt and --basis-prompt on basis (J at the prompt,
 * recorded in basis.json, its own cache entry) and edit, the truncation notice, invert on an SD folder, and the
 * clear refusal of --prompt on an unconditional model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullbackCli } from '../helpers/cli';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { meanAbsDiff, readPng } from '../helpers/png';
import { textFolder } from '../helpers/text-fixtures';

const SD = textFolder('sd1-optimum');
let tmp: string;

const pullback = pullbackCli(() => join(tmp, 'data'));

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-text-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback on a text-conditioned model', () => {
  it('generate: the prompt changes the 64×64 VAE-decoded image; guidance scale 1 differs from 7.5', async () => {
    const run = async (file: string, extra: string[]) => {
      const r = await pullback(['generate', SD, '--seed', '1', '--steps', '8', '--provider', 'cpu', '--out', join(tmp, file), ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return readPng(join(tmp, file));
    };
    const cat = await run('cat.png', ['--prompt', 'a photo of a cat']);
    const dog = await run('dog.png', ['--prompt', 'a painting of a dog', '--negative-prompt', 'a photo of a cat']);
    const noCfg = await run('cat1.png', ['--prompt', 'a photo of a cat', '--guidance-scale', '1']);
    const again = await run('cat2.png', ['--prompt', 'a photo of a cat']);
    expect([cat.width, cat.height, cat.channels]).toEqual([64, 64, 3]);
    expect(meanAbsDiff(cat, again)).toBe(0);
    expect(meanAbsDiff(cat, dog)).toBeGreaterThan(0.5);
    expect(meanAbsDiff(cat, noCfg)).toBeGreaterThan(0.5);
  });

  it('sample records the prompt; a long prompt gets the truncation notice', async () => {
    const long = 'a photo of a cat '.repeat(20);
    const r = await pullback(['sample', SD, '--seed', '2', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '--prompt', long, '--out', join(tmp, 's')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/notice: the prompt has 100 tokens; the text encoder reads the first 75/);
    const meta = JSON.parse(await readFile(join(tmp, 's', 'sample.json'), 'utf8'));
    expect(meta.prompt).toMatchObject({ prompt: long, tokens: 100, maxTokens: 75, truncated: true, guidanceScale: 7.5 });
    expect(meta.xt_dims).toEqual([1, 4, 8, 8]);
  });

  it('basis at two prompts: different J, different cache entries, prompt in basis.json; edit with a prompt', async () => {
    const basis = async (out: string, prompt: string) => {
      const r = await pullback(['basis', SD, '--seed', '3', '--t', '0.6', '--steps', '10', '--k', '3', '--provider', 'cpu', '--prompt', prompt, '--out', join(tmp, out), '-q']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(await readFile(join(tmp, out, 'basis.json'), 'utf8'));
    };
    const a = await basis('ba', 'a photo of a cat');
    const b = await basis('bb', 'a painting of a dog');
    const a2 = await basis('ba2', 'a photo of a cat');
    expect(a.prompt).toMatchObject({ prompt: 'a photo of a cat', truncated: false });
    expect(b.prompt.prompt).toBe('a painting of a dog');
    expect(a.cache_id).not.toBe(b.cache_id);
    expect(a.singular_values).not.toEqual(b.singular_values);
    expect(a2.cache_hit).toBe(true);
    expect(a2.cache_id).toBe(a.cache_id);
    const r = await pullback([
      'edit', SD, '--seed', '3', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '--prompt', 'a photo of a cat',
      '--basis', join(tmp, 'ba'), '--direction', '0', '--strength', '4', '--scale', '1', '--boost', 'none', '--out', join(tmp, 'edit.png'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const zero = await pullback([
      'edit', SD, '--seed', '3', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '--prompt', 'a photo of a cat',
      '--basis', join(tmp, 'ba'), '--direction', '0', '--strength', '0', '--boost', 'none', '--out', join(tmp, 'edit0.png'), '-q',
    ]);
    expect(zero.code, zero.stderr).toBe(0);
    const sample = await pullback(['sample', SD, '--seed', '3', '--t', '0.6', '--steps', '10', '--provider', 'cpu', '--prompt', 'a photo of a cat', '--out', join(tmp, 's3'), '-q']);
    expect(sample.code, sample.stderr).toBe(0);
    const edited = await readPng(join(tmp, 'edit.png'));
    const unedited = await readPng(join(tmp, 'edit0.png'));
    // strength 0 renders exactly the sample's own image (same prompt, same guidance, no η = 1 tail: the authors' SD
    // setting); strength 4 changes it
    expect(meanAbsDiff(unedited, await readPng(join(tmp, 's3', 'x0.png')))).toBe(0);
    expect(meanAbsDiff(edited, unedited)).toBeGreaterThan(0.1);
    // --basis-prompt: J at another prompt, x_t still on the cat prompt's path; basis.json records both.
    const other = await pullback(['basis', SD, '--seed', '3', '--t', '0.6', '--steps', '10', '--k', '3', '--provider', 'cpu', '--prompt', 'a photo of a cat', '--basis-prompt', 'a painting of a dog', '--out', join(tmp, 'bab'), '-q']);
    expect(other.code, other.stderr).toBe(0);
    const ab = JSON.parse(await readFile(join(tmp, 'bab', 'basis.json'), 'utf8'));
    expect(ab.prompt).toMatchObject({ prompt: 'a photo of a cat', basisPrompt: 'a painting of a dog' });
    expect(ab.xt_sha256).toBe(a.xt_sha256);
    expect(ab.cache_id).not.toBe(a.cache_id);
    expect(ab.cache_id).not.toBe(b.cache_id);
  });

  it('invert: VAE encode (posterior mean, Optimum) → DDIM inversion → regenerate → decode, with a PSNR', async () => {
    const png = await sharp({ create: { width: 80, height: 70, channels: 3, background: { r: 200, g: 90, b: 40 } } }).png().toBuffer();
    await writeFile(join(tmp, 'in.png'), png);
    const r = await pullback(['invert', SD, '--image', join(tmp, 'in.png'), '--steps', '20', '--provider', 'cpu', '--out', join(tmp, 'inv'), '-q']);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(await readFile(join(tmp, 'inv', 'invert.json'), 'utf8'));
    expect(meta.psnr).toBeGreaterThan(5);
    const input = await readPng(join(tmp, 'inv', 'input.png'));
    expect([input.width, input.height]).toEqual([64, 64]);
  });

  it('--prompt on an unconditional model fails with a clear error', async () => {
    const r = await pullback(['generate', ANALYTIC_INT64, '--seed', '1', '--steps', '2', '--provider', 'cpu', '--prompt', 'a cat', '--out', join(tmp, 'u.png')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unconditional model: prompt needs a text-conditioned \(Stable Diffusion\) model/);
    const b = await pullback(['basis', ANALYTIC_INT64, '--seed', '1', '--t', '0.5', '--steps', '4', '--k', '2', '--provider', 'cpu', '--guidance-scale', '3', '--out', join(tmp, 'ub')]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/unconditional model: guidanceScale needs a text-conditioned/);
  });
});
