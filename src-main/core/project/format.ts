/**
 * The project file: a zip (fflate) holding `manifest.json` and content-addressed blobs `blobs/<sha256>`. Image blobs
 * are stored uncompressed (PNGs are compressed already), analysis JSON deflated; all are checked against their names
 * on load. Loading inflates with
 * a budget of bytes actually produced (zip-read.ts), never trusting the sizes the file declares.
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { ProjectError } from './errors';
import { migrateManifest } from './migrate';
import { MAX_PREVIEW_BLOBS, PROJECT_FORMAT, PROJECT_FORMAT_VERSION, ProjectManifestSchema, type ProjectManifest } from './schema';
import { buildZipAsync } from './zip-write';
import { DEFAULT_ZIP_LIMITS, InflateBudget, ZipReadError, extractEntry, listEntries, runAsync, runSync, sha256Steps, type Steps, type ZipLimits } from './zip-read';

export const MANIFEST_NAME = 'manifest.json';
const BLOB_DIR = 'blobs/';
/** A manifest is a few KiB of JSON; this only bounds what JSON.parse is handed. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

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
  for (const a of m.analyses ?? []) refs.add(a.blob);
  for (const h of m.masks ?? []) refs.add(h);
  return [...refs];
}

/**
 * The optional blobs not already among the referenced ones: the global bases' directions (first, so the cap never drops
 * them for thumbnails) and the galleries' preview PNGs (issue 16). Saving leaves out one it was not given; opening
 * skips a missing or damaged one, so it costs that preview (or that global basis's entries) only, never the document.
 * At most MAX_PREVIEW_BLOBS of them are written or read, whatever a (hostile) manifest lists.
 */
export function optionalBlobs(m: ProjectManifest): string[] {
  const required = new Set(referencedBlobs(m));
  const out = new Set<string>();
  for (const g of (m.globalBases ?? []).slice(0, MAX_PREVIEW_BLOBS)) if (!required.has(g.blob)) out.add(g.blob);
  for (const b of m.bases) {
    const p = b.previews;
    if (!p) continue;
    for (const h of [p.center, ...p.rows.flatMap((r) => [r.minus, r.plus, r.heat])]) {
      if (out.size >= MAX_PREVIEW_BLOBS) return [...out];
      if (h && !required.has(h)) out.add(h);
    }
  }
  return [...out];
}

/** Blobs worth deflating: the analyses' JSON (a PNG would not shrink, only cost time). */
function compressible(m: ProjectManifest): Set<string> {
  return new Set((m.analyses ?? []).map((a) => a.blob));
}

/** The validated manifest text and the referenced blobs, in the archive's order. Throws ProjectError('project-corrupt'). */
function* projectEntries(content: ProjectContent): Steps<{ manifest: Uint8Array; blobs: [string, Uint8Array][]; deflate: Set<string> }> {
  const parsed = ProjectManifestSchema.safeParse({ ...content.manifest, format: PROJECT_FORMAT, formatVersion: PROJECT_FORMAT_VERSION });
  if (!parsed.success) throw new ProjectError('project-corrupt', `cannot save: invalid project (${parsed.error.issues[0]?.path.join('.')})`);
  const blobs: [string, Uint8Array][] = [];
  // Only referenced blobs are written: images nobody points at any more are dropped on save.
  for (const hash of referencedBlobs(parsed.data)) {
    const bytes = content.blobs.get(hash);
    if (!bytes) throw new ProjectError('project-corrupt', `cannot save: blob ${hash.slice(0, 12)}… is missing`);
    if ((yield* sha256Steps(bytes)) !== hash) throw new ProjectError('project-corrupt', `cannot save: blob ${hash.slice(0, 12)}… does not match its hash`);
    blobs.push([hash, bytes]);
  }
  for (const hash of optionalBlobs(parsed.data)) {
    const bytes = content.blobs.get(hash);
    // A preview the page did not send (or sent damaged) is left out: its reference then opens as "no preview".
    if (bytes && (yield* sha256Steps(bytes)) === hash) blobs.push([hash, bytes]);
  }
  return { manifest: strToU8(JSON.stringify(parsed.data, null, 2)), blobs, deflate: compressible(parsed.data) };
}

