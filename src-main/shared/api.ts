/**
 * The one API contract between the UI and the engine, carried by Electron IPC (preload) and by WebSocket (web mode).
 * Commands are request/response; jobs are long-running commands with progress events and cancel.
 *
 * To add an engine job: add its input/output schemas to `JOBS` below, write `src-main/engine/jobs/<name>.ts`,
 * and list it in `src-main/engine/jobs/index.ts`. Clients then call `runJob(client, '<name>', input, {onProgress})`.
 * No Node or Electron imports here: the renderer imports this file too.
 *
 * Just over 400 lines on purpose: the job schemas read best side by side with the JOBS table they feed; the pieces
 * several schemas share already live in wire.ts and the analysis job's in analysis-api.ts.
 */
import { z } from 'zod';
import { ApiErrorSchema } from './errors';
import {
  BasisParamsSchema,
  BasisStatsSchema,
  bytes,
  EncodedImageSchema,
  Float32TensorSchema,
  LatentMaskSchema,
  modelDir,
  ProviderPreferenceSchema,
  ProviderSchema,
} from './wire';
import { AnalyzeInputSchema, AnalyzeOutputSchema } from './analysis-api';
import { EDIT_DEFAULTS, EDIT_LIMITS, GALLERY_DEFAULTS } from './edit-defaults';
import type { ProjectRequest } from './project-api';

export * from './wire';





const ValueInfoSchema = z.object({
  name: z.string(),
  type: z.string(),
  dims: z.array(z.union([z.number(), z.string(), z.null()])),
});

