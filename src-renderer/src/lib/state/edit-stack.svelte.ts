/**
 * The document's edit state (timestep and the stack of directions with their strengths) and its undo history. Every
 * change is one history entry (a slider drag is one too) and marks the shown result stale until the next Apply.
 */
import type { DocState, EditEntry } from '../../../../src-main/shared/project-manifest';
import { History, type HistoryEntry } from './history.svelte';
import { DEFAULT_FRACTION, type Schedule } from './schedule.svelte';

const EMPTY_DOC: DocState = { timestep: null, edits: [] };

/** The strengths an edit may have; a value outside is clamped (and the field shows the clamped value). */
export const STRENGTH_MIN = -10;
export const STRENGTH_MAX = 10;

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

  /** Add direction `index` of a computed basis at its timestep. */
  add(basis: { key: string; timestep: number }, index: number): void {
    const id = `e${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const entry: EditEntry = { id, basisKey: basis.key, index, t: basis.timestep, strength: 1, enabled: true };
    this.commit(`Add direction ${index + 1} at t = ${basis.timestep}`, { timestep: basis.timestep, edits: [...this.doc.edits, entry] });
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
