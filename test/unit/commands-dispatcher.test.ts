/**
 * The page's command dispatcher and in-page menu against EditorState on the fake engine: Save falls back to Save As,
 * web mode asks in its own dialog while Electron uses native pickers, keys are ignored while a dialog is open, and the
 * page menu's enabled items, undo label and recent projects follow the editor.
 */
import { describe, expect, it, vi } from 'vitest';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { CommandDispatcher } from '../../src-renderer/src/lib/command-dispatcher.svelte';
import { pageMenus } from '../../src-renderer/src/lib/page-menus';
import type { KeyLike } from '../../src-main/shared/commands';
import { fakeApi } from './state-fake-api';

async function setup(mode: 'web' | 'electron' = 'web') {
  const f = fakeApi(mode);
  const ed = new EditorState(f.api);
  await ed.load();
  const canvas = { toggleCompare: vi.fn(), zoomBy: vi.fn(), zoomFit: vi.fn(), zoomActual: vi.fn() };
  const shell = { canvas: () => canvas, pickImage: vi.fn(), download: vi.fn() };
  const d = new CommandDispatcher(ed, shell);
  f.projectCalls.length = 0;
  return { ed, d, canvas, shell, ...f };
}

const key = (k: string, m: Partial<KeyLike> = {}) => ({ key: k, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, target: null, preventDefault: vi.fn(), ...m });

describe('CommandDispatcher', () => {
  it('web mode: Save of an untitled document asks for a name; with nothing to save it only warns', async () => {
    const { ed, d } = await setup();
    await d.run('save');
    expect(d.dialog).toBeNull();
    expect(ed.notices.list.map((n) => n.text)).toEqual(['Nothing to save yet: start from a seed or import an image.']);
    await d.run('new');
    await d.run('save');
    expect(d.dialog?.mode).toBe('save');
    await d.saveFromDialog('portrait');
    expect(d.dialog).toBeNull();
    expect(ed.project.title).toBe('portrait');
    await d.run('save'); // now it has a file: saved in place, no dialog
    expect(d.dialog).toBeNull();
  });

  it('Electron: Open and Save As go through the native pickers', async () => {
    const { d, ed, projectCalls } = await setup('electron');
    await d.run('new');
    await d.run('saveAs');
    await d.run('open');
    expect(projectCalls.map((r) => r.op)).toEqual(['pickSave', 'list', 'pickOpen', 'list']);
    expect(d.dialog).toBeNull();
    expect(ed.project.id).toBeNull(); // the picker was cancelled
  });

  it('routes the canvas, import, export and help commands to the page', async () => {
    const { d, canvas, shell, ed } = await setup();
    await d.run('export');
    expect(shell.download).not.toHaveBeenCalled();
    expect(ed.notices.list.at(-1)?.text).toBe('Nothing to export yet.');
    await d.run('new');
    await d.run('export');
    expect(shell.download).toHaveBeenCalledWith(expect.objectContaining({ name: 'Untitled.png' }));
    await d.run('zoomIn');
    await d.run('zoomOut');
    expect(canvas.zoomBy.mock.calls).toEqual([[1.25], [0.8]]);
    await d.run('import');
    expect(shell.pickImage).toHaveBeenCalledOnce();
    await d.run('help');
    expect(d.helpOpen).toBe(true);
  });

  it('keys run commands, except while a dialog is open or for Mod+Z in a text field', async () => {
    const { d, canvas } = await setup();
    const fit = key('0');
    d.onKey(fit);
    expect(fit.preventDefault).toHaveBeenCalled();
    expect(canvas.zoomFit).toHaveBeenCalledOnce();
    const undoInField = key('z', { ctrlKey: true, target: { tagName: 'INPUT', type: 'text' } });
    d.onKey(undoInField);
    expect(undoInField.preventDefault).not.toHaveBeenCalled();
    await d.run('help');
    d.onKey(key('1'));
    expect(canvas.zoomActual).not.toHaveBeenCalled();
    d.closeHelp();
    d.onKey(key('1'));
    expect(canvas.zoomActual).toHaveBeenCalledOnce();
  });
});

describe('page menu', () => {
  it('enables items by the editor’s state, names the undo step and lists recent projects under Open', async () => {
    const { ed } = await setup();
    const actions = { run: vi.fn(), openProject: vi.fn() };
    const recent = [{ id: 'r1', name: 'first', when: 'now' }];
    const items = (m: ReturnType<typeof pageMenus>, name: string) => m.find((x) => x.label === name)!.items;
    let menus = pageMenus(ed, recent, actions);
    expect(items(menus, 'File').map((i) => [i.label, Boolean(i.disabled), i.testid])).toEqual([
      ['New from seed', false, 'menu-new'],
      ['Open project…', false, 'menu-open'],
      ['  first', false, undefined],
      ['', false, undefined],
      ['Save', true, 'menu-save'],
      ['Save as…', true, 'menu-save-as'],
      ['', false, undefined],
      ['Import image…', false, 'menu-import'],
      ['Export PNG with recipe…', true, 'menu-export'],
      ['Export PNG scaled…', true, 'menu-export-scaled'],
    ]);
    expect(items(menus, 'Help').map((i) => i.testid)).toEqual(['menu-help-shortcuts']);
    items(menus, 'File')[2].run!();
    expect(actions.openProject).toHaveBeenCalledWith('r1');
    ed.source.steps = 10;
    await ed.newFromSeed();
    ed.galleries.restore([{ key: 't555-krylov-k2', t: 555, k: 2, method: 'krylov', sigmas: [3, 2] }]);
    ed.addDirection(0);
    menus = pageMenus(ed, recent, actions);
    const edit = items(menus, 'Edit');
    expect(edit.map((i) => [i.label, Boolean(i.disabled)])).toEqual([
      ['Undo Add direction 1 at t = 555', false],
      ['Redo', true],
      ['', false],
      ['Apply edits', false],
      ['Compute directions', false],
    ]);
    edit[0].run!();
    expect(actions.run).toHaveBeenCalledWith('undo');
  });
});
