/**
 * Messages for the user in the corner of the window. Info and warnings dismiss themselves after a while (they report
 * what happened; leaving them would bury the next one); errors stay until dismissed, but only the last few, so a
 * burst of failures (say, every call while the engine was away) does not fill the window.
 */
import { toShownError, type ShownError } from '../errors';

export interface Notice {
  id: number;
  kind: 'info' | 'warning' | 'error';
  text: string;
  detail?: string;
  code?: string;
}

/** How many notices stay on screen; older ones drop off. */
export const MAX_NOTICES = 4;
/** How many error notices stay on screen; older errors drop off. */
export const MAX_ERRORS = 3;
/** Info and warning notices dismiss themselves after this long; errors wait for the user. */
export const NOTICE_MS = 8000;

export class Notices {
  #list = $state.raw<Notice[]>([]);
  #nextId = 1;

  get list(): Notice[] {
    return this.#list;
  }

  notify(kind: Notice['kind'], text: string, detail?: string, code?: string): void {
    const n = { id: this.#nextId++, kind, text, detail, code };
    let list = [...this.#list, n];
    const errors = list.filter((x) => x.kind === 'error');
    if (errors.length > MAX_ERRORS) {
      const drop = errors.slice(0, errors.length - MAX_ERRORS).map((x) => x.id);
      list = list.filter((x) => !drop.includes(x.id));
    }
    this.#list = list.slice(-MAX_NOTICES);
    if (kind !== 'error') setTimeout(() => this.dismiss(n.id), NOTICE_MS);
  }

  dismiss(id: number): void {
    this.#list = this.#list.filter((n) => n.id !== id);
  }

  /**
   * Report a failed action: a cancel is an info notice ("…: cancelled"), a job replaced by a newer one of its
   * coalescing key says nothing (the newer one carries on), anything else an error with the code's message.
   * Returns the shown error, or null for a cancel or a replacement.
   */
  fail(err: unknown, what: string): ShownError | null {
    const e = toShownError(err);
    if (e.code === 'superseded') return null;
    if (e.code === 'cancelled') {
      this.notify('info', `${what}: cancelled`);
      return null;
    }
    this.notify('error', `${what} failed. ${e.title}`, e.detail, e.code);
    return e;
  }
}
