/**
 * On-disk basis cache ("offline basis browsing"): a basis is stored under the sha256 of a canonical key
 * {modelHash, xtHash, timestep, prompt, hTensor, k, method, tol, seed, extra}, one file per entry:
 *
 *   "PBBASIS\0" | u32 version | u32 headerLength | header JSON (utf-8) | V f32 | S f32 | U f32 | [W f32] | sha256 (32 bytes)
 *
 * W, the krylov method's warm rows (LocalBasis.warmRows), is there when the header's dims name it: entries written
 * before it existed read as they did, and a basis read back warm-starts its neighbours exactly as the computed one.
 *
 * The trailing sha256 covers every byte before it, and the header repeats the canonical key, so a truncated,
 * bit-flipped or misplaced file is detected, deleted and reported as a miss — never trusted. Writes are atomic:
 * a uniquely named temp file in the same folder is written, fsync'ed and renamed over the entry, then the folder
 * is fsync'ed, so a crash leaves either the old entry, the new one, or a stray temp (never a torn entry).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir } from '../../../app/data-dir';
import type { Tensor } from '../../../core/tensor';
import { sizeOf } from '../../../core/tensor';
import type { BasisMethod, LocalBasis } from '../../../core/geometry/types';

const MAGIC = Buffer.from('PBBASIS\0', 'latin1');
const VERSION = 1;
const DIGEST_BYTES = 32;
const PREAMBLE = MAGIC.length + 8;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface BasisCacheKey {
  /** Content hash of the model folder (weights + config). */
  modelHash: string;
  /** tensorSha256 of x_t. */
  xtHash: string;
  /** The exact timestep fed to the U-Net. */
  timestep: number;
  /** Text models: sha256 of the basis prompt's embedding (the empty prompt included); null for unconditional models. */
  prompt: string | null;
  /** Name of the h tensor (mid block by default). */
  hTensor: string;
  k: number;
  method: BasisMethod;
  tol: number;
  seed: number;
  /** Every other option that changes the result bits (oversampling, warm-start hash, maxIterations, ...). */
  extra?: Record<string, string | number | boolean | null>;
}

export type CacheMissReason = 'absent' | 'corrupt' | 'key-mismatch' | 'unreadable';

export type CacheLookup =
  | { hit: true; id: string; basis: LocalBasis }
  | { hit: false; id: string; reason: CacheMissReason; detail?: string };

export type CacheErrorCode = 'write-failed' | 'bad-key';

