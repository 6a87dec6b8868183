/**
 * The one command table (src-main/shared/commands.ts) against what it replaced: the key handler's switch (kept here
 * as the reference model and compared on generated key events), the native menu's labels and accelerators, and the
 * page menu's layout and key labels.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  acceleratorFor,
  COMMANDS,
  commandForKey,
  EDITOR_COMMANDS,
  isEditorCommand,
  menuLayout,
  nativeLabel,
  shortcutLabel,
  type KeyLike,
} from '../../src-main/shared/commands';

/** The key handler before the table (src-renderer/src/lib/shortcuts.ts `commandFor`), with the platform passed in. */
function referenceCommandFor(e: KeyLike, mac: boolean): string | null {
  const m = mac ? e.metaKey : e.ctrlKey;
  const k = e.key.toLowerCase();
  if (m) {
    if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (k === 'y' && !mac) return 'redo';
    if (k === 's') return e.shiftKey ? 'saveAs' : 'save';
    if (k === 'o') return 'open';
    if (k === 'n') return 'new';
    if (k === 'i') return 'import';
    if (k === 'e') return 'export';
    if (k === 'enter') return 'apply';
    return null;
  }
  const t = e.target as { tagName?: string; isContentEditable?: boolean } | null;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return null;
  if (e.altKey) return null;
  switch (e.key) {
    case 'b':
      return 'computeBasis';
    case 'r':
      return 'randomSeed';
    case 'c':
      return 'compare';
    case '+':
    case '=':
      return 'zoomIn';
    case '-':
      return 'zoomOut';
    case '0':
      return 'zoomFit';
    case '1':
      return 'zoomActual';
    case '?':
      return 'help';
  }
  return null;
}

const KEYS = ['z', 'Z', 'y', 'Y', 's', 'S', 'o', 'n', 'N', 'i', 'e', 'Enter', 'b', 'B', 'r', 'c', 'C', '+', '=', '-', '0', '1', '?', 'x', 'Escape', ' '];
const TARGETS = [null, { tagName: 'BODY' }, { tagName: 'INPUT' }, { tagName: 'SELECT' }, { tagName: 'TEXTAREA' }, { tagName: 'DIV', isContentEditable: true }, { tagName: 'BUTTON' }];

