/**
 * Transfer edit (issue 13 item 3), the pure half: what the document's stack is transferred as, the target list a
 * user types ("3, 7, 12-15"), the engine job inputs of each step, the overlap share shown per direction and the text
 * chunks of the exported PNGs. No state and no DOM, so every rule here is unit-tested on its own.
 *
 * Timesteps: `transport` resolves A's and B's x_t at ONE timestep and returns v at B's x_t there, so the edit of B
 * must be made at that same timestep. The stack's entries carry the timestep of the basis they were picked from
 * (`entry.t`; the picker may have moved since), and Apply edits at the first enabled entry's t: the transfer does the
 * same, so "the basis timestep" and "the edit timestep" are one value here by construction.
 */
import type { Float32TensorPayload, JobInput, ProviderPreference } from '../../../../src-main/shared/api';
import { applyJobInput, type ApplyRequest } from '../../../../src-main/shared/edit-job';
import { livePreviewJobInput } from '../../../../src-main/shared/live-preview';
import type { EditParams } from '../../../../src-main/shared/edit-defaults';
import { describeSource, softwareName, type Recipe } from './recipe';
import type { XtInput } from './source.svelte';
import type { TextConditioning } from './prompt.svelte';

/** At most this many targets per transfer: each costs a basis (k Jacobian sweeps) and two renders. */
export const MAX_TARGETS = 32;
/** Below this surviving share the meter turns to the warning colour: most of the direction did not survive. */
export const LOW_SHARE_PERCENT = 50;
/** PNG text key of an exported transfer (not the recipe key: restoring A's recipe on B would edit B's own basis). */
export const TRANSFER_KEY = 'pullback:transfer';

/** The document's edit as the transfer takes it: a snapshot made when the panel opens. */
export interface TransferSource {
  modelDir: string;
  modelName: string;
  /** Where A's x_t comes from (the document's seed or imported x_T, with its conditioning). */
  xt: XtInput;
  /** DDIM steps of the document's schedule: every x_t path (A's, B's) and B's inversion use them. */
  steps: number;
  /** The entries' timestep (see the header). */
  timestep: number;
  basis: { k: number; method: 'krylov' | 'subspace'; prompt?: string };
  /**
   * The stack entries Apply renders (enabled, non-zero, first entry's timestep and basis), in stack order. A global
   * basis's entries carry their vector (`direction`, a row of its V): each is projected onto the target's basis
   * (transportInput) instead of transported from A's.
   */
  edits: { index: number; strength: number; direction?: Float32TensorPayload }[];
  /** Enabled entries Apply leaves out too (another timestep or basis). */
  skipped: number;
  /** The entries are a global basis's (its key and how the stack names it): the panel and the exports say so. */
  global?: { key: string; name: string };
  params: EditParams;
  textConditioned: boolean;
  provider: ProviderPreference;
  /** The document's recipe (what A is and what was applied): carried in the exports' transfer chunk. */
  recipe: Recipe | null;
  version?: string;
  /** File name stem of the exports. */
  projectName: string;
}

/** A target as the engine gets it: a seed's DDIM path, or an imported picture's x_t at the timestep (from `invert`). */
export type TargetXt = ({ seed: number } | { xt: Float32TensorPayload }) & Partial<TextConditioning>;

/**
 * "3, 7, 12-15" → [3, 7, 12, 13, 14, 15]: comma- or space-separated seeds and inclusive ranges, duplicates dropped
 * (first occurrence keeps its place). An empty field is an empty list; anything else unreadable is an error naming it.
 */
export function parseSeedList(text: string, max = MAX_TARGETS): { seeds: number[]; error: string | null } {
  const seeds: number[] = [];
  const seen = new Set<number>();
  const add = (n: number): boolean => {
    if (!seen.has(n)) {
      seen.add(n);
      seeds.push(n);
    }
    return seeds.length <= max;
  };
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^(\d+)(?:\s*[-–]\s*(\d+))?$/.exec(part);
    if (!m) return { seeds: [], error: `“${part}” is not a seed or a range like 12-15` };
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return { seeds: [], error: `“${part}” is too large for a seed` };
    if (b < a) return { seeds: [], error: `the range “${part}” runs backwards` };
    // A range longer than the cap can never fit: refuse before walking it (12-99999999 must not loop for long).
    if (b - a >= max) return { seeds: [], error: `at most ${max} targets per transfer` };
    for (let n = a; n <= b; n++) if (!add(n)) return { seeds: [], error: `at most ${max} targets per transfer` };
  }
  return { seeds, error: null };
}

