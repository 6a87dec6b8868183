/**
 * The building blocks of the API contract that several job schemas share (shared/api.ts, shared/analysis-api.ts):
 * binary payloads, providers, images, float32 tensors, model folders and basis parameters. No Node imports.
 */
import { z } from 'zod';

export const bytes = z.instanceof(Uint8Array);

export const PROVIDERS = ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export const ProviderPreferenceSchema = z.enum(['auto', ...PROVIDERS]);
export type Provider = z.infer<typeof ProviderSchema>;
export type ProviderPreference = z.infer<typeof ProviderPreferenceSchema>;

export const EncodedImageSchema = z.object({
  mime: z.literal('image/png'),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** PNG file bytes: binary on both transports (structured clone over IPC, binary frames over WebSocket). */
  bytes,
});
export type EncodedImage = z.infer<typeof EncodedImageSchema>;

export const modelDir = z.string().min(1).max(4096);

/** A float32 tensor on the wire: C-order little-endian float32 bytes (`data`) with its dims. */
export const Float32TensorSchema = z.object({ dims: z.array(z.number().int().nonnegative()), data: bytes });
export type Float32TensorPayload = z.infer<typeof Float32TensorSchema>;

/**
 * A region of the latent (masked directions, issue 13): per-pixel weights in [0, 1] on the latent's H × W, broadcast
 * over channels. Exactly one of `image` (file bytes, any format sharp reads: grey level = weight, white selects,
 * transparent counts as black; framed like `invert` frames an image: cover, centre crop, then area-averaged onto the
 * latent grid) or `weights` (float32 [h, w], or with leading 1s; resampled the same way when not H × W).
 * Feathering is the client's (a soft mask); `invert` uses 1 − M.
 */
export const LatentMaskSchema = z
  .object({
    image: bytes.optional(),
    weights: Float32TensorSchema.optional(),
    invert: z.boolean().default(false),
  })
  .refine((m) => (m.image === undefined) !== (m.weights === undefined), { message: 'a mask needs exactly one of image, weights' });
export type LatentMaskPayload = z.input<typeof LatentMaskSchema>;

/** Which local basis (besides x_t and the timestep): the basis cache key is built from these. */
export const BasisParamsSchema = z.object({
  k: z.number().int().min(1).max(256).default(8),
  method: z.enum(['krylov', 'subspace']).default('krylov'),
  /** Default: 1e-3 (krylov residual), 1e-4 (subspace elementwise change, the authors'). */
  tol: z.number().positive().max(1).optional(),
  /** Seed of the random start block. */
  basisSeed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** h tensor: 'auto' (mid block) or a tensor name of the U-Net. */
  h: z.string().min(1).max(1024).default('auto'),
  /**
   * Reuse this cached basis (an id a job reported, e.g. an analysis record's cacheId) when it was computed for the
   * same model, x_t, timestep, h, k and method; otherwise the basis is computed as usual.
   */
  cacheId: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /**
   * krylov only: start from the directions of this cached basis (an id a job reported; the editor passes the same
   * image's basis at the nearest computed timestep when the timestep moves), ≈ 30 % fewer Jacobian products at the
   * neighbouring step of a 100-step schedule than a cold start. A basis already cached cold at this point is used as
   * it is; an id that is missing or of another model, h or latent size is ignored (a cold start). The result is keyed
   * by its warm start, so it is reproducible from the same neighbour.
   */
  warmFromCacheId: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** Restrict J to a region: the basis of J·M, directions exactly 0 outside; the mask's hash is in the cache key. */
  mask: LatentMaskSchema.optional(),
});

export const BasisStatsSchema = z.object({
  timestep: z.number().int(),
  method: z.enum(['krylov', 'subspace']),
  iterations: z.number().int(),
  converged: z.boolean(),
  jacobianProducts: z.object({ jvp: z.number().int(), vjp: z.number().int(), total: z.number().int() }),
  residuals: z.array(z.number()),
  /** Seconds of the computation (of the original computation on a cache hit). */
  seconds: z.number(),
  tol: z.number(),
  seed: z.number().int(),
  hTensor: z.string(),
  modelHash: z.string(),
  cacheHit: z.boolean(),
  cacheId: z.string(),
  /** The computation started from another basis's directions (warmStart or warmFromCacheId). */
  warmStarted: z.boolean().optional(),
  /** Masked bases only: sha256 of the mask's weights on the latent grid (after resampling and invert). */
  maskHash: z.string().optional(),
  /** The execution provider the Jacobian graphs ran on (absent on a cache hit: nothing ran). */
  jacobianProvider: ProviderSchema.optional(),
  /** Why the providers before it in the order were skipped ("cuda: first run failed: …"), when any was. */
  jacobianFallbackReason: z.string().optional(),
});
