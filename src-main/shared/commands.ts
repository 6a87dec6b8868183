/**
 * The editor's commands and their key bindings: one table drives the page's key handler (`commandForKey`), the Help
 * panel, the in-page menu (web mode) and Electron's native menu (`menuLayout('native')`, `acceleratorFor`), which
 * sends these command names to the page over IPC. Pure data and functions: the renderer and the main process both
 * import this file.
 */

export type MenuName = 'File' | 'Edit' | 'View' | 'Help';
export const MENU_NAMES: readonly MenuName[] = ['File', 'Edit', 'View', 'Help'];

export interface KeyBinding {
  /** `KeyboardEvent.key`: compared case-insensitively with Mod, exactly without (so plain 'b' is not Shift+B). */
  readonly key: string;
  /** Cmd on macOS, Ctrl elsewhere. */
  readonly mod?: boolean;
  /** Shift is part of the binding: with Mod it tells Shift+Mod+Z (redo) from Mod+Z (undo). */
  readonly shift?: boolean;
  /** How menus and Help write the key when it is not the key itself upper-cased ('−' for '-'). */
  readonly glyph?: string;
  /** Not bound on macOS, where the convention differs (Ctrl+Y redo is a Windows/Linux habit). */
  readonly offMac?: boolean;
}

export interface MenuPlacement {
  readonly name: MenuName;
  /** Items of one group sit together; menus put separators between groups. */
  readonly group: number;
  /** Only in one of the two menus: the page has its own control for some (the model picker, the recent list). */
  readonly only?: 'native' | 'page';
}

export interface CommandSpec<C extends string = EditorCommand> {
  readonly command: C;
  /** Sentence case, as the page's menu shows it; the native menus title-case it (`nativeLabel`). */
  readonly label: string;
  /** The Help panel's line, when it says more than the label. */
  readonly help?: string;
  /** The first binding is the one menus and Help show; the others are aliases. */
  readonly keys: readonly KeyBinding[];
  /** Absent: no menu item (a page button only). */
  readonly menu?: MenuPlacement;
}

const MOD = { mod: true } as const;

const TABLE = [
  { command: 'new', label: 'New from seed', keys: [{ key: 'n', ...MOD }], menu: { name: 'File', group: 0 } },
  { command: 'open', label: 'Open project…', keys: [{ key: 'o', ...MOD }], menu: { name: 'File', group: 0 } },
  { command: 'openRecent', label: 'Open recent…', keys: [], menu: { name: 'File', group: 0, only: 'native' } },
  { command: 'save', label: 'Save', help: 'Save project', keys: [{ key: 's', ...MOD }], menu: { name: 'File', group: 1 } },
  { command: 'saveAs', label: 'Save as…', help: 'Save project as…', keys: [{ key: 's', shift: true, ...MOD }], menu: { name: 'File', group: 1 } },
  { command: 'import', label: 'Import image…', keys: [{ key: 'i', ...MOD }], menu: { name: 'File', group: 2 } },
  { command: 'export', label: 'Export PNG with recipe…', help: 'Export PNG with recipe', keys: [{ key: 'e', ...MOD }], menu: { name: 'File', group: 2 } },
  // A dialog: the scale (1×, 2×, 4×) and the filter (nearest or smooth); the plain export above stays one keystroke.
  { command: 'exportScaled', label: 'Export PNG scaled…', help: 'Export PNG at 1×, 2× or 4× (nearest or smooth)', keys: [], menu: { name: 'File', group: 2 } },
  { command: 'openModel', label: 'Open model folder…', keys: [], menu: { name: 'File', group: 3, only: 'native' } },
  { command: 'undo', label: 'Undo', keys: [{ key: 'z', ...MOD }], menu: { name: 'Edit', group: 0 } },
  {
    command: 'redo',
    label: 'Redo',
    keys: [
      { key: 'z', shift: true, ...MOD },
      { key: 'y', offMac: true, ...MOD },
    ],
    menu: { name: 'Edit', group: 0 },
  },
  { command: 'apply', label: 'Apply edits', help: 'Apply edits (full quality)', keys: [{ key: 'Enter', ...MOD }], menu: { name: 'Edit', group: 1 } },
  { command: 'computeBasis', label: 'Compute directions', help: 'Compute directions at this timestep', keys: [{ key: 'b' }], menu: { name: 'Edit', group: 1 } },
  { command: 'randomSeed', label: 'Random seed', keys: [{ key: 'r' }] },
  { command: 'compare', label: 'Compare with source', keys: [{ key: 'c' }], menu: { name: 'View', group: 0 } },
  // '=' is '+' without Shift on most layouts.
  { command: 'zoomIn', label: 'Zoom in', keys: [{ key: '+' }, { key: '=' }], menu: { name: 'View', group: 0 } },
  { command: 'zoomOut', label: 'Zoom out', keys: [{ key: '-', glyph: '−' }], menu: { name: 'View', group: 0 } },
  { command: 'zoomFit', label: 'Fit to window', keys: [{ key: '0' }], menu: { name: 'View', group: 0 } },
  { command: 'zoomActual', label: 'Actual pixels', keys: [{ key: '1' }], menu: { name: 'View', group: 0 } },
  { command: 'help', label: 'Keyboard shortcuts and help', help: 'This help', keys: [{ key: '?' }], menu: { name: 'Help', group: 0 } },
] as const satisfies readonly CommandSpec<string>[];

