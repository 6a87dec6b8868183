/** Messages for the user in the corner of the window: the last few, info ones fading on their own. */
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
/** Info notices dismiss themselves after this long; warnings and errors wait for the user. */
export const INFO_NOTICE_MS = 5000;

export class Notices {
  #list = $state.raw<Notice[]>([]);
  #nextId = 1;

  get list(): Notice[] {
    return this.#list;
  }

  notify(kind: Notice['kind'], text: string, detail?: string, code?: string): void {
    const n = { id: this.#nextId++, kind, text, detail, code };
    this.#list = [...this.#list.slice(1 - MAX_NOTICES), n];
    if (kind === 'info') setTimeout(() => this.dismiss(n.id), INFO_NOTICE_MS);
  }

  dismiss(id: number): void {
    this.#list = this.#list.filter((n) => n.id !== id);
  }

  /**
   * Report a failed action: a cancel is an info notice ("…: cancelled"), anything else an error with the code's
   * message. Returns the shown error, or null for a cancel.
   */
  fail(err: unknown, what: string): ShownError | null {
    const e = toShownError(err);
    if (e.code === 'cancelled') {
      this.notify('info', `${what}: cancelled`);
      return null;
    }
    this.notify('error', `${what} failed. ${e.title}`, e.detail, e.code);
    return e;
  }
}
