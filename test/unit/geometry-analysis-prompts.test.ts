/**
 * Prompts in the analyses (core/geometry/analysis/prompts.ts): cosine and Pearson against closed forms, and the
 * accumulator on planted 1-D subspaces (geodesic = |θ_a − θ_b|) for 2 inputs × 3 prompts: only same-input,
 * different-prompt pairs enter the correlation, which equals a direct computation, also on a partial result; the
 * prompt CSVs, the plot and the report line; settings that mislabel prompts are refused.
 */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { GeometryError } from '../../src-main/core/geometry/errors';
import {
  AnalysisAccumulator,
  PROMPT_CORRELATION_HEADER,
  analysisOutputFiles,
  cosineSimilarity,
  findings,
  pearsonOrNull,
  promptCorrelationCsv,
  promptPairs,
  promptSimilarityCsv,
  type AnalysisSettings,
  type FinishedBasis,
  type PlotDocument,
} from '../../src-main/core/geometry/analysis';

const PROMPT_ANGLES = [0, 0.2, 0.5];
const EMBEDDING_ANGLES = [0, 0.1, 0.5];
const TIMESTEPS = [100, 900];

/** 1-D subspace at angle θ in the plane of the first two coordinates of a 4×4 latent; U likewise in 16-dim h. */
function planted(theta: number): FinishedBasis {
  const v = new Float32Array(16);
  v[0] = Math.cos(theta);
  v[1] = Math.sin(theta);
  return {
    V: { dims: [1, 1, 4, 4], data: v },
    S: { dims: [1], data: Float32Array.of(1) },
    U: { dims: [1, 16], data: v.slice() },
    iterations: 1,
    converged: true,
    jacobianProducts: { jvp: 1, vjp: 1, total: 2 },
    residuals: [0],
    seconds: 0,
  };
}

/** θ of (input, prompt, timestep): the prompt's angle, scaled per timestep, plus a per-input offset. */
const theta = (input: number, prompt: number, timestep: number) => 0.05 * input + PROMPT_ANGLES[prompt] * (timestep === 100 ? 2 : 1);

function settings(): AnalysisSettings {
  const prompts = ['a cat', 'a dog', 'a house, at night'];
  return {
    modelHash: 'm',
    k: 1,
    method: 'krylov',
    tol: 1e-3,
    steps: 10,
    timesteps: TIMESTEPS,
    prompts,
    negativePrompt: '',
    guidanceScale: 7.5,
    samples: [0, 1].flatMap((input) =>
      prompts.map((prompt, promptIndex) => ({ label: `seed ${input} · p${promptIndex}`, source: { kind: 'seed' as const, seed: input }, prompt, input, promptIndex })),
    ),
  };
}

const embeddings = EMBEDDING_ANGLES.map((a) => Float32Array.of(Math.cos(a), Math.sin(a)));

function direct(timestep: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const input of [0, 1]) {
    for (let a = 0; a < 3; a++) {
      for (let b = a + 1; b < 3; b++) {
        xs.push(Math.cos(EMBEDDING_ANGLES[b] - EMBEDDING_ANGLES[a]));
        ys.push(Math.abs(theta(input, b, timestep) - theta(input, a, timestep)));
      }
    }
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  const cov = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0);
  return cov / Math.sqrt(xs.reduce((s, x) => s + (x - mx) ** 2, 0) * ys.reduce((s, y) => s + (y - my) ** 2, 0));
}