export type EditorCommand = (typeof TABLE)[number]['command'];

/** Every command once, in menu and Help order. */
export const COMMANDS: readonly CommandSpec[] = TABLE;
export const EDITOR_COMMANDS: readonly EditorCommand[] = TABLE.map((s) => s.command);

/** A name received over IPC is one of ours (the preload passes strings). */
export function isEditorCommand(name: unknown): name is EditorCommand {
  return (EDITOR_COMMANDS as readonly unknown[]).includes(name);
}

export function commandSpec(command: EditorCommand): CommandSpec {
  return COMMANDS.find((s) => s.command === command)!;
}

/** The fields of a KeyboardEvent we read (structural: no DOM types, so Node code and tests use it too). */
export interface KeyLike {
  key: string;
  metaKey: boolean;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: unknown;
}

const BINDINGS = COMMANDS.flatMap((s) => s.keys.map((b) => ({ ...b, command: s.command })));

/** Typing goes to the field: plain-letter shortcuts stay off there. */
function isTextEntry(target: unknown): boolean {
  const t = target as { tagName?: string; isContentEditable?: boolean } | null;
  return Boolean(t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable));
}

/**
 * The command a key event runs, or null. With Mod (⌘ on macOS, Ctrl elsewhere) the letter decides and Shift picks
 * the Shift binding where the letter has one (else it is ignored); without Mod, the key must match exactly, Alt
 * cancels it, and nothing fires while typing in a field.
 */
export function commandForKey(e: KeyLike, mac: boolean): EditorCommand | null {
  if (mac ? e.metaKey : e.ctrlKey) {
    const key = e.key.toLowerCase();
    const matches = BINDINGS.filter((b) => b.mod && b.key.toLowerCase() === key && !(mac && b.offMac));
    return (matches.find((b) => Boolean(b.shift) === e.shiftKey) ?? matches[0])?.command ?? null;
  }
  if (isTextEntry(e.target) || e.altKey) return null;
  return BINDINGS.find((b) => !b.mod && b.key === e.key)?.command ?? null;
}

/** The key as menus and Help write it: 'B', 'Enter', '−'. */
function keyName(b: KeyBinding): string {
  return b.glyph ?? (b.key.length === 1 ? b.key.toUpperCase() : b.key);
}

/** The shown binding of a command for the page ('Shift+⌘+S', 'Ctrl+Enter', 'B'), or undefined without one. */
export function shortcutLabel(command: EditorCommand, mac: boolean): string | undefined {
  const b = commandSpec(command).keys[0];
  if (!b) return undefined;
  return `${b.shift ? 'Shift+' : ''}${b.mod ? (mac ? '⌘+' : 'Ctrl+') : ''}${keyName(b)}`;
}

/** Electron's accelerator for the command's shown binding ('CmdOrCtrl+S', 'Shift+CmdOrCtrl+S', 'B', '-'). */
export function acceleratorFor(command: EditorCommand): string | undefined {
  const b = commandSpec(command).keys[0];
  if (!b) return undefined;
  return `${b.shift ? 'Shift+' : ''}${b.mod ? 'CmdOrCtrl+' : ''}${b.key.length === 1 ? b.key.toUpperCase() : b.key}`;
}

/** Short words stay lower case in title case ("New from Seed", "Keyboard Shortcuts and Help"). */
const MINOR_WORDS = new Set(['and', 'from', 'to', 'with']);

/** The label in the title case native menus use ("Save As…", "Export PNG with Recipe…"). */
export function nativeLabel(spec: CommandSpec): string {
  return spec.label
    .split(' ')
    .map((w, i) => (i > 0 && MINOR_WORDS.has(w) ? w : w[0].toUpperCase() + w.slice(1)))
    .join(' ');
}

export interface MenuLayout {
  name: MenuName;
  /** Non-empty groups in order; separators go between them. */
  groups: CommandSpec[][];
}

/** The menus and their items for one of the two menu bars, from the table. */
export function menuLayout(target: 'native' | 'page'): MenuLayout[] {
  return MENU_NAMES.map((name) => {
    const specs = COMMANDS.filter((s) => s.menu?.name === name && (s.menu.only === undefined || s.menu.only === target));
    const groupIds = [...new Set(specs.map((s) => s.menu!.group))].sort((a, b) => a - b);
    return { name, groups: groupIds.map((g) => specs.filter((s) => s.menu!.group === g)) };
  });
}
