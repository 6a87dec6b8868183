/**
 * The Analysis view's prompts (AnalysisState): the field's parsing, the job input (prompts only for a text model),
 * the planned basis count, and a result filled from partials that carries the prompts' embedding cosines and the
 * correlations over the pairs so far, as the engine's accumulator computes them.
 */
import { describe, expect, it } from 'vitest';
import { AnalysisState, analysisLabel, parsePrompts } from '../../src-renderer/src/lib/state/analysis.svelte';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { ScriptedApi } from '../helpers/scripted-api';
import type { AnalysisPartial } from '../../src-main/shared/analysis-api';

const flush = () => new Promise((r) => setTimeout(r, 0));

function partial(done: number, sample: number, geodesics: { a: number; b: number; g: number }[]): AnalysisPartial {
  const prompts = ['a', 'b', 'c'];
  return {
    kind: 'analysis-basis',
    done,
    total: 3,
    settings: {
      modelHash: 'm',
      k: 1,
      method: 'krylov',
      tol: 1e-3,
      steps: 10,
      timesteps: [999],
      prompts,
      negativePrompt: '',
      guidanceScale: 7.5,
      samples: prompts.map((prompt, i) => ({ label: `seed 0 · p${i}`, source: { kind: 'seed', seed: 0 }, prompt, input: 0, promptIndex: i })),
    },
    record: {
      sample,
      timestep: 999,
      sigma: [1],
      height: 2,
      width: 2,
      power: [[1]],
      lowFrequencyShare: [1],
      iterations: 1,
      converged: true,
      jacobianProducts: { jvp: 1, vjp: 1, total: 2 },
      residualMax: 0,
      seconds: 0,
      cacheHit: false,
      warmStarted: false,
    },
    sampleSimilarities: geodesics.map(({ a, b, g }) => ({ timestep: 999, space: 'x', sampleA: a, sampleB: b, geodesic: g, maxAngle: g })),
    timestepSimilarities: [],
    promptSimilarities: [
      { promptA: 0, promptB: 1, cosine: 0.9 },
      { promptA: 0, promptB: 2, cosine: 0.95 },
      { promptA: 1, promptB: 2, cosine: 0.99 },
    ],
  };
}

describe('Analysis view prompts', () => {
  it('parses one prompt per line, trimmed, without blanks or repeats', () => {
    expect(parsePrompts(' a cat \n\n a dog\na cat\n')).toEqual(['a cat', 'a dog']);
    expect(parsePrompts('')).toEqual([]);
  });

  it('sends prompts to a text model only; partials carry the cosines and the correlation so far', async () => {
    const api = new ScriptedApi();
    const a = new AnalysisState(new JobsState(api));
    a.removeSample(3);
    a.removeSample(2);
    a.removeSample(1);
    a.setFractions([1]);
    a.setPrompts(['a', 'b', 'c']);
    expect(a.basesPlanned(true)).toBe(3);
    expect(a.basesPlanned(false)).toBe(1);

    const plain = a.run('/m', false);
    await flush();
    expect(api.started[0].input).not.toHaveProperty('prompts');
    api.send({ type: 'error', jobId: 'j0', error: { code: 'cancelled', message: 'cancelled' } });
    await plain;

    const run = a.run('/sd', true);
    await flush();
    expect(api.started[1].input).toMatchObject({ prompts: ['a', 'b', 'c'], samples: [{ kind: 'seed', seed: 0 }] });
    expect(a.total).toBe(3);
    const send = (p: AnalysisPartial) => api.send({ type: 'progress', jobId: 'j1', fraction: p.done / 3, message: '', partial: p });
    send(partial(1, 0, []));
    send(partial(2, 1, [{ a: 0, b: 1, g: 0.3 }]));
    // one pair so far: r undefined
    expect(a.result?.promptCorrelations).toEqual([{ timestep: 999, space: 'x', pairs: 1, pearson: null }]);
    send(partial(3, 2, [{ a: 0, b: 2, g: 0.2 }, { a: 1, b: 2, g: 0.1 }]));
    const c = a.result!.promptCorrelations![0];
    expect(c.pairs).toBe(3);
    // cosines (0.9, 0.95, 0.99) against distances (0.3, 0.2, 0.1): nearly perfectly anti-correlated
    expect(c.pearson!).toBeLessThan(-0.99);
    expect(analysisLabel(a.result!)).toBe('3 samples (1 input × 3 prompts) × 1 timestep, k = 1');
    api.send({ type: 'done', jobId: 'j1', name: 'analyze', output: { result: a.result, run: {}, hTensor: 'h' } });
    await run;
  });
});