describe('prompt similarity maths', () => {
  it('cosine and Pearson against closed forms; undefined cases are null or refused', () => {
    expect(cosineSimilarity([1, 0], [Math.cos(0.3), Math.sin(0.3)])).toBeCloseTo(Math.cos(0.3), 12);
    expect(cosineSimilarity([1, 2], [-2, -4])).toBe(-1);
    expect(() => cosineSimilarity([0, 0], [1, 0])).toThrow(GeometryError);
    expect(() => cosineSimilarity([1], [1, 0])).toThrow(GeometryError);
    // x − x̄ = (−1, 0, 1), y − ȳ = (−13/6, −1/6, 14/6): cov 4.5, Σx² 2, Σy² 61/6
    expect(pearsonOrNull([1, 2, 3], [2, 4, 6.5])).toBeCloseTo(4.5 / Math.sqrt(2 * (61 / 6)), 12);
    expect(pearsonOrNull([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(pearsonOrNull([1], [1])).toBeNull();
    expect(pearsonOrNull([0.9, 0.9, 0.9], [1, 2, 3])).toBeNull();
  });
});

describe('accumulator with prompts: 2 inputs × 3 prompts', () => {
  it('correlates over same-input pairs only, equal to a direct computation, also partially', () => {
    const acc = new AnalysisAccumulator(settings(), { promptEmbeddings: embeddings });
    expect(acc.promptSimilarities!.map((p) => [p.promptA, p.promptB])).toEqual([[0, 1], [0, 2], [1, 2]]);
    expect(acc.promptSimilarities![1].cosine).toBeCloseTo(Math.cos(0.5), 6);
    // timestep 900 first, all samples; then 100
    for (const t of [900, 100]) for (let s = 0; s < 6; s++) acc.add(s, t, planted(theta(Math.floor(s / 3), s % 3, t)));
    const result = acc.result();
    // 15 sample pairs per t and space, 6 of them same-input (3 per input)
    expect(result.sampleSimilarities.filter((s) => s.timestep === 900 && s.space === 'x')).toHaveLength(15);
    const pairs = promptPairs(result).filter((p) => p.timestep === 900 && p.space === 'x');
    expect(pairs.map((p) => [p.sampleA, p.sampleB])).toEqual([[0, 1], [0, 2], [1, 2], [3, 4], [3, 5], [4, 5]]);
    for (const p of pairs) expect(p.geodesic).toBeCloseTo(Math.abs(theta(p.input, p.promptB, 900) - theta(p.input, p.promptA, 900)), 5);
    expect(result.promptCorrelations).toHaveLength(4);
    for (const c of result.promptCorrelations!) {
      expect(c.pairs).toBe(6);
      expect(c.pearson!).toBeCloseTo(direct(c.timestep), 5);
      expect(c.pearson!).toBeLessThan(0); // planted: more similar embeddings, smaller angles
    }
    const csv = promptCorrelationCsv(result).trimEnd().split('\n');
    expect(csv[0]).toBe(PROMPT_CORRELATION_HEADER.join(','));
    expect(csv.slice(1).map((r) => r.split(',').slice(0, 3).join(','))).toEqual(['100,x,6', '100,h,6', '900,x,6', '900,h,6']);
    expect(promptSimilarityCsv(result).trimEnd().split('\n')).toHaveLength(4);
    const document = parseHTML('<!doctype html><html><body></body></html>').document as unknown as PlotDocument;
    const files = analysisOutputFiles(result, { document });
    expect(files['plots/prompt-correlation.svg']).toContain('<svg');
    expect(files['report.html']).toContain('prompts');
    expect(findings(result).find((f) => f.startsWith('Across 3 prompts'))).toMatch(/at t = 900 \(6 pairs\), .* at t = 100 \(6 pairs\)/);
  });

  it('a partial result correlates the pairs present', () => {
    const acc = new AnalysisAccumulator(settings(), { promptEmbeddings: embeddings });
    for (let s = 0; s < 3; s++) acc.add(s, 900, planted(theta(0, s, 900)));
    const c = acc.result().promptCorrelations!;
    expect(c.map((x) => [x.timestep, x.space, x.pairs])).toEqual([[900, 'x', 3], [900, 'h', 3]]);
  });

  it('refuses embeddings that do not match the prompts, and prompt indices out of range', () => {
    expect(() => new AnalysisAccumulator(settings(), { promptEmbeddings: embeddings.slice(0, 2) })).toThrow(/2 prompt embeddings for 3 prompts/);
    const bad = settings();
    bad.samples[0] = { ...bad.samples[0], promptIndex: 3 };
    expect(() => new AnalysisAccumulator(bad)).toThrow(/promptIndex 3 is not in \[0, 3\)/);
    const half = settings();
    delete half.samples[0].input;
    expect(() => new AnalysisAccumulator(half)).toThrow(/both input and promptIndex/);
    // no prompts: no prompt fields in the result
    const plain = new AnalysisAccumulator({ ...settings(), prompts: undefined, samples: [{ label: 'a', source: { kind: 'seed', seed: 0 } }] });
    expect(plain.result()).not.toHaveProperty('promptCorrelations');
  });
});
