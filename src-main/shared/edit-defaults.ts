/**
 * The edit parameters' defaults, in one place: the `edit` / `gallery` job schemas (shared/api.ts), the `pullback`
 * CLI (which leaves an option it was not given out of the job input, so the schema default applies) and the
 * editor's Advanced controls (their initial values and "Reset") all read them from here, so Apply and
 * `pullback edit` render the same image when nobody changed a control.
 *
 * Values are the authors' unconditional-model defaults (../shared/notes/method.md §2): n = 16 guidance steps of
 * scale s = 0.1 with probe step δ = 1, η = 1 below t_boost = 0.2·T, 100 DDIM render steps. Gallery previews take
 * half the steps at twice the scale (same n·s, so about the same edit) and render with 10 steps: approximate.
 * No Node imports (the renderer imports this file).
 */

export type EditModeName = 'guidance' | 'move';
/** Several directions: one guidance with their sum, or each direction's n steps after the previous one's. */
export type CompositionName = 'summed' | 'sequential';

export const EDIT_DEFAULTS = {
  mode: 'guidance' as EditModeName,
  /** n */
  guidanceSteps: 16,
  /** s */
  scale: 0.1,
  /** δ */
  delta: 1,
  /** α of the plain move. */
  alpha: 1,
  /** t_boost / T (η = 1 below it); null = no η = 1 tail (text-conditioned models). */
  boostFraction: 0.2 as number | null,
  noiseSeed: 0,
  /** DDIM steps of the final render (Apply, `pullback edit`). */
  renderSteps: 100,
  composition: 'summed' as CompositionName,
} as const;

export const GALLERY_DEFAULTS = {
  guidanceSteps: 8,
  scale: 0.2,
  /**
   * DDIM steps of each preview: fewer than a final render, so previews are approximate. A thumbnail is the canvas
   * plus the change between two renders with the same steps and noise, so most of a short render's error cancels.
   * Measured against the exact thumbnail (Apply's edit and render; `npm run bench -- preview --gallery`, 6 seeds × 4
   * directions × ±3, bundled model): 20 steps 40.5 dB median / 27.5 min, 10 steps 37.7 / 28.0, for 46 instead of 58
   * U-Net evaluations per ± pair. Fewer guidance steps than 8 at the same n·s fell to 16–17 dB on some directions.
   */
  previewSteps: 10,
  /** |strength| of the −/+ previews: 3, not 1, so they differ visibly from the centre (measured: gallery-strength.ts). */
  strength: 3,
} as const;

/** Ranges the job schemas accept, which the editor's fields clamp to. */
export const EDIT_LIMITS = {
  guidanceSteps: { min: 0, max: 512 },
  scale: { min: 0, max: 100 },
  delta: { min: 0, max: 100 },
  alpha: { min: 0, max: 1000 },
  boostFraction: { min: 0, max: 1 },
  renderSteps: { min: 1, max: 1000 },
} as const;

/** The authors' strip (method.md §2): frames after 0, 4, 8, … guidance steps. */
export const STRIP_DEFAULTS = { guidanceSteps: 16, every: 4 } as const;

/** The strip's guidance-step counts: 0, every, 2·every, … below n, then n itself (so the last frame is the edit). */
export function stripFrames(n: number, every: number = STRIP_DEFAULTS.every): number[] {
  const frames: number[] = [];
  for (let m = 0; m < n; m += Math.max(1, every)) frames.push(m);
  frames.push(n);
  return frames;
}

/**
 * The parameters Apply renders with (the editor's Advanced controls; one set per document, since one `edit` job
 * renders all the stack's directions together with one set of them).
 */
export interface EditParams {
  mode: EditModeName;
  /** How the stack's directions combine (the edit job's `composition`; one direction: the same either way). */
  composition: CompositionName;
  guidanceSteps: number;
  scale: number;
  delta: number;
  alpha: number;
  /** t_boost / T; null = no η = 1 tail. Text-conditioned models never use it (the job input sends null). */
  boostFraction: number | null;
  /** DDIM steps of Apply's render. */
  renderSteps: number;
  /** DDIM steps of the gallery's previews (approximate). */
  previewSteps: number;
  /**
   * Text-conditioned models: the prompt whose ε x-space guidance follows (the edit job's `editPrompt`; the paper's SD
   * edits with an edit prompt); null = the document's own prompt. Unconditional models never send it.
   */
  editPrompt: string | null;
}

export const EDIT_PARAMS_DEFAULT: Readonly<EditParams> = {
  mode: EDIT_DEFAULTS.mode,
  composition: EDIT_DEFAULTS.composition,
  guidanceSteps: EDIT_DEFAULTS.guidanceSteps,
  scale: EDIT_DEFAULTS.scale,
  delta: EDIT_DEFAULTS.delta,
  alpha: EDIT_DEFAULTS.alpha,
  boostFraction: EDIT_DEFAULTS.boostFraction,
  renderSteps: EDIT_DEFAULTS.renderSteps,
  previewSteps: GALLERY_DEFAULTS.previewSteps,
  editPrompt: null,
};

/**
 * The authors' Stable Diffusion settings (method.md §4; the paper's SD edits): guidance scale s = 1 with n = 16 steps,
 * or n = 64 with an edit prompt, and no η = 1 tail. Offered as a one-click preset for text-conditioned models; the
 * defaults above stay the unconditional ones, so a document's missing parameters keep meaning what they meant.
 */
export function sdEditPreset(withEditPrompt: boolean): Pick<EditParams, 'mode' | 'guidanceSteps' | 'scale' | 'boostFraction'> {
  return { mode: 'guidance', guidanceSteps: withEditPrompt ? 64 : 16, scale: 1, boostFraction: null };
}

/** Saved or partial parameters completed with the defaults (a project saved before these controls has none). */
export function resolveEditParams(p: Partial<EditParams> | undefined): EditParams {
  const out: EditParams = { ...EDIT_PARAMS_DEFAULT };
  if (!p) return out;
  for (const key of Object.keys(out) as (keyof EditParams)[]) {
    if (p[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = p[key];
  }
  return out;
}

/** Whether `p` equals the defaults (the Advanced disclosure says "defaults" and Reset has nothing to do). */
export function isDefaultEditParams(p: EditParams): boolean {
  return (Object.keys(EDIT_PARAMS_DEFAULT) as (keyof EditParams)[]).every((k) => p[k] === EDIT_PARAMS_DEFAULT[k]);
}
