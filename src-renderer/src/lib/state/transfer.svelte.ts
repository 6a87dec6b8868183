/**
 * Transfer edit… (issue 13 item 3): the document's edit stack applied to other images. Each target (a seed, or an
 * imported picture, inverted first) gets every direction of the stack moved to it by a `transport` job (one job per
 * target and direction; its `captured` is the share of the direction that survives at the target), then one
 * approximate preview render; "Apply to all" renders each target exactly with the document's edit parameters, and
 * the results export as PNGs. Every job goes through JobsState, so each is listed in the Jobs panel and runs at the
 * engine's priority for its kind: transports at 'basis', previews and the unedited seeds at 'preview', the exact
 * renders and inversions at 'apply' (DEVELOPERS.md "Scheduler").
 *
 * Targets run two at a time (`lanes`): the engine works on one job per priority level anyway, and a window may have
 * only 32 jobs open (ApiService), which N targets × D directions submitted at once would exceed. A target that
 * fails keeps its error and the others go on; Cancel on a target ends its job in flight and starts no more for it.
 */
import type { JobView } from './jobs.svelte';
import type { JobsState } from './jobs.svelte';
import type { Notices } from './notices.svelte';
import type { EditorState } from './editor.svelte';
import { isActive } from './jobs.svelte';
import { toShownError } from '../errors';
import { ApiError } from '../../../../src-main/shared/errors';
import { importProblem } from '../../../../src-main/shared/image-limits';
import { addPngText } from '../png-text';
import { sha256Hex } from '../bytes';
import { parseBasisKey } from './galleries.svelte';
import { globalDirection, globalEntryName, isGlobalBasisKey } from './global-entries';
import { toShown } from './images';
import { EMPTY_CONDITIONING } from './prompt.svelte';
import { MAX_TARGETS, parseSeedList, sourceConditioning, transferEditInput, transferFileName, transferText, transportInput, type TransferSource } from './transfer-plan';
import { TransferTarget, type TargetSpec } from './transfer-target.svelte';
import { projectTarget } from './transfer-projects';
import type { OpenedProject, ProjectEntry } from '../../../../src-main/shared/project-api';

/** What the editor's document offers to transfer now, or null (no source, or no edit Apply would render). */
export function transferSource(ed: EditorState): TransferSource | null {
  const xt = ed.source.xt;
  const a = ed.edits.applicable;
  if (!xt || !ed.model.dir || !a) return null;
  const key = a.edits[0].basisKey;
  // A global basis's entries carry their vectors; each target's basis is computed with the k and method the global
  // basis was averaged from. Without the basis in the document there is nothing to transfer.
  const global = isGlobalBasisKey(key) ? ed.globalBases.get(key) : undefined;
  if (isGlobalBasisKey(key) && !global) return null;
  const directions = global ? a.edits.map((e) => globalDirection(global, e.index)) : [];
  if (directions.some((d) => d === null)) return null;
  const basis = global ? { k: global.k, method: global.method } : parseBasisKey(key);
  // Text models: A's directions were computed at their gallery's basis prompt (if any); transport takes both bases there.
  const prompt = !global && parseBasisKey(key).promptTag ? ed.galleries.list.find((g) => g.key === key)?.basisPrompt : undefined;
  return {
    modelDir: ed.model.dir,
    modelName: ed.model.name,
    xt,
    steps: ed.source.steps,
    timestep: a.t,
    basis: { k: basis.k, method: basis.method, ...(prompt !== undefined ? { prompt } : {}) },
    edits: a.edits.map((e, i) => ({ index: e.index, strength: e.strength, ...(global ? { direction: directions[i]! } : {}) })),
    skipped: a.skipped,
    ...(global ? { global: { key, name: globalEntryName(global, a.edits[0].index).replace(/^Global direction \d+ /, 'global basis ') } } : {}),
    params: ed.edits.params,
    textConditioned: ed.model.textConditioned,
    provider: ed.model.provider,
    recipe: ed.recipe(),
    version: ed.info?.version,
    projectName: ed.project.name,
  };
}

