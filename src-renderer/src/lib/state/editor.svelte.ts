/**
 * The editor's state and commands. Every menu item, toolbar button and shortcut calls a method here, so the web page,
 * the Electron menus and the tests all drive the same code.
 *
 * What lives here: small values, PNG bytes of what is on screen ($state.raw, never proxied), and — for an imported
 * image only — the engine's x_T wire payload, held as an opaque value and passed back unchanged (the renderer never
 * reads a latent). Seed sources need no latent at all: the engine recomputes x_t from (seed, t, steps).
 */
import { ddimTimestepsAscending } from '../../../../src-main/core/diffusion/ddim';
import { ApiError } from '../../../../src-main/shared/errors';
import type { AppInfo, Float32TensorPayload, GalleryPartial, JobOutput, ProviderPreference, PullbackApi } from '../../../../src-main/shared/api';
import { callProject, type OpenedProject, type ProjectEntry, type RecoveryEntry } from '../../../../src-main/shared/project-api';
import type { BasisRef, DocState, EditEntry, ProjectManifest } from '../../../../src-main/core/project/schema';
import { PROJECT_FORMAT, PROJECT_FORMAT_VERSION } from '../../../../src-main/core/project/schema';
import { toShownError, type ShownError } from '../errors';
import { addPngText, readPngText, RECIPE_KEY } from '../png-text';
import { nowIso, sha256Hex, toBase64 } from '../bytes';
import { History } from './history.svelte';
import { JobsState } from './jobs.svelte';

export interface ShownImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

export type BasisMethodChoice = 'krylov' | 'subspace';
export const METHOD_LABELS: Record<BasisMethodChoice, string> = { krylov: 'Fast (Krylov)', subspace: "Authors' (subspace iteration)" };

export type Source =
  | { kind: 'seed'; seed: number }
  | { kind: 'image'; name: string; hash: string; file: Uint8Array; xT: Float32TensorPayload; timestep: number; psnr: number; poor: boolean };

export interface GalleryRow {
  index: number;
  sigma?: number;
  minus?: ShownImage;
  plus?: ShownImage;
  /** Per-pixel |v| of the direction, coloured by the engine (where in the image it acts). */
  heat?: ShownImage;
}

export interface Gallery {
  key: string;
  timestep: number;
  k: number;
  method: BasisMethodChoice;
  rows: GalleryRow[];
  sigmas: number[];
  center?: ShownImage;
  status: 'computing' | 'done' | 'cancelled' | 'failed';
  stats?: { iterations: number; converged: boolean; residual?: number; seconds: number; cacheHit: boolean };
}

export interface Recipe {
  app: 'Pullback Studio';
  model: { name: string; dir: string };
  source: { kind: 'seed'; seed: number } | { kind: 'image'; sha256: string; name: string };
  steps: number;
  edits: { t: number; basis: string; k: number; method: string; index: number; strength: number }[];
}

export interface Notice {
  id: number;
  kind: 'info' | 'warning' | 'error';
  text: string;
  detail?: string;
  code?: string;
}

const EMPTY_DOC: DocState = { timestep: null, edits: [] };

export function basisKey(timestep: number, method: string, k: number): string {
  return `t${timestep}-${method}-k${k}`;
}

/** What the timestep changes, for the hint under the picker (Park et al.: early = coarse, late = fine). */
export function timestepHint(fraction: number): string {
  if (fraction >= 0.7) return 'Early: layout, pose and colour';
  if (fraction >= 0.35) return 'Middle: shape and features';
  return 'Late: details and texture';
}

