/**
 * The basis galleries: for each computed (timestep, method, k) its directions' σ and −/0/+ previews, streamed in as
 * the gallery job renders them; the one for the picker's timestep is `current`. Also what makes them readable: the
 * preview strength (a new one re-renders the shown gallery's previews from its cached basis), the −/+ preview enlarged
 * against the centre, and the timestep × direction grid of all of them (gallery-grid.ts).
 *
 * One gallery job at a time: asking again for the one that runs joins it (pressing B twice must not queue the same
 * minutes-long job twice), asking for another one supersedes it (cancelled, with a notice saying so), and replacing
 * the document stops it the same way, so no result is computed only to be thrown away unseen.
 *
 * Just over 400 lines: keys (basis-key.ts), texts (gallery-text.ts), persistence (gallery-persist.ts) and the grid
 * live apart already; what stays is the one job's lifecycle and the choice of the shown gallery (timestep, k, method,
 * mask, basis prompt), which read best together.
 */
import { GALLERY_DEFAULTS } from '../../../../src-main/shared/edit-defaults';
import type { GalleryPartial, ProviderPreference } from '../../../../src-main/shared/api';
import type { BasisRef } from '../../../../src-main/shared/project-manifest';
import type { JobsState } from './jobs.svelte';
import type { Notices } from './notices.svelte';
import { toShown, type ShownImage } from './images';
import { clampInt, type XtInput } from './source.svelte';
import { GALLERY_PREVIEW_STRENGTH, PREVIEW_STRENGTH_LIMITS } from './gallery-strength';
import { galleryGrid, type GalleryGrid } from './gallery-grid';
import { basisKey, parseBasisKey, type BasisMethodChoice } from './basis-key';
export { basisKey, parseBasisKey, promptTag, METHOD_LABELS, type BasisMethodChoice } from './basis-key';
import { restoredGallery } from './gallery-persist';
import { previewLabel, type GalleryStats } from './gallery-text';
// Re-exported: components and tests import the gallery's texts from here.
export { formatStrength, galleryTimingText, previewLabel, type GalleryStats } from './gallery-text';


export interface GalleryRow {
  index: number;
  sigma?: number;
  /** Image change per unit strength (8-bit levels, mean |Δ| of the −/+ previews from the centre; issue 13 item 5). */
  change?: number;
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
  /** The strength its −/+ previews show (the preview-strength control's value when they were rendered). */
  strength: number;
  /** DDIM steps its −/+ previews were rendered with (kept in the project with them). */
  previewSteps?: number;
  status: 'computing' | 'done' | 'cancelled' | 'failed';
  /** With what its Jacobians ran on and why earlier providers were skipped (computed bases of this session). */
  stats?: GalleryStats & { jacobianProvider?: string; jacobianFallbackReason?: string };
  /** The engine's cache id of this basis: the next gallery of the document warm-starts from it. */
  cacheId?: string;
  /** Masked basis (of J·M): the mask's hash (mask.svelte.ts); its key ends in `-m<hash>`. */
  mask?: string;
  /** Text models: the basis prompt J was taken at (the key's `-p` tag names it); absent: the document's prompt. */
  basisPrompt?: string;
}

/**
 * The finished krylov gallery nearest in timestep to `timestep` (same k preferred), whose basis starts the next one:
 * the local geometry changes little between neighbouring steps, so moving the timestep one step costs ≈ 30 % fewer
 * Jacobian products than a cold basis. Galleries belong to one document, so every candidate is of the same image.
 */
export function warmStartSource(galleries: readonly Gallery[], timestep: number, k: number): Gallery | null {
  let best: Gallery | null = null;
  const score = (g: Gallery) => Math.abs(g.timestep - timestep) * 2 + (g.k === k ? 0 : 1);
  for (const g of galleries) {
    if (g.status !== 'done' || !g.cacheId || g.method !== 'krylov' || g.timestep === timestep) continue;
    if (!best || score(g) < score(best)) best = g;
  }
  return best;
}