export interface TransferDeps {
  jobs: JobsState;
  notices: Notices;
  /** The document's edit now (transferSource(ed) in the app); read when a transfer starts. */
  source: () => TransferSource | null;
  /** Targets worked on at once (default 2). */
  lanes?: number;
  /** The saved projects (targets "from another document"); absent: the panel offers none. */
  projects?: { list(): Promise<ProjectEntry[]>; open(id: string): Promise<OpenedProject> };
}

/** Run `work` over `items`, `lanes` at a time, in order; `work` must not throw (each target catches its own). */
async function inLanes<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}

export class TransferState {
  readonly #jobs: JobsState;
  readonly #notices: Notices;
  readonly #sourceNow: () => TransferSource | null;
  readonly #lanes: number;
  readonly #projectStore: TransferDeps['projects'];
  #projects = $state.raw<ProjectEntry[]>([]);
  #open = $state(false);
  #seedsText = $state('');
  #images = $state.raw<Extract<TargetSpec, { kind: 'image' }>[]>([]);
  #targets = $state.raw<TransferTarget[]>([]);
  /** The snapshot the current targets were made from (their exports describe it). */
  #source = $state.raw<TransferSource | null>(null);
  #parsed = $derived(parseSeedList(this.#seedsText));
  #available = $derived.by(() => this.#sourceNow());
  #busy = $derived(this.#targets.some((t) => t.active));
  /** Bumped by each start: a pipeline of an earlier transfer starts no further job. */
  #session = 0;

  constructor(deps: TransferDeps) {
    this.#jobs = deps.jobs;
    this.#notices = deps.notices;
    this.#sourceNow = deps.source;
    this.#lanes = deps.lanes ?? 2;
    this.#projectStore = deps.projects;
  }

  /** Saved projects offered as targets (listProjects fills it). */
  get projects(): ProjectEntry[] {
    return this.#projects;
  }

