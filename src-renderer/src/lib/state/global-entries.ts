/**
 * Global directions in the document's edit stack (issue 13): an x-space global basis (Analyze › Global directions) kept
 * as a record of the document, so its entries can be applied exactly (explicit `{ direction, strength }` edits) and
 * transferred (the `transport` job's explicit `direction`).
 *
 * An entry names its record by basisKey `global-<first 16 hex of sha256(V bytes)>`, and `index` is a row of V; the
 * record holds V's rows (wire bytes, never read here), σ, the timestep, the mean, the local basis parameters (k,
 * method, DDIM steps) the samples' bases were computed with, and which samples they were.
 *
 * In the project file a record is one content-addressed blob (encodeGlobalBasis) listed in the manifest's
 * `globalBases` with the record's key; format.ts reads those blobs as optional ones. A record that is missing,
 * damaged, or whose V does not hash to its key is left out on open, with its entries (readGlobalBases /
 * dropEntriesOf) and a notice: never the project.
 *
 * No Svelte state here: the store (GlobalBases) is a plain map, replaced whole, that the editor reads when it applies.
 */
import { z } from 'zod';
import type { Float32TensorPayload } from '../../../../src-main/shared/api';
import type { DocState, GlobalBasisRef } from '../../../../src-main/shared/project-manifest';
import { sha256Hex } from '../bytes';

export type GlobalMeanKind = 'chordal' | 'karcher';

export interface GlobalBasisRecord {
  /** `global-<16 hex>`: the sha256 of V's bytes (the same basis added twice is one record). */
  key: string;
  timestep: number;
  mean: GlobalMeanKind;
  /** Only x-space bases are edit directions (an h-space mean has no x direction of its own). */
  space: 'x';
  /** [kGlobal, …x] float32 rows as the global-basis job sent them. */
  V: Float32TensorPayload;
  sigmas: number[];
  /** "seed 3, seed 7, face.png" (cut to 200 characters). */
  samples: string;
  sampleCount: number;
  /** The local bases the mean was taken of: a transfer computes each target's basis with the same k and method. */
  k: number;
  method: 'krylov' | 'subspace';
  /** DDIM steps of the samples' x_t paths (the schedule the timestep was snapped to). */
  steps: number;
}

const KEY_RE = /^global-[0-9a-f]{16}$/;

export function isGlobalBasisKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** The key of a global basis: its V bytes' sha256, 16 hex digits (collisions between one document's bases: none in practice). */
export async function globalBasisKey(V: Float32TensorPayload): Promise<string> {
  return `global-${(await sha256Hex(V.data)).slice(0, 16)}`;
}

/** A global entry's name and what its basis is ("karcher, x, 3 samples"): the stack shows the two on two lines. */
export function globalEntryParts(record: GlobalBasisRecord | undefined, index: number): { name: string; detail: string } {
  const name = `Global direction ${index + 1}`;
  if (!record) return { name, detail: 'its basis is missing' };
  return { name, detail: `${record.mean}, ${record.space}, ${record.sampleCount} sample${record.sampleCount === 1 ? '' : 's'}` };
}

/** How the stack names a global entry: "Global direction 2 (karcher, x, 3 samples)". */
export function globalEntryName(record: GlobalBasisRecord | undefined, index: number): string {
  const p = globalEntryParts(record, index);
  return `${p.name} (${p.detail})`;
}

/** Row `index` of the record's V as a [1, …x] direction (a view of the same bytes), or null when V has no such row. */
export function globalDirection(record: GlobalBasisRecord, index: number): Float32TensorPayload | null {
  const rows = record.V.dims[0];
  if (!Number.isInteger(index) || index < 0 || index >= rows) return null;
  const per = record.V.data.byteLength / rows;
  return { dims: [1, ...record.V.dims.slice(1)], data: record.V.data.subarray(index * per, (index + 1) * per) };
}

// ---------- the blob ----------

/** First bytes of a global-basis blob: what it is and its layout version. */
const MAGIC = 'pullback-global-basis/1\n';
const HeaderSchema = z.object({
  key: z.string().regex(KEY_RE),
  timestep: z.number().int().min(0),
  mean: z.enum(['chordal', 'karcher']),
  space: z.literal('x'),
  dims: z.array(z.number().int().min(1)).min(2).max(8),
  sigmas: z.array(z.number().finite()).max(4096),
  samples: z.string().max(200),
  sampleCount: z.number().int().min(1).max(4096),
  k: z.number().int().min(1).max(256),
  method: z.enum(['krylov', 'subspace']),
  steps: z.number().int().min(1).max(1000),
});

/** The record as bytes: MAGIC, a uint32 LE header length, the JSON header, then V's float32 bytes as the wire holds them. */
export function encodeGlobalBasis(r: GlobalBasisRecord): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ key: r.key, timestep: r.timestep, mean: r.mean, space: r.space, dims: r.V.dims, sigmas: r.sigmas, samples: r.samples.slice(0, 200), sampleCount: r.sampleCount, k: r.k, method: r.method, steps: r.steps }),
  );
  const magic = new TextEncoder().encode(MAGIC);
  const out = new Uint8Array(magic.length + 4 + header.length + r.V.data.byteLength);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.length, header.length, true);
  out.set(header, magic.length + 4);
  out.set(r.V.data, magic.length + 4 + header.length);
  return out;
}

