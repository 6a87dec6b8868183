/**
 * The page's own copy of unsaved work (localStorage) for when autosave cannot reach the engine: web mode's socket is
 * down (server restarted, network gone). Each document keeps one entry under its recovery session; when the
 * connection is back (or the page is reloaded and connects) the entries are written to the recovery folder like any
 * autosave and removed here.
 */
import type { ProjectContent } from './project-files.svelte';
import { toBase64 } from '../bytes';

/** The part of the Web Storage API used (tests pass a Map-backed one). */
export interface StorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface LocalCopy {
  session: string;
  title: string;
  content: ProjectContent;
}

/** A copy as kept: Web Storage holds text, so the blobs are base64 (the project service takes either). */
export interface StoredCopy {
  session: string;
  title: string;
  content: { manifest: ProjectContent['manifest']; blobs: Record<string, string> };
}

const PREFIX = 'pullback-studio:recovery:';

export class LocalRecovery {
  readonly #storage: StorageLike | undefined;

  /** Without storage (Electron's IPC never drops; tests) nothing is kept and `put` reports it. */
  constructor(storage?: StorageLike) {
    this.#storage = storage;
  }

  /** Keep `copy` (replacing the session's earlier one). Throws when there is no storage or it is full. */
  put(copy: LocalCopy): void {
    if (!this.#storage) throw new Error('this page has no storage to keep the document in');
    const blobs = Object.fromEntries(Object.entries(copy.content.blobs).map(([h, b]) => [h, toBase64(b)]));
    const stored: StoredCopy = { ...copy, content: { manifest: copy.content.manifest, blobs } };
    this.#storage.setItem(PREFIX + copy.session, JSON.stringify(stored));
  }

  remove(session: string): void {
    this.#storage?.removeItem(PREFIX + session);
  }

  /** Every kept copy (unreadable entries are dropped: they could never be restored). */
  all(): StoredCopy[] {
    const s = this.#storage;
    if (!s) return [];
    const keys: string[] = [];
    for (let i = 0; i < s.length; i++) {
      const k = s.key(i);
      if (k?.startsWith(PREFIX)) keys.push(k);
    }
    const out: StoredCopy[] = [];
    for (const k of keys) {
      try {
        const c = JSON.parse(s.getItem(k) ?? '') as StoredCopy;
        if (typeof c.session === 'string' && c.content?.manifest) out.push(c);
        else s.removeItem(k);
      } catch {
        s.removeItem(k);
      }
    }
    return out;
  }
}
