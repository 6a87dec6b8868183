/**
 * The project manifest (format, version, zod schema and types) for the renderer, which builds the manifest it saves
 * and reads the one it opens. The schema itself lives in core/project (pure: zod only) next to its migrations.
 */
export {
  ProjectManifestSchema,
  PROJECT_FORMAT,
  PROJECT_FORMAT_VERSION,
  type AnalysisRef,
  type BasisRef,
  type BasisPreviews,
  MAX_PREVIEW_BLOBS,
  type DocState,
  type EditEntry,
  type GlobalBasisRef,
  type ProjectManifest,
} from '../core/project/schema';
