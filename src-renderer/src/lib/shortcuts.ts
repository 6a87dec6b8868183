/** Keyboard shortcuts: one table for the key handler, the Help panel and the menus' labels. */
import type { EditorCommand } from '../../../src-main/shared/commands';

export interface Shortcut {
  keys: string;
  what: string;
  command: Command;
}

export type Command = EditorCommand;

export const SHORTCUTS: Shortcut[] = [
  { keys: 'Mod+N', what: 'New from seed', command: 'new' },
  { keys: 'Mod+O', what: 'Open project…', command: 'open' },
  { keys: 'Mod+S', what: 'Save project', command: 'save' },
  { keys: 'Shift+Mod+S', what: 'Save project as…', command: 'saveAs' },
  { keys: 'Mod+I', what: 'Import image…', command: 'import' },
  { keys: 'Mod+E', what: 'Export PNG with recipe', command: 'export' },
  { keys: 'Mod+Z', what: 'Undo', command: 'undo' },
  { keys: 'Shift+Mod+Z', what: 'Redo', command: 'redo' },
  { keys: 'Mod+Enter', what: 'Apply edits (full quality)', command: 'apply' },
  { keys: 'B', what: 'Compute directions at this timestep', command: 'computeBasis' },
  { keys: 'R', what: 'Random seed', command: 'randomSeed' },
  { keys: 'C', what: 'Compare with source', command: 'compare' },
  { keys: '+ / −', what: 'Zoom in / out', command: 'zoomIn' },
  { keys: '0', what: 'Fit to window', command: 'zoomFit' },
  { keys: '1', what: 'Actual pixels', command: 'zoomActual' },
  { keys: '?', what: 'This help', command: 'help' },
];

/** The fields of a KeyboardEvent we read (structural, so this file also type-checks under Node for tests). */
export interface KeyLike {
  key: string;
  metaKey: boolean;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: unknown;
}

export function isMac(): boolean {
  const nav = (globalThis as { navigator?: { platform?: string } }).navigator;
  return /Mac|iPhone|iPad/.test(nav?.platform ?? '');
}

export function mod(): string {
  return isMac() ? '⌘' : 'Ctrl';
}

/** The command for a key event, or null. Plain-letter shortcuts are ignored while typing in a field. */
export function commandFor(e: KeyLike): Command | null {
  const m = isMac() ? e.metaKey : e.ctrlKey;
  const k = e.key.toLowerCase();
  if (m) {
    if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (k === 'y' && !isMac()) return 'redo';
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
