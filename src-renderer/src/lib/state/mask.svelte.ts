/**
 * The painted mask (issue 13 item 2): where directions may act. Kept at the source image's size as 8-bit levels
 * (0 = outside, 255 = inside; not a tensor of the model: the engine resamples it onto its latent grid), painted with
 * a round brush or eraser of a given size and feather, inverted, cleared, or loaded from a picture.
 *
 * The document holds only the mask's content hash (DocState.mask: the sha256 of its PNG, mask-png.ts), so a stroke is
 * one ordinary history entry (undo/redo restore the hash, this class decodes the PNG it names) and the history stays
 * small JSON. The PNGs themselves live here by hash, for the session: what the gallery's masked basis, Apply's region
 * and the project's mask blobs send are these bytes, so equal masks are the same basis in the engine's cache.
 *
 * During a stroke the levels are a working copy changed in place (a counter tells the overlay to redraw); the stroke's
 * end commits it: PNG, hash, one history entry.
 */
import type { DocState } from '../../../../src-main/shared/project-manifest';
import { sha256Hex } from '../bytes';
import { emptyLevels, invertLevels, isEmpty, levelsFromRgba, stamp, stampSegment, type MaskTool } from './mask-brush';
import { decodeMaskPng, encodeMaskPng, type MaskLevels } from './mask-png';

export const BRUSH_LIMITS = { min: 1, max: 256 } as const;

export interface MaskDeps {
  /** The document's current state (its `mask` hash and `keepOutside`). */
  doc: () => DocState;
  /** Record a change as one history entry (marks the document changed). */
  commit: (label: string, next: DocState) => void;
  /** The source image's size, or null without a document: the mask's size. */
  size: () => { width: number; height: number } | null;
}

/** A mask as the jobs take it: its PNG and the hash that names it (gallery key, project blob). */
export interface MaskRef {
  hash: string;
  png: Uint8Array;
}

export class MaskState {
  readonly #deps: MaskDeps;
  #active = $state(false);
  #tool = $state<MaskTool>('brush');
  #size = $state(16);
  #feather = $state(0.5);
  #overlay = $state(true);
  /** The levels being painted (a stroke, or one whose commit is still hashing); null = the document's mask. */
  #working = $state.raw<MaskLevels | null>(null);
  #tick = $state(0);
  #last: { x: number; y: number } | null = null;
  #strokes = 0;
  /**
   * PNG bytes by sha256, for the session (and what an opened project brought). Not reactive on purpose: a PNG is
   * stored before the hash naming it enters the document, which is what the derived mask below tracks.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #pngs = new Map<string, Uint8Array>();
  #saved = $derived.by((): MaskLevels | null => {
    const h = this.#deps.doc().mask;
    const png = h ? this.#pngs.get(h) : undefined;
    return png ? decodeMaskPng(png) : null;
  });
  #levels = $derived(this.#working ?? this.#saved);

  constructor(deps: MaskDeps) {
    this.#deps = deps;
  }

  /** Mask mode: the pointer paints on the canvas instead of panning it. */
  get active(): boolean {
    return this.#active;
  }
  set active(v: boolean) {
    this.#active = v;
  }
  get tool(): MaskTool {
    return this.#tool;
  }
  set tool(v: MaskTool) {
    this.#tool = v;
  }
  /** Brush diameter in image pixels. */
  get size(): number {
    return this.#size;
  }
  set size(v: number) {
    if (Number.isFinite(v)) this.#size = Math.min(BRUSH_LIMITS.max, Math.max(BRUSH_LIMITS.min, Math.round(v)));
  }
  /** Soft edge: the outer fraction of the radius that fades out (0 = hard, 1 = all soft). */
  get feather(): number {
    return this.#feather;
  }
  set feather(v: number) {
    if (Number.isFinite(v)) this.#feather = Math.min(1, Math.max(0, v));
  }
  /** Whether the canvas shows the tinted mask. */
  get overlay(): boolean {
    return this.#overlay;
  }
  set overlay(v: boolean) {
    this.#overlay = v;
  }
  /** The image's size (the mask's), or null without a document. */
  get imageSize(): { width: number; height: number } | null {
    return this.#deps.size();
  }
  /** The levels shown (a stroke in progress included), or null: no mask. */
  get levels(): MaskLevels | null {
    return this.#levels;
  }
  /** Changes on every stamp of a stroke (its levels change in place): the overlay redraws on it. */
  get tick(): number {
    return this.#tick;
  }
  /** The document's mask (what Compute and Apply send), or null. */
  get current(): MaskRef | null {
    const h = this.#deps.doc().mask;
    const png = h ? this.#pngs.get(h) : undefined;
    return h && png ? { hash: h, png } : null;
  }
  get keepOutside(): boolean {
    return this.#deps.doc().keepOutside ?? false;
  }
  setKeepOutside(v: boolean): void {
    if (v === this.keepOutside) return;
    this.#deps.commit(v ? 'Keep outside the mask exactly' : 'Let the outside follow the edit', { ...this.#deps.doc(), keepOutside: v });
  }

