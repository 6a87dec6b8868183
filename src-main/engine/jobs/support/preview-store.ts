/**
 * The gallery's previews kept beside their basis in the disk basis cache (basis-store.ts), so opening a gallery again
 * with the same preview settings shows the stored PNGs instead of rendering them (tens of U-Net batches). One file per
 * (basis cacheId, preview parameters):
 *
 *   <basis dir>/<id[0:2]>/<id>.<paramsHash[0:32]>.pbprev
 *   "PBPREVW\0" | u32 version | u32 headerLength | header JSON (utf-8) | PNG bytes … | sha256 (32 bytes)
 *
 * The header repeats the canonical parameters (so a file copied under another name is a miss) and lists each image's
 * name, size and byte length; the trailing sha256 covers every byte before it. A truncated, bit-flipped or misplaced
 * entry is deleted and reported as a miss (the job renders the previews again and stores them anew). Written with
 * the basis store's atomic write (temp, fsync, rename, folder fsync).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EncodedImage } from '../../../shared/api';
import { canonicalJson, writeEntryAtomic, type BasisCache } from './basis-store';

const MAGIC = Buffer.from('PBPREVW\0', 'latin1');
/** Bump when the way previews are rendered changes: entries of another version are misses. */
const VERSION = 1;
const DIGEST_BYTES = 32;
const PREAMBLE = MAGIC.length + 8;
/** A header lists at most 1 + 3·256 images (the gallery job's direction cap) of a few fields each. */
const MAX_HEADER_BYTES = 1 << 20;

/** Everything besides the basis that changes a preview's pixels. */
export interface PreviewParams {
  /** The DDIM steps of the document's schedule: the centre is rendered with it (it is the canvas image). */
  steps: number;
  previewSteps: number;
  strength: number;
  mode: string;
  guidanceSteps: number;
  scale: number;
  delta: number;
  alpha: number;
  boostFraction: number | null;
  noiseSeed: number;
  /** The directions previewed, in order. */
  directions: number[];
  /** Text models: the path's conditioning (prompt, negative prompt, guidance scale hashes); '' otherwise. */
  pathKey: string;
  /** Text models: the edit prompt the guidance's ε is taken at (null: the path's prompt). */
  editPrompt: string | null;
  /** sha256 of the canvas picture the centre is (an imported image's), or null (the centre is rendered). */
  centerImage: string | null;
}

export interface StoredPreviews {
  center: EncodedImage;
  items: { index: number; minus: EncodedImage; plus: EncodedImage; heat: EncodedImage }[];
}

export type PreviewLookup = { hit: true; previews: StoredPreviews } | { hit: false; reason: 'absent' | 'corrupt' | 'unreadable'; detail?: string };

interface ImageRecord {
  name: string;
  width: number;
  height: number;
  length: number;
}

interface Header {
  cacheId: string;
  params: string;
  images: ImageRecord[];
}

export function previewParamsKey(params: PreviewParams): string {
  return canonicalJson({ v: VERSION, ...params });
}

export class PreviewStore {
  constructor(readonly basis: BasisCache) {}

  pathFor(cacheId: string, params: PreviewParams): string {
    const hash = createHash('sha256').update(previewParamsKey(params), 'utf8').digest('hex');
    return path.join(path.dirname(this.basis.pathFor(cacheId)), `${cacheId}.${hash.slice(0, 32)}.pbprev`);
  }

  async get(cacheId: string, params: PreviewParams): Promise<PreviewLookup> {
    if (!/^[0-9a-f]{64}$/.test(cacheId)) return { hit: false, reason: 'absent' };
    const file = this.pathFor(cacheId, params);
    let buf: Buffer;
    try {
      buf = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { hit: false, reason: 'absent' };
      return { hit: false, reason: 'unreadable', detail: (e as Error).message };
    }
    const decoded = decodePreviews(buf, cacheId, params);
    if ('previews' in decoded) return { hit: true, previews: decoded.previews };
    // Never trusted again: rendering anew overwrites it, and removing it now keeps a damaged file from lingering.
    await fs.rm(file, { force: true });
    return { hit: false, reason: 'corrupt', detail: decoded.detail };
  }

  async put(cacheId: string, params: PreviewParams, previews: StoredPreviews): Promise<void> {
    await writeEntryAtomic(this.basis.dir, this.pathFor(cacheId, params), encodePreviews(cacheId, params, previews));
  }
}

export function encodePreviews(cacheId: string, params: PreviewParams, p: StoredPreviews): Buffer {
  const named: [string, EncodedImage][] = [['center', p.center]];
  for (const it of p.items) named.push([`minus:${it.index}`, it.minus], [`plus:${it.index}`, it.plus], [`heat:${it.index}`, it.heat]);
  const header: Header = {
    cacheId,
    params: previewParamsKey(params),
    images: named.map(([name, img]) => ({ name, width: img.width, height: img.height, length: img.bytes.length })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pre = Buffer.alloc(PREAMBLE);
  MAGIC.copy(pre, 0);
  pre.writeUInt32LE(VERSION, MAGIC.length);
  pre.writeUInt32LE(headerBytes.length, MAGIC.length + 4);
  const body = Buffer.concat([pre, headerBytes, ...named.map(([, img]) => img.bytes)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Parses and verifies an entry; says why it cannot be trusted instead of throwing. */
export function decodePreviews(buf: Buffer, cacheId: string, params: PreviewParams): { previews: StoredPreviews } | { detail: string } {
  if (buf.length < PREAMBLE + DIGEST_BYTES) return { detail: `only ${buf.length} bytes` };
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { detail: 'bad magic' };
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - DIGEST_BYTES))) return { detail: 'checksum mismatch (truncated or modified)' };
  if (buf.readUInt32LE(MAGIC.length) !== VERSION) return { detail: 'another version' };
  const headerLength = buf.readUInt32LE(MAGIC.length + 4);
  if (headerLength > MAX_HEADER_BYTES || PREAMBLE + headerLength > body.length) return { detail: 'header overruns the file' };
  let header: Header;
  try {
    header = JSON.parse(body.subarray(PREAMBLE, PREAMBLE + headerLength).toString('utf8')) as Header;
  } catch {
    return { detail: 'header is not JSON' };
  }
  if (header.cacheId !== cacheId || header.params !== previewParamsKey(params)) return { detail: 'entry was written for other previews' };
  const images = new Map<string, EncodedImage>();
  let off = PREAMBLE + headerLength;
  for (const r of header.images ?? []) {
    if (!Number.isInteger(r.length) || r.length < 0 || off + r.length > body.length) return { detail: 'image overruns the file' };
    // A copy: the caller hands these buffers to the worker's transfer list.
    images.set(r.name, { mime: 'image/png', width: r.width, height: r.height, bytes: new Uint8Array(body.subarray(off, off + r.length)) });
    off += r.length;
  }
  if (off !== body.length) return { detail: 'payload size does not match the header' };
  const center = images.get('center');
  if (!center) return { detail: 'no centre preview' };
  const items: StoredPreviews['items'] = [];
  for (const index of params.directions) {
    const minus = images.get(`minus:${index}`);
    const plus = images.get(`plus:${index}`);
    const heat = images.get(`heat:${index}`);
    if (!minus || !plus || !heat) return { detail: `direction ${index} is missing` };
    items.push({ index, minus, plus, heat });
  }
  return { previews: { center, items } };
}
