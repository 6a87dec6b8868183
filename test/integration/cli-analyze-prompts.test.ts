/**
 * `pullback analyze --prompt … --prompt …` on the tiny SD fixture (sd1-optimum), run as a user runs it: the samples
 * in analysis.json (input-major, with their prompts), similarity.csv holding the across-prompt pairs, the prompt
 * CSVs, the plot as SVG and PNG, the report line; and --prompt on an unconditional folder failing with a sentence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCli } from '../helpers/cli';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { textFolder } from '../helpers/text-fixtures';

const SD = textFolder('sd1-optimum');
let tmp: string;
const pullback = pullbackCli(() => join(tmp, 'data'));
const lines = async (f: string) => (await readFile(f, 'utf8')).trimEnd().split('\n');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-analyze-prompts-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback analyze --prompt', () => {
  it('2 seeds × 2 prompts: samples input-major, across-prompt pairs in similarity.csv, prompt CSVs, plot, report', async () => {
    const out = join(tmp, 'a');
    const r = await pullback([
      'analyze', SD, '--seeds', '0,1', '--t', '0.5,1.0', '--k', '2', '--steps', '10', '--provider', 'cpu',
      '--prompt', 'a photo of a cat', '--prompt', 'a painting of a dog', '--negative-prompt', 'blurry', '--guidance-scale', '5',
      '--out', out, '-q',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    const analysis = JSON.parse(await readFile(join(out, 'analysis.json'), 'utf8'));
    expect(analysis.settings).toMatchObject({ prompts: ['a photo of a cat', 'a painting of a dog'], negativePrompt: 'blurry', guidanceScale: 5 });
    expect(analysis.settings.samples.map((s: { source: { seed: number }; prompt: string; input: number; promptIndex: number }) => [s.source.seed, s.input, s.promptIndex, s.prompt])).toEqual([
      [0, 0, 0, 'a photo of a cat'],
      [0, 0, 1, 'a painting of a dog'],
      [1, 1, 0, 'a photo of a cat'],
      [1, 1, 1, 'a painting of a dog'],
    ]);
    // 4 samples: 6 pairs × 2 timesteps × (x, h); the same-input pairs (0, 1) and (2, 3) are the across-prompt ones
    const similarity = await lines(join(out, 'similarity.csv'));
    expect(similarity).toHaveLength(1 + 6 * 2 * 2);
    const acrossPrompts = similarity.slice(1).filter((row) => ['0,1', '2,3'].includes(row.split(',').slice(2, 4).join(',')));
    expect(acrossPrompts).toHaveLength(2 * 2 * 2);
    for (const row of acrossPrompts) expect(Number(row.split(',')[4])).toBeGreaterThan(1e-3);
    expect(await lines(join(out, 'prompt_similarity.csv'))).toEqual(['prompt_a,prompt_b,embedding_cosine', expect.stringMatching(/^0,1,0\.9\d+$/)]);
    // two prompts: 2 same-input pairs per t (one per seed) with one embedding cosine, so r is undefined (empty field)
    expect(await lines(join(out, 'prompt_correlation.csv'))).toEqual([
      'timestep,space,pairs,pearson',
      '555,x,2,',
      '555,h,2,',
      '999,x,2,',
      '999,h,2,',
    ]);
    const plots = await readdir(join(out, 'plots'));
    expect(plots).toEqual(expect.arrayContaining(['prompt-correlation.svg', 'prompt-correlation.png']));
    const report = await readFile(join(out, 'report.html'), 'utf8');
    expect(report).toContain('Across 2 prompts');
    expect(report).toContain('it needs three or more prompts');
  }, 300_000);

  it('--prompt on an unconditional folder fails with a clear error', async () => {
    const r = await pullback(['analyze', ANALYTIC_INT64, '--seeds', '0', '--t', '0.5', '--k', '2', '--steps', '4', '--provider', 'cpu', '--prompt', 'a cat', '--out', join(tmp, 'u')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/unconditional model: prompt needs a text-conditioned \(Stable Diffusion\) model/);
  }, 60_000);
});
