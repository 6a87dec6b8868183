/**
 * Undo/redo over snapshots of the document (small JSON: timestep and edit stack, never images or latents).
 * Every change is one entry with a label for the history list; a slider drag is one entry too: `drag()` with the
 * same key replaces the entry it started instead of adding one per pixel moved, until `endDrag()`.
 */
export interface HistoryEntry<T> {
  label: string;
  state: T;
}

export const MAX_HISTORY = 200;

export class History<T> {
  #entries = $state.raw<HistoryEntry<T>[]>([]);
  #index = $state(0);
  #current = $derived(this.#entries[this.#index].state);
  /** The key of the drag whose entry is the current one; null when no drag is open. */
  #dragKey: string | null = null;

  constructor(initial: T, label = 'New') {
    this.reset(initial, label);
  }

  get entries(): HistoryEntry<T>[] {
    return this.#entries;
  }
  /** The current entry's position in `entries`. */
  get index(): number {
    return this.#index;
  }
  get current(): T {
    return this.#current;
  }
  get canUndo(): boolean {
    return this.#index > 0;
  }
  get canRedo(): boolean {
    return this.#index < this.#entries.length - 1;
  }
  get undoLabel(): string | null {
    return this.canUndo ? this.#entries[this.#index].label : null;
  }
  get redoLabel(): string | null {
    return this.canRedo ? this.#entries[this.#index + 1].label : null;
  }

  /** Forget everything; `state` becomes the only entry. */
  reset(state: T, label = 'New'): void {
    this.#entries = [{ label, state }];
    this.#index = 0;
    this.#dragKey = null;
  }

  /** Restore a saved history (project files); an out-of-range index is clamped. */
  load(entries: HistoryEntry<T>[], index: number): void {
    if (entries.length === 0) return;
    this.#entries = entries.slice(-MAX_HISTORY);
    this.#index = Math.min(Math.max(0, index - (entries.length - this.#entries.length)), this.#entries.length - 1);
    this.#dragKey = null;
  }

  /** Record a change: drops the redo stack. */
  push(label: string, state: T): void {
    this.#dragKey = null;
    const kept = this.#entries.slice(0, this.#index + 1);
    kept.push({ label, state });
    this.#entries = kept.slice(-MAX_HISTORY);
    this.#index = this.#entries.length - 1;
  }

  /** A continuous change (slider drag): the first call adds an entry, later calls with the same key replace it. */
  drag(key: string, label: string, state: T): void {
    if (this.#dragKey === key && this.#index === this.#entries.length - 1 && this.#index > 0) {
      const next = this.#entries.slice();
      next[this.#index] = { label, state };
      this.#entries = next;
      return;
    }
    this.push(label, state);
    this.#dragKey = key;
  }

  endDrag(): void {
    this.#dragKey = null;
  }

  undo(): T | null {
    this.#dragKey = null;
    if (!this.canUndo) return null;
    this.#index -= 1;
    return this.current;
  }

  redo(): T | null {
    this.#dragKey = null;
    if (!this.canRedo) return null;
    this.#index += 1;
    return this.current;
  }

  /** Jump to any entry of the list (later entries stay as redo). */
  jumpTo(i: number): T | null {
    this.#dragKey = null;
    if (!Number.isInteger(i) || i < 0 || i >= this.#entries.length) return null;
    this.#index = i;
    return this.current;
  }
}
