/**
 * Reading a project zip without trusting it. The central directory gives names, methods and compressed sizes; the
 * declared uncompressed size is never used for anything (fflate's unzipSync allocates it up front, so a 622-byte zip
 * declaring 1000 MiB allocated 1000 MiB). Deflated entries are inflated by zlib with `maxOutputLength` set to what
 * is left of a budget of bytes actually produced: a total cap and a ratio cap (output per byte of file), so a zip
 * bomb is refused after a bounded amount of work and memory.
 *
 * The readers are generators of steps: `undefined` (a point to let other work run) or an inflate request, answered
 * by the driver. decodeProject's driver (runSync) inflates on the spot; decodeProjectAsync's (runAsync) inflates in
 * libuv's thread pool, off the main thread, and gives the event loop a turn between steps, so a server keeps
 * answering other clients while a big or hostile project opens. (fflate's streaming Inflate was measured at ~25 MB/s
 * on a bomb, 0.7 s per 16 MiB step on the main thread; zlib does the same work natively, in the pool.)
 */
import { createHash } from 'node:crypto';
import { inflateRaw, inflateRawSync } from 'node:zlib';

export interface ZipLimits {
  /** Most bytes all extracted entries may add up to, whatever the file's size. */
  maxTotalBytes: number;
  /** Output allowed per byte of zip file, above `ratioFloorBytes` (a small file may still inflate to the floor). */
  maxRatio: number;
  ratioFloorBytes: number;
  /** Most entries in the central directory. */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxTotalBytes: 1024 * 1024 * 1024,
  maxRatio: 100,
  ratioFloorBytes: 16 * 1024 * 1024,
  maxEntries: 10_000,
};

/** Bytes hashed per step. */
const HASH_STEP = 4 * 1024 * 1024;

