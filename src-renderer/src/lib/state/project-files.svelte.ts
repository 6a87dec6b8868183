/**
 * The document on disk, through the project service (`project` command): Save / Save As / Open, the recovery copies
 * autosave writes and their Recover / Discard offer, and what a project file holds (manifest + content-addressed
 * blobs). Latents are not stored: seed projects re-derive them, image projects re-run `invert` on open.
 */
import { ApiError } from '../../../../src-main/shared/errors';
import { callProject, type OpenedProject, type ProjectEntry, type RecoveryEntry } from '../../../../src-main/shared/project-api';
import { PROJECT_FORMAT, PROJECT_FORMAT_VERSION, type AnalysisRef, type ProjectManifest } from '../../../../src-main/shared/project-manifest';
import { AnalysisResultSchema } from '../../../../src-main/shared/analysis-api';
import type { SavedAnalyses } from './analysis.svelte';
import type { Notices } from './notices.svelte';
import { nowIso, sha256Hex } from '../bytes';
import { pngSize, toShown, type ShownImage } from './images';
import type { EditorState } from './editor.svelte';
import { galleryRefs } from './gallery-persist';
import { EMPTY_CONDITIONING, normalizeConditioning, type TextConditioning } from './prompt.svelte';
import { masksToSave } from './mask-project';
import { dropEntriesOf, globalBasisRefs, globalKeysOf, isGlobalBasisKey, readGlobalBases } from './global-entries';

export interface ProjectContent {
  manifest: ProjectManifest;
  /** Bytes by sha256: sent as they are (binary frame / structured clone), never as base64 on the main thread. */
  blobs: Record<string, Uint8Array>;
}

const NOTHING_TO_SAVE = 'Nothing to save yet: start from a seed or import an image.';

export class ProjectFiles {
  readonly #ed: EditorState;
  #recovery = $state.raw<RecoveryEntry[]>([]);
  /** Unsaved work is only in the page's storage (the engine could not be reached). */
  #heldLocally = $state(false);

  constructor(ed: EditorState) {
    this.#ed = ed;
  }

  /** Unsaved work left behind by earlier sessions, offered for recovery. */
  get recovery(): RecoveryEntry[] {
    return this.#recovery;
  }

  /** True while autosave holds the document in the page because the engine cannot be reached. */
  get heldLocally(): boolean {
    return this.#heldLocally;
  }

  async loadRecovery(): Promise<void> {
    this.#recovery = await callProject(this.#ed.api, { op: 'recovery.list' });
  }

