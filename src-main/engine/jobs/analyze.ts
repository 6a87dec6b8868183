/**
 * `analyze`: the paper's geometry analyses (method.md §6) over samples × timesteps. For each sample, x_t is taken
 * along its DDIM path once (top down) and the local basis at each timestep comes from the basis cache or is
 * computed, warm-started (krylov) from the same sample's basis at the next larger timestep. Each finished basis is
 * reduced at once (σ, radial spectra, distances to every basis already in) and streamed as a progress partial.
 *
 * Prompts (text models): with P prompts the samples are inputs × prompts, input-major (sample = input · P + prompt).
 * Each (input, prompt) walks its own DDIM path (the path's ε is guided at that prompt) and J is taken at that prompt's
 * embedding, so every basis is the `basis` job's cache entry for the same seed, prompt and timestep. The prompts'
 * flattened embeddings go to the accumulator, which correlates their cosines with the tangent-space distances.
 *
 * Resuming: every basis goes through the on-disk cache with a key that includes its warm-start rows' hash, and a
 * warm start is itself a cached basis, so running the same request again after a cancel or a crash loads what was
 * finished (reported as cache hits) and computes only the rest; the result is the same either way.
 */
import type { EngineJob } from './types';
import type { JobOutput } from '../../shared/api';
import type { AnalysisPartial, AnalysisSampleInput } from '../../shared/analysis-api';
import { AnalysisAccumulator, type AnalysisResult, type AnalysisSample } from '../../core/geometry/analysis';
import { snapToSchedule } from '../../core/diffusion/inversion';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import type { Tensor } from '../../core/tensor';
import { throwIfCancelled } from '../../core/progress';
import { modelContentHash } from '../worker/model-hash';
import { defaultTol, localBasis } from './support/local-basis';
import { conditioning, xtAtTimesteps, type Conditioning } from './support/latent';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';
import { asUserError } from './support/user-errors';

/** The wire result must stay the core's AnalysisResult: a compile error here means the two drifted apart. */
const sameShape = (r: AnalysisResult): JobOutput<'analyze'>['result'] => r;

function describeSample(s: AnalysisSampleInput): AnalysisSample {
  if (s.kind === 'seed') return { label: s.label ?? `seed ${s.seed}`, source: { kind: 'seed', seed: s.seed } };
  if (s.kind === 'xt') return { label: s.label, source: { kind: 'xt', file: s.label } };
  return { label: s.label, source: { kind: 'image', file: s.label } };
}

/** A label that tells the prompt apart in tables and plots; the full text is in the sample's `prompt`. */
function promptLabel(label: string, prompt: string, index: number): string {
  const short = prompt.length > 40 ? `${prompt.slice(0, 39)}…` : prompt;
  return `${label} · p${index} "${short}"`;
}