/** A masked basis's key carries its mask's hash: the same timestep with and without a mask are two galleries. */
/** What a gallery job needs besides the basis choice. */
export interface GalleryRequest {
  modelDir: string;
  xt: XtInput;
  timestep: number;
  steps: number;
  provider: ProviderPreference;
  /** A basis the engine's cache holds (an analysis record's), opened as it is instead of computing one. */
  cacheId?: string;
  /** The source's identity (`seed:42`, `image:<sha256>`): with the rest, what makes two requests the same job. */
  identity?: string | null;
  /** An imported image's canvas picture (PNG): the gallery's centre is it, ± are it + the edit's change. */
  centerImage?: Uint8Array<ArrayBuffer>;
  /** Text models: the document's edit prompt (its previews follow ε at it, as Apply does). */
  editPrompt?: string;
  /** The painted mask: the basis of J·M (the job's `mask`), a gallery of its own (the key names the hash). */
  mask?: { hash: string; png: Uint8Array } | null;
  /** Text models: take J at this prompt instead of the document's (the gallery job's `basisPrompt`). */
  basisPrompt?: string;
}

/** A −/+ preview shown at canvas size against the centre preview (the gallery's enlarge-on-click). */
export interface EnlargedPreview {
  /** "−2 · direction 3": the sign and strength of the preview and its direction (1-based, as the rows number them). */
  label: string;
  image: ShownImage;
  /** The unedited preview, rendered like the −/+ ones, so the difference is the edit only. */
  center: ShownImage;
}

/** The gallery job in flight. */
interface Running {
  key: string;
  timestep: number;
  /** Everything the job depends on: an equal request joins it. */
  ident: string;
  promise: Promise<void>;
}

