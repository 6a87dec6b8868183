/**
 * The prompt fields of text-conditioned (Stable Diffusion) models: prompt, negative prompt and guidance scale as the
 * user types them, and how the engine tokenized the prompt of the document's last render (tokens, truncation).
 *
 * What is typed here only reaches the engine through New from seed: the document then remembers the conditioning it
 * was made with (`Source`), and every later job of the document sends that, never the fields, since a text model's
 * x_t path, its Jacobian and its edit guidance all depend on the prompt.
 */
import { textParams, type PromptInfo } from '../../../../src-main/shared/api';

/** A document's text conditioning: what its x_t path, bases and edits are computed at. */
export interface TextConditioning {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
}

/** diffusers' default classifier-free guidance scale for Stable Diffusion (the engine's default too). */
export const DEFAULT_GUIDANCE_SCALE = 7.5;

/** The guidance scale and prompt lengths the job schemas accept (shared/api.ts textParams), so a field never sends more. */
export const GUIDANCE_LIMITS = {
  min: textParams.guidanceScale.unwrap().minValue ?? 0,
  max: textParams.guidanceScale.unwrap().maxValue ?? 100,
} as const;
export const MAX_PROMPT_CHARS = textParams.prompt.unwrap().maxLength ?? 20_000;

/**
 * What the engine used when a job sent no prompt (an image's inversion): the empty prompt on both sides of the
 * guidance, whose equal embeddings make the guidance an identity whatever the scale.
 */
export const EMPTY_CONDITIONING: TextConditioning = { prompt: '', negativePrompt: '', guidanceScale: DEFAULT_GUIDANCE_SCALE };

/** Whether `c` is the unprompted conditioning (either side's text present changes the x_t path). */
export function isUnprompted(c: TextConditioning | undefined): boolean {
  return !c || (c.prompt === '' && c.negativePrompt === '');
}

/** A guidance field's value as the schema takes it: finite, in [min, max]; `fallback` when empty or not a number. */
export function clampGuidance(v: unknown, fallback = DEFAULT_GUIDANCE_SCALE): number {
  const n = Number(v);
  if (v === '' || v === null || v === undefined || !Number.isFinite(n)) return fallback;
  return Math.max(GUIDANCE_LIMITS.min, Math.min(GUIDANCE_LIMITS.max, n));
}

/** A saved or typed conditioning made valid: strings cut to the schema's length, the scale clamped. */
export function normalizeConditioning(c: Partial<TextConditioning> | undefined): TextConditioning {
  return {
    prompt: String(c?.prompt ?? '').slice(0, MAX_PROMPT_CHARS),
    negativePrompt: String(c?.negativePrompt ?? '').slice(0, MAX_PROMPT_CHARS),
    guidanceScale: clampGuidance(c?.guidanceScale),
  };
}

export class PromptFields {
  #prompt = $state('');
  #negativePrompt = $state('');
  // Bound to a number input, which leaves it empty ('' or null) while the user types.
  #guidanceScale = $state<number>(DEFAULT_GUIDANCE_SCALE);
  #info = $state.raw<PromptInfo | null>(null);
  #typed = $derived(normalizeConditioning({ prompt: this.#prompt, negativePrompt: this.#negativePrompt, guidanceScale: this.#guidanceScale }));

  get prompt(): string {
    return this.#prompt;
  }
  set prompt(v: string) {
    this.#prompt = v;
  }
  get negativePrompt(): string {
    return this.#negativePrompt;
  }
  set negativePrompt(v: string) {
    this.#negativePrompt = v;
  }
  get guidanceScale(): number {
    return this.#guidanceScale;
  }
  set guidanceScale(v: number) {
    this.#guidanceScale = v;
  }
  /** The fields as the engine would take them now (nothing written back). */
  get typed(): TextConditioning {
    return this.#typed;
  }
  /** How the engine tokenized the document's prompt (its last render that reported it), or null. */
  get info(): PromptInfo | null {
    return this.#info;
  }

  /** The fields for a render: the guidance field is written back clamped (the default when empty), as sent. */
  take(): TextConditioning {
    const c = this.#typed;
    this.#guidanceScale = c.guidanceScale;
    return c;
  }

  /** Show a document's conditioning in the fields (an opened project, a restored recipe). */
  show(c: TextConditioning): void {
    this.#prompt = c.prompt;
    this.#negativePrompt = c.negativePrompt;
    this.#guidanceScale = c.guidanceScale;
  }

  /** The engine's tokenization of the document's prompt; null when the document has none to report. */
  noteInfo(info: PromptInfo | undefined | null): void {
    this.#info = info ?? null;
  }
}
