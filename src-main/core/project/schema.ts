/**
 * The project manifest (`manifest.json` inside the project zip), current version, and the older versions it is
 * migrated from. Images live beside it as content-addressed blobs (`blobs/<sha256>.png`); the manifest refers to
 * them by hash. Latents are never stored: they are recomputed by the engine from the recipe (seed or inverted image),
 * which is deterministic (DDIM with η = 0).
 */
import { z } from 'zod';

export const PROJECT_FORMAT = 'pullback-project';
/** When incrementing this, add a migration from the previous version in migrate.ts and a fixture in test/fixtures/projects. */
export const PROJECT_FORMAT_VERSION = 3;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const int = z.number().int();
const finite = z.number().finite();

export const ModelRefSchema = z.object({
  /** Display name (the folder's name), also what "missing model" messages say. */
  name: z.string().max(512),
  /** Folder the model was opened from. */
  dir: z.string().max(4096),
  /** Content hash of the U-Net, when the engine reported one; a different model in the same folder is detected. */
  hash: sha256.optional(),
});

/**
 * Text-conditioned (Stable Diffusion) models: the conditioning the source was made with, which its x_t path, bases
 * and edits are computed at (limits as the job schemas, shared/api.ts textParams). Optional: absent for unconditional
 * models and in files written before text models, so no format version bump.
 */
const sourceText = {
  prompt: z.string().max(20_000).optional(),
  negativePrompt: z.string().max(20_000).optional(),
  guidanceScale: finite.min(0).max(100).optional(),
};

export const SourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('seed'), seed: int.min(0).max(Number.MAX_SAFE_INTEGER), steps: int.min(1).max(1000), ...sourceText }),
  z.object({
    kind: z.literal('image'),
    /** The imported image as the user gave it (PNG-re-encoded), a blob hash. */
    blob: sha256,
    /** Original file name, for display. */
    name: z.string().max(512),
    steps: int.min(1).max(1000),
    /** Reconstruction PSNR of the inversion in dB, when it ran. */
    psnr: finite.optional(),
    ...sourceText,
  }),
]);

/** At most this many preview blobs per file are written or read (format.ts): they are extras, the document is not. */
export const MAX_PREVIEW_BLOBS = 1024;

/**
 * A gallery's previews (issue 16): PNG blobs like the images, so reopening or recovering shows them at once. Every
 * blob is optional and a missing or damaged one costs that preview only (format.ts reads them as optional blobs).
 * Rows are bounded by the editor's k (≤ 64).
 */
export const BasisPreviewsSchema = z.object({
  /** |strength| the −/+ previews show. */
  strength: finite.positive().max(100),
  /** DDIM steps of the preview renders. */
  previewSteps: int.min(1).max(1000).optional(),
  /** The unedited document's canvas image. */
  center: sha256.optional(),
  rows: z
    .array(
      z.object({
        index: int.min(0).max(4095),
        minus: sha256.optional(),
        plus: sha256.optional(),
        heat: sha256.optional(),
        /** Image change per unit strength (8-bit levels), as the gallery job measured it from these previews. */
        change: finite.min(0).max(255).optional(),
      }),
    )
    .max(64),
});

export const BasisRefSchema = z.object({
  /** The engine's basis cache key. */
  key: z.string().min(1).max(256),
  t: int.min(0),
  k: int.min(1).max(4096),
  method: z.string().max(32),
  /** Singular values, largest first (for the gallery and the sparkline). */
  sigmas: z.array(finite).max(4096),
  /**
   * The engine's basis cache id: a new preview strength re-renders from the cached basis (no Jacobian products).
   * Optional, like `previews`: files written before issue 16 load unchanged (no format version bump).
   */
  cacheId: sha256.optional(),
  previews: BasisPreviewsSchema.optional(),
  /** Text models: the basis prompt J was taken at (the key's `-p` tag); absent: the document's prompt. */
  basisPrompt: z.string().max(20_000).optional(),
});

export const EditEntrySchema = z.object({
  id: z.string().min(1).max(64),
  basisKey: z.string().min(1).max(256),
  /** Which direction of the basis (0 = largest singular value). */
  index: int.min(0).max(4095),
  t: int.min(0),
  strength: finite.min(-100).max(100),
  enabled: z.boolean(),
});

/**
 * Apply's edit parameters (the editor's Advanced controls). Every field optional: absent = the default in
 * shared/edit-defaults.ts, so files written before the controls existed load unchanged (no format version bump).
 */
export const EditParamsSchema = z.object({
  mode: z.enum(['guidance', 'move']).optional(),
  composition: z.enum(['summed', 'sequential']).optional(),
  guidanceSteps: int.min(0).max(512).optional(),
  scale: finite.min(0).max(100).optional(),
  delta: finite.min(0).max(100).optional(),
  alpha: finite.min(0).max(1000).optional(),
  boostFraction: finite.min(0).max(1).nullable().optional(),
  renderSteps: int.min(1).max(1000).optional(),
  previewSteps: int.min(1).max(1000).optional(),
  /** Text models: the edit prompt (null or absent: the document's prompt). */
  editPrompt: z.string().max(20_000).nullable().optional(),
});

