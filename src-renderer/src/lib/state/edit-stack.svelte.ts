/**
 * The document's edit state (timestep, the stack of directions with their strengths, and Apply's edit parameters)
 * and its undo history. Every change is one history entry (a slider drag is one too) and marks the shown result
 * stale until the next Apply.
 *
 * The edit parameters (mode, n, s, δ, α, t_boost, render steps) are one set per document, not per entry: Apply
 * renders all the entries it takes in ONE `edit` job, and the engine applies one set of parameters per job (its
 * summed guidance adds every direction's term in each of the same n steps). A set per entry would need one render
 * per distinct set, which is not what Apply (or `pullback edit`) computes.
 */
import type { DocState, EditEntry } from '../../../../src-main/shared/project-manifest';
import { EDIT_LIMITS, EDIT_PARAMS_DEFAULT, isDefaultEditParams, resolveEditParams, sdEditPreset, type EditParams } from '../../../../src-main/shared/edit-defaults';
import { History, type HistoryEntry } from './history.svelte';
import { DEFAULT_FRACTION, type Schedule } from './schedule.svelte';

const EMPTY_DOC: DocState = { timestep: null, edits: [] };

/** The strengths an edit may have; a value outside is clamped (and the field shows the clamped value). */
export const STRENGTH_MIN = -10;
export const STRENGTH_MAX = 10;

/** The numeric edit parameters a field edits, with their labels (history entries) and ranges. */
export type NumericEditParam = 'guidanceSteps' | 'scale' | 'delta' | 'alpha' | 'boostFraction' | 'renderSteps' | 'previewSteps';
const PARAM_LIMITS: Record<NumericEditParam, { min: number; max: number; integer: boolean; label: string }> = {
  guidanceSteps: { ...EDIT_LIMITS.guidanceSteps, integer: true, label: 'Guidance steps n' },
  scale: { ...EDIT_LIMITS.scale, integer: false, label: 'Scale s' },
  delta: { ...EDIT_LIMITS.delta, integer: false, label: 'Probe step δ' },
  alpha: { ...EDIT_LIMITS.alpha, integer: false, label: 'Move α' },
  boostFraction: { ...EDIT_LIMITS.boostFraction, integer: false, label: 't_boost' },
  renderSteps: { ...EDIT_LIMITS.renderSteps, integer: true, label: 'Render steps' },
  previewSteps: { ...EDIT_LIMITS.renderSteps, integer: true, label: 'Preview steps' },
};

/** What Apply renders together: the enabled, non-zero entries at the first one's timestep and basis. */
export interface Applicable {
  t: number;
  edits: EditEntry[];
  /** Enabled entries left out (another timestep or basis). */
  skipped: number;
}

