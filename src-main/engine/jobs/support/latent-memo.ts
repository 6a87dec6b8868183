/**
 * A small most-recently-used memo of latents in the worker, for results an editor asks for again and again at the
 * same x_t: a seed's DDIM path to x_t (every slider move of an edit) and the gallery's unedited preview render (every
 * gallery at the same x_t, whatever its strength or directions). Entries are copied in and out, so no caller can
 * change what another one gets. A 64×64 RGB latent is 48 KB, a Stable Diffusion one 64 KB: a few dozen cost nothing.
 */
import type { Tensor } from '../../../core/tensor';

export class LatentMemo {
  readonly #entries = new Map<string, Tensor>();

  constructor(readonly capacity: number) {}

  /** A copy of the latent stored under `key`, now the most recently used; undefined when absent. */
  get(key: string): Tensor | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return { dims: [...hit.dims], data: hit.data.slice() };
  }

  /** Stores a copy of `x`, dropping the least recently used entries beyond the capacity. */
  set(key: string, x: Tensor): void {
    this.#entries.delete(key);
    this.#entries.set(key, { dims: [...x.dims], data: x.data.slice() });
    while (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  clear(): void {
    this.#entries.clear();
  }
}

