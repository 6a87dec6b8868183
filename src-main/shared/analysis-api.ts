/**
 * The `analyze` job's contract (geometry analyses, method.md §6): local bases of samples × timesteps reduced to
 * spectra, frequency content and distances between tangent spaces. The result mirrors
 * core/geometry/analysis/result.ts (AnalysisResult), checked against it at compile time in engine/jobs/analyze.ts.
 */
import { z } from 'zod';
import { BasisParamsSchema, Float32TensorSchema, modelDir, ProviderPreferenceSchema } from './wire';

const label = z.string().min(1).max(200);

/** A sample: a seed's DDIM path, a given x_t (used as is at every timestep: the authors' fixed-x_t setting), or an inverted image's x_T. */
export const AnalysisSampleInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('seed'), seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), label: label.optional() }),
  z.object({ kind: z.literal('xt'), xt: Float32TensorSchema, label }),
  z.object({ kind: z.literal('xT'), xT: Float32TensorSchema, label }),
]);
export type AnalysisSampleInput = z.input<typeof AnalysisSampleInputSchema>;

export const MAX_ANALYSIS_SAMPLES = 64;
export const MAX_ANALYSIS_TIMESTEPS = 50;
export const MAX_ANALYSIS_PROMPTS = 16;

export const AnalyzeInputSchema = BasisParamsSchema.extend({
  modelDir,
  provider: ProviderPreferenceSchema.default('auto'),
  samples: z.array(AnalysisSampleInputSchema).min(1).max(MAX_ANALYSIS_SAMPLES),
  /** Fractions of T, each snapped to the `steps`-step schedule (duplicates after snapping are merged). */
  t: z.array(z.number().min(0).max(1)).min(1).max(MAX_ANALYSIS_TIMESTEPS).optional(),
  /** Exact timesteps fed to the U-Net. */
  timesteps: z.array(z.number().int().min(0).max(100_000)).min(1).max(MAX_ANALYSIS_TIMESTEPS).optional(),
  steps: z.number().int().min(1).max(1000).default(100),
  /** Start each sample's Krylov iteration at t from its basis at the next larger t, and its first from the previous sample's first (krylov only). */
  warmStart: z.boolean().default(true),
  /**
   * Text models: analyse every input at each prompt; the samples are then inputs × prompts, input-major (sample =
   * input · P + prompt). Each (input, prompt) has its own DDIM path (at the prompt, with negativePrompt and
   * guidanceScale) and J at the prompt. Without it a text model is analysed at the empty prompt. The limits are
   * api.ts textParams' (not imported: api.ts imports this file).
   */
  prompts: z.array(z.string().max(20_000)).min(1).max(MAX_ANALYSIS_PROMPTS).optional(),
  negativePrompt: z.string().max(20_000).optional(),
  guidanceScale: z.number().min(0).max(100).optional(),
}).superRefine((v, ctx) => {
  if ((v.t === undefined) === (v.timesteps === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of t, timesteps' });
  if (v.samples.length * (v.prompts?.length ?? 1) > MAX_ANALYSIS_SAMPLES) {
    ctx.addIssue({ code: 'custom', message: `inputs × prompts must be at most ${MAX_ANALYSIS_SAMPLES} samples, got ${v.samples.length} × ${v.prompts?.length ?? 1}` });
  }
  if (v.warmStart && v.method === 'subspace') ctx.addIssue({ code: 'custom', message: 'warm starts need method krylov (set warmStart false for subspace)' });
});

const productsSchema = z.object({ jvp: z.number().int(), vjp: z.number().int(), total: z.number().int() });
const spaceSchema = z.enum(['x', 'h']);

export const BasisRecordSchema = z.object({
  sample: z.number().int(),
  timestep: z.number().int(),
  sigma: z.array(z.number()),
  height: z.number().int(),
  width: z.number().int(),
  power: z.array(z.array(z.number())),
  lowFrequencyShare: z.array(z.number()),
  iterations: z.number().int(),
  converged: z.boolean(),
  jacobianProducts: productsSchema,
  residualMax: z.number(),
  seconds: z.number(),
  cacheHit: z.boolean(),
  warmStarted: z.boolean(),
  /** Pass as a basis request's `cacheId` to open this very basis (e.g. in the gallery) without recomputing. */
  cacheId: z.string().optional(),
});
export type BasisRecordPayload = z.infer<typeof BasisRecordSchema>;

export const SampleSimilaritySchema = z.object({
  timestep: z.number().int(),
  space: spaceSchema,
  sampleA: z.number().int(),
  sampleB: z.number().int(),
  geodesic: z.number(),
  maxAngle: z.number(),
});
export const TimestepSimilaritySchema = z.object({
  sample: z.number().int(),
  timestepA: z.number().int(),
  timestepB: z.number().int(),
  space: spaceSchema,
  geodesic: z.number(),
  maxAngle: z.number(),
});

export const PromptSimilaritySchema = z.object({ promptA: z.number().int(), promptB: z.number().int(), cosine: z.number() });
export const PromptCorrelationSchema = z.object({
  timestep: z.number().int(),
  space: spaceSchema,
  pairs: z.number().int(),
  pearson: z.number().nullable(),
});

export const AnalysisResultSchema = z.object({
  format: z.literal('pullback-geometry-analysis'),
  version: z.literal(1),
  settings: z.object({
    modelHash: z.string(),
    k: z.number().int(),
    method: z.enum(['krylov', 'subspace']),
    tol: z.number(),
    steps: z.number().int(),
    timesteps: z.array(z.number().int()),
    samples: z.array(
      z.object({
        label: z.string(),
        source: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('seed'), seed: z.number().int() }),
          z.object({ kind: z.literal('xt'), file: z.string() }),
          z.object({ kind: z.literal('image'), file: z.string() }),
        ]),
        prompt: z.string().optional(),
        /** With prompts: the input position and the prompt's index in `prompts` (sample = input · P + promptIndex). */
        input: z.number().int().optional(),
        promptIndex: z.number().int().optional(),
      }),
    ),
    h: z.string().optional(),
    basisSeed: z.number().int().optional(),
    prompts: z.array(z.string()).optional(),
    negativePrompt: z.string().optional(),
    guidanceScale: z.number().optional(),
  }),
  bases: z.array(BasisRecordSchema),
  sampleSimilarities: z.array(SampleSimilaritySchema),
  timestepSimilarities: z.array(TimestepSimilaritySchema),
  /** ≥ 2 prompts: cosine of the flattened text embeddings of prompts a < b (core/geometry/analysis/prompts.ts). */
  promptSimilarities: z.array(PromptSimilaritySchema).optional(),
  /** ≥ 2 prompts: per timestep and space, Pearson r(embedding cosine, geodesic) over same-input pairs; null = undefined. */
  promptCorrelations: z.array(PromptCorrelationSchema).optional(),
});
export type AnalysisResultPayload = z.infer<typeof AnalysisResultSchema>;