export class CacheError extends Error {
  override readonly name = 'CacheError';
  constructor(
    readonly code: CacheErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** JSON with object keys sorted at every level, so equal keys serialise to equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new CacheError('bad-key', `non-finite number ${value} in cache key`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function canonicalKey(key: BasisCacheKey): string {
  const { modelHash, xtHash, timestep, prompt, hTensor, k, method, tol, seed, extra } = key;
  // Listed explicitly so a caller's stray fields never leak into (and silently split) the key space.
  return canonicalJson({ v: VERSION, modelHash, xtHash, timestep, prompt, hTensor, k, method, tol, seed, extra: extra ?? {} });
}

export function basisCacheId(key: BasisCacheKey): string {
  return createHash('sha256').update(canonicalKey(key), 'utf8').digest('hex');
}

interface Header {
  key: string;
  dims: { V: number[]; S: number[]; U: number[]; W?: number[] };
  /** Everything of the basis but its tensors, which follow the header as raw float32. */
  meta: Omit<LocalBasis, 'V' | 'S' | 'U' | 'warmRows'>;
}

function f32Bytes(t: Tensor): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const b = Buffer.alloc(t.data.byteLength);
  t.data.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

function readF32(buf: Buffer, offset: number, dims: number[]): Tensor {
  const n = sizeOf(dims);
  const data = new Float32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(buf.subarray(offset, offset + 4 * n));
  else for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(offset + 4 * i);
  return { dims, data };
}

export function encodeEntry(key: BasisCacheKey, basis: LocalBasis): Buffer {
  const header: Header = {
    key: canonicalKey(key),
    dims: { V: [...basis.V.dims], S: [...basis.S.dims], U: [...basis.U.dims], ...(basis.warmRows ? { W: [...basis.warmRows.dims] } : {}) },
    meta: {
      method: basis.method,
      iterations: basis.iterations,
      converged: basis.converged,
      jacobianProducts: basis.jacobianProducts,
      residuals: basis.residuals,
      seconds: basis.seconds,
      tol: basis.tol,
      seed: basis.seed,
    },
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pre = Buffer.alloc(PREAMBLE);
  MAGIC.copy(pre, 0);
  pre.writeUInt32LE(VERSION, MAGIC.length);
  pre.writeUInt32LE(headerBytes.length, MAGIC.length + 4);
  const body = Buffer.concat([pre, headerBytes, f32Bytes(basis.V), f32Bytes(basis.S), f32Bytes(basis.U), ...(basis.warmRows ? [f32Bytes(basis.warmRows)] : [])]);
  const digest = createHash('sha256').update(body).digest();
  return Buffer.concat([body, digest]);
}

/** Parses and verifies an entry; returns why it cannot be trusted instead of throwing. */
export function decodeEntry(buf: Buffer, key: BasisCacheKey): { basis: LocalBasis } | { reason: 'corrupt' | 'key-mismatch'; detail: string } {
  const decoded = decodeAnyEntry(buf);
  if ('reason' in decoded) return decoded;
  if (decoded.canonicalKey !== canonicalKey(key)) return { reason: 'key-mismatch', detail: 'entry was written for another key' };
  return { basis: decoded.basis };
}

/** Parses and verifies an entry whatever its key; returns the basis with the canonical key it was written for. */
function decodeAnyEntry(buf: Buffer): { basis: LocalBasis; canonicalKey: string } | { reason: 'corrupt'; detail: string } {
  if (buf.length < PREAMBLE + DIGEST_BYTES) return { reason: 'corrupt', detail: `only ${buf.length} bytes` };
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { reason: 'corrupt', detail: 'bad magic' };
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES))) return { reason: 'corrupt', detail: 'checksum mismatch (truncated or modified)' };
  const version = buf.readUInt32LE(MAGIC.length);
  if (version !== VERSION) return { reason: 'corrupt', detail: `unknown version ${version}` };
  const headerLength = buf.readUInt32LE(MAGIC.length + 4);
  if (PREAMBLE + headerLength > body.length) return { reason: 'corrupt', detail: 'header overruns the file' };
  let header: Header;
  try {
    header = JSON.parse(body.subarray(PREAMBLE, PREAMBLE + headerLength).toString('utf8')) as Header;
  } catch {
    return { reason: 'corrupt', detail: 'header is not JSON' };
  }
  const { V, S, U, W } = header.dims;
  const payload = 4 * (sizeOf(V) + sizeOf(S) + sizeOf(U) + (W ? sizeOf(W) : 0));
  if (PREAMBLE + headerLength + payload !== body.length) return { reason: 'corrupt', detail: 'payload size does not match dims' };
  let off = PREAMBLE + headerLength;
  const vT = readF32(body, off, V);
  off += 4 * sizeOf(V);
  const sT = readF32(body, off, S);
  off += 4 * sizeOf(S);
  const uT = readF32(body, off, U);
  off += 4 * sizeOf(U);
  const warmRows = W ? { warmRows: readF32(body, off, W) } : {};
  return { basis: { V: vT, S: sT, U: uT, ...header.meta, ...warmRows }, canonicalKey: header.key };
}

/** Cache folders already made private in this process (one stat per folder, not one per entry). */
const tightened = new Set<string>();

export class BasisCache {
  constructor(readonly dir: string) {}

