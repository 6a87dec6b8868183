/**
 * A small most-recently-used memo of latents in the worker, for results an editor asks for again and again at the
 * same x_t: a seed's DDIM path to x_t (every slider move of an edit) and the gallery's unedited preview render (every
 * gallery at the same x_t, whatever its strength or directions). Entries are copied in and out, so no caller can
 * change what another one gets. A 64×64 RGB latent is 48 KB, a Stable Diffusion one 64 KB: a few dozen cost nothing.
 */
import type { Tensor } from '../../../core/tensor';
import { RecentlyUsed } from '../../../core/recently-used';

export class LatentMemo {
  readonly #entries: RecentlyUsed<string, Tensor>;

  constructor(capacity: number) {
    this.#entries = new RecentlyUsed(capacity);
  }

  /** A copy of the latent stored under `key`, now the most recently used; undefined when absent. */
  get(key: string): Tensor | undefined {
    const hit = this.#entries.get(key);
    return hit && { dims: [...hit.dims], data: hit.data.slice() };
  }

  /** Stores a copy of `x`, dropping the least recently used entries beyond the capacity. */
  set(key: string, x: Tensor): void {
    this.#entries.set(key, { dims: [...x.dims], data: x.data.slice() });
  }

  clear(): void {
    this.#entries.clear();
  }
}

