/**
 * Galleries in the project file (issue 16): each finished basis as the manifest's BasisRef, with its engine cache id and
 * its previews (centre, per direction −/+/heat PNGs) as content-addressed blobs, and back. So Open and Recover (autosave
 * writes the same content) show the previews at once, and a restored gallery re-renders a new preview strength from the
 * engine's cached basis instead of showing σ only.
 */
import { MAX_PREVIEW_BLOBS, type BasisPreviews, type BasisRef } from '../../../../src-main/shared/project-manifest';
import { pngSize, type ShownImage } from './images';
import type { Gallery, GalleryRow } from './galleries.svelte';

/**
 * What previews a save may carry: the manifest format's blob cap, and 16 MiB of PNGs, so a document with many
 * galleries of a large model still saves in one web-mode message (64 MiB) next to its images. Newest galleries first;
 * one over the budget keeps its σ and cache id without previews (computing it again renders them from the cache).
 */
export const PREVIEW_SAVE_BUDGET = { blobs: MAX_PREVIEW_BLOBS, bytes: 16 * 1024 * 1024 } as const;

/** Hashes of PNGs already hashed: autosave runs every few seconds and the previews rarely change. */
const hashes = new WeakMap<Uint8Array, string>();

async function hashOf(bytes: Uint8Array, sha256: (b: Uint8Array) => Promise<string>): Promise<string> {
  const known = hashes.get(bytes);
  if (known) return known;
  const h = await sha256(bytes);
  hashes.set(bytes, h);
  return h;
}

/** The finished galleries as manifest entries, and the preview blobs they refer to (by sha256). */
export async function galleryRefs(
  list: readonly Gallery[],
  sha256: (b: Uint8Array) => Promise<string>,
  budget: { blobs: number; bytes: number } = PREVIEW_SAVE_BUDGET,
): Promise<{ bases: BasisRef[]; blobs: Record<string, Uint8Array> }> {
  const done = list.filter((g) => g.status === 'done');
  const blobs: Record<string, Uint8Array> = {};
  let count = 0;
  let bytes = 0;
  const previews = new Map<Gallery, BasisPreviews>();
  for (const g of [...done].reverse()) {
    const own: Record<string, Uint8Array> = {};
    const ref = async (img: ShownImage | undefined) => {
      if (!img) return undefined;
      const h = await hashOf(img.bytes, sha256);
      if (!blobs[h]) own[h] = img.bytes;
      return h;
    };
    const p: BasisPreviews = { strength: g.strength, ...(g.previewSteps ? { previewSteps: g.previewSteps } : {}), rows: [] };
    const center = await ref(g.center);
    if (center) p.center = center;
    for (const r of g.rows.slice(0, 64)) {
      const [minus, plus, heat] = [await ref(r.minus), await ref(r.plus), await ref(r.heat)];
      p.rows.push({ index: r.index, ...(minus ? { minus } : {}), ...(plus ? { plus } : {}), ...(heat ? { heat } : {}), ...(r.change !== undefined ? { change: r.change } : {}) });
    }
    const added = Object.values(own);
    const addedBytes = added.reduce((n, b) => n + b.length, 0);
    if (added.length === 0 && !center && p.rows.every((r) => !r.minus && !r.plus && !r.heat)) continue;
    if (count + added.length > budget.blobs || bytes + addedBytes > budget.bytes) continue;
    count += added.length;
    bytes += addedBytes;
    Object.assign(blobs, own);
    previews.set(g, p);
  }
  const bases = done.map((g): BasisRef => {
    const p = previews.get(g);
    // The engine's ids are sha256 hex; anything else would make the whole save invalid, so it is left out instead.
    const cacheId = g.cacheId && /^[0-9a-f]{64}$/.test(g.cacheId) ? g.cacheId : undefined;
    return {
      key: g.key,
      t: g.timestep,
      k: g.k,
      method: g.method,
      sigmas: g.sigmas,
      ...(cacheId ? { cacheId } : {}),
      ...(p ? { previews: p } : {}),
      ...(g.basisPrompt !== undefined ? { basisPrompt: g.basisPrompt } : {}),
    };
  });
  return { bases, blobs };
}

/**
 * A saved basis as a finished gallery: σ always; the previews whose blobs the file still holds (a missing or damaged
 * one is left out, format.ts); the cache id, so a new preview strength renders from the engine's cached basis.
 */
export function restoredGallery(b: BasisRef, blobs: Record<string, Uint8Array>, strength: number): Gallery {
  const img = (h: string | undefined): ShownImage | undefined => {
    const bytes = h ? blobs[h] : undefined;
    return bytes ? { bytes, ...pngSize(bytes) } : undefined;
  };
  const p = b.previews;
  // Saved rows are in the order of `sigmas` (both follow the job's items); a file without previews numbers them 0, 1, …
  const rows: GalleryRow[] = b.sigmas.map((sigma, j) => {
    const r = p?.rows[j];
    const index = r?.index ?? j;
    const [minus, plus, heat] = [img(r?.minus), img(r?.plus), img(r?.heat)];
    return { index, sigma, ...(minus ? { minus } : {}), ...(plus ? { plus } : {}), ...(heat ? { heat } : {}), ...(r?.change !== undefined ? { change: r.change } : {}) };
  });
  const center = img(p?.center);
  return {
    key: b.key,
    timestep: b.t,
    k: b.k,
    method: b.method === 'subspace' ? 'subspace' : 'krylov',
    rows,
    sigmas: b.sigmas,
    // The strength its −/+ previews show: the saved one when they were saved, else the control's.
    strength: p ? p.strength : strength,
    ...(p?.previewSteps ? { previewSteps: p.previewSteps } : {}),
    ...(center ? { center } : {}),
    status: 'done',
    ...(b.cacheId ? { cacheId: b.cacheId } : {}),
    ...(b.basisPrompt !== undefined ? { basisPrompt: b.basisPrompt } : {}),
  };
}