  pathFor(id: string): string {
    return path.join(this.dir, id.slice(0, 2), `${id}.pbasis`);
  }

  async get(key: BasisCacheKey): Promise<CacheLookup> {
    const id = basisCacheId(key);
    const file = this.pathFor(id);
    let buf: Buffer;
    try {
      buf = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { hit: false, id, reason: 'absent' };
      // Permissions or I/O trouble: a miss, but the file is left alone (it may be fine).
      return { hit: false, id, reason: 'unreadable', detail: String((e as Error).message) };
    }
    const decoded = decodeEntry(buf, key);
    if ('basis' in decoded) return { hit: true, id, basis: decoded.basis };
    await fs.rm(file, { force: true });
    return { hit: false, id, reason: decoded.reason, detail: decoded.detail };
  }

  /**
   * The entry stored under `id` (an id a job reported, e.g. an analysis's warm-started basis) if it exists, verifies
   * and was written for a key with the fields of `expect` — so an id reused as the basis itself names only the basis of
   * the same model, x_t, timestep and h (the caller passes all of them), and one used as a warm start only a basis of
   * the same model and h. Anything else is a miss, never an error: the caller computes the basis instead.
   */
  async getById(id: string, expect: Partial<Pick<BasisCacheKey, 'modelHash' | 'xtHash' | 'timestep' | 'hTensor' | 'k' | 'method'>>): Promise<LocalBasis | null> {
    if (!/^[0-9a-f]{64}$/.test(id)) return null;
    let buf: Buffer;
    try {
      buf = await fs.readFile(this.pathFor(id));
    } catch {
      return null;
    }
    const decoded = decodeAnyEntry(buf);
    if ('reason' in decoded) return null;
    let stored: Partial<BasisCacheKey>;
    try {
      stored = JSON.parse(decoded.canonicalKey) as Partial<BasisCacheKey>;
    } catch {
      return null;
    }
    const matches = (Object.keys(expect) as (keyof typeof expect)[]).every((f) => stored[f] === expect[f]);
    return matches ? decoded.basis : null;
  }

  /** Writes the entry atomically; returns its id. */
  async put(key: BasisCacheKey, basis: LocalBasis): Promise<string> {
    const id = basisCacheId(key);
    const file = this.pathFor(id);
    await writeEntryAtomic(this.dir, file, encodeEntry(key, basis));
    return id;
  }

  /** Loads the basis for `key`, or computes and stores it; `lookup` says why it was computed. */
  async getOrCompute(key: BasisCacheKey, compute: () => Promise<LocalBasis>): Promise<{ basis: LocalBasis; lookup: CacheLookup }> {
    const lookup = await this.get(key);
    if (lookup.hit) return { basis: lookup.basis, lookup };
    const basis = await compute();
    await this.put(key, basis);
    return { basis, lookup };
  }
}

/**
 * Writes a cache entry (a basis, or previews beside it: preview-store.ts) atomically under the cache folder `dir`: a
 * uniquely named temp file in the entry's folder, fsync, rename over the entry, fsync of the folder. A crash leaves the
 * old entry, the new one or a stray temp, never a torn entry. Throws CacheError('write-failed').
 */
export async function writeEntryAtomic(dir: string, file: string, bytes: Uint8Array): Promise<void> {
  const folder = path.dirname(file);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // Owner only, like every folder of the app's data: a basis is computed from the user's picture (its x_t). The
    // cache folder itself, ours by construction, is tightened once if an older version made it 0755.
    if (!tightened.has(dir)) {
      ensurePrivateDir(dir, true);
      tightened.add(dir);
    }
    await fs.mkdir(folder, { recursive: true, mode: 0o700 });
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new CacheError('write-failed', `could not write basis cache entry ${file}: ${(e as Error).message}`);
  }
  await syncFolder(folder);
}

/** fsync of the folder makes the rename durable; not supported on every platform (Windows), where it is skipped. */
async function syncFolder(folder: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory fsync: the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