export const ModelInfoSchema = z.object({
  dir: z.string(),
  name: z.string(),
  scheduler: z.object({
    numTrainTimesteps: z.number(),
    betaSchedule: z.string(),
    betaStart: z.number(),
    betaEnd: z.number(),
    predictionType: z.string(),
  }),
  unet: z.object({
    file: z.string(),
    inputs: z.array(ValueInfoSchema),
    outputs: z.array(ValueInfoSchema),
    sampleDims: z.array(z.number()),
    timestep: z.object({ type: z.string(), rank: z.number() }),
    weightsBytes: z.number(),
  }),
  /** Text-conditioned (Stable Diffusion) models: what the editor's prompt fields need. Absent: unconditional. */
  text: z
    .object({
      layout: z.enum(['diffusers-onnx', 'optimum']),
      pipelineClass: z.string(),
      /** Tokens per prompt including BOS/EOS (77). */
      maxLength: z.number().int(),
      /** Image size [3, H, W] of the VAE's output. */
      imageDims: z.array(z.number().int()),
      dtype: z.enum(['float32', 'float16']),
      scalingFactor: z.number(),
      /** Whether images can be imported (a vae_encoder is present). */
      canEncode: z.boolean(),
    })
    .optional(),
  /**
   * Asked with a `provider`: the mean time of one U-Net evaluation (one sample) that this engine's jobs measured on
   * this model under that preference, and over how many evaluations. Absent before any was measured.
   */
  forwardCost: z.object({ msPerForward: z.number().nonnegative(), forwards: z.number().nonnegative() }).optional(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/**
 * Text-conditioned (Stable Diffusion) models only; an unconditional model refuses them (invalid-argument).
 * `prompt` conditions the DDIM path (with classifier-free guidance against `negativePrompt` at `guidanceScale`,
 * default 7.5 as in diffusers; 1 = no guidance), the Jacobian J of pullback jobs and the ε of x-space edits.
 * Absent: the empty prompt.
 */
export const textParams = {
  prompt: z.string().max(20_000).optional(),
  negativePrompt: z.string().max(20_000).optional(),
  guidanceScale: z.number().min(0).max(100).optional(),
};
/**
 * Text models: prompts of the geometry that may differ from the path's `prompt` (method.md §4; the paper's SD edits
 * with and without an edit prompt): `basisPrompt` = the prompt J = ∂h/∂x_t is taken at, `editPrompt` = the prompt
 * whose (unguided) ε x-space guidance follows. Absent: `prompt`. x_t stays on the `prompt` path either way.
 */
const basisPromptParam = { basisPrompt: z.string().max(20_000).optional() };
const editPromptParam = { editPrompt: z.string().max(20_000).optional() };
/** How the prompt was tokenized (CLIP keeps maxLength − 2 tokens; the rest is dropped and `truncated` says so). */
export const PromptInfoSchema = z.object({
  prompt: z.string(),
  tokens: z.number().int(),
  maxTokens: z.number().int(),
  truncated: z.boolean(),
  guidanceScale: z.number(),
  negativePrompt: z.string(),
  /** The prompt J was taken at, when a basisPrompt was given. */
  basisPrompt: z.string().optional(),
  /** The prompt of x-space guidance's ε, when an editPrompt was given. */
  editPrompt: z.string().optional(),
});
export type PromptInfo = z.infer<typeof PromptInfoSchema>;

export const GenerateInputSchema = z.object({
  modelDir,
  ...textParams,
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  steps: z.number().int().min(1).max(1000),
  eta: z.number().min(0).max(1).default(0),
  batch: z.number().int().min(1).max(16).default(1),
  provider: ProviderPreferenceSchema.default('auto'),
});

export const GenerateOutputSchema = z.object({
  images: z.array(EncodedImageSchema),
  /** The execution provider that actually ran the U-Net. */
  provider: ProviderSchema,
  /** Why the preferred provider was not used, when it was not. */
  fallbackReason: z.string().optional(),
  timesteps: z.array(z.number().int()),
  elapsedMs: z.number(),
  /** Text models: the prompt as tokenized. */
  prompt: PromptInfoSchema.optional(),
});


/**
 * Where x_t comes from (pullback jobs): `seed` = the DDIM path of generate(seed) stopped at the timestep, `xt`
 * = a given latent [1, C, H, W] at the timestep, or `xT` = an inverted image's x_T (path from T−1 to the timestep). The timestep: `t` = fraction of T snapped to the nearest DDIM step of the
 * `steps`-step schedule, or `timestep` = exactly this value fed to the U-Net. Exactly one of each pair.
 */
const pullbackBase = {
  modelDir,
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  xt: Float32TensorSchema.optional(),
  /** x_T from `invert` (latent at T−1): x_t is the deterministic (unclipped) DDIM path from it down to the timestep. */
  xT: Float32TensorSchema.optional(),
  t: z.number().min(0).max(1).optional(),
  timestep: z.number().int().min(0).max(100_000).optional(),
  /** DDIM steps N of the schedule (paper: 100). */
  steps: z.number().int().min(1).max(1000).default(100),
  provider: ProviderPreferenceSchema.default('auto'),
  ...textParams,
};
type PullbackBase = { seed?: number; xt?: unknown; xT?: unknown; t?: number; timestep?: number };
function oneSourceOneTime(v: PullbackBase, ctx: z.RefinementCtx, needSource = true): void {
  const sources = [v.seed, v.xt, v.xT].filter((s) => s !== undefined).length;
  if (needSource && sources !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of seed, xt, xT' });
  if ((v.t === undefined) === (v.timestep === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of t, timestep' });
}



const EditMode = z.enum(['guidance', 'move']);
/** Guidance/move parameters shared by `edit` and `gallery` (method.md §2; defaults are the authors' unconditional ones). */
const editParams = {
  mode: EditMode.default(EDIT_DEFAULTS.mode),
  /** n guidance steps at t. */
  guidanceSteps: z.number().int().min(EDIT_LIMITS.guidanceSteps.min).max(EDIT_LIMITS.guidanceSteps.max).default(EDIT_DEFAULTS.guidanceSteps),
  /** s */
  scale: z.number().min(EDIT_LIMITS.scale.min).max(EDIT_LIMITS.scale.max).default(EDIT_DEFAULTS.scale),
  /** δ */
  delta: z.number().min(EDIT_LIMITS.delta.min).max(EDIT_LIMITS.delta.max).default(EDIT_DEFAULTS.delta),
  /** α of the plain move. */
  alpha: z.number().min(EDIT_LIMITS.alpha.min).max(EDIT_LIMITS.alpha.max).default(EDIT_DEFAULTS.alpha),
  /** t_boost/T: steps below it use η = 1; null disables. */
  boostFraction: z.number().min(EDIT_LIMITS.boostFraction.min).max(EDIT_LIMITS.boostFraction.max).nullable().default(EDIT_DEFAULTS.boostFraction),
  /** Seed of the η = 1 tail's noise. */
  noiseSeed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(EDIT_DEFAULTS.noiseSeed),
};

export const SampleInputSchema = z.object(pullbackBase).superRefine((v, ctx) => oneSourceOneTime(v, ctx));
export const SampleOutputSchema = z.object({
  xt: Float32TensorSchema,
  timestep: z.number().int(),
  /** x_0 of the same DDIM path (deterministic, η = 0). */
  image: EncodedImageSchema,
  elapsedMs: z.number(),
  prompt: PromptInfoSchema.optional(),
});

export const InvertInputSchema = z.object({
  modelDir,
  /**
   * Image file bytes, PNG, JPEG or WebP within shared/image-limits.ts (else the engine answers 'unsupported-image' /
   * 'image-too-large'): decoded, converted to RGB (or gray), resized to cover and centre-cropped.
   */
  image: bytes,
  steps: z.number().int().min(1).max(1000).default(100),
  /** Reconstructions below this PSNR (dB) are flagged `poor`. */
  poorPsnrDb: z.number().default(25),
  /** Optional edit timestep (fraction of T snapped to the schedule, or a schedule timestep): also return x_t there. */
  t: z.number().min(0).max(1).optional(),
  timestep: z.number().int().min(0).max(100_000).optional(),
  provider: ProviderPreferenceSchema.default('auto'),
});
export const InvertOutputSchema = z.object({
  /** x_T: the latent at the top DDIM timestep. */
  xT: Float32TensorSchema,
  timestep: z.number().int(),
  /** x_t of the image at the requested edit timestep (when `t`/`timestep` was given): feed it to basis/edit as `xt`. */
  xt: Float32TensorSchema.optional(),
  xtTimestep: z.number().int().optional(),
  /** The image as the model sees it (resized/cropped) and its regeneration from x_T. */
  input: EncodedImageSchema,
  recon: EncodedImageSchema,
  psnr: z.number(),
  poor: z.boolean(),
  elapsedMs: z.number(),
});

export const BasisInputSchema = z
  .object({
    ...pullbackBase,
    ...basisPromptParam,
    ...BasisParamsSchema.shape,
    /** krylov only: start vectors [j, ...x] (e.g. V of the basis at a nearby t or sample); part of the cache key. */
    warmStart: Float32TensorSchema.optional(),
  })
  .superRefine((v, ctx) => oneSourceOneTime(v, ctx));
export const BasisOutputSchema = BasisStatsSchema.extend({
  /** [k, ...x], unit rows (right singular vectors). */
  V: Float32TensorSchema,
  /** [k], descending. */
  S: Float32TensorSchema,
  /** [k, ...h] */
  U: Float32TensorSchema,
  /** The x_t the basis is of ([1, ...x]). */
  xt: Float32TensorSchema,
  /** Text models: the prompt J was taken at (its embedding's hash is in the cache key). */
  prompt: PromptInfoSchema.optional(),
});

export const GalleryInputSchema = z
  .object({
    ...pullbackBase,
    ...basisPromptParam,
    ...editPromptParam,
    ...BasisParamsSchema.shape,
    ...editParams,
    /** Previews take half the authors' guidance steps at twice the scale (same n·s, so about the same edit). */
    guidanceSteps: z.number().int().min(EDIT_LIMITS.guidanceSteps.min).max(EDIT_LIMITS.guidanceSteps.max).default(GALLERY_DEFAULTS.guidanceSteps),
    scale: z.number().min(EDIT_LIMITS.scale.min).max(EDIT_LIMITS.scale.max).default(GALLERY_DEFAULTS.scale),
    /** Directions to preview (default: all k). */
    directions: z.array(z.number().int().min(0)).max(256).optional(),
    /** |strength| of the − and + previews. */
    strength: z.number().positive().max(100).default(GALLERY_DEFAULTS.strength),
    /** DDIM steps of the preview renders (cheaper than the final edit). */
    previewSteps: z.number().int().min(1).max(1000).default(GALLERY_DEFAULTS.previewSteps),
    /**
     * The picture the canvas shows for the unedited document when it is not the model's own render (an imported
     * image: the `invert` job's `input` PNG, at the model's image size): the centre is then this picture, byte for
     * byte, and ± = it + the edit's change between the two preview renders, in 8-bit pixels. Absent: the centre is x_t
     * rendered with `steps` and η = 0 (a seed document's canvas image).
     */
    centerImage: bytes.optional(),
  })
  .superRefine((v, ctx) => oneSourceOneTime(v, ctx));
/**
 * Payload of each gallery progress event's `partial`: a direction's |v| heat map as soon as the basis exists
 * (`gallery-heat`), then each thumbnail as soon as it is rendered (`gallery-thumb`).
 */
export const GalleryPartialSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('gallery-thumb'),
    index: z.number().int(),
    sign: z.union([z.literal(-1), z.literal(1)]),
    strength: z.number(),
    image: EncodedImageSchema,
  }),
  z.object({ kind: z.literal('gallery-heat'), index: z.number().int(), image: EncodedImageSchema }),
]);
export type GalleryPartial = z.infer<typeof GalleryPartialSchema>;
/**
 * Progress `partial` of the jobs that put a picture on the canvas (generate, sample, invert, edit) on pixel models:
 * x̂₀, the model's prediction of the clean image at `timestep` of the running DDIM loop (engine/jobs/support/
 * x0-preview.ts), at most one per 250 ms. An in-progress picture: the editor labels it so and never exports it.
 */
export const X0PreviewPartialSchema = z.object({ kind: z.literal('x0-preview'), timestep: z.number().int(), image: EncodedImageSchema });
export type X0PreviewPartial = z.infer<typeof X0PreviewPartialSchema>;
export const GalleryOutputSchema = z.object({
  timestep: z.number().int(),
  basis: BasisStatsSchema,
  /**
   * The unedited document's canvas image: x_t rendered with `steps` and η = 0 (generate's image, byte for byte); each
   * −/+ preview is it plus the edit's change between two `previewSteps` renders with the same η = 1 tail noise.
   */
  center: EncodedImageSchema,
  items: z.array(
    z.object({
      index: z.number().int(),
      sigma: z.number(),
      minus: EncodedImageSchema,
      plus: EncodedImageSchema,
      /** Per-pixel |v| of the direction (norm over channels), normalised and coloured. */
      heat: EncodedImageSchema,
      /**
       * Image change per unit strength: the mean |Δ| (8-bit levels, over pixels and channels) of the − and + previews
       * from the centre, divided by the preview strength (core/edit/visual-change.ts). σ says how far h moves; this
       * says how much one slider unit changes the picture.
       */
      change: z.number().optional(),
    }),
  ),
  /** True when the previews were the ones stored beside the cached basis (none rendered: the time is not theirs). */
  previewsFromCache: z.boolean().optional(),
  elapsedMs: z.number(),
});

export const EditInputSchema = z
  .object({
    ...pullbackBase,
    ...basisPromptParam,
    ...editPromptParam,
    ...editParams,
    composition: z.enum(['summed', 'sequential']).default(EDIT_DEFAULTS.composition),
    /**
     * DDIM steps of the render t → 0; absent: `steps` (the schedule x_t's path and the timestep snap use). The
     * editor's x_t path keeps the document's steps while Apply renders with the authors' 100.
     */
    renderSteps: z.number().int().min(EDIT_LIMITS.renderSteps.min).max(EDIT_LIMITS.renderSteps.max).optional(),
    /**
     * Also render the edit after each of these guidance-step counts (each ≤ guidanceSteps; 0 = unedited): the
     * authors' strip. Guidance mode with summed composition only (there the first m of n steps are exactly an
     * m-step edit).
     */
    frames: z.array(z.number().int().min(0).max(EDIT_LIMITS.guidanceSteps.max)).max(64).optional(),
    /** The basis that `index` edits refer to (computed, or loaded from the cache, for this x_t and timestep). */
    basis: BasisParamsSchema.optional(),
    /**
     * Keep the edit in a region: every guidance update (or the move) of x_t is multiplied by these weights, so x_t
     * outside (weight 0) stays exactly as it was. The render t → 0 still sees the whole image, so the outside of
     * the final picture changes only through the U-Net's context, not through the edit itself.
     */
    region: LatentMaskSchema.optional(),
    /**
     * With `region`: also keep the outside of the rendered picture (Blended Diffusion): the unedited x_t is denoised
     * alongside and the outside of every render step is taken from it, so x_0 outside equals the unedited render
     * (bit for bit where the weight is 0; a pixel model's picture exactly there). Doubles the render's U-Net calls.
     */
    regionBlend: z.boolean().default(false),
    edits: z
      .array(
        z.union([
          z.object({ index: z.number().int().min(0), strength: z.number().min(-1000).max(1000) }),
          z.object({ direction: Float32TensorSchema, strength: z.number().min(-1000).max(1000) }),
        ]),
      )
      .max(64),
  })
  .superRefine((v, ctx) => {
    oneSourceOneTime(v, ctx);
    if (v.edits.some((e) => 'index' in e) && !v.basis) ctx.addIssue({ code: 'custom', message: 'edits by index need `basis`' });
    if (v.regionBlend && !v.region) ctx.addIssue({ code: 'custom', message: 'regionBlend needs a region' });
    if (v.frames?.length) {
      if (v.mode !== 'guidance' || v.composition !== 'summed') ctx.addIssue({ code: 'custom', message: 'frames need guidance mode with summed composition' });
      if (v.frames.some((f) => f > v.guidanceSteps)) ctx.addIssue({ code: 'custom', message: `frames must be ≤ guidanceSteps (${v.guidanceSteps})` });
    }
  });
export const EditOutputSchema = z.object({
  image: EncodedImageSchema,
  timestep: z.number().int(),
  /** The edited x_t (before rendering). */
  xEdited: Float32TensorSchema,
  /** The renders of `frames`, in the order asked. */
  frames: z.array(z.object({ guidanceSteps: z.number().int(), image: EncodedImageSchema })).optional(),
  basis: BasisStatsSchema.optional(),
  elapsedMs: z.number(),
  prompt: PromptInfoSchema.optional(),
});

export const TransportInputSchema = z
  .object({
    ...pullbackBase,
    ...basisPromptParam,
    ...BasisParamsSchema.shape,
    /** Sample B (A is seed/xt). */
    seedB: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    xtB: Float32TensorSchema.optional(),
    /** Direction u_{A,index} of A's basis to move to B. */
    index: z.number().int().min(0).optional(),
    /**
     * Or an explicit x-space direction (a global direction; [1, …x] or […x]) projected onto B's local basis in x
     * (core/geometry/transport.ts projectOntoLocalBasis): A's basis is not computed, so A's source is optional.
     */
    direction: Float32TensorSchema.optional(),
  })
  .superRefine((v, ctx) => {
    oneSourceOneTime(v, ctx, v.direction === undefined);
    if ((v.seedB === undefined) === (v.xtB === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of seedB, xtB' });
    if ((v.index === undefined) === (v.direction === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of index, direction' });
  });
export const TransportOutputSchema = z.object({
  timestep: z.number().int(),
  /** [1, ...x] unit direction at B. */
  v: Float32TensorSchema,
  coefficients: z.array(z.number()),
  captured: z.number(),
  /** Absent when the input gave an explicit `direction` (A's basis is not computed then). */
  basisA: BasisStatsSchema.optional(),
  basisB: BasisStatsSchema,
});

export const GlobalBasisInputSchema = z
  .object({
    ...pullbackBase,
    ...basisPromptParam,
    ...BasisParamsSchema.shape,
    /** The samples: exactly one of `seeds` (DDIM paths of these seeds at the timestep) or `xts` (latents [1, C, H, W]
     * already at the timestep); each local basis goes through the cache. */
    seeds: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).min(1).max(256).optional(),
    xts: z.array(Float32TensorSchema).min(1).max(256).optional(),
    /** Directions of the global basis (chordal: ≤ samples·k; karcher: ≤ k, the mean of k-dim subspaces is k-dim). */
    kGlobal: z.number().int().min(1).max(256).default(8),
    /** 'sigma' weights each local direction by its singular value (chordal: the subspace and order; karcher: the order). */
    weighting: z.enum(['uniform', 'sigma']).default('uniform'),
    /** Average the local bases in x (rows of V) or in h (rows of U, the tangent bases). */
    space: z.enum(['x', 'h']).default('x'),
    /** 'chordal' = SVD of the stacked bases; 'karcher' = Grassmannian Fréchet mean (core/geometry/grassmann-mean.ts). */
    mean: z.enum(['chordal', 'karcher']).default('chordal'),
  })
  .superRefine((v, ctx) => {
    oneSourceOneTime(v, ctx, false);
    if ((v.seeds === undefined) === (v.xts === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of seeds, xts' });
  });
export const GlobalBasisOutputSchema = z.object({
  timestep: z.number().int(),
  space: z.enum(['x', 'h']),
  mean: z.enum(['chordal', 'karcher']),
  /** space 'x': [kGlobal, ...x] orthonormal rows. */
  V: Float32TensorSchema.optional(),
  /** space 'h': [kGlobal, ...h] orthonormal rows. */
  U: Float32TensorSchema.optional(),
  /** [kGlobal] singular values of the stacked local bases within the mean (how shared each direction is). */
  S: Float32TensorSchema,
  /**
   * Per sample (in input order): its seed (seed samples), the local basis stats (cache hits included) and the
   * geodesic distance ‖θ‖₂ (radians) between the mean's span and the sample's span (min(kGlobal, k) angles).
   */
  samples: z.array(z.object({ seed: z.number().int().optional(), index: z.number().int(), basis: BasisStatsSchema, distance: z.number() })),
  /** Karcher only: descent iterations, whether the mean tangent fell below tolerance, its final norm. */
  karcher: z.object({ iterations: z.number().int(), converged: z.boolean(), tangentNorm: z.number() }).optional(),
});

/** Every engine job: name → input and output schemas. */
export const JOBS = {
  'model.info': {
    /** `provider`: also report `forwardCost` measured under this device preference (the editor's basis estimate). */
    input: z.object({ modelDir, provider: ProviderPreferenceSchema.optional() }),
    output: ModelInfoSchema,
  },
  generate: {
    input: GenerateInputSchema,
    output: GenerateOutputSchema,
  },
  sample: { input: SampleInputSchema, output: SampleOutputSchema },
  invert: { input: InvertInputSchema, output: InvertOutputSchema },
  basis: { input: BasisInputSchema, output: BasisOutputSchema },
  gallery: { input: GalleryInputSchema, output: GalleryOutputSchema },
  edit: { input: EditInputSchema, output: EditOutputSchema },
  transport: { input: TransportInputSchema, output: TransportOutputSchema },
  'global-basis': { input: GlobalBasisInputSchema, output: GlobalBasisOutputSchema },
  analyze: { input: AnalyzeInputSchema, output: AnalyzeOutputSchema },
} as const;

export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];
/** What a caller passes (defaults optional). */
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]['input']>;
/** What the engine sees after validation (defaults filled). */
export type JobParsedInput<N extends JobName> = z.output<(typeof JOBS)[N]['input']>;
export type JobOutput<N extends JobName> = z.output<(typeof JOBS)[N]['output']>;

/**
 * The engine's scheduler runs all model work on one compute lane, highest priority first; a lower-priority job
 * pauses between model calls (U-Net steps, Jacobian products) while a higher one runs (DEVELOPERS.md "Scheduler").
 * Highest first: a live preview, an Apply/render the user waits for, gallery thumbnails, a basis, an analysis.
 */
export const JOB_PRIORITIES = ['preview', 'apply', 'gallery', 'basis', 'analysis'] as const;
export const JobPrioritySchema = z.enum(JOB_PRIORITIES);
export type JobPriority = z.infer<typeof JobPrioritySchema>;
/**
 * Each job's priority unless the client says otherwise. model.info never runs the model, so it never waits behind
 * model work; generate/sample/invert make the picture the user is looking at; transport is a pair of bases;
 * global-basis computes a basis per seed, as long as an analysis.
 */
export const DEFAULT_JOB_PRIORITY: Record<JobName, JobPriority> = {
  'model.info': 'preview',
  generate: 'apply',
  sample: 'apply',
  invert: 'apply',
  edit: 'apply',
  gallery: 'gallery',
  basis: 'basis',
  transport: 'basis',
  'global-basis': 'analysis',
  analyze: 'analysis',
};
/** Optional scheduling hints of a job submission (the job's own input schema stays as it is). */
export const StartJobOptionsSchema = z.object({
  /** Overrides DEFAULT_JOB_PRIORITY, for a job name that serves two roles (an `edit` that is a live preview). */
  priority: JobPrioritySchema.optional(),
  /**
   * Jobs of one client with the same key replace each other: a new one ends the queued or running one with
   * 'superseded' (e.g. "preview of edit-stack entry 3" while a slider moves). Scoped per client.
   */
  coalesceKey: z.string().min(1).max(200).optional(),
});
export type StartJobOptions = z.infer<typeof StartJobOptionsSchema>;

export const StartJobRequestSchema = z.object({
  name: z.enum(JOB_NAMES as [JobName, ...JobName[]]),
  input: z.unknown(),
  options: StartJobOptionsSchema.optional(),
});
export const CancelJobRequestSchema = z.object({ jobId: z.string().min(1).max(64) });

export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('queued'), jobId: z.string(), name: z.string() }),
  z.object({
    type: z.literal('progress'),
    jobId: z.string(),
    fraction: z.number().min(0).max(1),
    message: z.string(),
    /** Estimated time left, from the elapsed time and fraction; absent until the first progress. */
    etaMs: z.number().optional(),
    /** A piece of the result that is ready early (e.g. GalleryPartial); never dropped by throttling. */
    partial: z.unknown().optional(),
    /**
     * Scheduler state of a started job: 'running', or 'paused' while a higher-priority job has the compute lane
     * (fraction and message are then the last ones reported). Absent from engines before the scheduler.
     */
    state: z.enum(['running', 'paused']).optional(),
  }),
  z.object({ type: z.literal('done'), jobId: z.string(), name: z.string(), output: z.unknown() }),
  z.object({ type: z.literal('error'), jobId: z.string(), error: ApiErrorSchema }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

export const AppInfoSchema = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'web']),
  /** Models shipped in resources/models, sorted by folder name (the bundled default is avatars64). */
  bundledModels: z.array(z.object({ name: z.string(), dir: z.string() })),
  /** Whether pickModelFolder() can show a native dialog (Electron) or the UI must ask for a path. */
  canPickFolder: z.boolean(),
  providers: z.array(ProviderSchema),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export type Unsubscribe = () => void;

/**
 * What the renderer talks to. Implemented by the preload bridge (IPC) and by WsClient (web mode);
 * on the main side by ApiService, which both transports call.
 */
export interface PullbackApi {
  getAppInfo(): Promise<AppInfo>;
  /** Native folder dialog; resolves null when cancelled or when the transport has no dialog (web mode). */
  pickModelFolder(): Promise<string | null>;
  startJob(name: JobName, input: unknown, options?: StartJobOptions): Promise<{ jobId: string }>;
  cancelJob(jobId: string): Promise<void>;
  /** Every job event of this client; returns the unsubscribe. */
  onJobEvent(listener: (e: JobEvent) => void): Unsubscribe;
  /** Projects: New/Open/Save/Recent and crash recovery (request and replies: shared/project-api.ts, `callProject`). */
  project(req: ProjectRequest): Promise<unknown>;
}

/** Command names of the request/response part of the API (IPC channels: shared/ipc.ts). */
export const COMMANDS = ['getAppInfo', 'pickModelFolder', 'startJob', 'cancelJob', 'project'] as const;
export type CommandName = (typeof COMMANDS)[number];