/** Serialize a project. Throws ProjectError('project-corrupt') if the manifest is invalid or a blob is missing. */
export function encodeProject(content: ProjectContent): Uint8Array {
  const { manifest, blobs, deflate } = runSync(projectEntries(content));
  const files: Zippable = { [MANIFEST_NAME]: manifest };
  for (const [hash, bytes] of blobs) files[BLOB_DIR + hash] = [bytes, { level: deflate.has(hash) ? 6 : 0 }];
  return zipSync(files, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') });
}

/**
 * encodeProject for the main process: hashing in steps, CRC-32 and deflate by zlib (zip-write.ts), so saving a
 * project with tens of MiB of images does not stop the server answering other clients. Same entries, same order;
 * the archive comes as parts to write one after the other (writeFileAtomicAsync takes them as they are).
 */
export async function encodeProjectAsync(content: ProjectContent): Promise<Uint8Array[]> {
  const { manifest, blobs, deflate } = await runAsync(projectEntries(content));
  return buildZipAsync([
    { name: MANIFEST_NAME, data: manifest, deflate: true },
    ...blobs.map(([hash, data]) => ({ name: BLOB_DIR + hash, data, deflate: deflate.has(hash) })),
  ]);
}

/** Parse project bytes. Throws ProjectError only (never a SyntaxError, RangeError or zod error). */
export function decodeProject(bytes: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): LoadedProject {
  return runSync(decodeSteps(bytes, limits));
}

/** decodeProject with inflation in zlib's thread pool and hashing in steps: for the main process (see zip-read.ts). */
export function decodeProjectAsync(bytes: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<LoadedProject> {
  return runAsync(decodeSteps(bytes, limits));
}

/** Zip failures as ProjectErrors: a bomb says so, anything else is a damaged file. */
function zipError(err: unknown): ProjectError {
  if (err instanceof ProjectError) return err;
  if (err instanceof ZipReadError && err.tooLarge) return new ProjectError('project-corrupt', `the project file is damaged or hostile: ${err.message}`);
  return new ProjectError('project-corrupt', 'the project file is damaged (not a readable zip)');
}

function* decodeSteps(bytes: Uint8Array, limits: ZipLimits): Steps<LoadedProject> {
  let entries;
  let manifestBytes: Uint8Array | undefined;
  const budget = new InflateBudget(bytes.length, limits);
  try {
    entries = listEntries(bytes, limits);
    const manifestEntry = entries.find((e) => e.name === MANIFEST_NAME);
    if (manifestEntry) manifestBytes = yield* extractEntry(bytes, manifestEntry, budget);
  } catch (err) {
    throw zipError(err);
  }
  if (!manifestBytes) throw new ProjectError('project-corrupt', 'the project file has no manifest');
  if (manifestBytes.length > MAX_MANIFEST_BYTES) throw new ProjectError('project-corrupt', 'the project manifest is too large');
  let raw: unknown;
  try {
    raw = JSON.parse(strFromU8(manifestBytes));
  } catch {
    throw new ProjectError('project-corrupt', 'the project manifest is not valid JSON');
  }
  const { manifest, fromVersion, readOnly } = migrateManifest(raw);
  // Only blobs the manifest refers to are inflated: anything else in the zip costs nothing.
  const blobs = new Map<string, Uint8Array>();
  for (const hash of referencedBlobs(manifest)) {
    const entry = entries.find((e) => e.name === BLOB_DIR + hash);
    if (!entry) throw new ProjectError('project-corrupt', `the project is missing image ${hash.slice(0, 12)}…`);
    let b: Uint8Array;
    try {
      b = yield* extractEntry(bytes, entry, budget);
    } catch (err) {
      throw zipError(err);
    }
    if ((yield* sha256Steps(b)) !== hash) throw new ProjectError('project-corrupt', `image ${hash.slice(0, 12)}… in the project is damaged`);
    blobs.set(hash, b);
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const hash of optionalBlobs(manifest)) {
    const entry = byName.get(BLOB_DIR + hash);
    if (!entry) continue;
    let b: Uint8Array;
    try {
      b = yield* extractEntry(bytes, entry, budget);
    } catch (err) {
      // A bomb is hostile and refuses the file as for any blob; other damage costs this preview only.
      if (err instanceof ZipReadError && err.tooLarge) throw zipError(err);
      continue;
    }
    if ((yield* sha256Steps(b)) === hash) blobs.set(hash, b);
  }
  return { manifest, blobs, fromVersion, readOnly };
}