export class Galleries {
  /**
   * Preview quality: DDIM steps of each −/+ thumbnail (the document's Advanced setting, capped at its steps), so
   * previews are approximate renders of the edit.
   */
  get previewSteps(): number {
    return this.#previewSteps?.() ?? GALLERY_DEFAULTS.previewSteps;
  }
  readonly #previewSteps: (() => number) | undefined;
  readonly #jobs: JobsState;
  readonly #notices: Notices;
  readonly #timestep: () => number;
  readonly #onChange: () => void;
  readonly #mask: () => string | null;
  #k = $state(8);
  #method = $state<BasisMethodChoice>('krylov');
  #list = $state.raw<Gallery[]>([]);
  #running = $state.raw<Running | null>(null);
  #current = $derived.by(() => {
    const t = this.#timestep();
    const mask = this.#mask();
    const prompt = this.basisPromptOrNull;
    return (
      this.#list.find((g) => g.key === basisKey(t, this.#method, this.#k, mask, prompt)) ??
      this.#list.find((g) => g.timestep === t && (g.mask ?? null) === mask && (g.basisPrompt ?? null) === prompt) ??
      this.#list.find((g) => g.timestep === t) ??
      null
    );
  });
  #previewStrength = $state(GALLERY_PREVIEW_STRENGTH);
  /** The basis-prompt field (text models): empty = the document's prompt. */
  #basisPrompt = $state('');
  /**
   * The last request each gallery was computed with: a new preview strength re-renders its previews with it. Not
   * reactive on purpose: nothing renders it.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #requests = new Map<string, GalleryRequest>();
  #enlargedRef = $state.raw<{ key: string; index: number; sign: -1 | 1 } | null>(null);
  #enlarged = $derived.by((): EnlargedPreview | null => {
    const ref = this.#enlargedRef;
    const g = ref && this.#list.find((x) => x.key === ref.key);
    const row = g?.rows.find((r) => r.index === ref?.index);
    const image = ref?.sign === -1 ? row?.minus : row?.plus;
    if (!ref || !g?.center || !image) return null;
    return { label: previewLabel(ref.sign, g.strength, ref.index), image, center: g.center };
  });
  /** One operator per grid (a column never mixes J and J·M): the painted mask's galleries if any, else the unmasked. */
  #grid = $derived.by(() => {
    const mask = this.#mask();
    const same = this.#list.filter((g) => g.mask === (mask ?? undefined));
    return galleryGrid(same.length ? same : this.#list.filter((g) => !g.mask), this.#method, this.#k);
  });

  /** `timestep`: the picker's; `onChange`: a basis was computed (the document changed). */
  constructor(deps: { jobs: JobsState; notices: Notices; timestep: () => number; onChange: () => void; previewSteps?: () => number; mask?: () => string | null }) {
    this.#previewSteps = deps.previewSteps;
    this.#mask = deps.mask ?? (() => null);
    this.#jobs = deps.jobs;
    this.#notices = deps.notices;
    this.#timestep = deps.timestep;
    this.#onChange = deps.onChange;
  }

  /** Directions to compute (the k field; may be empty while typed). */
  get k(): number {
    return this.#k;
  }
  set k(v: number) {
    this.#k = v;
  }
  get method(): BasisMethodChoice {
    return this.#method;
  }
  set method(v: BasisMethodChoice) {
    this.#method = v;
  }
  /** The basis-prompt field as typed (text models). */
  get basisPrompt(): string {
    return this.#basisPrompt;
  }
  set basisPrompt(v: string) {
    this.#basisPrompt = v.slice(0, 20_000);
  }
  /** The basis prompt to compute with: the field trimmed, or null when empty (the document's prompt). */
  get basisPromptOrNull(): string | null {
    const v = this.#basisPrompt.trim();
    return v === '' ? null : v;
  }
  get list(): Gallery[] {
    return this.#list;
  }
  /** The gallery of the picker's timestep: the chosen method and k, else any computed there. */
  get current(): Gallery | null {
    return this.#current;
  }
  /** The gallery being computed (whatever the picker's timestep): its key and timestep, or null. */
  get running(): { key: string; timestep: number } | null {
    return this.#running;
  }
  /** The strength the next previews show (the gallery's preview-strength field). */
  get previewStrength(): number {
    return this.#previewStrength;
  }

  /**
   * A new preview strength (clamped to PREVIEW_STRENGTH_LIMITS): the shown gallery's previews are rendered again at it,
   * from the basis the engine cached (its cacheId), so no Jacobian product is spent (a gallery restored from a project
   * too: it keeps its cache id). One without a cached basis keeps its previews and gets the new strength when computed.
   */
  setPreviewStrength(value: number): Promise<void> {
    const { min, max } = PREVIEW_STRENGTH_LIMITS;
    const v = Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : this.#previewStrength;
    if (v === this.#previewStrength) return Promise.resolve();
    this.#previewStrength = v;
    const g = this.#current;
    const req = g && this.#requests.get(g.key);
    if (!g || g.status !== 'done' || !g.cacheId || !req || g.strength === v) return Promise.resolve();
    // The k and method fields may have moved since: re-render this gallery, not what the fields say now.
    this.#choose(g.key);
    return this.compute({ ...req, cacheId: g.cacheId });
  }

  /** The −/+ preview shown enlarged against the centre, or null. */
  get enlarged(): EnlargedPreview | null {
    return this.#enlarged;
  }
  /** Enlarge the − (`sign` −1) or + preview of direction `index` of the shown gallery. */
  enlarge(index: number, sign: -1 | 1): void {
    const g = this.#current;
    if (g) this.#enlargedRef = { key: g.key, index, sign };
  }
  closeEnlarged(): void {
    this.#enlargedRef = null;
  }

  /** The previews of every gallery of the document: rows = directions, columns = timesteps. */
  get grid(): GalleryGrid {
    return this.#grid;
  }

  /**
   * Compute the basis at `req.timestep` with the chosen k and method; previews stream into the gallery. The same
   * request while it runs joins the running job; another one cancels it first (saying so).
   */
  compute(req: GalleryRequest): Promise<void> {
    this.#k = clampInt(this.#k, 1, 64, 8);
    const key = basisKey(req.timestep, this.#method, this.#k, req.mask?.hash, req.basisPrompt);
    const ident = JSON.stringify([
      key,
      req.modelDir,
      req.identity ?? ('seed' in req.xt ? `seed:${req.xt.seed}` : null),
      req.steps,
      req.provider,
      req.cacheId ?? null,
      this.previewSteps,
      this.#previewStrength,
      req.editPrompt ?? null,
    ]);
    const running = this.#running;
    if (running?.ident === ident) return running.promise;
    if (running) this.stop(`computing t = ${req.timestep} (k = ${this.#k}) instead`);
    const run: Running = { key, timestep: req.timestep, ident, promise: Promise.resolve() };
    run.promise = this.#compute(req, key, run).finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run.promise;
  }

  /** Cancel the running gallery job, if any, with a notice giving `why` ("… instead", "the document was replaced"). */
  stop(why: string): void {
    const r = this.#running;
    if (!r) return;
    this.#running = null;
    this.#notices.notify('info', `Stopped computing the directions at t = ${r.timestep}: ${why}.`);
    this.#jobs.cancelAll('gallery');
  }

  async #compute(req: GalleryRequest, key: string, run: Running): Promise<void> {
    const { timestep } = req;
    const k = this.#k;
    const method = this.#method;
    const strength = this.#previewStrength;
    this.#requests.set(key, req);
    // Only a basis of the same operator (J, or J·M with the same mask) is a good start.
    const mask = req.mask?.hash;
    const sameOperator = this.#list.filter((g) => g.mask === mask);
    const warmFrom = method === 'krylov' && !req.cacheId ? warmStartSource(sameOperator, timestep, k) : null;
    // The same basis again (a new preview strength, or Compute pressed again): σ and the |v| maps stay shown while
    // the previews render; they belong to the basis, which is the same (the key names it within one document).
    const before = this.#list.find((x) => x.key === key);
    const rows: GalleryRow[] = before?.rows.map((r) => ({ index: r.index, sigma: r.sigma, heat: r.heat })) ?? [];
    const previewSteps = Math.min(this.previewSteps, req.steps);
    const computing: Gallery = { key, timestep, k, method, rows, sigmas: before?.sigmas ?? [], strength, previewSteps, status: 'computing', ...(mask ? { mask } : {}), ...(req.basisPrompt !== undefined ? { basisPrompt: req.basisPrompt } : {}) };
    this.#list = [...this.#list.filter((x) => x.key !== key), computing];
    // A job replaced by another of the same key (e.g. other preview settings) must not touch the new job's gallery.
    const replaced = () => this.#running !== run && this.#running?.key === key;
    const update = (f: (x: Gallery) => Gallery) => {
      if (!replaced()) this.#list = this.#list.map((x) => (x.key === key ? f(x) : x));
    };
    const asked = performance.now();
    try {
      const out = await this.#jobs.run(
        'gallery',
        {
          modelDir: req.modelDir,
          ...req.xt,
          timestep,
          steps: req.steps,
          k,
          method,
          previewSteps,
          strength,
          provider: req.provider,
          ...(req.cacheId ? { cacheId: req.cacheId } : {}),
          ...(warmFrom?.cacheId ? { warmFromCacheId: warmFrom.cacheId } : {}),
          ...(req.centerImage ? { centerImage: req.centerImage } : {}),
          ...(req.editPrompt !== undefined ? { editPrompt: req.editPrompt } : {}),
          ...(req.mask ? { mask: { image: req.mask.png as Uint8Array<ArrayBuffer> } } : {}),
          ...(req.basisPrompt !== undefined ? { basisPrompt: req.basisPrompt } : {}),
        },
        `Basis at t = ${timestep} (k = ${k})`,
        (partial) => {
          const p = partial as GalleryPartial;
          // A superseded job's late partials must not overwrite the previews of the job that replaced it.
          if (this.#running !== run) return;
          if (p?.kind !== 'gallery-thumb' && p?.kind !== 'gallery-heat') return;
          const field = p.kind === 'gallery-heat' ? 'heat' : p.sign < 0 ? 'minus' : 'plus';
          update((x) => {
            const rows = x.rows.some((r) => r.index === p.index) ? x.rows : [...x.rows, { index: p.index }];
            return { ...x, rows: rows.map((r) => (r.index === p.index ? { ...r, [field]: toShown(p.image) } : r)) };
          });
        },
      );
      update((x) => ({
        ...x,
        status: 'done',
        sigmas: out.items.map((i) => i.sigma),
        center: toShown(out.center),
        rows: out.items.map((i) => ({ index: i.index, sigma: i.sigma, minus: toShown(i.minus), plus: toShown(i.plus), heat: toShown(i.heat), ...(i.change !== undefined ? { change: i.change } : {}) })),
        stats: {
          iterations: out.basis.iterations,
          converged: out.basis.converged,
          residual: out.basis.residuals.at(-1),
          seconds: out.basis.seconds,
          cacheHit: out.basis.cacheHit,
          products: out.basis.jacobianProducts.total,
          warmStarted: out.basis.warmStarted ?? false,
          previewsFromCache: out.previewsFromCache ?? false,
          totalSeconds: (performance.now() - asked) / 1000,
          ...(out.basis.jacobianProvider ? { jacobianProvider: out.basis.jacobianProvider } : {}),
          ...(out.basis.jacobianFallbackReason ? { jacobianFallbackReason: out.basis.jacobianFallbackReason } : {}),
        },
        cacheId: out.basis.cacheId,
      }));
      this.#onChange();
    } catch (err) {
      // A superseded job's cancel was already announced by stop().
      const e = this.#running === run ? this.#notices.fail(err, 'Computing the basis') : null;
      update((x) => ({ ...x, status: e ? 'failed' : 'cancelled' }));
    }
  }

  /** The user's Cancel. */
  cancel(): void {
    this.#jobs.cancelAll('gallery');
  }

  /** The document is gone: its galleries too, and a job still computing one is stopped (with a notice). */
  clear(): void {
    this.stop('the document was replaced');
    this.#list = [];
    this.#requests.clear();
    this.#enlargedRef = null;
  }

  /**
   * The bases of an opened project with the previews its file still holds (`blobs`, gallery-persist.ts), shown at once.
   * With `request` (the opened document's model and source), a restored basis with a cache id re-renders a new preview
   * strength from the engine's cached basis. The picker's k and method follow `shown` (the basis the stack uses), else
   * the last one.
   */
  restore(
    bases: BasisRef[],
    shown?: string,
    saved: { blobs?: Record<string, Uint8Array>; request?: Omit<GalleryRequest, 'timestep' | 'cacheId'>; maskPng?: (hash: string) => Uint8Array | undefined } = {},
  ): void {
    this.stop('the document was replaced');
    this.#requests.clear();
    this.#enlargedRef = null;
    this.#list = bases.map((b) => {
      const mask = parseBasisKey(b.key).mask;
      // The request a new preview strength re-renders with: a masked basis needs its mask's PNG (without it the key
      // would name the unmasked gallery), a basis prompt its prompt.
      const png = mask ? saved.maskPng?.(mask) : undefined;
      if (saved.request && b.cacheId && (!mask || png)) {
        this.#requests.set(b.key, {
          ...saved.request,
          timestep: b.t,
          ...(mask && png ? { mask: { hash: mask, png } } : {}),
          ...(b.basisPrompt !== undefined ? { basisPrompt: b.basisPrompt } : {}),
        });
      }
      return { ...restoredGallery(b, saved.blobs ?? {}, this.#previewStrength), ...(mask ? { mask } : {}) };
    });
    const used = shown ?? bases.at(-1)?.key;
    if (used) this.#choose(used);
  }

  /** Set the k and method fields to those of a basis key. */
  #choose(key: string): void {
    const b = parseBasisKey(key);
    this.#k = b.k;
    this.#method = b.method;
  }
}