export class EditStack {
  readonly history = new History<DocState>(EMPTY_DOC);
  readonly #schedule: Schedule;
  readonly #onChange: () => void;
  #stale = $state(false);
  #timestep = $derived.by(() => this.history.current.timestep ?? this.#schedule.snap(DEFAULT_FRACTION));
  #params = $derived.by(() => resolveEditParams(this.history.current.params));
  #applicable = $derived.by((): Applicable | null => {
    const on = this.history.current.edits.filter((e) => e.enabled && e.strength !== 0);
    if (on.length === 0) return null;
    const t = on[0].t;
    const edits = on.filter((e) => e.t === t && e.basisKey === on[0].basisKey);
    return { t, edits, skipped: on.length - edits.length };
  });

  /** `onChange`: the document changed (any edit, undo or redo). */
  constructor(schedule: Schedule, onChange: () => void) {
    this.#schedule = schedule;
    this.#onChange = onChange;
  }

  get doc(): DocState {
    return this.history.current;
  }
  /** The stack changed since the shown result was rendered. */
  get stale(): boolean {
    return this.#stale;
  }
  /** The timestep the picker shows: the document's, or the schedule step nearest the default fraction of T. */
  get timestep(): number {
    return this.#timestep;
  }
  get applicable(): Applicable | null {
    return this.#applicable;
  }
  /** Apply's edit parameters (the saved ones completed with the defaults). */
  get params(): EditParams {
    return this.#params;
  }
  /** The parameters are the defaults (Reset has nothing to do). */
  get paramsAreDefault(): boolean {
    return isDefaultEditParams(this.#params);
  }

  #changed(): void {
    this.#stale = true;
    this.#onChange();
  }

  commit(label: string, next: DocState): void {
    this.history.push(label, next);
    this.#changed();
  }

  /** Move the picker to the schedule step nearest `t`; a drag of the slider is one undo step. */
  setTimestep(t: number): void {
    const snapped = this.#schedule.snap(t / this.#schedule.trainTimesteps);
    if (snapped === this.doc.timestep) return;
    this.history.drag('timestep', `Timestep ${snapped}`, { ...this.doc, timestep: snapped });
    // Only the picker moved: the stack, and so the shown result, is unchanged.
    this.#onChange();
  }

  /** Add direction `index` of a computed basis at its timestep (`label`: the undo step's, when not a gallery's direction). */
  add(basis: { key: string; timestep: number }, index: number, label = `Add direction ${index + 1} at t = ${basis.timestep}`): void {
    const id = `e${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const entry: EditEntry = { id, basisKey: basis.key, index, t: basis.timestep, strength: 1, enabled: true };
    this.commit(label, { ...this.doc, timestep: basis.timestep, edits: [...this.doc.edits, entry] });
  }

  /** During a drag call with `dragging = true`; the whole drag is one undo step. */
  setStrength(id: string, strength: number, dragging = false): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e || !Number.isFinite(strength)) return;
    const s = Math.max(STRENGTH_MIN, Math.min(STRENGTH_MAX, Math.round(strength * 100) / 100));
    // Typing a value that clamps to the current one changes nothing: no undo step that undoes nothing.
    if (s === e.strength && !dragging) return;
    const next = { ...this.doc, edits: this.doc.edits.map((x) => (x.id === id ? { ...x, strength: s } : x)) };
    const label = `Strength of direction ${e.index + 1}: ${s > 0 ? '+' : ''}${s}`;
    if (dragging) this.history.drag(`strength:${id}`, label, next);
    else this.history.push(label, next);
    this.#changed();
  }

  /**
   * Set a numeric edit parameter (clamped to what the engine accepts; integers rounded); null turns t_boost off.
   * A drag is one undo step. The stack's result goes stale like any other change.
   */
  setParam(key: NumericEditParam, value: number | null, dragging = false): void {
    const lim = PARAM_LIMITS[key];
    let v: number | null;
    if (value === null) {
      if (key !== 'boostFraction') return;
      v = null;
    } else {
      if (!Number.isFinite(value)) return;
      const clamped = Math.max(lim.min, Math.min(lim.max, value));
      v = lim.integer ? Math.round(clamped) : clamped;
    }
    if (v === this.params[key] && !dragging) return;
    const next = { ...this.doc, params: { ...this.params, [key]: v } };
    const label = `${lim.label}: ${v === null ? 'off' : v}`;
    if (dragging) this.history.drag(`param:${key}`, label, next);
    else this.history.push(label, next);
    this.#changed();
  }

  /** Text models: the edit prompt (empty or only spaces: none, the document's prompt). One undo step. */
  setEditPrompt(text: string): void {
    const v = text.trim() === '' ? null : text.slice(0, 20_000);
    if (v === this.params.editPrompt) return;
    this.commit(v === null ? 'Edit prompt: the image\'s prompt' : `Edit prompt: “${v.slice(0, 40)}”`, { ...this.doc, params: { ...this.params, editPrompt: v } });
  }

  /** How several directions combine (one undo step). */
  setComposition(composition: EditParams['composition']): void {
    if (composition === this.params.composition) return;
    this.commit(`Directions ${composition === 'summed' ? 'summed' : 'one after another'}`, { ...this.doc, params: { ...this.params, composition } });
  }

  setMode(mode: EditParams['mode']): void {
    if (mode === this.params.mode) return;
    this.commit(`Edit mode: ${mode}`, { ...this.doc, params: { ...this.params, mode } });
  }

  /** The authors' Stable Diffusion settings for the current edit prompt (sdEditPreset), as one undo step. */
  applySdPreset(): void {
    const preset = sdEditPreset(this.params.editPrompt !== null);
    if ((Object.keys(preset) as (keyof typeof preset)[]).every((k) => this.params[k] === preset[k])) return;
    this.commit(`Stable Diffusion settings (s = ${preset.scale}, n = ${preset.guidanceSteps})`, { ...this.doc, params: { ...this.params, ...preset } });
  }

  /** Back to the authors' defaults (one undo step; nothing when already there). */
  resetParams(): void {
    if (this.paramsAreDefault) return;
    this.commit('Reset edit parameters', { ...this.doc, params: { ...EDIT_PARAMS_DEFAULT } });
  }

  endDrag(): void {
    this.history.endDrag();
  }

  toggle(id: string): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e) return;
    this.commit(`${e.enabled ? 'Disable' : 'Enable'} direction ${e.index + 1}`, { ...this.doc, edits: this.doc.edits.map((x) => (x.id === id ? { ...x, enabled: !x.enabled } : x)) });
  }

  remove(id: string): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e) return;
    this.commit(`Remove direction ${e.index + 1}`, { ...this.doc, edits: this.doc.edits.filter((x) => x.id !== id) });
  }

  move(id: string, delta: -1 | 1): void {
    const i = this.doc.edits.findIndex((x) => x.id === id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= this.doc.edits.length) return;
    const edits = this.doc.edits.slice();
    [edits[i], edits[j]] = [edits[j], edits[i]];
    this.commit(`Move direction ${edits[j].index + 1} ${delta < 0 ? 'up' : 'down'}`, { ...this.doc, edits });
  }

  /** Undo; true when it moved (the caller re-renders the restored stack). */
  undo(): boolean {
    return this.#moved(this.history.undo());
  }
  redo(): boolean {
    return this.#moved(this.history.redo());
  }
  jumpTo(i: number): boolean {
    return this.#moved(this.history.jumpTo(i));
  }
  #moved(state: DocState | null): boolean {
    if (state === null) return false;
    this.#changed();
    return true;
  }

  /** The shown result matches the stack (after Apply). */
  markApplied(): void {
    this.#stale = false;
  }

  /** A new document: an empty stack and a one-entry history. */
  reset(label: string): void {
    this.history.reset(EMPTY_DOC, label);
    this.#stale = false;
  }

  /** An opened project's history; its saved result matches its current entry. */
  load(entries: HistoryEntry<DocState>[], index: number): void {
    this.history.load(entries, index);
    this.#stale = false;
  }
}
