/**
 * The editor's composition root: it wires the state classes (model, source, timestep schedule, galleries, edit
 * stack, applied result, project file, autosave, notices, jobs) and runs the commands that span several of them.
 * Every menu item, toolbar button and shortcut ends in a method here or on one of its parts, so the web page, the
 * Electron menus and the tests all drive the same code. Commands that start engine work return its promise.
 *
 * What the renderer holds: small values and PNG bytes of what is on screen ($state.raw, never proxied); latents never,
 * except an imported image's x_T wire payload, held opaquely by `Source` and passed back unchanged.
 *
 * Over 400 lines on purpose: each command here spans several parts (the unsaved-work question, superseding a running
 * render, the document swap), and splitting them would only move that wiring into another file.
 */
import type { AppInfo, PullbackApi } from '../../../../src-main/shared/api';
import { ApiError } from '../../../../src-main/shared/errors';
import { toShownError } from '../errors';
import { importProblem } from '../../../../src-main/shared/image-limits';
import { imageSize, resizeNotice } from '../../../../src-main/shared/image-size';
import { addPngText, readPngText, RECIPE_KEY } from '../png-text';
import { sha256Hex } from '../bytes';
import { Autosave } from './autosave';
import { EditStack, type Applicable } from './edit-stack.svelte';
import { Galleries, basisKey, parseBasisKey, promptTag } from './galleries.svelte';
import { BasisEstimates, measuredBases } from './basis-estimate.svelte';
import { MaskState } from './mask.svelte';
import { toShown, type ShownImage } from './images';
import { JobsState } from './jobs.svelte';
import { CanvasProgress } from './canvas-progress.svelte';
import { ModelChoice } from './model.svelte';
import { Notices } from './notices.svelte';
import { Project } from './project.svelte';
import { ProjectFiles } from './project-files.svelte';
import { buildRecipe, describeSource, parseRecipe, recipeConditioning, recipeEdits, recipeMaskPng, recipeText, softwareName, type Recipe } from './recipe';
import { RenderResult } from './result.svelte';
import { Schedule } from './schedule.svelte';
import { Source } from './source.svelte';
import { EMPTY_CONDITIONING, isUnprompted, PromptFields } from './prompt.svelte';
import { AnalysisState, type AnalysisSampleEntry } from './analysis.svelte';
import { GlobalDirections } from './global-directions.svelte';
import { GlobalBases, globalDirection, globalEntryName, globalEntryParts, isGlobalBasisKey } from './global-entries';
import { withExplicitDirections, type ExplicitEdit } from '../../../../src-main/shared/global-edit-job';
import { StrengthUnits } from './strength-units.svelte';
import { Connection, type ConnectionSource } from './connection.svelte';
import { UnsavedGuard } from './guard.svelte';
import { LocalRecovery, type StorageLike } from './local-recovery';
import { applyJobInput, type ApplyRequest } from '../../../../src-main/shared/edit-job';
import { livePreviewJobInput } from '../../../../src-main/shared/live-preview';
import { resolveEditParams, stripFrames } from '../../../../src-main/shared/edit-defaults';

/** An imported PNG that carries a recipe: the page offers to restore it. */
export interface PendingRecipe {
  recipe: Recipe;
  file: Uint8Array;
  name: string;
}

/** What the page hands the editor besides the API: web mode's connection and the page's own storage. */
export interface EditorOptions {
  connection?: ConnectionSource;
  /** Keeps the document while the engine cannot be reached (the page's localStorage). */
  storage?: StorageLike;
}

export class EditorState {
  readonly api: PullbackApi;
  readonly connection: Connection;
  readonly guard = new UnsavedGuard();
  readonly local: LocalRecovery;
  readonly jobs: JobsState;
  /** The canvas's progress overlay for the job that will put a picture there (generate, invert, Apply). */
  readonly canvasProgress: CanvasProgress;
  readonly notices = new Notices();
  readonly model: ModelChoice;
  readonly source = new Source();
  /** Text models: the prompt fields New from seed renders with (the document keeps its own in `source`). */
  readonly prompt = new PromptFields();
  readonly schedule: Schedule;
  readonly edits: EditStack;
  readonly galleries: Galleries;
  /** The estimate asked about before a long basis starts (issue 11 item 8). */
  readonly basisEstimate: BasisEstimates;
  /** The painted mask (issue 13): masked directions and Apply's region. */
  readonly mask: MaskState;
  readonly result = new RenderResult();
  readonly autosave: Autosave;
  readonly project: Project;
  readonly files: ProjectFiles;
  readonly analysis: AnalysisState;
  /** The Analysis workspace's global directions (one basis shared by its samples). */
  readonly globalDirections: GlobalDirections;
  /** The global bases the document's stack uses (global-entries.ts): saved with the project. */
  readonly globalBases = new GlobalBases();
  /** How the edit stack's strength fields count (real, or equal visual change per unit). */
  readonly strengthUnits = new StrengthUnits();
  #info = $state.raw<AppInfo | null>(null);
  #pendingRecipe = $state.raw<PendingRecipe | null>(null);
  #shownImage = $derived(this.result.image ?? this.source.image);
  /**
   * Live preview bookkeeping: a counter that the release and every exact render bump, voiding previews in flight; one
   * preview at a time, the latest values next.
   */
  #previewVoided = 0;
  /** The jobs-panel key of the live preview running now: the release cancels it instead of waiting for it. */
  #previewJobKey: number | null = null;
  #previewBusy = false;
  #previewPending = false;
  /** The New from seed render in flight: the same seed again joins it, another seed supersedes it. */
  #rendering: { ident: string; seed: number; promise: Promise<void> } | null = null;

