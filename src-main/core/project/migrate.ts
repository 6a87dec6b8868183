/**
 * Migrations as data: MIGRATIONS[v] turns a valid version-v manifest into a version v+1 manifest. Each step parses
 * its input with that version's schema first, so a malformed old file fails as 'project-corrupt', never with a
 * TypeError half-way through.
 */
import { ProjectError } from './errors';
import { ManifestV1Schema, ManifestV2Schema, PROJECT_FORMAT_VERSION, ProjectManifestSchema, type ProjectManifest } from './schema';

type Step = (m: unknown) => unknown;

export const MIGRATIONS: Record<number, Step> = {
  1: (raw) => {
    const m = ManifestV1Schema.parse(raw);
    const state = {
      timestep: m.timestep,
      edits: m.edits.map((e, i) => ({ id: `e${i + 1}`, basisKey: e.basisKey, index: e.index, t: e.t, strength: e.weight, enabled: e.enabled })),
    };
    return {
      format: m.format,
      formatVersion: 2,
      appVersion: '0.0.0',
      createdAt: m.savedAt,
      modifiedAt: m.savedAt,
      model: { name: m.model.name, dir: m.model.dir },
      source: { kind: 'seed', seed: m.seed, steps: m.steps },
      state,
      bases: [],
      // v1 had no history: the saved state becomes the one entry.
      history: { entries: [{ label: 'Opened', state }], index: 0 },
      images: m.image ? { result: m.image } : {},
    };
  },
  // v3 added the analyses kept with the document: a v2 file has none.
  2: (raw) => ({ ...ManifestV2Schema.parse(raw), formatVersion: 3 }),
};

export interface MigrationResult {
  manifest: ProjectManifest;
  /** The version the file was written in. */
  fromVersion: number;
  /** A newer file read in the current shape: it must not be saved over (fields we do not know would be lost). */
  readOnly: boolean;
}

/** Bring a parsed manifest (any version) to the current version. Throws ProjectError only. */
export function migrateManifest(raw: unknown): MigrationResult {
  if (!raw || typeof raw !== 'object' || (raw as { format?: unknown }).format !== 'pullback-project') {
    throw new ProjectError('project-corrupt', 'this file is not a Pullback Studio project');
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProjectError('project-corrupt', 'the project has no valid format version');
  }
  if (version > PROJECT_FORMAT_VERSION) {
    // A newer writer may only have added fields: read what we understand, and refuse to save over it.
    const parsed = ProjectManifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProjectError('project-newer-version', `the project was saved by a newer Pullback Studio (format ${version}; this version reads up to ${PROJECT_FORMAT_VERSION})`);
    }
    return { manifest: parsed.data, fromVersion: version, readOnly: true };
  }
  let m: unknown = raw;
  try {
    for (let v = version; v < PROJECT_FORMAT_VERSION; v++) m = MIGRATIONS[v](m);
  } catch {
    throw new ProjectError('project-corrupt', `the project (format ${version}) could not be upgraded: its manifest is malformed`);
  }
  const parsed = ProjectManifestSchema.safeParse(m);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'manifest';
    throw new ProjectError('project-corrupt', `the project manifest is malformed (${where})`);
  }
  return { manifest: parsed.data, fromVersion: version, readOnly: false };
}