export function newSessionId(): string {
  return `s-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export class EditorState {
  readonly jobs: JobsState;
  readonly history = new History<DocState>(EMPTY_DOC);
  info = $state.raw<AppInfo | null>(null);

  // Model and device
  modelDir = $state('');
  modelName = $state('');
  customDir = $state('');
  recentModels = $state.raw<string[]>([]);
  provider = $state<ProviderPreference>('auto');
  providerInUse = $state('');
  fallbackReason = $state('');
  /** T (training timesteps) and the sample size of the current model, from model.info. */
  numTrainTimesteps = $state(1000);
  sampleDims = $state.raw<number[]>([]);

  // Source
  seed = $state(0);
  steps = $state(50);
  source = $state.raw<Source | null>(null);
  sourceImage = $state.raw<ShownImage | null>(null);
  resultImage = $state.raw<ShownImage | null>(null);
  /** The recon of an imported image (what the model reproduces from x_T). */
  reconImage = $state.raw<ShownImage | null>(null);
  /** The result is stale: the stack changed since the last Apply. */
  stale = $state(false);

  // Basis gallery
  k = $state(8);
  method = $state<BasisMethodChoice>('krylov');
  previewSteps = $state(20);
  previewStrength = $state(1);
  galleries = $state.raw<Gallery[]>([]);
  /** Fraction of T for the picker before a timestep is chosen (the paper's default edit point). */
  defaultFraction = 0.6;

  // Project
  projectId = $state<string | null>(null);
  projectName = $state('Untitled');
  readOnly = $state(false);
  dirty = $state(false);
  lastSaved = $state<string | null>(null);
  recovery = $state.raw<RecoveryEntry[]>([]);
  /** Recovery slot of the current document; a new document gets a new slot so an unsaved one is never overwritten. */
  session = newSessionId();
  createdAt = nowIso();

  /** A PNG with a recipe was imported: offer to restore it. */
  pendingRecipe = $state.raw<{ recipe: Recipe; file: Uint8Array; name: string } | null>(null);
  notices = $state.raw<Notice[]>([]);
  private nextNotice = 1;
  /**
   * Rendered results by (source, applied edits): undo/redo and toggling back to an earlier stack show the image
   * rendered for it before, without a new render. Bounded; cleared with the source.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache, never rendered
  private readonly renders = new Map<string, ShownImage>();

  constructor(private readonly api: PullbackApi) {
    this.jobs = new JobsState(api);
  }

  // ---------- derived ----------
  get doc(): DocState {
    return this.history.current;
  }
  get schedule(): number[] {
    const T = this.numTrainTimesteps;
    try {
      return ddimTimestepsAscending(Math.min(this.steps, T), T);
    } catch {
      return [T - 1];
    }
  }
  /** The timestep the picker shows: the document's, or the schedule step nearest 0.6·T. */
  get timestep(): number {
    if (this.doc.timestep !== null) return this.doc.timestep;
    return this.snap(this.defaultFraction);
  }
  snap(fraction: number): number {
    const target = fraction * this.numTrainTimesteps;
    let best = this.schedule[0];
    for (const t of this.schedule) if (Math.abs(t - target) <= Math.abs(best - target)) best = t;
    return best;
  }
  get shownImage(): ShownImage | null {
    return this.resultImage ?? this.sourceImage;
  }
  get gallery(): Gallery | null {
    return this.galleries.find((g) => g.key === basisKey(this.timestep, this.method, this.k)) ?? this.galleries.find((g) => g.timestep === this.timestep) ?? null;
  }
  get busy(): boolean {
    return this.jobs.active.length > 0;
  }
  get title(): string {
    return `${this.projectName}${this.dirty ? ' •' : ''}${this.readOnly ? ' (read-only)' : ''}`;
  }

  // ---------- notices ----------
  notify(kind: Notice['kind'], text: string, detail?: string, code?: string): void {
    const n = { id: this.nextNotice++, kind, text, detail, code };
    this.notices = [...this.notices.slice(-3), n];
    if (kind === 'info') setTimeout(() => this.dismiss(n.id), 5000);
  }
  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }
  fail(err: unknown, what: string): ShownError | null {
    const e = toShownError(err);
    if (e.code === 'cancelled') {
      this.notify('info', `${what}: cancelled`);
      return null;
    }
    this.notify('error', `${what} failed. ${e.title}`, e.detail, e.code);
    return e;
  }

  // ---------- start ----------
  async load(): Promise<void> {
    try {
      this.info = await this.api.getAppInfo();
      this.recentModels = readRecentModels();
      const first = this.info.bundledModels[0];
      if (first) await this.selectModel(first.dir, first.name);
      else if (this.recentModels[0]) await this.selectModel(this.recentModels[0]);
      this.recovery = await callProject(this.api, { op: 'recovery.list' });
    } catch (err) {
      this.fail(err, 'Starting');
    }
  }

  // ---------- model and device ----------
  /**
   * Switch the model. The document belongs to the model it was made with, so switching closes it (unsaved work goes
   * to recovery first); `replacing` is for callers that load another document right after (open, restore recipe).
   */
  async selectModel(dir: string, name?: string, replacing = false): Promise<boolean> {
    const clean = dir.trim();
    if (!clean) return false;
    try {
      const info = await this.jobs.run('model.info', { modelDir: clean }, `Open model ${name ?? clean.split(/[\\/]/).pop()}`);
      const changed = this.modelDir !== '' && this.modelDir !== info.dir;
      this.modelDir = info.dir;
      this.modelName = name ?? info.name;
      this.numTrainTimesteps = info.scheduler.numTrainTimesteps;
      this.sampleDims = info.unet.sampleDims;
      if (!this.info?.bundledModels.some((m) => m.dir === info.dir)) {
        this.recentModels = [info.dir, ...this.recentModels.filter((d) => d !== info.dir)].slice(0, 6);
        writeRecentModels(this.recentModels);
      }
      if (changed) {
        this.galleries = [];
        if (this.source && !replacing) await this.closeDocument(`Switched to ${this.modelName}: the previous image belonged to the other model.`);
      }
      return true;
    } catch (err) {
      this.fail(err, 'Opening the model');
      return false;
    }
  }

  async browseModel(): Promise<void> {
    try {
      const dir = await this.api.pickModelFolder();
      if (dir) await this.selectModel(dir);
    } catch (err) {
      this.fail(err, 'Open model folder');
    }
  }

  // ---------- sources ----------
  randomSeed(): void {
    this.seed = Math.floor(Math.random() * 2 ** 31);
  }

  /** New from seed: render the seed's image and start a fresh document. */
  async newFromSeed(): Promise<void> {
    if (!this.modelDir) return this.notify('warning', 'Pick a model first.');
    const seed = Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(Number(this.seed) || 0)));
    this.steps = clampInt(this.steps, 1, Math.min(1000, this.numTrainTimesteps), 50);
    try {
      const out = await this.jobs.run('generate', { modelDir: this.modelDir, seed, steps: this.steps, provider: this.provider }, `Render seed ${seed}`);
      const img = out.images[0];
      await this.keepUnsaved();
      this.providerInUse = out.provider;
      this.fallbackReason = out.fallbackReason ?? '';
      this.source = { kind: 'seed', seed };
      this.seed = seed;
      this.sourceImage = { bytes: img.bytes, width: img.width, height: img.height };
      this.resetDocument(`New from seed ${seed}`);
    } catch (err) {
      this.fail(err, 'Rendering the seed');
    }
  }

  /** Close the document (after keeping unsaved work in recovery): an empty canvas, a fresh history. */
  private async closeDocument(why: string): Promise<void> {
    const hadWork = this.dirty && this.history.entries.length > 1;
    await this.keepUnsaved();
    this.source = null;
    this.sourceImage = null;
    this.reconImage = null;
    this.resetDocument('New');
    this.dirty = false;
    this.notify('info', why, hadWork ? 'Your unsaved changes were kept; they are offered for recovery at the next start.' : undefined);
  }

  private resetDocument(label: string): void {
    this.renders.clear();
    this.resultImage = null;
    this.reconImage = this.source?.kind === 'image' ? this.reconImage : null;
    this.galleries = [];
    this.history.reset({ timestep: null, edits: [] }, label);
    this.stale = false;
    this.projectId = null;
    this.projectName = 'Untitled';
    this.readOnly = false;
    this.dirty = true;
    this.createdAt = nowIso();
  }

  /** Import an image file: a PNG with our recipe offers to restore it; otherwise invert it. */
  async importFile(name: string, bytes: Uint8Array): Promise<void> {
    const text = readPngText(bytes);
    const recipe = parseRecipe(text[RECIPE_KEY]);
    if (recipe) {
      this.pendingRecipe = { recipe, file: bytes, name };
      return;
    }
    await this.invertImage(name, bytes);
  }

  async invertImage(name: string, bytes: Uint8Array): Promise<void> {
    this.pendingRecipe = null;
    if (!this.modelDir) return this.notify('warning', 'Pick a model first.');
    try {
      const out = await this.jobs.run('invert', { modelDir: this.modelDir, image: bytes as Uint8Array<ArrayBuffer>, steps: this.steps, provider: this.provider }, `Invert ${name}`);
      await this.keepUnsaved();
      this.source = { kind: 'image', name, hash: await sha256Hex(bytes), file: bytes, xT: out.xT, timestep: out.timestep, psnr: out.psnr, poor: out.poor };
      this.sourceImage = { bytes: out.input.bytes, width: out.input.width, height: out.input.height };
      this.reconImage = { bytes: out.recon.bytes, width: out.recon.width, height: out.recon.height };
      this.resetDocument(`Import ${name}`);
      this.projectName = name.replace(/\.[a-z0-9]+$/i, '');
      if (out.poor) this.notify('warning', `The model reproduces this image poorly (PSNR ${out.psnr.toFixed(1)} dB).`, 'Edits will change more than the chosen direction. Images close to what the model was trained on invert best.');
    } catch (err) {
      this.fail(err, 'Importing the image');
    }
  }

  /** Restore the recipe of a re-opened exported PNG: model, seed, and the edit stack; then render it. */
  async restoreRecipe(): Promise<void> {
    const p = this.pendingRecipe;
    if (!p) return;
    this.pendingRecipe = null;
    const r = p.recipe;
    if (r.model.dir !== this.modelDir && !(await this.selectModel(r.model.dir, r.model.name, true))) return;
    this.steps = r.steps;
    if (r.source.kind === 'seed') {
      this.seed = r.source.seed;
      await this.newFromSeed();
    } else {
      this.notify('info', 'This image was made from an imported picture; importing the PNG itself instead.');
      await this.invertImage(p.name, p.file);
      return;
    }
    const edits: EditEntry[] = r.edits.map((e, i) => ({ id: `r${i + 1}`, basisKey: basisKey(e.t, e.method, e.k), index: e.index, t: e.t, strength: e.strength, enabled: true }));
    if (edits.length) {
      this.k = r.edits[0].k;
      this.method = r.edits[0].method === 'subspace' ? 'subspace' : 'krylov';
      this.commit('Restore recipe', { timestep: edits[0].t, edits });
      await this.apply();
    }
  }

  // ---------- timestep ----------
  setTimestep(t: number): void {
    const snapped = this.snap(t / this.numTrainTimesteps);
    if (snapped === this.doc.timestep) return;
    this.history.drag('timestep', `Timestep ${snapped}`, { ...this.doc, timestep: snapped });
    this.dirty = true;
  }

  // ---------- basis gallery ----------
  /**
   * Where x_t comes from: a seed's DDIM path, or an imported image's x_T (the engine follows its path down to the
   * timestep, so imported images are edited at any t like seeds).
   */
  private xtInput(): { seed: number } | { xT: Float32TensorPayload } | null {
    const s = this.source;
    if (!s) return null;
    return s.kind === 'seed' ? { seed: s.seed } : { xT: s.xT };
  }

  async computeBasis(): Promise<void> {
    const src = this.xtInput();
    if (!src || !this.modelDir) return this.notify('warning', 'Start from a seed or import an image first.');
    this.k = clampInt(this.k, 1, 64, 8);
    const timestep = this.timestep;
    const key = basisKey(timestep, this.method, this.k);
    const k = this.k;
    const method = this.method;
    const g: Gallery = { key, timestep, k, method, rows: [], sigmas: [], status: 'computing' };
    this.galleries = [...this.galleries.filter((x) => x.key !== key), g];
    const update = (f: (x: Gallery) => Gallery) => (this.galleries = this.galleries.map((x) => (x.key === key ? f(x) : x)));
    try {
      const out = await this.jobs.run(
        'gallery',
        {
          modelDir: this.modelDir,
          ...src,
          timestep,
          steps: this.steps,
          k,
          method,
          previewSteps: Math.min(this.previewSteps, this.steps),
          strength: this.previewStrength,
          provider: this.provider,
        },
        `Basis at t = ${timestep} (k = ${k})`,
        (partial) => {
          const p = partial as GalleryPartial;
          if (p?.kind !== 'gallery-thumb' && p?.kind !== 'gallery-heat') return;
          const img = { bytes: p.image.bytes, width: p.image.width, height: p.image.height };
          const field = p.kind === 'gallery-heat' ? 'heat' : p.sign < 0 ? 'minus' : 'plus';
          update((x) => {
            const rows = x.rows.some((r) => r.index === p.index) ? x.rows : [...x.rows, { index: p.index }];
            return { ...x, rows: rows.map((r) => (r.index === p.index ? { ...r, [field]: img } : r)) };
          });
        },
      );
      update((x) => ({
        ...x,
        status: 'done',
        sigmas: out.items.map((i) => i.sigma),
        center: toShown(out.center),
        rows: out.items.map((i) => ({ index: i.index, sigma: i.sigma, minus: toShown(i.minus), plus: toShown(i.plus), heat: toShown(i.heat) })),
        stats: {
          iterations: out.basis.iterations,
          converged: out.basis.converged,
          residual: out.basis.residuals.at(-1),
          seconds: out.basis.seconds,
          cacheHit: out.basis.cacheHit,
        },
      }));
      this.dirty = true;
    } catch (err) {
      const e = this.fail(err, 'Computing the basis');
      update((x) => ({ ...x, status: e ? 'failed' : 'cancelled' }));
    }
  }

  cancelBasis(): void {
    this.jobs.cancelAll('gallery');
  }

  // ---------- edit stack ----------
  private commit(label: string, next: DocState): void {
    this.history.push(label, next);
    this.stale = true;
    this.dirty = true;
  }

  addDirection(index: number): void {
    const g = this.gallery;
    if (!g) return;
    const id = `e${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const entry: EditEntry = { id, basisKey: g.key, index, t: g.timestep, strength: 1, enabled: true };
    this.commit(`Add direction ${index + 1} at t = ${g.timestep}`, { timestep: g.timestep, edits: [...this.doc.edits, entry] });
  }

  /** During a drag call with `dragging = true`; the whole drag is one undo step. */
  setStrength(id: string, strength: number, dragging = false): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e || !Number.isFinite(strength)) return;
    const s = Math.max(-10, Math.min(10, Math.round(strength * 100) / 100));
    const next = { ...this.doc, edits: this.doc.edits.map((x) => (x.id === id ? { ...x, strength: s } : x)) };
    const label = `Strength of direction ${e.index + 1}: ${s > 0 ? '+' : ''}${s}`;
    if (dragging) this.history.drag(`strength:${id}`, label, next);
    else this.history.push(label, next);
    this.stale = true;
    this.dirty = true;
  }

  endDrag(): void {
    this.history.endDrag();
  }

  toggleEdit(id: string): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e) return;
    this.commit(`${e.enabled ? 'Disable' : 'Enable'} direction ${e.index + 1}`, { ...this.doc, edits: this.doc.edits.map((x) => (x.id === id ? { ...x, enabled: !x.enabled } : x)) });
  }

  removeEdit(id: string): void {
    const e = this.doc.edits.find((x) => x.id === id);
    if (!e) return;
    this.commit(`Remove direction ${e.index + 1}`, { ...this.doc, edits: this.doc.edits.filter((x) => x.id !== id) });
  }

  moveEdit(id: string, delta: -1 | 1): void {
    const i = this.doc.edits.findIndex((x) => x.id === id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= this.doc.edits.length) return;
    const edits = this.doc.edits.slice();
    [edits[i], edits[j]] = [edits[j], edits[i]];
    this.commit(`Move direction ${edits[j].index + 1} ${delta < 0 ? 'up' : 'down'}`, { ...this.doc, edits });
  }

  /** The enabled edits Apply renders together: those at the first enabled entry's timestep. */
  get applicable(): { t: number; edits: EditEntry[]; skipped: number } | null {
    const on = this.doc.edits.filter((e) => e.enabled && e.strength !== 0);
    if (on.length === 0) return null;
    const t = on[0].t;
    const edits = on.filter((e) => e.t === t && e.basisKey === on[0].basisKey);
    return { t, edits, skipped: on.length - edits.length };
  }

  /** Render the stack at full quality. */
  async apply(): Promise<void> {
    const src = this.xtInput();
    if (!src || !this.modelDir) return;
    const a = this.applicable;
    if (!a) {
      this.resultImage = null;
      this.stale = false;
      return;
    }
    const basis = parseBasisKey(a.edits[0].basisKey);
    const cacheKey = this.renderKey();
    const cached = cacheKey ? this.renders.get(cacheKey) : undefined;
    if (cached) {
      this.resultImage = cached;
      this.stale = false;
      return;
    }
    try {
      const out = await this.jobs.run(
        'edit',
        {
          modelDir: this.modelDir,
          ...src,
          timestep: a.t,
          steps: this.steps,
          basis: { k: basis.k, method: basis.method },
          edits: a.edits.map((e) => ({ index: e.index, strength: e.strength })),
          provider: this.provider,
        },
        `Apply ${a.edits.length} edit${a.edits.length === 1 ? '' : 's'}`,
      );
      this.resultImage = toShown(out.image);
      if (cacheKey) {
        if (this.renders.size >= 64) this.renders.delete(this.renders.keys().next().value!);
        this.renders.set(cacheKey, this.resultImage);
      }
      this.stale = false;
      this.dirty = true;
      if (a.skipped) this.notify('warning', `${a.skipped} edit${a.skipped === 1 ? '' : 's'} at another timestep or basis were not applied.`, 'Apply renders the edits of one timestep and basis together.');
    } catch (err) {
      this.fail(err, 'Applying the edits');
    }
  }

  /** Identity of what Apply would render now (null when nothing applies). */
  private renderKey(): string | null {
    const a = this.applicable;
    if (!a || !this.source) return null;
    const src = this.source.kind === 'seed' ? `seed:${this.source.seed}` : `image:${this.source.hash}`;
    return JSON.stringify([this.modelDir, src, this.steps, a.t, a.edits.map((e) => [e.basisKey, e.index, e.strength])]);
  }

  // ---------- history ----------
  undo(): void {
    if (this.history.undo()) this.afterHistoryMove();
  }
  redo(): void {
    if (this.history.redo()) this.afterHistoryMove();
  }
  jumpTo(i: number): void {
    if (this.history.jumpTo(i)) this.afterHistoryMove();
  }
  private afterHistoryMove(): void {
    this.stale = true;
    this.dirty = true;
    // Re-render so the canvas matches the restored stack (the engine caches the basis, so this is one render).
    void this.apply();
  }

  // ---------- export ----------
  recipe(): Recipe | null {
    const s = this.source;
    if (!s) return null;
    const edits = (this.applicable?.edits ?? []).map((e) => {
      const b = parseBasisKey(e.basisKey);
      return { t: e.t, basis: e.basisKey, k: b.k, method: b.method, index: e.index, strength: e.strength };
    });
    return {
      app: 'Pullback Studio',
      model: { name: this.modelName, dir: this.modelDir },
      source: s.kind === 'seed' ? { kind: 'seed', seed: s.seed } : { kind: 'image', sha256: s.hash, name: s.name },
      steps: this.steps,
      edits,
    };
  }

  /** The PNG to export: the shown image with the recipe in tEXt chunks. */
  exportPng(): { name: string; bytes: Uint8Array } | null {
    const img = this.shownImage;
    const r = this.recipe();
    if (!img || !r) return null;
    const text: Record<string, string> = {
      Software: `Pullback Studio ${this.info?.version ?? ''}`.trim(),
      Model: r.model.name,
      Source: r.source.kind === 'seed' ? `seed ${r.source.seed}` : `image sha256 ${r.source.sha256}`,
      Timestep: r.edits.length ? String(r.edits[0].t) : 'none',
      Directions: r.edits.map((e) => `#${e.index + 1} × ${e.strength}`).join(', ') || 'none',
      [RECIPE_KEY]: JSON.stringify(r),
    };
    return { name: `${this.projectName || 'pullback'}.png`, bytes: addPngText(img.bytes, text) };
  }

  /** The −/0/+ previews of one gallery direction and the text chunks saying what they show (the page composes the PNG). */
  stripParts(index: number): { name: string; images: Uint8Array[]; text: Record<string, string> } | null {
    const g = this.gallery;
    const r = g?.rows.find((x) => x.index === index);
    const center = g?.center ?? this.sourceImage;
    if (!g || !r?.minus || !r.plus || !center || !this.source) return null;
    const src = this.source.kind === 'seed' ? `seed ${this.source.seed}` : `image sha256 ${this.source.hash}`;
    const text = {
      Software: `Pullback Studio ${this.info?.version ?? ''}`.trim(),
      Model: this.modelName,
      Source: src,
      Timestep: String(g.timestep),
      Directions: `#${index + 1} at -${this.previewStrength}, 0, +${this.previewStrength} (preview quality, ${g.method}, k = ${g.k})`,
    };
    return { name: `${this.projectName || 'pullback'}-t${g.timestep}-dir${index + 1}-strip.png`, images: [r.minus.bytes, center.bytes, r.plus.bytes], text };
  }

  // ---------- projects ----------
  private async content(): Promise<{ manifest: ProjectManifest; blobs: Record<string, string> } | null> {
    const s = this.source;
    if (!s) return null;
    const blobs: Record<string, string> = {};
    const put = async (b: Uint8Array | undefined) => {
      if (!b) return undefined;
      const h = await sha256Hex(b);
      blobs[h] = toBase64(b);
      return h;
    };
    const sourceBlob = s.kind === 'image' ? await put(s.file) : undefined;
    const images = { source: await put(this.sourceImage?.bytes), result: await put(this.resultImage?.bytes) };
    const bases: BasisRef[] = this.galleries
      .filter((g) => g.status === 'done')
      .map((g) => ({ key: g.key, t: g.timestep, k: g.k, method: g.method, sigmas: g.sigmas }));
    const now = nowIso();
    const manifest: ProjectManifest = {
      format: PROJECT_FORMAT,
      formatVersion: PROJECT_FORMAT_VERSION,
      appVersion: this.info?.version ?? '0.0.0',
      createdAt: this.createdAt,
      modifiedAt: now,
      model: { name: this.modelName, dir: this.modelDir },
      source:
        s.kind === 'seed'
          ? { kind: 'seed', seed: s.seed, steps: this.steps }
          : { kind: 'image', blob: sourceBlob!, name: s.name.slice(0, 500), steps: this.steps, psnr: s.psnr },
      state: this.doc,
      bases,
      history: { entries: this.history.entries.map((e) => ({ label: e.label.slice(0, 200), state: e.state })), index: this.history.index },
      images: { ...(images.source ? { source: images.source } : {}), ...(images.result ? { result: images.result } : {}) },
    };
    return { manifest, blobs };
  }

  /** Save to the current file; without one (or read-only) the caller asks for a name (Save As). Returns false then. */
  async save(): Promise<boolean> {
    if (!this.projectId || this.readOnly) return false;
    return this.saveTo({ id: this.projectId });
  }

  async saveAs(target: { id: string } | { name: string }): Promise<boolean> {
    return this.saveTo(target);
  }

  /** Electron: native save dialog. */
  async pickSaveTarget(): Promise<ProjectEntry | null> {
    try {
      return await callProject(this.api, { op: 'pickSave', name: this.projectName });
    } catch (err) {
      this.fail(err, 'Save As');
      return null;
    }
  }

  private async saveTo(target: { id: string } | { name: string }): Promise<boolean> {
    const c = await this.content();
    if (!c) {
      this.notify('warning', 'Nothing to save yet: start from a seed or import an image.');
      return false;
    }
    try {
      const entry = await callProject(this.api, { op: 'save', ...target, ...c });
      this.projectId = entry.id;
      this.projectName = entry.name;
      this.readOnly = false;
      this.dirty = false;
      this.lastSaved = nowIso();
      // The recovery copy is only for unsaved work.
      await callProject(this.api, { op: 'recovery.discard', session: this.session }).catch(() => undefined);
      this.notify('info', `Saved “${entry.name}”.`);
      return true;
    } catch (err) {
      this.fail(err, 'Saving');
      return false;
    }
  }

  async listProjects(): Promise<{ recent: ProjectEntry[]; projects: ProjectEntry[]; canPick: boolean }> {
    try {
      return await callProject(this.api, { op: 'list' });
    } catch (err) {
      this.fail(err, 'Listing projects');
      return { recent: [], projects: [], canPick: false };
    }
  }

  async pickAndOpen(): Promise<void> {
    try {
      const entry = await callProject(this.api, { op: 'pickOpen' });
      if (entry) await this.open(entry.id);
    } catch (err) {
      this.fail(err, 'Open');
    }
  }

  async open(id: string): Promise<boolean> {
    try {
      const p = await callProject(this.api, { op: 'open', id });
      await this.loadOpened(p);
      return true;
    } catch (err) {
      this.fail(err, 'Opening the project');
      return false;
    }
  }

  async recover(session: string): Promise<void> {
    try {
      const p = await callProject(this.api, { op: 'recovery.open', session });
      await this.loadOpened(p);
      this.dirty = true;
      await this.discardRecovery(session);
      this.notify('info', 'Recovered your unsaved work. Save it to keep it.');
    } catch (err) {
      this.fail(err, 'Recovering');
    }
  }

  async discardRecovery(session: string): Promise<void> {
    await callProject(this.api, { op: 'recovery.discard', session }).catch(() => undefined);
    this.recovery = this.recovery.filter((r) => r.session !== session);
  }

  private async loadOpened(p: OpenedProject): Promise<void> {
    const m = p.manifest;
    await this.keepUnsaved();
    if (m.model.dir !== this.modelDir && !(await this.selectModel(m.model.dir, m.model.name, true))) return;
    const img = (h: string | undefined): ShownImage | null => {
      const b = h ? p.blobs[h] : undefined;
      return b ? { bytes: b, ...pngSize(b) } : null;
    };
    this.steps = m.source.steps;
    if (m.source.kind === 'seed') {
      this.source = { kind: 'seed', seed: m.source.seed };
      this.seed = m.source.seed;
    } else {
      // Latents are not stored: invert the saved source image again (deterministic).
      const file = p.blobs[m.source.blob];
      const out = await this.jobs.run('invert', { modelDir: this.modelDir, image: file as Uint8Array<ArrayBuffer>, steps: this.steps, provider: this.provider }, `Invert ${m.source.name}`);
      this.source = { kind: 'image', name: m.source.name, hash: m.source.blob, file, xT: out.xT, timestep: out.timestep, psnr: out.psnr, poor: out.poor };
      this.reconImage = toShown(out.recon);
    }
    this.sourceImage = img(m.images.source);
    this.resultImage = img(m.images.result);
    this.galleries = m.bases.map((b) => ({
      key: b.key,
      timestep: b.t,
      k: b.k,
      method: b.method === 'subspace' ? 'subspace' : 'krylov',
      rows: b.sigmas.map((sigma, index) => ({ index, sigma })),
      sigmas: b.sigmas,
      status: 'done',
    }));
    this.history.load(m.history.entries, m.history.index);
    // Show the gallery of the basis the stack uses (or the last computed one) with its k and method.
    const used = m.state.edits[0]?.basisKey ?? m.bases.at(-1)?.key;
    if (used) {
      const b = parseBasisKey(used);
      this.k = b.k;
      this.method = b.method;
    }
    this.stale = false;
    this.projectId = p.id;
    this.projectName = p.name;
    this.readOnly = p.readOnly;
    this.dirty = false;
    this.createdAt = m.createdAt;
    if (p.readOnly) this.notify('warning', 'This project was saved by a newer Pullback Studio and is open read-only.', 'Use Save As to keep a copy in this version’s format.');
    else if (p.fromVersion < PROJECT_FORMAT_VERSION) this.notify('info', 'This project was made by an older version; it will be saved in the current format.');
  }

  /**
   * Before another document replaces this one: if it has unsaved changes, write them to its recovery slot and move to
   * a fresh slot, so the unsaved work stays recoverable (offered at the next start) instead of being overwritten.
   */
  private async keepUnsaved(): Promise<void> {
    // A just-rendered seed with no changes is not work worth a recovery file (trying seeds would litter the folder).
    if (!this.dirty || !this.source || (this.history.entries.length < 2 && this.projectId === null)) return;
    await this.autosave();
    this.session = newSessionId();
    // Kept: the next document starts clean, so its own autosave cannot write this one into the new slot again.
    this.dirty = false;
  }

  /** Autosave to the recovery folder (never over the user's file). Quiet unless it fails. */
  async autosave(): Promise<void> {
    if (!this.dirty || !this.source) return;
    const c = await this.content();
    if (!c) return;
    try {
      await callProject(this.api, { op: 'autosave', session: this.session, title: this.projectName, ...c });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'disconnected')) this.fail(err, 'Autosave');
    }
  }
}