  /** The document as a project file, or null without a source. */
  async content(): Promise<ProjectContent | null> {
    const { source, result, galleries, edits, model, project } = this.#ed;
    const s = source.current;
    if (!s) return null;
    const blobs: Record<string, Uint8Array> = {};
    const put = async (b: Uint8Array | undefined) => {
      if (!b) return undefined;
      const h = await sha256Hex(b);
      blobs[h] = b;
      return h;
    };
    const sourceBlob = s.kind === 'image' ? await put(s.file) : undefined;
    const images = { source: await put(source.image?.bytes), result: await put(result.image?.bytes) };
    const analyses: AnalysisRef[] = [];
    const kept = this.#ed.analysis.saved;
    for (const [role, a] of [['result', kept.result], ['comparison', kept.comparison]] as const) {
      if (a) analyses.push({ blob: (await put(new TextEncoder().encode(JSON.stringify(a.result))))!, role, label: a.label.slice(0, 200) });
    }
    // The finished galleries with their cache ids and previews (gallery-persist.ts: preview PNGs within a budget).
    const { bases, blobs: previews } = await galleryRefs(galleries.list, sha256Hex);
    Object.assign(blobs, previews);
    // The mask PNGs the document names (painted masks in its history, masked bases), as content-addressed blobs.
    const saved = masksToSave(
      { entries: edits.history.entries, index: edits.history.index },
      bases.map((b) => b.key),
      (h) => this.#ed.mask.png(h) !== undefined,
    );
    for (const h of saved.masks) await put(this.#ed.mask.png(h));
    // The global bases the saved states' entries use (global-entries.ts): optional blobs of their own manifest field.
    const globals = await globalBasisRefs(this.#ed.globalBases, globalKeysOf([edits.doc, ...saved.history.entries.map((e) => e.state)]));
    Object.assign(blobs, globals.blobs);
    const manifest: ProjectManifest = {
      format: PROJECT_FORMAT,
      formatVersion: PROJECT_FORMAT_VERSION,
      appVersion: this.#ed.info?.version ?? '0.0.0',
      createdAt: project.createdAt,
      modifiedAt: nowIso(),
      model: { name: model.name, dir: model.dir },
      source: {
        ...(s.kind === 'seed'
          ? { kind: 'seed' as const, seed: s.seed, steps: source.steps }
          : { kind: 'image' as const, blob: sourceBlob!, name: s.name.slice(0, 500), steps: source.steps, psnr: s.psnr }),
        // Text models: the conditioning the document was made with (its x_t, bases and edits depend on it).
        ...(s.text ? { prompt: s.text.prompt, negativePrompt: s.text.negativePrompt, guidanceScale: s.text.guidanceScale } : {}),
      },
      state: edits.doc,
      bases,
      ...(globals.refs.length ? { globalBases: globals.refs } : {}),
      history: { entries: saved.history.entries.map((e) => ({ label: e.label.slice(0, 200), state: e.state })), index: saved.history.index },
      images: { ...(images.source ? { source: images.source } : {}), ...(images.result ? { result: images.result } : {}) },
      ...(analyses.length ? { analyses } : {}),
      ...(saved.masks.length ? { masks: saved.masks } : {}),
    };
    return { manifest, blobs };
  }

  /** Save to the current file; without one (or read-only) the caller asks for a name (Save As). Returns false then. */
  async save(): Promise<boolean> {
    const { id, readOnly } = this.#ed.project;
    if (!id || readOnly) return false;
    return this.saveAs({ id });
  }

  async saveAs(target: { id: string } | { name: string }): Promise<boolean> {
    // Held autosave: a recovery write must not land after the save has discarded the recovery copy.
    return this.#ed.autosave.pausedDuring(async () => {
      const c = await this.content();
      if (!c) {
        this.#ed.notices.notify('warning', NOTHING_TO_SAVE);
        return false;
      }
      try {
        const entry = await callProject(this.#ed.api, { op: 'save', ...target, ...c });
        const session = this.#ed.project.session;
        this.#ed.project.saved(entry);
        // The recovery copy is only for unsaved work.
        this.#ed.local.remove(session);
        this.#heldLocally = false;
        await callProject(this.#ed.api, { op: 'recovery.discard', session }).catch(() => undefined);
        this.#ed.notices.notify('info', `Saved “${entry.name}”.`);
        return true;
      } catch (err) {
        this.#ed.notices.fail(err, 'Saving');
        return false;
      }
    });
  }

  /** Save As needs something to save; warns and returns false otherwise. */
  canSave(): boolean {
    if (this.#ed.source.current) return true;
    this.#ed.notices.notify('warning', NOTHING_TO_SAVE);
    return false;
  }

  /** Electron: native save dialog. */
  async pickSaveTarget(): Promise<ProjectEntry | null> {
    try {
      return await callProject(this.#ed.api, { op: 'pickSave', name: this.#ed.project.name });
    } catch (err) {
      this.#ed.notices.fail(err, 'Save As');
      return null;
    }
  }

  async list(): Promise<{ recent: ProjectEntry[]; projects: ProjectEntry[]; canPick: boolean }> {
    try {
      return await callProject(this.#ed.api, { op: 'list' });
    } catch (err) {
      this.#ed.notices.fail(err, 'Listing projects');
      return { recent: [], projects: [], canPick: false };
    }
  }

  /** Electron: native open dialog, then open the picked file. */
  async pickAndOpen(): Promise<void> {
    try {
      const entry = await callProject(this.#ed.api, { op: 'pickOpen' });
      if (entry) await this.open(entry.id);
    } catch (err) {
      this.#ed.notices.fail(err, 'Open');
    }
  }

  async open(id: string): Promise<boolean> {
    if (!(await this.#ed.confirmReplace('Open'))) return false;
    try {
      await this.#load(await callProject(this.#ed.api, { op: 'open', id }));
      return true;
    } catch (err) {
      this.#ed.notices.fail(err, 'Opening the project');
      return false;
    }
  }

  async recover(session: string): Promise<void> {
    if (!(await this.#ed.confirmReplace('Recover'))) return;
    try {
      await this.#load(await callProject(this.#ed.api, { op: 'recovery.open', session }));
      this.#ed.project.markChanged();
      await this.discardRecovery(session);
      this.#ed.notices.notify('info', 'Recovered your unsaved work. Save it to keep it.');
    } catch (err) {
      this.#ed.notices.fail(err, 'Recovering');
    }
  }

  async discardRecovery(session: string): Promise<void> {
    await callProject(this.#ed.api, { op: 'recovery.discard', session }).catch(() => undefined);
    this.#recovery = this.#recovery.filter((r) => r.session !== session);
  }

  /** Replace the document with an opened project (model, source, result, bases, history). */
  #load(p: OpenedProject): Promise<void> {
    const { source, result, galleries, edits, model, project, jobs, notices } = this.#ed;
    return this.replaceDocument(async () => {
      const m = p.manifest;
      if (m.model.dir !== model.dir && !(await this.#ed.selectModel(m.model.dir, m.model.name, true))) return;
      const img = (h: string | undefined): ShownImage | null => {
        const b = h ? p.blobs[h] : undefined;
        return b ? { bytes: b, ...pngSize(b) } : null;
      };
      source.steps = m.source.steps;
      this.#ed.prompt.noteInfo(null);
      if (m.source.kind === 'seed') {
        // Text models: the saved conditioning (absent fields: the engine's defaults, what a job without them used),
        // shown in the fields too, as the seed field shows the seed.
        const text: TextConditioning | undefined = model.textConditioned ? normalizeConditioning(m.source) : undefined;
        source.setSeed(m.source.seed, img(m.images.source), text);
        if (text) this.#ed.prompt.show(text);
      } else {
        // Latents are not stored: invert the saved source image again (deterministic).
        const file = p.blobs[m.source.blob];
        const out = await jobs.run('invert', { modelDir: model.dir, image: file as Uint8Array<ArrayBuffer>, steps: m.source.steps, provider: model.provider }, `Invert ${m.source.name}`);
        source.setImage(
          // The re-inversion ran without a prompt, so the document's jobs walk x_T down at the empty prompt too.
          { kind: 'image', name: m.source.name, hash: m.source.blob, file, xT: out.xT, timestep: out.timestep, psnr: out.psnr, poor: out.poor, ...(model.textConditioned ? { text: EMPTY_CONDITIONING } : {}) },
          img(m.images.source),
          toShown(out.recon),
        );
      }
      result.restore(img(m.images.result));
      // Before the history: its entries name their masks by hash, and the shown mask is decoded from these.
      this.#ed.mask.reset();
      for (const h of m.masks ?? []) if (p.blobs[h]) this.#ed.mask.remember(h, p.blobs[h]);
      // Show the gallery of the basis the stack uses (or the last computed one) with its k and method.
      // With the saved previews, and what a new preview strength needs to re-render them from the cached basis.
      const xt = source.xt;
      const picture = source.current ? source.image?.bytes : undefined;
      const request = xt
        ? { modelDir: model.dir, xt, steps: source.steps, provider: model.provider, identity: source.identity, ...(picture ? { centerImage: picture as Uint8Array<ArrayBuffer> } : {}) }
        : undefined;
      // Global directions' bases: one that is missing or damaged costs its entries (in every history state), not the file.
      const globals = await readGlobalBases(m.globalBases ?? [], p.blobs);
      this.#ed.globalBases.reset(globals.records);
      const history = dropEntriesOf(m.history, m.state, globals.records.map((r) => r.key));
      if (globals.lost.length) {
        const n = history.dropped;
        notices.notify(
          'warning',
          `${globals.lost.length === 1 ? 'A global basis' : `${globals.lost.length} global bases`} of this project could not be read, so ${n === 0 ? 'earlier steps of the history lost their global directions' : n === 1 ? 'its global direction was removed from the edit stack' : `${n} global directions were removed from the edit stack`}; the rest of the project opened.`,
          `${globals.lost.map((l) => `${l.key}: ${l.problem}`).join('; ')}. Compute the global basis again in Analyze › Global directions and add its directions with “Add to edit”.`,
        );
      }
      galleries.restore(m.bases, m.state.edits.find((e) => !isGlobalBasisKey(e.basisKey))?.basisKey, { blobs: p.blobs, ...(request ? { request } : {}), maskPng: (h) => this.#ed.mask.png(h) });
      edits.load(history.entries, m.history.index);
      this.#ed.analysis.restore(readAnalyses(m.analyses ?? [], p.blobs, notices));
      project.opened({ id: p.id, name: p.name, readOnly: p.readOnly, createdAt: m.createdAt });
      if (p.readOnly) notices.notify('warning', 'This project was saved by a newer Pullback Studio and is open read-only.', 'Use Save As to keep a copy in this version’s format.');
      else if (p.fromVersion < PROJECT_FORMAT_VERSION) notices.notify('info', 'This project was made by an older version; it will be saved in the current format.');
    });
  }

  /**
   * Swap in another document: first, if this one has unsaved changes, write them to its recovery slot and move to a
   * fresh slot, so the unsaved work stays recoverable (offered at the next start) instead of being overwritten.
   * Autosave is held meanwhile, so it never writes a half-swapped document.
   */
  replaceDocument(swap: () => void | Promise<void>): Promise<void> {
    return this.#ed.autosave.pausedDuring(async () => {
      const { project, source, edits } = this.#ed;
      // A just-rendered seed with no changes is not work worth a recovery file (trying seeds would litter the folder).
      if (project.dirty && source.current && (edits.history.entries.length >= 2 || project.id !== null)) {
        await this.writeRecovery();
        // Kept: the next document starts clean, so its own autosave cannot write this one into the new slot again.
        project.keptInRecovery();
      }
      await swap();
    });
  }

  /**
   * Write unsaved work to the recovery folder (never over the user's file). Quiet unless it fails; never rejects.
   * When the engine cannot be reached the copy goes to the page's storage instead, and to the folder once it is back
   * (`syncLocal`): autosave never stops silently.
   */
  async writeRecovery(): Promise<void> {
    const { project, source, api, notices } = this.#ed;
    if (!project.dirty || !source.current) return;
    let c: ProjectContent | null = null;
    try {
      c = await this.content();
      if (!c) return;
      await callProject(api, { op: 'autosave', session: project.session, title: project.name, ...c });
      if (this.#heldLocally) this.#ed.local.remove(project.session);
      this.#heldLocally = false;
    } catch (err) {
      if (c && err instanceof ApiError && err.code === 'disconnected') this.#keepLocally(project.session, project.name, c);
      else notices.fail(err, 'Autosave');
    }
  }

  #keepLocally(session: string, title: string, content: ProjectContent): void {
    try {
      this.#ed.local.put({ session, title, content });
      this.#heldLocally = true;
    } catch (err) {
      this.#heldLocally = false;
      this.#ed.notices.notify('error', 'Autosave failed: the engine cannot be reached and this page could not keep your changes.', err instanceof Error ? err.message : String(err), 'disconnected');
    }
  }

  /** Write what the page kept while the engine was away to the recovery folder; each copy leaves the page once written. */
  async syncLocal(): Promise<void> {
    const { api, local, notices } = this.#ed;
    for (const copy of local.all()) {
      try {
        await callProject(api, { op: 'autosave', session: copy.session, title: copy.title, ...copy.content });
        local.remove(copy.session);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'disconnected') return;
        notices.fail(err, 'Autosave');
        return;
      }
    }
    this.#heldLocally = false;
  }
}

/**
 * The analyses an opened project keeps, parsed and checked against the analysis schema. A damaged one is left out with
 * a notice: it costs that analysis only, never the document.
 */
export function readAnalyses(refs: readonly AnalysisRef[], blobs: Record<string, Uint8Array>, notices: Notices): SavedAnalyses {
  const out: SavedAnalyses = { result: null, comparison: null };
  for (const ref of refs) {
    const bytes = blobs[ref.blob];
    let parsed: ReturnType<typeof AnalysisResultSchema.safeParse> | null = null;
    try {
      parsed = bytes ? AnalysisResultSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes))) : null;
    } catch {
      parsed = null;
    }
    if (parsed?.success) out[ref.role] = { label: ref.label, result: parsed.data };
    else notices.notify('warning', `The saved analysis “${ref.label}” could not be read and was left out; the rest of the project opened.`);
  }
  return out;
}
