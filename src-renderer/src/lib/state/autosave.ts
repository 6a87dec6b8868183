/**
 * When the document is written to its recovery slot: a while after changes stop (at most a minute after the first
 * unsaved one), when the window loses focus or the page is hidden, and never while a document is being swapped or
 * saved (`pausedDuring`). The write itself (what and where) is the `save` function it is given.
 */

export interface AutosaveTiming {
  /** Save once changes have paused this long… */
  quietMs: number;
  /** …but no later than this after the first unsaved change, even while changes keep coming. */
  maxWaitMs: number;
}

export const AUTOSAVE_TIMING: AutosaveTiming = { quietMs: 2_000, maxWaitMs: 60_000 };

/** The page events autosave follows (the window and document; tests pass plain EventTargets). */
export interface PageEvents {
  window: EventTarget;
  document: EventTarget & { readonly visibilityState: string };
}

interface Deferred {
  promise: Promise<void>;
  resolve: (p: Promise<void>) => void;
}

export class Autosave {
  readonly #save: () => Promise<void>;
  readonly #timing: AutosaveTiming;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the first change since the last save came (for maxWaitMs). */
  #firstChangeAt: number | undefined;
  #pauses = 0;
  /** A save asked for during a pause: it runs when the pause ends. */
  #due: Deferred | null = null;
  /** The last save; saves run one after another, never two at once. */
  #running: Promise<void> = Promise.resolve();
  #unlisten: (() => void) | null = null;

  /** `save` writes the recovery copy when there is unsaved work and reports its own failures (it never rejects). */
  constructor(save: () => Promise<void>, timing: AutosaveTiming = AUTOSAVE_TIMING) {
    this.#save = save;
    this.#timing = timing;
  }

  /** Start following changes and the page's blur and visibility. Until then `touch` does nothing (tests, start-up). */
  start(page: PageEvents): void {
    this.stop();
    const onBlur = () => void this.flush();
    const onVisibility = () => {
      if (page.document.visibilityState === 'hidden') void this.flush();
    };
    page.window.addEventListener('blur', onBlur);
    page.document.addEventListener('visibilitychange', onVisibility);
    this.#unlisten = () => {
      page.window.removeEventListener('blur', onBlur);
      page.document.removeEventListener('visibilitychange', onVisibility);
    };
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    this.#clearTimer();
  }

  /** The document changed: schedule a save. */
  touch(): void {
    if (!this.#unlisten) return;
    const now = Date.now();
    this.#firstChangeAt ??= now;
    clearTimeout(this.#timer);
    const wait = Math.min(this.#timing.quietMs, this.#firstChangeAt + this.#timing.maxWaitMs - now);
    this.#timer = setTimeout(() => void this.flush(), Math.max(0, wait));
  }

  /** Save now (a scheduled save is no longer needed). During a pause the save runs, and this resolves, after it. */
  flush(): Promise<void> {
    this.#clearTimer();
    if (this.#pauses > 0) {
      if (!this.#due) {
        let resolve!: (p: Promise<void>) => void;
        const promise = new Promise<void>((r) => (resolve = r));
        this.#due = { promise, resolve };
      }
      return this.#due.promise;
    }
    const run = this.#running.then(() => this.#save());
    this.#running = run.catch(() => undefined);
    return run;
  }

  /**
   * Run `work` with autosave held: a save in flight finishes first and none starts during `work` (a save that comes
   * due waits for its end). For swapping documents and explicit saves, so a recovery write never lands in between.
   */
  async pausedDuring<T>(work: () => Promise<T>): Promise<T> {
    this.#pauses += 1;
    try {
      await this.#running;
      return await work();
    } finally {
      this.#pauses -= 1;
      const due = this.#due;
      if (this.#pauses === 0 && due) {
        this.#due = null;
        due.resolve(this.flush());
      }
    }
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firstChangeAt = undefined;
  }
}