describe('key handling from the table', () => {
  it('runs the same command as the old switch for every key, modifier, target and platform', () => {
    fc.assert(
      fc.property(
        fc.record({
          key: fc.constantFrom(...KEYS),
          metaKey: fc.boolean(),
          ctrlKey: fc.boolean(),
          shiftKey: fc.boolean(),
          altKey: fc.boolean(),
          target: fc.constantFrom(...TARGETS),
        }),
        fc.boolean(),
        (e, mac) => {
          expect(commandForKey(e, mac)).toBe(referenceCommandFor(e, mac));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('examples: Mod combos, Ctrl+Y off Mac only, plain keys off while typing', () => {
    const ev = (key: string, m: Partial<KeyLike> = {}): KeyLike => ({ key, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, target: null, ...m });
    expect(commandForKey(ev('z', { ctrlKey: true }), false)).toBe('undo');
    expect(commandForKey(ev('Z', { ctrlKey: true, shiftKey: true }), false)).toBe('redo');
    expect(commandForKey(ev('y', { ctrlKey: true }), false)).toBe('redo');
    expect(commandForKey(ev('y', { metaKey: true }), true)).toBeNull();
    expect(commandForKey(ev('s', { metaKey: true, shiftKey: true }), true)).toBe('saveAs');
    expect(commandForKey(ev('O', { ctrlKey: true, shiftKey: true }), false)).toBe('open'); // Shift ignored without a Shift binding
    expect(commandForKey(ev('=', {}), false)).toBe('zoomIn');
    expect(commandForKey(ev('b', { target: { tagName: 'INPUT' } }), false)).toBeNull();
    expect(commandForKey(ev('b', { altKey: true }), false)).toBeNull();
    expect(commandForKey(ev('B', { shiftKey: true }), false)).toBeNull();
  });
});

describe('the table', () => {
  it('lists every command once, and no binding twice on a platform', () => {
    expect(new Set(EDITOR_COMMANDS).size).toBe(COMMANDS.length);
    expect([...EDITOR_COMMANDS].sort()).toEqual(
      ['new', 'open', 'openRecent', 'save', 'saveAs', 'import', 'export', 'exportScaled', 'undo', 'redo', 'apply', 'computeBasis', 'randomSeed', 'compare', 'zoomIn', 'zoomOut', 'zoomFit', 'zoomActual', 'help', 'openModel'].sort(),
    );
    for (const mac of [false, true]) {
      const bound = COMMANDS.flatMap((s) => s.keys.filter((b) => !(mac && b.offMac)).map((b) => `${b.mod ? 'mod+' : ''}${b.shift ? 'shift+' : ''}${b.mod ? b.key.toLowerCase() : b.key}`));
      expect(new Set(bound).size).toBe(bound.length);
    }
    expect(isEditorCommand('save')).toBe(true);
    expect(isEditorCommand('rm -rf')).toBe(false);
  });

  it('gives the native menu the labels and accelerators it had', () => {
    const native = menuLayout('native').map((m) => ({ name: m.name, groups: m.groups.map((g) => g.map((s) => [nativeLabel(s), acceleratorFor(s.command)])) }));
    expect(native).toEqual([
      {
        name: 'File',
        groups: [
          [
            ['New from Seed', 'CmdOrCtrl+N'],
            ['Open Project…', 'CmdOrCtrl+O'],
            ['Open Recent…', undefined],
          ],
          [
            ['Save', 'CmdOrCtrl+S'],
            ['Save As…', 'Shift+CmdOrCtrl+S'],
          ],
          [
            ['Import Image…', 'CmdOrCtrl+I'],
            ['Export PNG with Recipe…', 'CmdOrCtrl+E'],
            ['Export PNG Scaled…', undefined],
          ],
          [['Open Model Folder…', undefined]],
        ],
      },
      {
        name: 'Edit',
        groups: [
          [
            ['Undo', 'CmdOrCtrl+Z'],
            ['Redo', 'Shift+CmdOrCtrl+Z'],
          ],
          [
            ['Apply Edits', 'CmdOrCtrl+Enter'],
            ['Compute Directions', 'B'],
          ],
        ],
      },
      {
        name: 'View',
        groups: [
          [
            ['Compare with Source', 'C'],
            ['Zoom In', '+'],
            ['Zoom Out', '-'],
            ['Fit to Window', '0'],
            ['Actual Pixels', '1'],
          ],
        ],
      },
      { name: 'Help', groups: [[['Keyboard Shortcuts and Help', '?']]] },
    ]);
  });

  it('gives the page menu the items and key labels it had (no native-only items)', () => {
    const page = menuLayout('page').map((m) => [m.name, m.groups.map((g) => g.map((s) => `${s.label} ${shortcutLabel(s.command, false)}`))]);
    expect(page).toEqual([
      ['File', [['New from seed Ctrl+N', 'Open project… Ctrl+O'], ['Save Ctrl+S', 'Save as… Shift+Ctrl+S'], ['Import image… Ctrl+I', 'Export PNG with recipe… Ctrl+E', 'Export PNG scaled… undefined']]],
      ['Edit', [['Undo Ctrl+Z', 'Redo Shift+Ctrl+Z'], ['Apply edits Ctrl+Enter', 'Compute directions B']]],
      ['View', [['Compare with source C', 'Zoom in +', 'Zoom out −', 'Fit to window 0', 'Actual pixels 1']]],
      ['Help', [['Keyboard shortcuts and help ?']]],
    ]);
    expect(shortcutLabel('saveAs', true)).toBe('Shift+⌘+S');
    expect(shortcutLabel('openModel', false)).toBeUndefined();
  });
});