  constructor(api: PullbackApi, options: EditorOptions = {}) {
    this.api = api;
    this.connection = new Connection(options.connection);
    this.local = new LocalRecovery(options.storage);
    this.jobs = new JobsState(api);
    this.canvasProgress = new CanvasProgress(this.jobs);
    this.model = new ModelChoice(this.jobs, () => this.#info?.bundledModels ?? []);
    this.schedule = new Schedule(
      () => this.source.steps,
      () => this.model.trainTimesteps,
    );
    this.files = new ProjectFiles(this);
    this.autosave = new Autosave(() => this.files.writeRecovery());
    this.project = new Project(() => this.autosave.touch());
    const changed = () => this.project.markChanged();
    this.edits = new EditStack(this.schedule, changed);
    this.mask = new MaskState({
      doc: () => this.edits.doc,
      commit: (label, next) => this.edits.commit(label, next),
      size: () => (this.source.image ? { width: this.source.image.width, height: this.source.image.height } : null),
    });
    this.galleries = new Galleries({
      jobs: this.jobs,
      notices: this.notices,
      timestep: () => this.edits.timestep,
      onChange: changed,
      previewSteps: () => this.edits.params.previewSteps,
      mask: () => this.mask.current?.hash ?? null,
    });
    this.basisEstimate = new BasisEstimates(api);
    this.analysis = new AnalysisState(this.jobs, changed);
    this.globalDirections = new GlobalDirections(this.jobs);
    // Back online: what autosave kept in the page goes to the recovery folder.
    this.connection.onReconnected(() => void this.files.syncLocal());
  }

  get info(): AppInfo | null {
    return this.#info;
  }
  /** The applied result, else the source. */
  /** The exact image of the document (the applied result, else the source): what export writes. */
  get shownImage(): ShownImage | null {
    return this.#shownImage;
  }
  /** What the canvas shows: a live preview while a strength slider moves, else the exact image. */
  get canvasImage(): ShownImage | null {
    return this.result.preview ?? this.#shownImage;
  }
  get pendingRecipe(): PendingRecipe | null {
    return this.#pendingRecipe;
  }

  // ---------- start ----------
  async load(): Promise<void> {
    try {
      this.#info = await this.api.getAppInfo();
      const first = this.#info.bundledModels[0];
      if (first) await this.selectModel(first.dir, first.name);
      else if (this.model.recent[0]) await this.selectModel(this.model.recent[0]);
      // A copy the page kept while the engine was away (then reloaded) joins the recovery offer.
      await this.files.syncLocal();
      await this.files.loadRecovery();
    } catch (err) {
      this.notices.fail(err, 'Starting');
    }
  }

  // ---------- model ----------
  /**
   * Switch the model. The document belongs to the model it was made with, so switching closes it (unsaved work goes
   * to recovery first); `replacing` is for callers that load another document right after (open, restore recipe).
   */
  async selectModel(dir: string, name?: string, replacing = false): Promise<boolean> {
    const clean = dir.trim();
    if (!clean) return false;
    try {
      const { changed } = await this.model.open(clean, name);
      if (changed) {
        this.galleries.clear();
        if (this.source.current && !replacing) await this.#closeDocument(`Switched to ${this.model.name}: the previous image belonged to the other model.`);
      }
      return true;
    } catch (err) {
      this.notices.fail(err, 'Opening the model');
      return false;
    }
  }

  /** Electron: pick a model folder in a native dialog and open it. */
  async browseModel(): Promise<void> {
    try {
      const dir = await this.api.pickModelFolder();
      if (dir) await this.selectModel(dir);
    } catch (err) {
      this.notices.fail(err, 'Open model folder');
    }
  }

  // ---------- documents ----------
  /** Unsaved work worth asking about: the same rule as what replaceDocument keeps in recovery. */
  get hasUnsavedWork(): boolean {
    const { project, source, edits } = this;
    return project.dirty && source.current !== null && (edits.history.entries.length >= 2 || project.id !== null);
  }

  /**
   * Before `what` replaces the document: with unsaved work, ask Save / Discard / Cancel. True to go on (saved, or
   * the user chose Discard); false on Cancel or when the save did not happen (the document stays as it was).
   */
  async confirmReplace(what: string): Promise<boolean> {
    if (!this.hasUnsavedWork) return true;
    const electron = this.#info?.mode === 'electron';
    const needsName = !electron && (this.project.id === null || this.project.readOnly);
    const a = await this.guard.ask({ what, title: this.project.name, needsName });
    if (a.choice === 'cancel') return false;
    if (a.choice === 'discard') return true;
    if (await this.files.save()) return true;
    if (electron) {
      const target = await this.files.pickSaveTarget();
      return target ? this.files.saveAs({ id: target.id }) : false;
    }
    return a.name ? this.files.saveAs({ name: a.name }) : false;
  }

  /** The old document's result, renders, bases and history go; `label` names the new history's first entry. */
  #clearDocument(label: string): void {
    this.result.clear();
    this.galleries.clear();
    this.edits.reset(label);
    this.mask.reset();
    this.globalBases.reset();
  }