/**
 * A blob back as a record, or why it cannot be one: not this format, a header that does not parse, V's bytes not
 * matching its dims, values that are not finite, or V not hashing to the key (the key is V's hash).
 */
export async function decodeGlobalBasis(bytes: Uint8Array): Promise<{ record: GlobalBasisRecord } | { problem: string }> {
  const magic = new TextEncoder().encode(MAGIC);
  if (bytes.length < magic.length + 4 || magic.some((b, i) => bytes[i] !== b)) return { problem: 'it is not a saved global basis' };
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(magic.length, true);
  const start = magic.length + 4 + headerLength;
  if (start > bytes.length) return { problem: 'it is cut short' };
  let header: z.infer<typeof HeaderSchema>;
  try {
    const parsed = HeaderSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(magic.length + 4, start))));
    if (!parsed.success) return { problem: 'its description is not valid' };
    header = parsed.data;
  } catch {
    return { problem: 'its description is not JSON' };
  }
  const values = header.dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== 4 * values) return { problem: `it holds ${bytes.length - start} bytes of directions, [${header.dims.join(', ')}] needs ${4 * values}` };
  // A copy: aligned for Float32Array, and independent of the (larger) blob it came from.
  const data = bytes.slice(start);
  if (!new Float32Array(data.buffer).every(Number.isFinite)) return { problem: 'its directions hold values that are not finite' };
  const V = { dims: header.dims, data };
  if ((await globalBasisKey(V)) !== header.key) return { problem: 'its directions do not match their hash' };
  const { dims: _dims, ...rest } = header;
  return { record: { ...rest, V } };
}

// ---------- the project ----------

/** The global bases a set of document states refers to (their entries' keys), in first-use order. */
export function globalKeysOf(states: readonly DocState[]): string[] {
  const keys = new Set<string>();
  for (const s of states) for (const e of s.edits) if (isGlobalBasisKey(e.basisKey)) keys.add(e.basisKey);
  return [...keys];
}

/** The saved form of the records `keys` names that the store holds: the manifest's `globalBases` and the blobs by sha256. */
export async function globalBasisRefs(store: GlobalBases, keys: readonly string[]): Promise<{ refs: GlobalBasisRef[]; blobs: Record<string, Uint8Array> }> {
  const refs: GlobalBasisRef[] = [];
  const blobs: Record<string, Uint8Array> = {};
  for (const key of keys) {
    const r = store.get(key);
    if (!r) continue;
    const blob = encodeGlobalBasis(r);
    const hash = await sha256Hex(blob);
    blobs[hash] = blob;
    refs.push({ key, blob: hash });
  }
  return { refs, blobs };
}

/**
 * The global bases of an opened project: every ref with a global key whose blob is there, decodes, and is the record
 * its key names. The others are listed in `lost` with why (the caller drops their entries and says so).
 */
export async function readGlobalBases(refs: readonly GlobalBasisRef[], blobs: Record<string, Uint8Array>): Promise<{ records: GlobalBasisRecord[]; lost: { key: string; problem: string }[] }> {
  const records: GlobalBasisRecord[] = [];
  const lost: { key: string; problem: string }[] = [];
  for (const ref of refs) {
    if (!isGlobalBasisKey(ref.key)) {
      lost.push({ key: ref.key, problem: 'it is not a global basis key' });
      continue;
    }
    const bytes = blobs[ref.blob];
    if (!bytes) {
      lost.push({ key: ref.key, problem: 'its saved directions are missing from the file' });
      continue;
    }
    const out = await decodeGlobalBasis(bytes);
    if ('problem' in out) lost.push({ key: ref.key, problem: out.problem });
    else if (out.record.key !== ref.key) lost.push({ key: ref.key, problem: 'the saved directions are of another basis' });
    else records.push(out.record);
  }
  return { records, lost };
}

/**
 * The history without the entries of global bases not in `kept`: what opening a project does when a global basis
 * could not be read, so the rest of the stack (and of the history) opens as saved. Returns how many entries went from
 * the current state (what the notice counts).
 */
export function dropEntriesOf<H extends { state: DocState }>(
  history: { entries: H[]; index: number },
  state: DocState,
  keptKeys: readonly string[],
): { entries: H[]; state: DocState; dropped: number } {
  const kept = new Set(keptKeys);
  const keep = (s: DocState): DocState => ({ ...s, edits: s.edits.filter((e) => !isGlobalBasisKey(e.basisKey) || kept.has(e.basisKey)) });
  const next = keep(state);
  return { entries: history.entries.map((h) => ({ ...h, state: keep(h.state) })), state: next, dropped: state.edits.length - next.edits.length };
}

/** The document's global bases by key (added by "Add to edit", restored from its project). */
export class GlobalBases {
  #records = new Map<string, GlobalBasisRecord>();

  get(key: string): GlobalBasisRecord | undefined {
    return this.#records.get(key);
  }
  get size(): number {
    return this.#records.size;
  }
  /** Keep a record (the same key again is the same basis: the first one stays). */
  add(r: GlobalBasisRecord): void {
    if (!this.#records.has(r.key)) this.#records = new Map(this.#records).set(r.key, r);
  }
  /** A new or opened document: none, or the opened project's. */
  reset(records: readonly GlobalBasisRecord[] = []): void {
    this.#records = new Map(records.map((r) => [r.key, r]));
  }
}
