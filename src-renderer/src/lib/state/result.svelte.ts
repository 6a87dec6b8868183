/**
 * The applied result: the image Apply rendered for the stack, and earlier renders by what they show, so undo/redo
 * and toggling back to an earlier stack show the image rendered for it before without a new render.
 *
 * While a strength slider moves, a live preview (shared/live-preview.ts: approximate) may stand in for the result.
 * It is never cached and never outlives the next exact image: showing a render, clearing or restoring drops it, so
 * an approximation is never left on the canvas as if it were final.
 */
import type { ShownImage } from './images';

/** Renders kept; the oldest goes first. */
export const MAX_CACHED_RENDERS = 64;

export class RenderResult {
  #image = $state.raw<ShownImage | null>(null);
  #preview = $state.raw<ShownImage | null>(null);
  // A cache keyed by what was rendered (source, model, steps, applied edits); never rendered itself.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #renders = new Map<string, ShownImage>();

  /** The applied result, or null when nothing is applied (the source shows). */
  get image(): ShownImage | null {
    return this.#image;
  }

  /** The live preview shown instead of the result while a slider moves, or null. */
  get preview(): ShownImage | null {
    return this.#preview;
  }

  showPreview(image: ShownImage): void {
    this.#preview = image;
  }

  dropPreview(): void {
    this.#preview = null;
  }

  /**
   * Show the render for `key`: the cached one, else what `render` resolves to (then cached). Resolves true when it
   * rendered, false when it came from the cache; rejects (showing no change) when `render` rejects.
   */
  async show(key: string, render: () => Promise<ShownImage>): Promise<boolean> {
    const cached = this.#renders.get(key);
    if (cached) {
      this.#image = cached;
      this.#preview = null;
      return false;
    }
    const image = await render();
    this.#image = image;
    this.#preview = null;
    if (this.#renders.size >= MAX_CACHED_RENDERS) this.#renders.delete(this.#renders.keys().next().value!);
    this.#renders.set(key, image);
    return true;
  }

  /** Nothing applied: the canvas shows the source. The cache stays (the same source may come back). */
  showNone(): void {
    this.#image = null;
    this.#preview = null;
  }

  /** A saved result (opened project); not cached, as its key is not known. */
  restore(image: ShownImage | null): void {
    this.#image = image;
    this.#preview = null;
  }

  /** A new source: no result and no renders of the old one. */
  clear(): void {
    this.#renders.clear();
    this.#image = null;
    this.#preview = null;
  }
}