  /** Read the saved projects' list (the panel asks when it opens). */
  async listProjects(): Promise<void> {
    if (!this.#projectStore) return;
    try {
      this.#projects = await this.#projectStore.list();
    } catch (err) {
      this.#notices.fail(err, 'Listing projects');
    }
  }

  /**
   * Add saved project `id` as a target (transfer-projects.ts): its seed when it lies on this document's DDIM path,
   * else its unedited picture (inverted like a dropped one); another model's project is refused with a notice.
   */
  async addProject(id: string): Promise<void> {
    const src = this.#sourceNow();
    if (!this.#projectStore || !src) return;
    let opened: OpenedProject;
    try {
      opened = await this.#projectStore.open(id);
    } catch (err) {
      this.#notices.fail(err, 'Opening the project to transfer to');
      return;
    }
    const t = projectTarget(opened, { modelDir: src.modelDir, steps: src.steps, ...(src.textConditioned ? { text: sourceConditioning(src) } : {}) });
    if (t.kind === 'refused') {
      this.#notices.notify('warning', `${opened.name} cannot be a target.`, t.problem);
    } else if (t.kind === 'seed') {
      if (!this.#parsed.seeds.includes(t.seed)) this.#seedsText = this.#seedsText.trim() ? `${this.#seedsText.trim()}, ${t.seed}` : String(t.seed);
    } else {
      await this.addImage(t.name, t.bytes);
      this.#notices.notify('info', `${opened.name} joins as its picture (inverted first).`, `It is ${t.why}, so its own x_t is not on this document's path.`);
    }
  }

  get isOpen(): boolean {
    return this.#open;
  }
  /** The document's edit as it would be transferred now (null: nothing to transfer). */
  get available(): TransferSource | null {
    return this.#available;
  }
  /** The edit the shown targets were transferred from. */
  get source(): TransferSource | null {
    return this.#source;
  }
  get seedsText(): string {
    return this.#seedsText;
  }
  set seedsText(v: string) {
    this.#seedsText = v;
  }
  /** Why the seed field cannot be read, or null. */
  get seedsProblem(): string | null {
    return this.#parsed.error ?? (this.#parsed.seeds.length + this.#images.length > MAX_TARGETS ? `at most ${MAX_TARGETS} targets per transfer` : null);
  }
  get seeds(): number[] {
    return this.#parsed.seeds;
  }
  get images(): { name: string }[] {
    return this.#images;
  }
  get targets(): TransferTarget[] {
    return this.#targets;
  }
  /** Some target is still being worked on. */
  get busy(): boolean {
    return this.#busy;
  }
  get canStart(): boolean {
    return this.#available !== null && this.seedsProblem === null && this.#parsed.seeds.length + this.#images.length > 0;
  }

  open(): void {
    if (!this.#sourceNow()) {
      this.#notices.notify('warning', 'Nothing to transfer yet.', 'Add a direction with a non-zero strength to the edit stack first.');
      return;
    }
    this.#open = true;
  }
  /** Closing only hides the panel: its jobs go on (the Jobs panel lists them) and reopening shows them. */
  close(): void {
    this.#open = false;
  }

  /** Add an imported picture as a target (refused here, like the editor's import, when the engine would refuse it). */
  async addImage(name: string, bytes: Uint8Array): Promise<void> {
    const problem = importProblem(bytes);
    if (problem) {
      this.#notices.fail(new ApiError(problem), `Adding ${name}`);
      return;
    }
    const sha256 = await sha256Hex(bytes);
    if (this.#images.some((i) => i.sha256 === sha256)) return;
    this.#images = [...this.#images, { kind: 'image', name, bytes, sha256 }];
  }
  removeImage(i: number): void {
    this.#images = this.#images.filter((_, j) => j !== i);
  }

  /**
   * The job in flight (or waiting) for a target, for its progress bar: the newest, since a job of an earlier transfer
   * to the same target may still be winding down after its cancel.
   */
  jobOf(t: TransferTarget): JobView | null {
    const prefix = this.#prefix(t);
    const list = this.#jobs.list;
    for (let i = list.length - 1; i >= 0; i--) if (isActive(list[i]) && list[i].label.startsWith(prefix)) return list[i];
    return null;
  }

  #prefix(t: TransferTarget): string {
    return `Transfer to ${t.label}:`;
  }

  /**
   * Transfer the document's edit to the chosen targets: the earlier transfer's jobs are cancelled, then each target
   * is inverted (pictures), transported direction by direction and previewed. Resolves when every target is ready,
   * failed or cancelled.
   */
  async start(): Promise<void> {
    const src = this.#sourceNow();
    if (!src || !this.canStart) return;
    for (const t of this.#targets) this.cancel(t);
    const session = ++this.#session;
    if (src.skipped) this.#notices.notify('info', `${src.skipped} edit${src.skipped === 1 ? '' : 's'} at another timestep or basis ${src.skipped === 1 ? 'is' : 'are'} not transferred.`, 'The transfer takes the edits Apply renders together.');
    // Two pictures with one name get "(2)": labels name a target's jobs (jobOf, cancel), so they must differ.
    const names: Record<string, number> = {};
    const label = (s: TargetSpec) => {
      const base = s.kind === 'seed' ? `seed ${s.seed}` : s.name;
      const n = (names[base] ?? 0) + 1;
      names[base] = n;
      return n === 1 ? base : `${base} (${n})`;
    };
    const specs: TargetSpec[] = [...this.#parsed.seeds.map((seed): TargetSpec => ({ kind: 'seed', seed })), ...this.#images];
    const targets = specs.map((s, i) => new TransferTarget(`${session}-${i}`, s, label(s), src.edits));
    this.#source = src;
    this.#targets = targets;
    await inLanes(targets, this.#lanes, (t) => this.#prepare(t, src, session));
    this.#summarize(targets, 'Transferring');
  }

  /** Exact renders of every ready target, with the document's parameters; resolves when all have ended. */
  async applyAll(): Promise<void> {
    const src = this.#source;
    const ready = this.#targets.filter((t) => t.status === 'ready' && t.transported);
    if (!src || ready.length === 0) return;
    const session = this.#session;
    await inLanes(ready, this.#lanes, async (t) => {
      if (session !== this.#session || t.status !== 'ready') return;
      await this.#step(t, async () => {
        t.setStatus('applying');
        const out = await this.#jobs.run('edit', transferEditInput(src, t.xt!, t.transferred, false), `${this.#prefix(t)} apply`);
        // A Cancel that arrived after the engine finished still wins: the user asked for this target to stop.
        if (t.status !== 'applying') return;
        t.setResult(toShown(out.image));
        t.setStatus('done');
      });
    });
    this.#summarize(ready, 'Applying the transfer');
  }

  /** Stop one target: its job in flight is cancelled and no further job starts for it. */
  cancel(t: TransferTarget): void {
    if (!t.active && t.status !== 'ready') return;
    const running = t.active;
    t.setStatus('cancelled');
    if (!running) return;
    const prefix = this.#prefix(t);
    for (const j of this.#jobs.active) if (j.label.startsWith(prefix)) this.#jobs.cancel(j.key);
  }

  /** The exact renders as PNGs with what they are in text chunks; targets without one are left out. */
  exportFiles(): { name: string; bytes: Uint8Array }[] {
    const src = this.#source;
    if (!src) return [];
    return this.#targets.flatMap((t) => {
      const img = t.result;
      if (!img) return [];
      const directions = t.directions.map((d) => ({ index: d.index, strength: d.strength, captured: d.captured ?? 0 }));
      return [{ name: transferFileName(src.projectName, t.description), bytes: addPngText(img.bytes, transferText(src, t.description, directions)) }];
    });
  }

  /** Invert (pictures) or render the unedited seed, transport each direction, preview. */
  async #prepare(t: TransferTarget, src: TransferSource, session: number): Promise<void> {
    const live = () => session === this.#session && t.status !== 'cancelled';
    const prefix = this.#prefix(t);
    const text = src.textConditioned ? { prompt: src.xt.prompt, negativePrompt: src.xt.negativePrompt, guidanceScale: src.xt.guidanceScale } : {};
    await this.#step(t, async () => {
      if (!live()) return;
      if (t.spec.kind === 'image') {
        t.setStatus('inverting');
        const spec = t.spec;
        const out = await this.#jobs.run('invert', { modelDir: src.modelDir, image: spec.bytes as Uint8Array<ArrayBuffer>, steps: src.steps, timestep: src.timestep, provider: src.provider }, `${prefix} invert`);
        if (!out.xt || out.xtTimestep !== src.timestep) throw new Error(`the inversion gave no x_t at t = ${src.timestep}`);
        t.setOriginal(toShown(out.input));
        // Pictures are inverted at the empty prompt (the invert job takes none), so they are edited at it too.
        t.setXt({ xt: out.xt, ...(src.textConditioned ? EMPTY_CONDITIONING : {}) });
      } else {
        t.setStatus('transporting');
        t.setXt({ seed: t.spec.seed, ...text });
        const out = await this.#jobs.run('generate', { modelDir: src.modelDir, seed: t.spec.seed, steps: src.steps, provider: src.provider, ...text }, `${prefix} unedited`, undefined, { priority: 'preview' });
        t.setOriginal(toShown(out.images[0]));
      }
      for (let i = 0; i < src.edits.length; i++) {
        if (!live()) return;
        t.setStatus('transporting');
        const e = src.edits[i];
        const out = await this.#jobs.run('transport', transportInput(src, t.xt!, e.direction ?? e.index), `${prefix} ${e.direction ? 'global ' : ''}direction ${e.index + 1}`);
        if (out.timestep !== src.timestep) throw new Error(`the transport ran at t = ${out.timestep}, not the edit's t = ${src.timestep}`);
        t.setTransported(i, out.v, out.captured);
      }
      if (!live()) return;
      t.setStatus('previewing');
      const out = await this.#jobs.run('edit', transferEditInput(src, t.xt!, t.transferred, true), `${prefix} preview`, undefined, { priority: 'preview' });
      t.setPreview(toShown(out.image));
      if (live()) t.setStatus('ready');
    });
  }

  /** Run one target's steps; whatever fails ends that target only, with its error shown on it. */
  async #step(t: TransferTarget, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      const shown = toShownError(err);
      // A cancel (here, or from the Jobs panel) ends the target as cancelled, not failed.
      if (shown.code === 'cancelled' || shown.code === 'superseded') t.setStatus('cancelled');
      else if (t.status !== 'cancelled') t.fail(shown);
    }
  }

  /** One notice for a run with failures (each target shows its own error); none when all went well. */
  #summarize(targets: TransferTarget[], what: string): void {
    const failed = targets.filter((t) => t.status === 'failed').length;
    if (failed) this.#notices.notify('warning', `${what}: ${failed} of ${targets.length} target${targets.length === 1 ? '' : 's'} failed.`, 'Each failed target shows its error in the Transfer panel.');
  }
}