  /** The PNG of a mask this session (or the opened project) knows, by hash. */
  png(hash: string): Uint8Array | undefined {
    return this.#pngs.get(hash);
  }
  /** An opened project's mask blob (its hash checked by the project format). */
  remember(hash: string, png: Uint8Array): void {
    this.#pngs.set(hash, png);
  }
  /** A new document: no stroke, no stored masks. */
  reset(): void {
    this.#working = null;
    this.#last = null;
    this.#pngs.clear();
  }

  // ---------- painting (image pixel coordinates) ----------
  begin(x: number, y: number): void {
    const size = this.#deps.size();
    if (!size) return;
    const base = this.#levels;
    const fits = base && base.width === size.width && base.height === size.height;
    this.#working = fits ? { ...base, data: base.data.slice() } : emptyLevels(size.width, size.height);
    this.#strokes++;
    this.#last = { x, y };
    stamp(this.#working, x, y, this.#size / 2, this.#feather, this.#tool);
    this.#tick++;
  }

  moveTo(x: number, y: number): void {
    const w = this.#working;
    if (!this.#last || !w) return;
    if (stampSegment(w, this.#last, { x, y }, this.#size / 2, this.#feather, this.#tool)) this.#tick++;
    this.#last = { x, y };
  }

  /** The stroke's end: one history entry ("Paint mask" / "Erase mask"). */
  async end(): Promise<void> {
    const w = this.#working;
    if (!this.#last || !w) return;
    this.#last = null;
    const stroke = this.#strokes;
    await this.#commit(this.#tool === 'brush' ? 'Paint mask' : 'Erase mask', w);
    // A stroke begun meanwhile owns the working copy (and already holds this one's levels).
    if (stroke === this.#strokes) this.#working = null;
  }

  get painting(): boolean {
    return this.#last !== null;
  }

  invert(): Promise<void> {
    const size = this.#deps.size();
    if (!size) return Promise.resolve();
    return this.#commit('Invert mask', invertLevels(this.#levels ?? emptyLevels(size.width, size.height)));
  }

  clear(): Promise<void> {
    this.#working = null;
    return this.#deps.doc().mask ? this.#commit('Clear mask', null) : Promise.resolve();
  }

  /** "Load mask…": a decoded picture (RGBA), resampled to the image's size (levelsFromRgba). */
  load(rgba: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }, name: string): Promise<void> {
    const size = this.#deps.size();
    if (!size) return Promise.resolve();
    this.#working = null;
    return this.#commit(`Load mask ${name}`.slice(0, 200), levelsFromRgba(rgba, size.width, size.height));
  }

  /** One history entry for new levels (null or all zero: no mask). Equal levels change nothing. */
  async #commit(label: string, levels: MaskLevels | null): Promise<void> {
    let hash: string | undefined;
    if (levels && !isEmpty(levels)) {
      const png = encodeMaskPng(levels);
      hash = await sha256Hex(png);
      this.#pngs.set(hash, png);
    }
    const doc = this.#deps.doc();
    if (hash === doc.mask) return;
    const next: DocState = { ...doc };
    if (hash) next.mask = hash;
    else delete next.mask;
    this.#deps.commit(label, next);
  }
}
