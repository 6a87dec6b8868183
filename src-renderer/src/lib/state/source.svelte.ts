/**
 * Where the document's image comes from: a seed (rendered by the engine) or an imported picture (inverted to x_T),
 * plus the seed and steps fields. An imported image's x_T wire payload is held opaquely and passed back unchanged
 * as the jobs' `xT` source; a seed source needs no latent (the engine recomputes x_t from the seed).
 *
 * Text-conditioned models: the source also keeps the conditioning the document was made with (`text`), and `xt`
 * carries it, because on those models x_t's path, the Jacobian and the edit guidance all depend on the prompt: every
 * job of the document sends the document's prompt, whatever the prompt fields say by then.
 */
import type { Float32TensorPayload } from '../../../../src-main/shared/api';
import type { ShownImage } from './images';
import type { TextConditioning } from './prompt.svelte';

export type SourceData =
  | { kind: 'seed'; seed: number; text?: TextConditioning }
  | { kind: 'image'; name: string; hash: string; file: Uint8Array; xT: Float32TensorPayload; timestep: number; psnr: number; poor: boolean; text?: TextConditioning };

/**
 * How jobs are told where x_t comes from (the engine follows the path down to the timestep it is given) and, for
 * text models, at which conditioning (the path, J and the edit ε depend on it).
 */
export type XtInput = ({ seed: number } | { xT: Float32TensorPayload }) & Partial<TextConditioning>;

/** A number field's value as an integer in [min, max]; `fallback` when it is empty or not a number. */
export function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = Math.floor(Number(v));
  return Number.isFinite(n) && v !== '' && v !== null ? Math.max(min, Math.min(max, n)) : fallback;
}

export const DEFAULT_STEPS = 50;

export class Source {
  // The two fields are bound to number inputs, which can leave them empty ('' or null) while the user types.
  #seed = $state<number>(0);
  #steps = $state<number>(DEFAULT_STEPS);
  #current = $state.raw<SourceData | null>(null);
  #image = $state.raw<ShownImage | null>(null);
  #recon = $state.raw<ShownImage | null>(null);
  #xt = $derived.by((): XtInput | null => {
    const s = this.#current;
    if (!s) return null;
    return { ...(s.kind === 'seed' ? { seed: s.seed } : { xT: s.xT }), ...s.text };
  });
  #identity = $derived.by((): string | null => {
    const s = this.#current;
    if (!s) return null;
    const base = s.kind === 'seed' ? `seed:${s.seed}` : `image:${s.hash}`;
    // Another prompt is another image and another geometry: render and gallery caches must not mix them.
    return s.text ? `${base}|text:${JSON.stringify([s.text.prompt, s.text.negativePrompt, s.text.guidanceScale])}` : base;
  });

  get seed(): number {
    return this.#seed;
  }
  set seed(v: number) {
    this.#seed = v;
  }
  get steps(): number {
    return this.#steps;
  }
  set steps(v: number) {
    this.#steps = v;
  }
  /** The document's source, or null before one is chosen. */
  get current(): SourceData | null {
    return this.#current;
  }
  /** The source image as shown: the seed's render, or the imported picture resized to the model. */
  get image(): ShownImage | null {
    return this.#image;
  }
  /** What the model reproduces from an imported image's x_T (null for seeds). */
  get recon(): ShownImage | null {
    return this.#recon;
  }
  /** The jobs' x_t source, with the document's conditioning on text models. */
  get xt(): XtInput | null {
    return this.#xt;
  }
  /** The conditioning the document was made with (text models), or null (unconditional models, no document). */
  get conditioning(): TextConditioning | null {
    return this.#current?.text ?? null;
  }
  /** Identity of the source for the render cache: `seed:42`, `image:<sha256>`, plus the conditioning on text models. */
  get identity(): string | null {
    return this.#identity;
  }

  randomSeed(): void {
    this.#seed = Math.floor(Math.random() * 2 ** 31);
  }

  /** The seed field as the engine takes it: an integer ≥ 0 (0 when empty). */
  seedValue(): number {
    return Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(Number(this.#seed) || 0)));
  }

  /** Clamp the steps field to [1, maxSteps] (the default when empty) before a render, and return it. */
  takeSteps(maxSteps: number): number {
    this.#steps = clampInt(this.#steps, 1, maxSteps, DEFAULT_STEPS);
    return this.#steps;
  }

  /** The document is now this seed's render (`text`: the conditioning it was rendered at, text models only). */
  setSeed(seed: number, image: ShownImage | null, text?: TextConditioning): void {
    this.#current = text ? { kind: 'seed', seed, text: { ...text } } : { kind: 'seed', seed };
    this.#seed = seed;
    this.#image = image;
    this.#recon = null;
  }

  /** The document is now this imported (inverted) picture. */
  setImage(data: Extract<SourceData, { kind: 'image' }>, input: ShownImage | null, recon: ShownImage): void {
    this.#current = data;
    this.#image = input;
    this.#recon = recon;
  }

  clear(): void {
    this.#current = null;
    this.#image = null;
    this.#recon = null;
  }
}
