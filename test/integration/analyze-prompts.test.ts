/**
 * Prompts in the `analyze` job (issue 11 item 5) on the tiny SD fixture (sd1-optimum): 3 prompts × 1 seed × 2
 * timesteps, k = 2, 10 steps. Samples are input-major with the prompt on record; bases at different prompts differ;
 * each basis is the `basis` job's cache entry for the same seed, prompt and timestep (so x_t is on that prompt's
 * guided DDIM path, bit for bit); the embedding cosines and their correlation with the tangent-space distances
 * equal a direct computation here; the output files include the prompt CSVs and plot; an unconditional model
 * refuses prompts.
 *
 * Three prompts, not two: with two prompts there is one prompt pair, so the embedding similarity has no spread and
 * the correlation is undefined (null), which the last case checks from this same result's pure functions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseHTML } from 'linkedom';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { fromPayload } from '../../src-main/engine/jobs/support/wire-tensors';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { analysisOutputFiles, promptCorrelations, type AnalysisResult, type PlotDocument } from '../../src-main/core/geometry/analysis';
import type { AnalysisPartial } from '../../src-main/shared/analysis-api';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { textFolder } from '../helpers/text-fixtures';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('analyze-prompts');
const SD = textFolder('sd1-optimum');
const PROMPTS = ['a photo of a cat', 'a painting of a dog', 'a photo of a dog'];
const common = { modelDir: SD, provider: 'cpu' as const, k: 2, steps: 10, t: [0.5, 1.0] };
const cache = new ModelCache();
afterAll(async () => {
  await cache.release();
});

/** Direct cosine of two float32 vectors (independent of core/geometry/analysis/prompts.ts). */
function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  const cov = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
  const vx = x.reduce((s, v) => s + (v - mx) ** 2, 0);
  const vy = y.reduce((s, v) => s + (v - my) ** 2, 0);
  return cov / Math.sqrt(vx * vy);
}