/** The share shown for a transport's `captured` (‖U_Bᵀ u_A‖ ∈ [0, 1]), in whole percent, clamped to 0…100. */
export function sharePercent(captured: number): number {
  if (!Number.isFinite(captured)) return 0;
  return Math.round(Math.max(0, Math.min(1, captured)) * 100);
}

/** The document's text conditioning (prompt, negative prompt, guidance; none for unconditional models) without its seed or x_T. */
export function sourceConditioning(src: Pick<TransferSource, 'xt'>): Partial<TextConditioning> {
  const { seed: _seed, xT: _xT, ...conditioning } = src.xt as { seed?: number; xT?: Float32TensorPayload } & Partial<TextConditioning>;
  return conditioning;
}

/**
 * The `transport` job moving direction `index` of A's basis to target B (A's conditioning: J is taken at it), or an
 * explicit x-space direction (a global entry's vector), projected onto B's basis with A's source left out (the job
 * computes no basis of A then; A's conditioning stays, B's basis is taken at it as for an index).
 */
export function transportInput(src: TransferSource, target: TargetXt, which: number | Float32TensorPayload): JobInput<'transport'> {
  const b = 'seed' in target ? { seedB: target.seed } : { xtB: target.xt };
  return {
    modelDir: src.modelDir,
    ...(typeof which === 'number' ? src.xt : sourceConditioning(src)),
    timestep: src.timestep,
    steps: src.steps,
    k: src.basis.k,
    method: src.basis.method,
    // Text models: A's and B's bases at the basis prompt A's directions were computed at.
    ...(src.textConditioned && src.basis.prompt !== undefined ? { basisPrompt: src.basis.prompt } : {}),
    ...b,
    ...(typeof which === 'number' ? { index: which } : { direction: which }),
    provider: src.provider,
  };
}

/**
 * The `edit` job rendering the transferred directions on B: Apply's exact input (shared/edit-job.ts, the document's
 * parameters) or its live-preview approximation (shared/live-preview.ts: the same n·s in fewer guidance steps and a
 * short render), with A's source and basis replaced by B's x_t and the transported directions (unit rows, like V's,
 * so the stack's strengths mean the same).
 */
export function transferEditInput(src: TransferSource, target: TargetXt, directions: { v: Float32TensorPayload; strength: number }[], approximate: boolean): JobInput<'edit'> {
  const request: ApplyRequest = {
    modelDir: src.modelDir,
    source: { seed: 0 },
    timestep: src.timestep,
    steps: src.steps,
    basis: src.basis,
    edits: [],
    params: src.params,
    textConditioned: src.textConditioned,
    provider: src.provider,
  };
  // Built from Apply's own function so a parameter Apply gains is transferred too; A's placeholder source and the
  // basis and its prompt (edits by direction need none) are dropped.
  const { seed: _seed, basis: _basis, basisPrompt: _basisPrompt, ...params } = approximate ? livePreviewJobInput(request) : applyJobInput(request);
  return { ...params, ...target, edits: directions.map((d) => ({ direction: d.v, strength: d.strength })) };
}

/** How a target names itself in the PNG chunks: like a recipe's source. */
export type TargetDescription = { kind: 'seed'; seed: number } | { kind: 'image'; sha256: string; name: string };

/** The text chunks of an exported transfer: readable lines and the machine-readable `pullback:transfer` JSON. */
export function transferText(
  src: TransferSource,
  target: TargetDescription,
  directions: { index: number; strength: number; captured: number }[],
): Record<string, string> {
  const from = src.recipe ? describeSource(src.recipe.source) : 'the document';
  return {
    Software: softwareName(src.version),
    Model: src.modelName,
    Source: describeSource(target),
    Timestep: String(src.timestep),
    Directions: directions.map((d) => `${src.global ? 'global ' : ''}#${d.index + 1} × ${d.strength} (${sharePercent(d.captured)} % survived)`).join(', ') + ` transported from ${from}`,
    [TRANSFER_KEY]: JSON.stringify({ from: src.recipe, to: target, timestep: src.timestep, basis: src.basis, ...(src.global ? { global: src.global } : {}), params: src.params, directions }),
  };
}

/** Export file name of a target: `<project>-transfer-seed7.png`, `<project>-transfer-cat.png`. */
export function transferFileName(project: string, target: TargetDescription): string {
  const what = target.kind === 'seed' ? `seed${target.seed}` : target.name.replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.-]+/g, '_');
  return `${project || 'pullback'}-transfer-${what}.png`;
}