/** The zip is malformed, or would inflate past its limits; the message says which. */
export class ZipReadError extends Error {
  override readonly name = 'ZipReadError';
  constructor(
    message: string,
    /** True when the archive is well formed but too big to open (a bomb, or a project over the caps). */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  /** Where the compressed bytes are, checked against the file's bounds. */
  dataStart: number;
  compressedSize: number;
}

const u16 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000;

/** Counts produced bytes against the limits for one archive. */
export class InflateBudget {
  private used = 0;
  readonly allowed: number;
  constructor(fileBytes: number, limits: ZipLimits) {
    this.allowed = Math.min(limits.maxTotalBytes, Math.max(limits.ratioFloorBytes, fileBytes * limits.maxRatio));
  }
  take(n: number): void {
    this.used += n;
    if (this.used > this.allowed) throw this.exceeded();
  }
  /** What one more inflate may produce (zlib needs at least 1). */
  get remaining(): number {
    return Math.max(1, this.allowed - this.used);
  }
  exceeded(): ZipReadError {
    return new ZipReadError(`the project unpacks to more than ${this.allowed} bytes (limit for a file of this size)`, true);
  }
}

/** A step: undefined (let other work run), or a request to inflate raw deflate data, producing at most `maxOutputLength`. */
export type Step = undefined | { inflate: Uint8Array; maxOutputLength: number };
/** A computation in steps; an inflate step is answered with the bytes (or by throwing the inflate error into it). */
export type Steps<T> = Generator<Step, T, Uint8Array | undefined>;

const INFLATE_CHUNK = 256 * 1024;

/** The central directory's entries. Throws ZipReadError. */
export function listEntries(bytes: Uint8Array, limits: ZipLimits): ZipEntry[] {
  // End of central directory: 22 bytes + a comment of up to 65535 bytes, so search the last 65557 bytes backwards.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= 0 && i >= bytes.length - 65557; i--) {
    if (u32(bytes, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipReadError('not a zip file (no end of central directory)');
  const count = u16(bytes, eocd + 10);
  const cdSize = u32(bytes, eocd + 12);
  const cdOffset = u32(bytes, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new ZipReadError('zip64 archives are not project files', true);
  if (count > limits.maxEntries) throw new ZipReadError(`the zip lists ${count} entries (at most ${limits.maxEntries})`, true);
  if (cdOffset + cdSize > eocd) throw new ZipReadError('central directory runs past its end');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || u32(bytes, p) !== 0x02014b50) throw new ZipReadError('damaged central directory');
    const flags = u16(bytes, p + 8);
    const method = u16(bytes, p + 10);
    const compressedSize = u32(bytes, p + 20);
    const nameLen = u16(bytes, p + 28);
    const extraLen = u16(bytes, p + 30);
    const commentLen = u16(bytes, p + 32);
    const local = u32(bytes, p + 42);
    if (p + 46 + nameLen > eocd) throw new ZipReadError('damaged central directory');
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > cdOffset || u32(bytes, local) !== 0x04034b50) throw new ZipReadError(`entry ${name}: damaged local header`);
    const dataStart = local + 30 + u16(bytes, local + 26) + u16(bytes, local + 28);
    if (dataStart + compressedSize > cdOffset) throw new ZipReadError(`entry ${name}: data runs past the end`);
    entries.push({ name, method, flags, dataStart, compressedSize });
  }
  return entries;
}

/** The bytes of one entry, inflated (if deflated) within what is left of the budget. */
export function* extractEntry(bytes: Uint8Array, e: ZipEntry, budget: InflateBudget): Steps<Uint8Array> {
  if (e.flags & 1) throw new ZipReadError(`entry ${e.name} is encrypted`);
  const data = bytes.subarray(e.dataStart, e.dataStart + e.compressedSize);
  if (e.method === 0) {
    budget.take(data.length);
    // A view into the file's bytes, not a copy (a copy of tens of MiB holds the thread for ~100 ms).
    return data;
  }
  if (e.method !== 8) throw new ZipReadError(`entry ${e.name}: unsupported compression method ${e.method}`);
  let out: Uint8Array;
  try {
    out = (yield { inflate: data, maxOutputLength: budget.remaining })!;
  } catch (err) {
    if ((err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE') throw budget.exceeded();
    throw new ZipReadError(`entry ${e.name}: damaged compressed data`);
  }
  budget.take(out.length);
  return out;
}

/** sha256 hex of bytes, yielding between steps (a blob can be tens of MiB). */
export function* sha256Steps(bytes: Uint8Array): Steps<string> {
  const h = createHash('sha256');
  for (let off = 0; off < bytes.length; off += HASH_STEP) {
    h.update(bytes.subarray(off, Math.min(off + HASH_STEP, bytes.length)));
    if (off + HASH_STEP < bytes.length) yield;
  }
  return h.digest('hex');
}

/** Run steps to the end at once, inflating on this thread. */
export function runSync<T>(gen: Steps<T>): T {
  let r = gen.next();
  for (;;) {
    if (r.done) return r.value;
    const step = r.value;
    if (!step) {
      r = gen.next();
      continue;
    }
    let out: Uint8Array;
    try {
      out = inflateRawSync(step.inflate, { maxOutputLength: step.maxOutputLength, chunkSize: INFLATE_CHUNK });
    } catch (err) {
      r = gen.throw(err);
      continue;
    }
    r = gen.next(out);
  }
}

/** Run steps, inflating in libuv's thread pool and letting the event loop run other work between steps. */
export async function runAsync<T>(gen: Steps<T>): Promise<T> {
  let r = gen.next();
  for (;;) {
    if (r.done) return r.value;
    const step = r.value;
    if (!step) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      r = gen.next();
      continue;
    }
    let out: Uint8Array;
    try {
      out = await new Promise<Uint8Array>((resolve, reject) =>
        inflateRaw(step.inflate, { maxOutputLength: step.maxOutputLength, chunkSize: INFLATE_CHUNK }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    } catch (err) {
      r = gen.throw(err);
      continue;
    }
    r = gen.next(out);
  }
}
