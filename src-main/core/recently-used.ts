/**
 * A map that keeps its `capacity` most recently used entries: reading or writing an entry makes it the most recent,
 * and a write beyond the capacity drops the least recent. For the small memos of the engine (DDIM paths, preview
 * renders, prompt embeddings, ONNX signatures), where recomputing is slow and an unbounded map would grow forever.
 */
export class RecentlyUsed<K, V> {
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  readonly #entries = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined;
    const value = this.#entries.get(key) as V;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
