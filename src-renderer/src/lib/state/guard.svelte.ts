/**
 * The question before unsaved work is replaced (Import, Open, New from seed, Recover, Restore recipe): Save, Discard
 * or Cancel. The page shows `prompt` as a dialog and answers it; the editor awaits the answer before it starts any
 * work, so Cancel leaves the document exactly as it was.
 */

export type ReplaceChoice = 'save' | 'discard' | 'cancel';

export interface ReplaceAnswer {
  choice: ReplaceChoice;
  /** Web mode, a document without a file: the name to save it under. */
  name?: string;
}

export interface ReplacePrompt {
  /** What would replace the document ("Import portrait.png"). */
  what: string;
  /** The document's name, for the question and as the default file name. */
  title: string;
  /** Save needs a name first (web mode, never saved). */
  needsName: boolean;
}

export class UnsavedGuard {
  #prompt = $state.raw<ReplacePrompt | null>(null);
  #resolve: ((a: ReplaceAnswer) => void) | null = null;

  /** The open question, or null. */
  get prompt(): ReplacePrompt | null {
    return this.#prompt;
  }

  /** Ask; resolves with the answer. A question asked while another is open cancels the older one. */
  ask(prompt: ReplacePrompt): Promise<ReplaceAnswer> {
    this.answer({ choice: 'cancel' });
    this.#prompt = prompt;
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  answer(a: ReplaceAnswer): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.#prompt = null;
    resolve?.(a);
  }
}