  /** Close the document (after keeping unsaved work in recovery): an empty canvas, a fresh history. */
  #closeDocument(why: string): Promise<void> {
    const hadWork = this.project.dirty && this.edits.history.entries.length > 1;
    return this.files.replaceDocument(() => {
      this.source.clear();
      this.prompt.noteInfo(null);
      this.#clearDocument('New');
      this.project.close();
      this.notices.notify('info', why, hadWork ? 'Your unsaved changes were kept; they are offered for recovery at the next start.' : undefined);
    });
  }

  /** New from seed: render the seed's image and start a fresh document (after asking about unsaved work). */
  async newFromSeed(): Promise<void> {
    if (!this.model.dir) return this.notices.notify('warning', 'Pick a model first.');
    if (this.#rendering?.ident !== this.#renderIdent() && !(await this.confirmReplace(`New from seed ${this.source.seedValue()}`))) return;
    return this.#newFromSeed();
  }

  #renderIdent(): string {
    return JSON.stringify([this.model.dir, this.source.seedValue(), this.source.steps, this.model.provider, this.model.textConditioned ? this.prompt.typed : null]);
  }

  /**
   * The render: pressing New again for the same seed while it runs joins it; another seed cancels it (saying so).
   * Directions still computing for the old image are stopped first, so the render does not wait behind them.
   */
  #newFromSeed(): Promise<void> {
    const ident = this.#renderIdent();
    if (this.#rendering?.ident === ident) return this.#rendering.promise;
    const seed = this.source.seedValue();
    const before = this.#rendering;
    if (before) {
      this.#rendering = null;
      this.notices.notify('info', `Stopped rendering seed ${before.seed}: rendering ${seed === before.seed ? 'it with the new settings' : `seed ${seed}`} instead.`);
      this.jobs.cancelAll('generate');
    }
    this.galleries.stop('a new image replaces this one');
    const run = { ident, seed, promise: Promise.resolve() };
    run.promise = this.#render(seed, run).finally(() => {
      if (this.#rendering === run) this.#rendering = null;
    });
    this.#rendering = run;
    return run.promise;
  }

  async #render(seed: number, run: object): Promise<void> {
    const steps = this.source.takeSteps(Math.min(1000, this.model.trainTimesteps));
    // Text models: the typed prompt becomes the document's; unconditional models refuse prompt parameters.
    const text = this.model.textConditioned ? this.prompt.take() : undefined;
    try {
      const input = { modelDir: this.model.dir, seed, steps, provider: this.model.provider, ...text };
      // The overlay stays until the new document (and its picture) is in place.
      await this.canvasProgress.run('generate', input, `Render seed ${seed}`, (out) =>
        this.files.replaceDocument(() => {
          this.model.noteProvider(out);
          this.source.setSeed(seed, toShown(out.images[0]), text);
          this.prompt.noteInfo(out.prompt);
          this.#clearDocument(`New from seed ${seed}`);
          this.project.startNew();
        }),
      );
    } catch (err) {
      // A superseded render's cancel was announced when it was superseded.
      if (this.#rendering === run) this.notices.fail(err, 'Rendering the seed');
    }
  }

  /** Import an image file: a PNG with our recipe offers to restore it; otherwise invert it (after asking). */
  async importFile(name: string, bytes: Uint8Array): Promise<void> {
    if (this.#refusedImport(name, bytes)) return;
    const recipe = parseRecipe(readPngText(bytes)[RECIPE_KEY]);
    if (recipe) {
      this.#pendingRecipe = { recipe, file: bytes, name };
      return;
    }
    await this.invertImage(name, bytes);
  }

  /** Invert the picture to x_T and start a document on it, after asking about unsaved work. */
  async invertImage(name: string, bytes: Uint8Array): Promise<void> {
    if (this.#refusedImport(name, bytes)) return;
    if (!this.model.dir) return this.notices.notify('warning', 'Pick a model first.');
    if (!(await this.confirmReplace(`Import ${name}`))) return;
    return this.#invertImage(name, bytes);
  }

  /**
   * A picture the engine would refuse (too big, not PNG/JPEG/WebP: shared/image-limits.ts) is refused here, before
   * the unsaved-work question and before sending: a request over the socket's limit would otherwise fail as a generic
   * invalid-input, and the picture also has to fit in every later project save.
   */
  #refusedImport(name: string, bytes: Uint8Array): boolean {
    const problem = importProblem(bytes);
    if (problem) this.notices.fail(new ApiError(problem), `Importing ${name}`);
    return problem !== null;
  }

  /** The inversion (the recon shows how faithfully the model reproduces the picture). */
  async #invertImage(name: string, bytes: Uint8Array): Promise<void> {
    this.#pendingRecipe = null;
    if (!this.model.dir) return this.notices.notify('warning', 'Pick a model first.');
    this.galleries.stop('a new image replaces this one');
    try {
      const steps = this.source.steps;
      const input = { modelDir: this.model.dir, image: bytes as Uint8Array<ArrayBuffer>, steps, provider: this.model.provider };
      // The invert job takes no prompt (inversion at the empty prompt, the authors' setting): the document's later
      // jobs must walk x_T down at that same conditioning, or x_t would no longer be the picture's.
      const text = this.model.textConditioned ? EMPTY_CONDITIONING : undefined;
      // The overlay stays until the new document (and its picture) is in place.
      const out = await this.canvasProgress.run('invert', input, `Invert ${name}`, async (out) => {
        const hash = await sha256Hex(bytes);
        await this.files.replaceDocument(() => {
          this.source.setImage({ kind: 'image', name, hash, file: bytes, xT: out.xT, timestep: out.timestep, psnr: out.psnr, poor: out.poor, ...(text ? { text } : {}) }, toShown(out.input), toShown(out.recon));
          this.prompt.noteInfo(null);
          this.#clearDocument(`Import ${name}`);
          this.project.startNew(name.replace(/\.[a-z0-9]+$/i, ''));
        });
        return out;
      });
      if (text && !isUnprompted(this.prompt.typed)) this.notices.notify('info', 'Imported pictures are inverted and edited without a prompt.', 'The prompt fields apply to New from seed.');
      // The engine works at the model's size: say so when the picture was scaled (and cropped), never silently.
      const resized = resizeNotice(imageSize(bytes), { width: out.input.width, height: out.input.height });
      if (resized) this.notices.notify('info', resized, 'The model edits pictures at its own size; export can upscale the result.');
      if (out.poor) this.notices.notify('warning', `The model reproduces this image poorly (PSNR ${out.psnr.toFixed(1)} dB).`, 'Edits will change more than the chosen direction. Images close to what the model was trained on invert best.');
    } catch (err) {
      this.notices.fail(err, 'Importing the image');
    }
  }

  /** Import the offered PNG as a picture instead of restoring its recipe. */
  importPendingAsImage(): Promise<void> {
    const p = this.#pendingRecipe;
    return p ? this.invertImage(p.name, p.file) : Promise.resolve();
  }

  /** Restore the recipe of a re-opened exported PNG: model, seed, and the edit stack; then render it. */
  async restoreRecipe(): Promise<void> {
    const p = this.#pendingRecipe;
    if (!p || !(await this.confirmReplace(`Restore the recipe of ${p.name}`))) return;
    this.#pendingRecipe = null;
    const r = p.recipe;
    if (r.model.dir !== this.model.dir && !(await this.selectModel(r.model.dir, r.model.name, true))) return;
    this.source.steps = r.steps;
    if (r.source.kind !== 'seed') {
      this.notices.notify('info', 'This image was made from an imported picture; importing the PNG itself instead.');
      return this.#invertImage(p.name, p.file);
    }
    this.source.seed = r.source.seed;
    // The recipe's prompt goes into the fields, which New from seed renders with.
    const text = recipeConditioning(r);
    if (this.model.textConditioned && text) this.prompt.show(text);
    await this.#newFromSeed();
    const edits = recipeEdits(r);
    if (edits.length) {
      this.galleries.k = r.edits[0].k;
      this.galleries.method = r.edits[0].method === 'subspace' ? 'subspace' : 'krylov';
      // A masked basis: its mask (by the hash its key names) and "Keep outside"; a basis prompt: into the field.
      const maskHash = parseBasisKey(edits[0].basisKey).mask;
      const carried = recipeMaskPng(r);
      // Only the PNG the key names: a recipe edited by hand must not put another mask under that hash.
      const png = carried && maskHash && (await sha256Hex(carried)) === maskHash ? carried : null;
      if (maskHash && png) this.mask.remember(maskHash, png);
      if (r.basisPrompt !== undefined) this.galleries.basisPrompt = r.basisPrompt;
      this.edits.commit('Restore recipe', {
        timestep: edits[0].t,
        edits,
        ...(r.params ? { params: resolveEditParams(r.params) } : {}),
        ...(maskHash && png ? { mask: maskHash, keepOutside: r.mask?.keepOutside ?? false } : {}),
      });
      await this.apply();
    }
  }

  // ---------- basis and edits ----------
  async computeBasis(): Promise<void> {
    const xt = this.source.xt;
    if (!xt || !this.model.dir) return this.notices.notify('warning', 'Start from a seed or import an image first.');
    // With a painted mask: the basis of J·M, a gallery of its own.
    const mask = this.mask.current;
    // A long basis is announced with its estimate first and starts only on "Compute anyway" (basis-estimate.svelte.ts);
    // one already computed or running has nothing to wait for.
    const key = basisKey(this.edits.timestep, this.galleries.method, this.galleries.k, mask?.hash, this.#galleryExtras().basisPrompt);
    const go = await this.basisEstimate.confirm({
      modelDir: this.model.dir,
      provider: this.model.provider,
      providerInUse: this.model.providerInUse,
      method: this.galleries.method,
      k: this.galleries.k,
      history: measuredBases(this.galleries.list),
      cached: this.galleries.running?.key === key || this.galleries.list.some((g) => g.key === key && g.status === 'done'),
    });
    if (!go) return;
    await this.galleries.compute({
      modelDir: this.model.dir,
      xt,
      timestep: this.edits.timestep,
      steps: this.source.steps,
      provider: this.model.provider,
      identity: this.source.identity,
      mask,
      ...this.#galleryExtras(),
    });
  }

  /**
   * What a gallery request takes from the document besides its source: the canvas picture (`centerImage`: the
   * gallery's centre is it and its ± previews add the edit's change; an imported image's no render reproduces, and a
   * seed's would cost a full render again), the basis prompt and a text model's edit prompt (previews follow ε at it).
   */
  #galleryExtras(): { centerImage?: Uint8Array<ArrayBuffer>; editPrompt?: string; basisPrompt?: string } {
    // Seeds too: the canvas image is generate's PNG, which the gallery would otherwise render again (a full render).
    const bytes = this.source.current ? this.source.image?.bytes : undefined;
    const text = this.model.textConditioned;
    const editPrompt = text ? this.edits.params.editPrompt : null;
    const basisPrompt = text ? this.galleries.basisPromptOrNull : null;
    return {
      ...(bytes ? { centerImage: bytes as Uint8Array<ArrayBuffer> } : {}),
      ...(editPrompt !== null ? { editPrompt } : {}),
      ...(basisPrompt !== null ? { basisPrompt } : {}),
    };
  }

  /**
   * The basis an entry's directions come from, as Apply and the strip send it: its k and method, and (text models) the
   * basis prompt its gallery was computed at, so the edit job loads that basis. Null when the key names a basis prompt
   * no gallery of the document knows (a notice says so).
   */
  #basisOf(key: string): { k: number; method: 'krylov' | 'subspace'; prompt?: string } | null {
    const b = parseBasisKey(key);
    if (!b.promptTag) return { k: b.k, method: b.method };
    // The gallery that computed it knows its prompt; a restored recipe's basis has no gallery yet, but the field holds
    // the recipe's basis prompt (its tag must be the key's).
    const field = this.galleries.basisPromptOrNull;
    const prompt = this.galleries.list.find((g) => g.key === key)?.basisPrompt ?? (field !== null && promptTag(field) === b.promptTag ? field : undefined);
    if (prompt !== undefined) return { k: b.k, method: b.method, prompt };
    this.notices.notify('warning', 'The basis prompt these directions were computed at is missing.', 'Compute the directions again with that basis prompt.');
    return null;
  }

  // ---------- analysis ----------
  /** Adds the document's source (its seed, or the imported image's x_T) to the analysis samples. */
  addSourceToAnalysis(): void {
    const s = this.source.current;
    if (!s) return this.notices.notify('warning', 'Start from a seed or import an image first.');
    // The analyze job takes no prompt: it would study the unprompted image of this seed, not the one shown.
    if (!isUnprompted(s.text)) return this.notices.notify('warning', 'Analyses do not take prompts yet: this image was rendered with one.', 'Clear the prompt fields and render the seed again to analyse it without a prompt.');
    if (s.kind === 'seed') this.analysis.addSeed(s.seed);
    else this.analysis.addImage(s.name, s.xT);
  }

  /**
   * Shows an analysed sample's basis at `timestep` in the gallery: the document becomes that seed (rendered with the
   * analysis's steps, so x_t is the analysed one) or keeps its imported image, and the gallery opens the basis the
   * analysis cached (`cacheId`), so nothing is recomputed but the previews.
   */
  async openAnalysisBasis(sample: AnalysisSampleEntry, timestep: number, basis: { k: number; method: 'krylov' | 'subspace'; steps: number; cacheId?: string }): Promise<void> {
    if (!this.model.dir) return this.notices.notify('warning', 'Pick a model first.');
    const s = this.source.current;
    if (sample.kind === 'seed') {
      // Analyses run without a prompt: on a text model, the analysed x_t is the seed's unprompted path.
      if (s?.kind !== 'seed' || s.seed !== sample.seed || this.source.steps !== basis.steps || !isUnprompted(s.text)) {
        this.source.seed = sample.seed;
        this.source.steps = basis.steps;
        if (this.model.textConditioned) this.prompt.show({ ...EMPTY_CONDITIONING, guidanceScale: this.prompt.typed.guidanceScale });
        await this.newFromSeed();
      }
    } else if (s?.kind !== 'image' || s.name !== sample.label || this.source.steps !== basis.steps) {
      return this.notices.notify('warning', `Open ${sample.label} in the editor (with ${basis.steps} steps) to browse its directions.`);
    }
    const xt = this.source.xt;
    if (!xt) return;
    this.edits.setTimestep(timestep);
    this.galleries.k = basis.k;
    this.galleries.method = basis.method;
    await this.galleries.compute({
      modelDir: this.model.dir,
      xt,
      timestep,
      steps: basis.steps,
      provider: this.model.provider,
      identity: this.source.identity,
      ...(basis.cacheId ? { cacheId: basis.cacheId } : {}),
      ...this.#galleryExtras(),
    });
  }

  /** Add direction `index` of the shown gallery to the stack. */
  addDirection(index: number): void {
    const g = this.galleries.current;
    if (g) this.edits.add(g, index);
  }

  /**
   * Add direction `index` of the Global directions panel's x-space basis to the document's stack at the basis's
   * timestep (one undo step). The basis is kept with the document (global-entries.ts), so the entry applies its exact
   * vector, transfers, and is saved with the project.
   */
  async addGlobalDirection(index: number): Promise<void> {
    if (!this.source.current) return this.notices.notify('warning', 'Open an image first.', 'A global direction is added to the edit stack of the image in the editor.');
    const shown = this.globalDirections.result;
    if (shown && shown.modelDir !== this.model.dir) return this.notices.notify('warning', 'These global directions belong to another model.', 'Compute them again with the model of this image.');
    const record = await this.globalDirections.record();
    if (!record) return this.notices.notify('warning', 'Only global directions in x edit an image.', 'Compute the global basis with space x.');
    if (!globalDirection(record, index)) return;
    this.globalBases.add(record);
    this.edits.add({ key: record.key, timestep: record.timestep }, index, `Add global direction ${index + 1} at t = ${record.timestep}`);
  }

  /** How the stack names an entry: "Direction 3", or a global one's "Global direction 2 (karcher, x, 3 samples)". */
  entryName(e: { basisKey: string; index: number }): string {
    return isGlobalBasisKey(e.basisKey) ? globalEntryName(this.globalBases.get(e.basisKey), e.index) : `Direction ${e.index + 1}`;
  }
  /** entryName in two parts (the stack's row is narrow): the name, and for a global entry what its basis is. */
  entryNameParts(e: { basisKey: string; index: number }): { name: string; detail?: string } {
    return isGlobalBasisKey(e.basisKey) ? globalEntryParts(this.globalBases.get(e.basisKey), e.index) : { name: `Direction ${e.index + 1}` };
  }

  /**
   * Entries of a global basis as explicit edits (the vectors the document keeps); undefined for a computed basis's
   * entries; null when the global basis is not in the document (a notice says so).
   */
  #explicitEdits(edits: readonly { basisKey: string; index: number; strength: number }[], sign: 1 | -1 = 1): ExplicitEdit[] | null | undefined {
    if (!edits.length || !isGlobalBasisKey(edits[0].basisKey)) return undefined;
    const record = this.globalBases.get(edits[0].basisKey);
    const out: ExplicitEdit[] = [];
    for (const e of edits) {
      const direction = record && globalDirection(record, e.index);
      if (!direction) {
        this.notices.notify('warning', 'The global basis of these directions is not in this document.', 'Compute it again in Analyze › Global directions and add its directions with “Add to edit”.');
        return null;
      }
      out.push({ direction, strength: sign * e.strength });
    }
    return out;
  }

  /** Render the stack at full quality (or show the render made for this stack before). */
  /** What Apply would render for the stack now (applyJobInput's request), or null without a source or edits. */
  #applyRequest(): { request: ApplyRequest; a: Applicable; explicit?: ExplicitEdit[] } | null {
    const xt = this.source.xt;
    const a = this.edits.applicable;
    if (!xt || !this.model.dir || !a) return null;
    const basis = parseBasisKey(a.edits[0].basisKey);
    const mask = this.#maskOf(basis.mask);
    const from = this.#basisOf(a.edits[0].basisKey);
    // Global entries: their own vectors replace the indexed edits (a global key names no mask or basis prompt).
    const explicit = this.#explicitEdits(a.edits);
    if (mask === null || from === null || explicit === null) return null;
    return {
      a,
      ...(explicit ? { explicit } : {}),
      request: {
        ...mask,
        modelDir: this.model.dir,
        source: xt,
        timestep: a.t,
        steps: this.source.steps,
        basis: from,
        edits: a.edits,
        params: this.edits.params,
        textConditioned: this.model.textConditioned,
        provider: this.model.provider,
      },
    };
  }

  /**
   * Masked directions are applied with their basis's mask (its hash is in the basis key) as the edit's region, not
   * with whatever is painted now. `{}` for unmasked directions; null when the mask is not known (a notice says so).
   */
  #maskOf(hash: string | undefined): { mask?: { png: Uint8Array; keepOutside: boolean } } | null {
    if (!hash) return {};
    const png = this.mask.png(hash);
    if (png) return { mask: { png, keepOutside: this.mask.keepOutside } };
    this.notices.notify('warning', 'The mask these directions were computed with is missing.', 'Compute the directions again with the mask painted.');
    return null;
  }

  /**
   * A strength slider moved: show a fast approximate render of the stack (shared/live-preview.ts) at the engine's
   * preview priority, so it goes ahead of a running basis or analysis. One preview is made at a time and the latest
   * slider values follow when it is done (a new request for every input event would only cancel the one running);
   * the exact render replaces it when the slider is released (previewRelease). A preview of an earlier value of the
   * same drag is still shown while the latest one renders: it is nearer than the last exact image, and labelled.
   */
  previewDrag(): void {
    if (this.#previewBusy) {
      this.#previewPending = true;
      return;
    }
    void this.#runPreviews();
  }

  /** The slider was released: previews in flight are void, and the exact render (Apply) replaces the preview. */
  previewRelease(): Promise<void> {
    this.#previewPending = false;
    return this.apply();
  }

  /** Previews in flight are void (not shown) and the running one is cancelled: the exact render goes next. */
  #voidPreviews(): void {
    this.#previewVoided++;
    if (this.#previewJobKey !== null) this.jobs.cancel(this.#previewJobKey);
  }

  async #runPreviews(): Promise<void> {
    this.#previewBusy = true;
    try {
      do {
        this.#previewPending = false;
        const voided = this.#previewVoided;
        const r = this.#applyRequest();
        if (!r) {
          this.result.dropPreview();
          return;
        }
        try {
          const preview = livePreviewJobInput(r.request);
          const out = await this.jobs.run('edit', withExplicitOrIndexed(r.explicit, preview), 'Live preview', undefined, { priority: 'preview', coalesceKey: 'live-preview' }, (key) => (this.#previewJobKey = key));
          // Not shown once the release or an exact render came since it was asked: it would cover the exact image.
          if (voided === this.#previewVoided) this.result.showPreview(toShown(out.image));
        } catch (err) {
          const shown = toShownError(err);
          if (shown.code !== 'superseded' && shown.code !== 'cancelled') this.notices.fail(err, 'Previewing the edit');
          return;
        } finally {
          this.#previewJobKey = null;
        }
      } while (this.#previewPending);
    } finally {
      this.#previewBusy = false;
    }
  }

  async apply(): Promise<void> {
    const xt = this.source.xt;
    if (!xt || !this.model.dir) return;
    // A preview asked before this render must not land on top of it, nor hold the engine up.
    this.#voidPreviews();
    const r = this.#applyRequest();
    if (!r) {
      this.result.showNone();
      this.edits.markApplied();
      return;
    }
    const a = r.a;
    const input = withExplicitOrIndexed(r.explicit, applyJobInput(r.request));
    // Identity of the render: what the engine would be asked (the edit parameters included).
    const key = JSON.stringify([this.model.dir, this.source.identity, this.source.steps, a.t, a.edits.map((e) => [e.basisKey, e.index, e.strength]), this.edits.params, this.model.textConditioned, input.regionBlend ?? null]);
    try {
      const rendered = await this.result.show(key, async () => {
        // The overlay goes as the render resolves; show() puts the image on the canvas in the same turn.
        return this.canvasProgress.run('edit', input, `Apply ${a.edits.length} edit${a.edits.length === 1 ? '' : 's'}`, (out) => toShown(out.image));
      });
      this.edits.markApplied();
      if (!rendered) return;
      this.project.markChanged();
      if (a.skipped) this.notices.notify('warning', `${a.skipped} edit${a.skipped === 1 ? '' : 's'} at another timestep or basis were not applied.`, 'Apply renders the edits of one timestep and basis together.');
    } catch (err) {
      this.notices.fail(err, 'Applying the edits');
    }
  }

  // ---------- history: the canvas follows the restored stack (one render, or none from the cache) ----------
  undo(): Promise<void> {
    return this.edits.undo() ? this.apply() : Promise.resolve();
  }
  redo(): Promise<void> {
    return this.edits.redo() ? this.apply() : Promise.resolve();
  }
  jumpTo(i: number): Promise<void> {
    return this.edits.jumpTo(i) ? this.apply() : Promise.resolve();
  }

  // ---------- export ----------
  /** The recipe of what is shown: the source and the applied edits. */
  recipe(): Recipe | null {
    const s = this.source.current;
    if (!s) return null;
    const applied = this.edits.applicable?.edits ?? [];
    // The applied entries' basis: its mask PNG and basis prompt travel with the recipe, so restoring it edits alike.
    const key = applied[0]?.basisKey;
    const maskHash = key ? parseBasisKey(key).mask : undefined;
    const png = maskHash ? this.mask.png(maskHash) : undefined;
    const basisPrompt = key ? this.galleries.list.find((g) => g.key === key)?.basisPrompt : undefined;
    return buildRecipe({ name: this.model.name, dir: this.model.dir }, s, this.source.steps, applied, this.edits.params, {
      ...(png ? { mask: { png, keepOutside: this.mask.keepOutside } } : {}),
      ...(basisPrompt !== undefined ? { basisPrompt } : {}),
    });
  }

  /** The PNG to export: the shown image with the recipe in tEXt chunks. */
  exportPng(): { name: string; bytes: Uint8Array } | null {
    const img = this.shownImage;
    const r = this.recipe();
    if (!img || !r) return null;
    return { name: `${this.project.name || 'pullback'}.png`, bytes: addPngText(img.bytes, recipeText(r, this.#info?.version)) };
  }

  /** The −/0/+ previews of one gallery direction and the text chunks saying what they show (the page composes the PNG). */
  stripParts(index: number): { name: string; images: Uint8Array[]; text: Record<string, string> } | null {
    const g = this.galleries.current;
    const r = g?.rows.find((x) => x.index === index);
    const center = g?.center ?? this.source.image;
    const recipe = this.recipe();
    if (!g || !r?.minus || !r.plus || !center || !recipe) return null;
    const strength = g.strength;
    const text = {
      Software: softwareName(this.#info?.version),
      Model: this.model.name,
      Source: describeSource(recipe.source),
      Timestep: String(g.timestep),
      Directions: `#${index + 1} at -${strength}, 0, +${strength} (preview quality, ${g.method}, k = ${g.k})`,
    };
    return { name: `${this.project.name || 'pullback'}-t${g.timestep}-dir${index + 1}-strip.png`, images: [r.minus.bytes, center.bytes, r.plus.bytes], text };
  }

  /**
   * The authors' strip of the applied stack (method.md §2): renders after 0, 4, 8, … n guidance steps, with the stack's
   * strengths negated (−) and as they are (+), laid out −n … 0 … +n, at Apply's quality and parameters (two `edit`
   * jobs with `frames`; the page composes the PNG). Guidance mode only: the plain move has no steps to show.
   */
  async guidanceStrip(): Promise<{ name: string; images: Uint8Array[]; text: Record<string, string> } | null> {
    const xt = this.source.xt;
    const a = this.edits.applicable;
    const recipe = this.recipe();
    if (!xt || !this.model.dir || !a || !recipe) {
      this.notices.notify('warning', 'Add a direction with a non-zero strength first.');
      return null;
    }
    const p = this.edits.params;
    if (p.mode !== 'guidance') {
      this.notices.notify('warning', 'The strip shows guidance steps: set Advanced › Mode to Guidance.');
      return null;
    }
    // Frames exist only where the first m of n steps are an m-step edit: summed guidance (one direction: either way).
    if (p.composition === 'sequential' && a.edits.length > 1) {
      this.notices.notify('warning', 'The strip shows the directions guided together.', 'Set Advanced › Several directions to Together, or keep one direction in the stack.');
      return null;
    }
    const frames = stripFrames(p.guidanceSteps);
    const basis = parseBasisKey(a.edits[0].basisKey);
    const mask = this.#maskOf(basis.mask);
    const from = this.#basisOf(a.edits[0].basisKey);
    const plus = this.#explicitEdits(a.edits, 1);
    if (mask === null || from === null || plus === null) return null;
    const minus = this.#explicitEdits(a.edits, -1);
    const input = (sign: 1 | -1) => ({
      ...withExplicitOrIndexed(sign > 0 ? plus : minus, applyJobInput({
        modelDir: this.model.dir,
        source: xt,
        timestep: a.t,
        steps: this.source.steps,
        basis: from,
        edits: a.edits.map((e) => ({ index: e.index, strength: sign * e.strength })),
        ...mask,
        params: { ...p, composition: 'summed' },
        textConditioned: this.model.textConditioned,
        provider: this.model.provider,
      })),
      frames,
    });
    try {
      const minus = await this.jobs.run('edit', input(-1), 'Strip: − frames');
      const plus = await this.jobs.run('edit', input(1), 'Strip: + frames');
      const frame = (out: typeof plus, m: number) => {
        const f = out.frames?.find((x) => x.guidanceSteps === m);
        if (!f) throw new Error(`the engine returned no frame after ${m} guidance steps`);
        return f.image.bytes;
      };
      const images = [...frames.slice(1).reverse().map((m) => frame(minus, m)), frame(plus, 0), ...frames.slice(1).map((m) => frame(plus, m))];
      const text = {
        ...recipeText(recipe, this.#info?.version),
        Directions: `${a.edits.map((e) => `${isGlobalBasisKey(e.basisKey) ? 'global ' : ''}#${e.index + 1} × ${e.strength}`).join(', ')} (negated on the left), after ${frames.join(', ')} guidance steps (n = ${p.guidanceSteps}, s = ${p.scale}, δ = ${p.delta})`,
      };
      return { name: `${this.project.name || 'pullback'}-t${a.t}-guidance-strip.png`, images, text };
    } catch (err) {
      this.notices.fail(err, 'Rendering the strip');
      return null;
    }
  }
}

/** An indexed job input as it is, or with a global basis's explicit directions (Apply, the live preview, the strip). */
function withExplicitOrIndexed(explicit: ExplicitEdit[] | null | undefined, input: ReturnType<typeof applyJobInput>): ReturnType<typeof applyJobInput> {
  return explicit ? withExplicitDirections(input, explicit) : input;
}