function sourceOf(s: AnalysisSampleInput, steps: number) {
  if (s.kind === 'seed') return { seed: s.seed, steps };
  if (s.kind === 'xt') return { xt: s.xt, steps };
  return { xT: s.xT, steps };
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export const analyzeJob: EngineJob<'analyze'> = {
  name: 'analyze',
  async run(input, ctx) {
    ctx.onProgress({ fraction: 0, message: 'loading model' });
    const loaded = await ctx.loadModel(input.modelDir, input.provider);
    const model = loaded.model;
    const start = performance.now();
    const prompts = input.prompts;
    const text = { negativePrompt: input.negativePrompt, guidanceScale: input.guidanceScale };
    // One conditioning per prompt (an unconditional model refuses prompts here, with conditioning's invalid-argument
    // error); without prompts, the job's text parameters as every other job applies them (a text model: the empty prompt).
    const conds: Conditioning[] = [];
    for (const prompt of prompts ?? [undefined]) {
      const c = await conditioning(loaded, { ...(prompt !== undefined ? { prompt } : {}), ...text }, ctx.signal);
      if (c.prompt?.truncated) {
        ctx.onProgress({ fraction: 0, message: `prompt "${c.prompt.prompt.slice(0, 40)}" truncated: ${c.prompt.tokens} tokens, the text encoder reads the first ${c.prompt.maxTokens}` });
      }
      conds.push(c);
    }
    const P = conds.length;
    const T = model.scheduler.numTrainTimesteps;
    const requested = input.timesteps ?? input.t!.map((f) => snapToSchedule(f, input.steps, T));
    for (const t of requested) if (t >= T) throw new InvalidArgumentError(`timestep ${t} is outside [0, ${T})`);
    const timesteps = [...new Set(requested)].sort((a, b) => a - b);
    const tol = input.tol ?? defaultTol(input.method);
    let acc: AnalysisAccumulator;
    try {
      acc = new AnalysisAccumulator({
        modelHash: await modelContentHash(model),
        k: input.k,
        method: input.method,
        tol,
        steps: input.steps,
        timesteps,
        samples: prompts
          ? input.samples.flatMap((s, i) => {
              const d = describeSample(s);
              return prompts.map((prompt, p) => ({ ...d, label: promptLabel(d.label, prompt, p), prompt, input: i, promptIndex: p }));
            })
          : input.samples.map(describeSample),
        h: input.h,
        basisSeed: input.basisSeed,
        ...(prompts ? { prompts: [...prompts], negativePrompt: conds[0].prompt?.negativePrompt ?? '', guidanceScale: conds[0].prompt?.guidanceScale } : {}),
      }, prompts ? { promptEmbeddings: conds.map((c) => c.condition!.embedding.data) } : {});
    } catch (err) {
      throw asUserError(err);
    }
    const sampleCount = input.samples.length * P;
    const total = sampleCount * timesteps.length;
    // Each basis is one unit of progress; the x_t path of a sample shares its first unit.
    const unit = 1 / total;
    let done = 0;
    let hTensor = '';
    const warm: number[] = [];
    const cold: number[] = [];
    let cacheHits = 0;
    let computedProducts = 0;
    const descending = [...timesteps].reverse();
    // Warm starts (krylov): each basis starts from the Ritz vectors of the same sample's basis at the next larger t,
    // and a sample's first basis from the previous sample's first (at the largest t, where the paper finds the tangent
    // spaces of samples closest). Measured on the bundled model, k = 8 (npm run bench -- analyze): starting from all
    // k + p Ritz vectors instead of V alone saves one more Krylov iteration, since σ_k and σ_{k+1} are close and the
    // rows after k hold what V is still mixed with. A cache hit carries its warm rows, so a resumed analysis makes
    // the same warm starts, hence the same cache keys, as an uninterrupted one.
    let previousSampleFirst: Tensor | undefined;
    for (let s = 0; s < sampleCount; s++) {
      throwIfCancelled(ctx.signal);
      // input-major: sample s is input ⌊s / P⌋ at prompt s mod P
      const sample = input.samples[Math.floor(s / P)];
      const cond = conds[s % P];
      const base = done * unit;
      const xts = await xtAtTimesteps(sourceOf(sample, input.steps), model, cond.predictor, descending, ctx.signal, (p) =>
        ctx.onProgress({ fraction: base + unit * 0.1 * p.fraction, message: `sample ${s + 1}/${sampleCount}: ${p.message}` }),
      );
      let previous = previousSampleFirst;
      for (const timestep of descending) {
        const from = done * unit;
        const warmStart = input.warmStart && previous ? toPayload(previous) : undefined;
        const r = await localBasis(
          ctx.jacobians,
          model,
          xts.get(timestep)!,
          timestep,
          {
            k: input.k,
            method: input.method,
            tol,
            basisSeed: input.basisSeed,
            h: input.h,
            provider: input.provider,
            forwardProvider: loaded.provider,
            ...(warmStart ? { warmStart } : {}),
            ...(input.mask ? { mask: input.mask } : {}),
          },
          ctx.signal,
          subProgress(
            (p) => ctx.onProgress({ ...p, message: `basis ${done + 1}/${total} (sample ${s + 1}, timestep ${timestep}): ${p.message}` }),
            from + (timestep === descending[0] ? unit * 0.1 : 0),
            from + unit,
          ),
          cond.condition,
        );
        hTensor = r.stats.hTensor;
        const products = r.basis.jacobianProducts.total;
        (warmStart ? warm : cold).push(products);
        if (r.stats.cacheHit) cacheHits++;
        else computedProducts += products;
        const { warmRows, ...basis } = r.basis;
        const added = acc.add(s, timestep, { ...basis, cacheHit: r.stats.cacheHit, warmStarted: Boolean(warmStart), cacheId: r.stats.cacheId });
        done++;
        const partial: AnalysisPartial = {
          kind: 'analysis-basis',
          done,
          total,
          settings: acc.settings,
          ...added,
          ...(acc.promptSimilarities ? { promptSimilarities: acc.promptSimilarities } : {}),
        };
        ctx.onProgress({ fraction: done * unit, message: `basis ${done}/${total} ${r.stats.cacheHit ? 'loaded from cache' : 'computed'}`, partial });
        previous = warmRows ?? basis.V;
        if (timestep === descending[0]) previousSampleFirst = previous;
      }
    }
    return {
      result: sameShape(acc.result()),
      hTensor,
      run: {
        bases: total,
        cacheHits,
        computed: total - cacheHits,
        seconds: (performance.now() - start) / 1000,
        jacobianProducts: computedProducts,
        warmStarted: warm.length,
        warmProductsMean: mean(warm),
        coldProductsMean: mean(cold),
      },
    };
  },
};