/** How the run went: what was computed, loaded from the cache, and what warm starts saved. */
export const AnalysisRunStatsSchema = z.object({
  bases: z.number().int(),
  cacheHits: z.number().int(),
  computed: z.number().int(),
  seconds: z.number(),
  /** Jacobian products of the bases computed in this run (cache hits cost none). */
  jacobianProducts: z.number().int(),
  warmStarted: z.number().int(),
  /**
   * Products of the warm-started bases against the mean of the cold ones (only the first sample's first basis, where
   * warm starts are on): a rough estimate of what warm starts saved; `npm run bench -- analyze` measures it exactly
   * by running both.
   */
  warmProductsMean: z.number().nullable(),
  coldProductsMean: z.number().nullable(),
});

export const AnalyzeOutputSchema = z.object({
  result: AnalysisResultSchema,
  run: AnalysisRunStatsSchema,
  /** The h tensor's name (the analysis's U rows live there). */
  hTensor: z.string(),
});

/** Streamed after every finished basis (progress `partial`): the record and the similarities it completed. */
export const AnalysisPartialSchema = z.object({
  kind: z.literal('analysis-basis'),
  done: z.number().int(),
  total: z.number().int(),
  /** The analysis's settings (exact timesteps after snapping, sample labels), so a client can plot from the first partial. */
  settings: AnalysisResultSchema.shape.settings,
  record: BasisRecordSchema,
  sampleSimilarities: z.array(SampleSimilaritySchema),
  timestepSimilarities: z.array(TimestepSimilaritySchema),
  /** ≥ 2 prompts: the prompts' embedding cosines (fixed for the run), so a client can correlate from the partials. */
  promptSimilarities: z.array(PromptSimilaritySchema).optional(),
});
export type AnalysisPartial = z.infer<typeof AnalysisPartialSchema>;
