/**
 * The project file: a zip (fflate) holding `manifest.json` and content-addressed blobs `blobs/<sha256>`. Blobs are
 * stored uncompressed (PNGs are compressed already) and checked against their names on load.
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { ProjectError } from './errors';
import { migrateManifest } from './migrate';
import { ManifestV2Schema, PROJECT_FORMAT, PROJECT_FORMAT_VERSION, type ProjectManifest } from './schema';

export const MANIFEST_NAME = 'manifest.json';
const BLOB_DIR = 'blobs/';
/** Refuse to inflate more than this (a zip bomb, or a corrupt size field). */
const MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ProjectContent {
  manifest: ProjectManifest;
  /** sha256 hex → bytes. Every hash the manifest mentions must be here. */
  blobs: Map<string, Uint8Array>;
}

export interface LoadedProject extends ProjectContent {
  fromVersion: number;
  readOnly: boolean;
}

/** Every blob hash a manifest refers to. */
export function referencedBlobs(m: ProjectManifest): string[] {
  const refs = new Set<string>();
  if (m.source.kind === 'image') refs.add(m.source.blob);
  if (m.images.source) refs.add(m.images.source);
  if (m.images.result) refs.add(m.images.result);
  return [...refs];
}

/** Serialize a project. Throws ProjectError('project-corrupt') if the manifest is invalid or a blob is missing. */
export function encodeProject(content: ProjectContent): Uint8Array {
  const parsed = ManifestV2Schema.safeParse({ ...content.manifest, format: PROJECT_FORMAT, formatVersion: PROJECT_FORMAT_VERSION });
  if (!parsed.success) throw new ProjectError('project-corrupt', `cannot save: invalid project (${parsed.error.issues[0]?.path.join('.')})`);
  const files: Zippable = { [MANIFEST_NAME]: strToU8(JSON.stringify(parsed.data, null, 2)) };
  // Only referenced blobs are written: images nobody points at any more are dropped on save.
  for (const hash of referencedBlobs(parsed.data)) {
    const bytes = content.blobs.get(hash);
    if (!bytes) throw new ProjectError('project-corrupt', `cannot save: image ${hash.slice(0, 12)}… is missing`);
    if (sha256Hex(bytes) !== hash) throw new ProjectError('project-corrupt', `cannot save: image ${hash.slice(0, 12)}… does not match its hash`);
    files[BLOB_DIR + hash] = [bytes, { level: 0 }];
  }
  return zipSync(files, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') });
}

/** Parse project bytes. Throws ProjectError only (never a SyntaxError, RangeError or zod error). */
export function decodeProject(bytes: Uint8Array): LoadedProject {
  let files: Record<string, Uint8Array>;
  try {
    let total = 0;
    files = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > MAX_UNPACKED_BYTES) throw new Error('too large');
        return f.name === MANIFEST_NAME || f.name.startsWith(BLOB_DIR);
      },
    });
  } catch {
    throw new ProjectError('project-corrupt', 'the project file is damaged (not a readable zip)');
  }
  const manifestBytes = files[MANIFEST_NAME];
  if (!manifestBytes) throw new ProjectError('project-corrupt', 'the project file has no manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(strFromU8(manifestBytes));
  } catch {
    throw new ProjectError('project-corrupt', 'the project manifest is not valid JSON');
  }
  const { manifest, fromVersion, readOnly } = migrateManifest(raw);
  const blobs = new Map<string, Uint8Array>();
  for (const hash of referencedBlobs(manifest)) {
    const b = files[BLOB_DIR + hash];
    if (!b) throw new ProjectError('project-corrupt', `the project is missing image ${hash.slice(0, 12)}…`);
    if (sha256Hex(b) !== hash) throw new ProjectError('project-corrupt', `image ${hash.slice(0, 12)}… in the project is damaged`);
    blobs.set(hash, b);
  }
  return { manifest, blobs, fromVersion, readOnly };
}
