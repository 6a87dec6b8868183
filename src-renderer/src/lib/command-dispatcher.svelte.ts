/**
 * Runs the editor's commands (the table in src-main/shared/commands.ts) for the page: from keys, the in-page menu,
 * Electron's native menu and buttons alike. It owns what only the page shell has: the project and help dialogs, the
 * recent-projects list, and the canvas and file-chooser controls it is handed.
 */
import type { KeyLike } from '../../../src-main/shared/commands';
import type { ProjectEntry } from '../../../src-main/shared/project-api';
import { commandFor, type Command } from './shortcuts';
import { scalePng, scaledName, type PngCodec } from './export-png';
import { ExportSettings } from './state/export-settings.svelte';
import type { EditorState } from './state/editor.svelte';

/** The canvas's own view commands (ImageView). */
export interface CanvasControls {
  toggleCompare(): void;
  zoomBy(factor: number): void;
  zoomFit(): void;
  zoomActual(): void;
}

export interface ShellControls {
  canvas(): CanvasControls | undefined;
  /** Open the file chooser for Import image…. */
  pickImage(): void;
  /** Hand a file (an exported PNG) to the browser's downloads. */
  download(file: { name: string; bytes: Uint8Array }): void;
  /**
   * How the scaled export decodes and encodes PNGs: the page passes canvas-codec.ts (it needs the DOM, so this file
   * cannot import it); tests pass their own, and tests that never export may leave it out.
   */
  codec?: PngCodec;
}

/** Web mode's project dialog (Electron uses native dialogs). */
export interface ProjectDialogState {
  mode: 'open' | 'save';
  list: { recent: ProjectEntry[]; projects: ProjectEntry[] };
}

const ZOOM_STEP = 1.25;

/** Input types without text of their own to undo: Mod+Z on them is the document's undo. */
const NO_TEXT_INPUTS = new Set(['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'color', 'file', 'image']);

/** A TEXTAREA, a contenteditable element, or an INPUT that holds typed text (number fields included). */
function typesText(target: unknown): boolean {
  const t = target as { tagName?: string; type?: string; isContentEditable?: boolean } | null;
  if (!t) return false;
  if (t.tagName === 'TEXTAREA' || t.isContentEditable) return true;
  return t.tagName === 'INPUT' && !NO_TEXT_INPUTS.has((t.type ?? 'text').toLowerCase());
}

export class CommandDispatcher {
  readonly #ed: EditorState;
  readonly #shell: ShellControls;
  #dialog = $state.raw<ProjectDialogState | null>(null);
  #help = $state(false);
  #exportOpen = $state(false);
  /** The scaled export dialog's choices. */
  readonly exportSettings = new ExportSettings();
  #recent = $state.raw<ProjectEntry[]>([]);
  #electron = $derived.by(() => this.#ed.info?.mode === 'electron');

  constructor(ed: EditorState, shell: ShellControls) {
    this.#ed = ed;
    this.#shell = shell;
  }

  get dialog(): ProjectDialogState | null {
    return this.#dialog;
  }
  get helpOpen(): boolean {
    return this.#help;
  }
  /** Recently opened or saved projects (the File menu lists them). */
  get recent(): ProjectEntry[] {
    return this.#recent;
  }

  closeDialog(): void {
    this.#dialog = null;
  }
  closeHelp(): void {
    this.#help = false;
  }
  /** The scaled export dialog is open. */
  get exportOpen(): boolean {
    return this.#exportOpen;
  }
  closeExport(): void {
    this.#exportOpen = false;
  }

  /** The export dialog's Export: the shown PNG at the chosen scale and filter, recipe chunks kept. */
  async exportScaled(): Promise<void> {
    this.#exportOpen = false;
    const ed = this.#ed;
    const file = ed.exportPng();
    if (!file) return ed.notices.notify('warning', 'Nothing to export yet.');
    const { scale, filter } = this.exportSettings;
    try {
      if (!this.#shell.codec) throw new Error('this page has no PNG codec for scaled export');
      const bytes = await scalePng(file.bytes, scale, filter, this.#shell.codec);
      this.#shell.download({ name: scaledName(file.name, scale), bytes });
    } catch (err) {
      ed.notices.fail(err, `Exporting at ${scale}×`);
    }
  }

  async refreshRecent(): Promise<void> {
    this.#recent = (await this.#ed.files.list()).recent;
  }

  /** Run a command; resolves when the work it started (a render, a save, a dialog's list) is done. */
  async run(c: Command): Promise<void> {
    const ed = this.#ed;
    const canvas = this.#shell.canvas();
    switch (c) {
      case 'new':
        return ed.newFromSeed();
      case 'randomSeed':
        return ed.source.randomSeed();
      case 'open':
        if (this.#electron) {
          await ed.files.pickAndOpen();
          return void this.refreshRecent();
        }
        this.#dialog = { mode: 'open', list: await ed.files.list() };
        return;
      case 'openRecent': {
        const list = await ed.files.list();
        this.#dialog = { mode: 'open', list: { recent: list.recent, projects: list.recent } };
        return;
      }
      case 'save':
        if (await ed.files.save()) return void this.refreshRecent();
        return this.run('saveAs');
      case 'saveAs':
        if (!ed.files.canSave()) return;
        if (this.#electron) {
          const target = await ed.files.pickSaveTarget();
          if (target) await ed.files.saveAs({ id: target.id });
          return void this.refreshRecent();
        }
        this.#dialog = { mode: 'save', list: await ed.files.list() };
        return;
      case 'import':
        return this.#shell.pickImage();
      case 'export': {
        const file = ed.exportPng();
        if (!file) return ed.notices.notify('warning', 'Nothing to export yet.');
        return this.#shell.download(file);
      }
      case 'exportScaled':
        if (!ed.shownImage) return ed.notices.notify('warning', 'Nothing to export yet.');
        this.#exportOpen = true;
        return;
      case 'undo':
        return ed.undo();
      case 'redo':
        return ed.redo();
      case 'apply':
        return ed.apply();
      case 'computeBasis':
        return ed.computeBasis();
      case 'compare':
        return canvas?.toggleCompare();
      case 'zoomIn':
        return canvas?.zoomBy(ZOOM_STEP);
      case 'zoomOut':
        return canvas?.zoomBy(1 / ZOOM_STEP);
      case 'zoomFit':
        return canvas?.zoomFit();
      case 'zoomActual':
        return canvas?.zoomActual();
      case 'help':
        this.#help = true;
        return;
      case 'openModel':
        return ed.browseModel();
    }
  }

  /** The page's key handler: shortcuts run their command unless a dialog is open (`?` also closes Help). */
  onKey(e: KeyLike & { preventDefault(): void }): void {
    if (this.#dialog || this.#exportOpen) return;
    if (this.#help) {
      if (commandFor(e) === 'help') {
        e.preventDefault();
        this.#help = false;
      }
      return;
    }
    // A field you type in (text, number, search…) keeps its own undo: Mod+Z there must not undo the document.
    if ((e.ctrlKey || e.metaKey) && /^[zy]$/i.test(e.key) && typesText(e.target)) return;
    const c = commandFor(e);
    if (!c) return;
    e.preventDefault();
    void this.run(c);
  }

  /** The project dialog's Open. */
  async openFromDialog(id: string): Promise<void> {
    this.#dialog = null;
    await this.#ed.files.open(id);
    void this.refreshRecent();
  }

  /** The project dialog's Save (web mode: a name in the projects folder). */
  async saveFromDialog(name: string): Promise<void> {
    this.#dialog = null;
    await this.#ed.files.saveAs({ name });
    void this.refreshRecent();
  }
}