/** The undoable part of the editor: everything the history restores. */
export const DocStateSchema = z.object({
  timestep: int.min(0).nullable(),
  edits: z.array(EditEntrySchema).max(256),
  /** Absent in projects saved before the Advanced controls: the defaults. */
  params: EditParamsSchema.optional(),
  /**
   * The painted mask (issue 13): the sha256 of its PNG blob (grey level = weight, at the source image's size), listed
   * in the manifest's `masks`. Absent = no mask. A hash keeps every history entry small, so mask strokes are undoable.
   */
  mask: sha256.optional(),
  /** Apply with masked directions also keeps the picture outside the mask exactly (the edit job's regionBlend). */
  keepOutside: z.boolean().optional(),
});

export const HistorySchema = z.object({
  entries: z.array(z.object({ label: z.string().max(200), state: DocStateSchema })).max(1000),
  /** Which entry is current (entries after it are the redo stack). */
  index: int.min(-1),
});

export const ManifestV2Schema = z.object({
  format: z.literal(PROJECT_FORMAT),
  formatVersion: int,
  appVersion: z.string().max(64),
  createdAt: z.string().max(64),
  modifiedAt: z.string().max(64),
  model: ModelRefSchema,
  source: SourceSchema,
  state: DocStateSchema,
  bases: z.array(BasisRefSchema).max(256),
  history: HistorySchema,
  images: z.object({ source: sha256.optional(), result: sha256.optional() }),
});

/**
 * A geometry analysis kept with the document (format 3): the analyze job's result (AnalysisResultSchema in
 * shared/analysis-api.ts) as JSON in a content-addressed blob. The blob is validated by the reader that shows it, so
 * a damaged analysis costs that analysis only, never the document.
 */
export const AnalysisRefSchema = z.object({
  blob: sha256,
  /** What the Analyze view shows it as: the run itself, or the run it is overlaid with. */
  role: z.enum(['result', 'comparison']),
  label: z.string().max(200),
});

/** Version 3: version 2 plus the document's geometry analyses. */
export const ManifestV3Schema = ManifestV2Schema.extend({
  analyses: z.array(AnalysisRefSchema).max(16).optional(),
  /**
   * Mask PNG blobs the document refers to (history entries' `mask`, and masked bases' keys `…-m<sha256>`). Optional:
   * older files have none, so no format version bump.
   */
  masks: z.array(sha256).max(48).optional(),
  /**
   * Global bases the document's edit entries use (issue 13; entries name them by `key`, `global-…`): each a blob of
   * its directions (renderer state/global-entries.ts). Optional blobs, like the previews: a missing or damaged one costs
   * its entries, never the document. Older files have none, so no format version bump.
   */
  globalBases: z.array(z.object({ key: z.string().min(1).max(256), blob: sha256 })).max(32).optional(),
});
/** The manifest of the current version: what is saved, and what every file is migrated to. */
export const ProjectManifestSchema = ManifestV3Schema;
export type ProjectManifest = z.infer<typeof ProjectManifestSchema>;
export type AnalysisRef = z.infer<typeof AnalysisRefSchema>;
export type ModelRef = z.infer<typeof ModelRefSchema>;
export type ProjectSource = z.infer<typeof SourceSchema>;
export type EditEntry = z.infer<typeof EditEntrySchema>;
export type DocState = z.infer<typeof DocStateSchema>;
export type BasisRef = z.infer<typeof BasisRefSchema>;
export type GlobalBasisRef = NonNullable<ProjectManifest['globalBases']>[number];
export type BasisPreviews = z.infer<typeof BasisPreviewsSchema>;

/**
 * Version 1 (Pullback Studio 0.0.x): seed-only projects, edits with `weight` instead of `strength`, one image, no
 * history. Kept so old files keep opening; see migrate.ts.
 */
export const ManifestV1Schema = z.object({
  format: z.literal(PROJECT_FORMAT),
  formatVersion: z.literal(1),
  model: z.object({ name: z.string().max(512), dir: z.string().max(4096) }),
  seed: int.min(0).max(Number.MAX_SAFE_INTEGER),
  steps: int.min(1).max(1000),
  timestep: int.min(0).nullable(),
  edits: z.array(z.object({ basisKey: z.string().min(1).max(256), index: int.min(0).max(4095), t: int.min(0), weight: finite.min(-100).max(100), enabled: z.boolean() })).max(256),
  image: sha256.optional(),
  savedAt: z.string().max(64),
});
export type ManifestV1 = z.infer<typeof ManifestV1Schema>;