/** A number field's value as an integer in [min, max]; `fallback` when it is empty or not a number. */
export function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = Math.floor(Number(v));
  return Number.isFinite(n) && v !== '' && v !== null ? Math.max(min, Math.min(max, n)) : fallback;
}

function toShown(i: { bytes: Uint8Array; width: number; height: number }): ShownImage {
  return { bytes: i.bytes, width: i.width, height: i.height };
}

/** Width and height from a PNG's IHDR (0×0 for anything else). */
export function pngSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 24) return { width: 0, height: 0 };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

export function parseBasisKey(key: string): { timestep: number; method: BasisMethodChoice; k: number } {
  const m = /^t(\d+)-(krylov|subspace)-k(\d+)$/.exec(key);
  if (!m) return { timestep: 0, method: 'krylov', k: 8 };
  return { timestep: Number(m[1]), method: m[2] as BasisMethodChoice, k: Number(m[3]) };
}

/** A recipe from a PNG text chunk, or null when absent or malformed (never throws). */
export function parseRecipe(text: string | undefined): Recipe | null {
  if (!text) return null;
  try {
    const r = JSON.parse(text) as Recipe;
    if (r?.app !== 'Pullback Studio' || typeof r.model?.dir !== 'string' || !Array.isArray(r.edits) || typeof r.steps !== 'number') return null;
    if (r.source?.kind === 'seed' ? !Number.isInteger(r.source.seed) : r.source?.kind !== 'image') return null;
    for (const e of r.edits) if (![e.t, e.k, e.index, e.strength].every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
    return r;
  } catch {
    return null;
  }
}

const RECENT_MODELS_KEY = 'pullback.recentModels';
/** localStorage where there is one (absent in unit tests under Node). */
function store(): { getItem(k: string): string | null; setItem(k: string, v: string): void } | undefined {
  return (globalThis as unknown as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
}
function readRecentModels(): string[] {
  try {
    const v = JSON.parse(store()?.getItem(RECENT_MODELS_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 6) : [];
  } catch {
    return [];
  }
}
function writeRecentModels(list: string[]): void {
  try {
    store()?.setItem(RECENT_MODELS_KEY, JSON.stringify(list));
  } catch {
    /* storage unavailable */
  }
}

export type { JobOutput };