describe('analyze with prompts (sd1-optimum)', () => {
  let result: AnalysisResult;

  it('samples are input-major with their prompts; bases at different prompts differ and are the basis job\'s', async () => {
    const partials: AnalysisPartial[] = [];
    const out = await runJobInProcess(
      'analyze',
      { ...common, samples: [{ kind: 'seed', seed: 0 }], prompts: PROMPTS, guidanceScale: 7.5 },
      { quiet: true, onProgress: (p) => p.partial && partials.push(p.partial as AnalysisPartial) },
    );
    result = out.result as AnalysisResult;
    const { settings } = result;
    expect(settings.timesteps).toEqual([555, 999]);
    expect(settings.prompts).toEqual(PROMPTS);
    expect(settings).toMatchObject({ negativePrompt: '', guidanceScale: 7.5 });
    expect(settings.samples.map((s) => [s.input, s.promptIndex, s.prompt])).toEqual(PROMPTS.map((p, i) => [0, i, p]));
    expect(settings.samples[1].label).toBe('seed 0 · p1 "a painting of a dog"');
    expect(result.bases).toHaveLength(6);
    expect(partials).toHaveLength(6);
    expect(partials[0].promptSimilarities).toHaveLength(3);

    // different prompts, different tangent spaces, at both timesteps and in both spaces (these random-weight
    // fixtures move J by ≈ 1e-2 relative between prompts, far above the basis tolerance)
    expect(result.sampleSimilarities).toHaveLength(3 * 2 * 2);
    for (const s of result.sampleSimilarities) expect(s.geodesic, `${s.timestep}/${s.space} ${s.sampleA}-${s.sampleB}`).toBeGreaterThan(1e-3);

    // each basis is the basis job's at (seed 0, prompt, timestep): same cache entry, same σ. The first sample's basis
    // at t = 999 (the only cold one) by the full key; every other (warm-started: at 555 from the same path's 999, at 999
    // from the previous sample's 999) by the record's cacheId, which the cache hands out only for the same model, x_t
    // hash, timestep, h, k and method: so x_t is the same path's.
    const xt555: Float32Array[] = [];
    for (const [p, prompt] of PROMPTS.entries()) {
      for (const timestep of [999, 555]) {
        const record = result.bases.find((b) => b.sample === p && b.timestep === timestep)!;
        const basis = await runJobInProcess(
          'basis',
          { ...common, t: undefined, seed: 0, timestep, prompt, ...(record.warmStarted ? { cacheId: record.cacheId } : {}) },
          { quiet: true },
        );
        expect(record.warmStarted, `prompt ${p} t ${timestep}`).toBe(p > 0 || timestep === 555);
        expect(basis.cacheHit, `prompt ${p} t ${timestep}`).toBe(true);
        expect(basis.cacheId).toBe(record.cacheId);
        expect(Array.from(fromPayload(basis.S, 'S').data)).toEqual(record.sigma.map(Math.fround));
        if (timestep === 555) xt555.push(fromPayload(basis.xt, 'xt').data);
      }
    }
    // the path depends on the prompt (CFG at 7.5): x_555 differs between prompts
    expect(Array.from(xt555[0])).not.toEqual(Array.from(xt555[1]));
  }, 300_000);

  it('embedding cosines and the correlation with tangent-space distance equal a direct computation', async () => {
    const loaded = await cache.load(SD, 'cpu');
    const emb = await Promise.all(PROMPTS.map((p) => loaded.text!.embed(p)));
    const direct = [
      [0, 1],
      [0, 2],
      [1, 2],
    ].map(([a, b]) => ({ promptA: a, promptB: b, cosine: cosine(emb[a].embedding.data, emb[b].embedding.data) }));
    expect(result.promptSimilarities).toHaveLength(3);
    for (const [i, p] of result.promptSimilarities!.entries()) {
      expect(p.promptA).toBe(direct[i].promptA);
      expect(p.promptB).toBe(direct[i].promptB);
      expect(p.cosine).toBeCloseTo(direct[i].cosine, 6);
    }
    // the three cosines differ, so r is defined
    expect(new Set(direct.map((d) => d.cosine.toFixed(6))).size).toBe(3);
    expect(result.promptCorrelations).toHaveLength(2 * 2);
    for (const c of result.promptCorrelations!) {
      // one input: sample = prompt index, so every pair is a same-input pair
      const rows = result.sampleSimilarities.filter((s) => s.timestep === c.timestep && s.space === c.space);
      const x = rows.map((s) => direct.find((d) => d.promptA === s.sampleA && d.promptB === s.sampleB)!.cosine);
      const y = rows.map((s) => s.geodesic);
      const r = pearson(x, y);
      console.log(`t ${c.timestep} ${c.space}: cosines ${x.map((v) => v.toFixed(5)).join(', ')}, distances ${y.map((v) => v.toFixed(4)).join(', ')}, r ${r.toFixed(4)}`);
      expect(c.pairs).toBe(3);
      expect(c.pearson).not.toBeNull();
      expect(c.pearson!).toBeCloseTo(r, 5);
    }
    // two prompts only (drop prompt 2's samples): one pair per t, so r is undefined rather than a fake ±1 or 0
    const two: AnalysisResult = {
      ...result,
      promptSimilarities: result.promptSimilarities!.filter((p) => p.promptB < 2),
      sampleSimilarities: result.sampleSimilarities.filter((s) => s.sampleB < 2),
    };
    for (const c of promptCorrelations(two)) expect(c).toMatchObject({ pairs: 1, pearson: null });
  }, 120_000);

  it('writes prompt_similarity.csv, prompt_correlation.csv, the plot and the report line', () => {
    const document = parseHTML('<!doctype html><html><body></body></html>').document as unknown as PlotDocument;
    const files = analysisOutputFiles(result, { document });
    expect(files['prompt_similarity.csv'].trimEnd().split('\n')).toHaveLength(1 + 3);
    const corr = files['prompt_correlation.csv'].trimEnd().split('\n');
    expect(corr[0]).toBe('timestep,space,pairs,pearson');
    expect(corr).toHaveLength(1 + 2 * 2);
    expect(files['plots/prompt-correlation.svg']).toMatch(/^<svg/);
    expect(files['report.html']).toContain('Across 3 prompts: Pearson r between the cosine');
    expect(JSON.parse(files['analysis.json']).promptCorrelations).toHaveLength(4);
  });

  it('a text model without prompts is analysed at the empty prompt (the basis job\'s default)', async () => {
    const out = await runJobInProcess('analyze', { ...common, t: [1.0], samples: [{ kind: 'seed', seed: 4 }] }, { quiet: true });
    expect(out.result.settings.samples).toEqual([{ label: 'seed 4', source: { kind: 'seed', seed: 4 } }]);
    expect(out.result).not.toHaveProperty('promptCorrelations');
    const basis = await runJobInProcess('basis', { ...common, t: 1.0, seed: 4, prompt: '' }, { quiet: true });
    expect(basis.cacheHit).toBe(true);
    expect(basis.cacheId).toBe(out.result.bases[0].cacheId);
  }, 120_000);

  it('an unconditional model refuses prompts with invalid-argument', async () => {
    await expect(
      runJobInProcess('analyze', { ...common, modelDir: ANALYTIC_INT64, steps: 4, samples: [{ kind: 'seed', seed: 0 }], prompts: ['a cat'] }, { quiet: true }),
    ).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/unconditional model: prompt needs a text-conditioned/) });
  }, 60_000);
});
