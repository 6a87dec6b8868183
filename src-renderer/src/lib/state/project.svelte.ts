/**
 * The open document as a file: its project id and name, read-only, unsaved changes, and its recovery slot (the
 * session id autosave writes under; a new document gets a new slot so unsaved work is never overwritten).
 */
import { nowIso } from '../bytes';

export const UNTITLED = 'Untitled';

export function newSessionId(): string {
  return `s-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export class Project {
  readonly #onChange: () => void;
  #id = $state<string | null>(null);
  #name = $state(UNTITLED);
  #readOnly = $state(false);
  #dirty = $state(false);
  #lastSaved = $state<string | null>(null);
  #title = $derived(`${this.#name}${this.#dirty ? ' •' : ''}${this.#readOnly ? ' (read-only)' : ''}`);
  // Not rendered: plain fields.
  #session = newSessionId();
  #createdAt = nowIso();

  /** `onChange`: the document has unsaved changes (autosave schedules a write). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** The file it was opened from or saved to (an opaque id from the project service); null until saved. */
  get id(): string | null {
    return this.#id;
  }
  get name(): string {
    return this.#name;
  }
  /** Saved by a newer version: Save refuses, Save As works. */
  get readOnly(): boolean {
    return this.#readOnly;
  }
  /** Changed since it was opened or saved. */
  get dirty(): boolean {
    return this.#dirty;
  }
  /** When it was last saved in this session (ISO 8601), or null. */
  get lastSaved(): string | null {
    return this.#lastSaved;
  }
  /** The window title: name, • when unsaved, (read-only). */
  get title(): string {
    return this.#title;
  }
  /** The recovery slot autosave writes to. */
  get session(): string {
    return this.#session;
  }
  get createdAt(): string {
    return this.#createdAt;
  }

  markChanged(): void {
    this.#dirty = true;
    this.#onChange();
  }

  #untitled(name: string): void {
    this.#id = null;
    this.#name = name;
    this.#readOnly = false;
    this.#createdAt = nowIso();
  }

  /** A new, unsaved document (new from seed, an import). */
  startNew(name = UNTITLED): void {
    this.#untitled(name);
    this.markChanged();
  }

  /** No document: nothing to save. */
  close(): void {
    this.#untitled(UNTITLED);
    this.#dirty = false;
  }

  /** Its unsaved work went to its recovery slot: the next document starts clean in a fresh slot. */
  keptInRecovery(): void {
    this.#session = newSessionId();
    this.#dirty = false;
  }

  /** Opened from a project file. */
  opened(p: { id: string | null; name: string; readOnly: boolean; createdAt: string }): void {
    this.#id = p.id;
    this.#name = p.name;
    this.#readOnly = p.readOnly;
    this.#createdAt = p.createdAt;
    this.#dirty = false;
  }

  saved(entry: { id: string; name: string }): void {
    this.#id = entry.id;
    this.#name = entry.name;
    this.#readOnly = false;
    this.#dirty = false;
    this.#lastSaved = nowIso();
  }
}
