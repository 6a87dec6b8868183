/**
 * The recipe an exported PNG carries (tEXt chunks): model, source, steps and the applied edits, so re-opening the PNG
 * can restore the edit. Pure functions over plain values.
 */
import type { EditEntry } from '../../../../src-main/shared/project-manifest';
import { EDIT_PARAMS_DEFAULT, type EditParams } from '../../../../src-main/shared/edit-defaults';
import { RECIPE_KEY } from '../png-text';
import { basisKey, parseBasisKey } from './galleries.svelte';
import { isGlobalBasisKey } from './global-entries';
import type { ModelRef } from './model.svelte';
import type { SourceData } from './source.svelte';
import { normalizeConditioning, type TextConditioning } from './prompt.svelte';
import { fromBase64, toBase64 } from '../bytes';

/** Text models: the conditioning the source was made with (absent for unconditional models and older recipes). */
type RecipeText = Partial<TextConditioning>;

export interface Recipe {
  app: 'Pullback Studio';
  model: ModelRef;
  source: ({ kind: 'seed'; seed: number } | { kind: 'image'; sha256: string; name: string }) & RecipeText;
  steps: number;
  edits: { t: number; basis: string; k: number; method: string; index: number; strength: number }[];
  /** Apply's edit parameters; absent in recipes written before the Advanced controls (= the defaults). */
  params?: EditParams;
  /** Masked directions: the mask PNG (base64; its sha256 is in the edits' basis key) and "Keep outside exactly". */
  mask?: { png: string; keepOutside: boolean };
  /** Text models: the basis prompt the edits' basis was computed at (its tag is in the basis key). */
  basisPrompt?: string;
}

/** What the recipe carries besides the stack: the mask and basis prompt of the applied entries' basis, if any. */
export interface RecipeBasisExtras {
  mask?: { png: Uint8Array; keepOutside: boolean };
  basisPrompt?: string;
}

/** The `Software` text of exported PNGs. */
export function softwareName(version: string | undefined): string {
  return `Pullback Studio ${version ?? ''}`.trim();
}

export function buildRecipe(model: ModelRef, source: SourceData, steps: number, applied: EditEntry[], params: EditParams, extras: RecipeBasisExtras = {}): Recipe {
  return {
    params: { ...params },
    ...(extras.mask ? { mask: { png: toBase64(extras.mask.png), keepOutside: extras.mask.keepOutside } } : {}),
    ...(extras.basisPrompt !== undefined ? { basisPrompt: extras.basisPrompt } : {}),
    app: 'Pullback Studio',
    model: { name: model.name, dir: model.dir },
    source: {
      ...(source.kind === 'seed' ? { kind: 'seed', seed: source.seed } : { kind: 'image', sha256: source.hash, name: source.name }),
      ...(source.text ? { prompt: source.text.prompt, negativePrompt: source.text.negativePrompt, guidanceScale: source.text.guidanceScale } : {}),
    },
    steps,
    edits: applied.map((e) => {
      const b = parseBasisKey(e.basisKey);
      return { t: e.t, basis: e.basisKey, k: b.k, method: b.method, index: e.index, strength: e.strength };
    }),
  };
}

/** The conditioning a recipe's source was made with, or null when it has none (unconditional model, older recipe). */
export function recipeConditioning(r: Recipe): TextConditioning | null {
  const s = r.source;
  return s.prompt === undefined && s.negativePrompt === undefined && s.guidanceScale === undefined ? null : normalizeConditioning(s);
}

/** The source as export text writes it: `seed 42`, `image sha256 <hex>`. */
export function describeSource(s: Recipe['source']): string {
  return s.kind === 'seed' ? `seed ${s.seed}` : `image sha256 ${s.sha256}`;
}

/** The PNG text chunks of an export: readable lines plus the machine-readable recipe. */
export function recipeText(r: Recipe, version: string | undefined): Record<string, string> {
  return {
    Software: softwareName(version),
    Model: r.model.name,
    Source: describeSource(r.source),
    Timestep: r.edits.length ? String(r.edits[0].t) : 'none',
    Directions: r.edits.map((e) => `#${e.index + 1} × ${e.strength}`).join(', ') || 'none',
    [RECIPE_KEY]: JSON.stringify(r),
  };
}

/**
 * The recipe's edits as stack entries (all enabled). The basis key keeps what it named when it was written (a mask's
 * hash, a basis prompt's tag) when it agrees with the entry's t, k and method; else the plain key of those.
 */
export function recipeEdits(r: Recipe): EditEntry[] {
  return r.edits.map((e, i) => {
    const b = typeof e.basis === 'string' ? parseBasisKey(e.basis) : null;
    // A global direction's key stays: its vector is not in the PNG, so Apply says so instead of editing along the
    // direction of the same number of a local basis.
    const global = typeof e.basis === 'string' && isGlobalBasisKey(e.basis);
    const key = global || (b && b.timestep === e.t && b.k === e.k && b.method === e.method) ? e.basis : basisKey(e.t, e.method, e.k);
    return { id: `r${i + 1}`, basisKey: key, index: e.index, t: e.t, strength: e.strength, enabled: true };
  });
}

/** The recipe's mask PNG (decoded from base64), or null without one or when it is not base64. */
export function recipeMaskPng(r: Recipe): Uint8Array | null {
  if (!r.mask) return null;
  try {
    return fromBase64(r.mask.png);
  } catch {
    return null;
  }
}

/** A recipe from a PNG text chunk, or null when absent or malformed (never throws). */
export function parseRecipe(text: string | undefined): Recipe | null {
  if (!text) return null;
  try {
    const r = JSON.parse(text) as Recipe;
    if (r?.app !== 'Pullback Studio' || typeof r.model?.dir !== 'string' || !Array.isArray(r.edits) || typeof r.steps !== 'number') return null;
    if (r.source?.kind === 'seed' ? !Number.isInteger(r.source.seed) : r.source?.kind !== 'image') return null;
    for (const e of r.edits) if (![e.t, e.k, e.index, e.strength].every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
    if (r.params !== undefined && !validParams(r.params)) return null;
    if (!validText(r.source)) return null;
    if (r.mask !== undefined && (typeof r.mask?.png !== 'string' || typeof r.mask.keepOutside !== 'boolean')) return null;
    if (r.basisPrompt !== undefined && typeof r.basisPrompt !== 'string') return null;
    return r;
  } catch {
    return null;
  }
}

/** A recipe source's prompt fields as written by buildRecipe: strings and a finite scale, each optional. */
function validText(s: RecipeText): boolean {
  const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);
  const isString = (x: unknown) => typeof x === 'string';
  return optional(s.prompt, isString) && optional(s.negativePrompt, isString) && optional(s.guidanceScale, (x) => typeof x === 'number' && Number.isFinite(x));
}

/** A recipe's params as written by buildRecipe: known keys only, numbers finite, t_boost and the edit prompt or null. */
function validParams(p: unknown): p is Partial<EditParams> {
  if (typeof p !== 'object' || p === null) return false;
  for (const [key, value] of Object.entries(p)) {
    if (!(key in EDIT_PARAMS_DEFAULT)) return false;
    if (key === 'mode') {
      if (value !== 'guidance' && value !== 'move') return false;
    } else if (key === 'composition') {
      if (value !== 'summed' && value !== 'sequential') return false;
    } else if (key === 'editPrompt') {
      if (value !== null && (typeof value !== 'string' || value.length > 20_000)) return false;
    } else if (!(value === null ? key === 'boostFraction' : typeof value === 'number' && Number.isFinite(value))) return false;
  }
  return true;
}
