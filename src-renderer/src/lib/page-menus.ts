/**
 * The in-page menu bar (web mode; Electron shows native menus built from the same table in src-main/shared/commands):
 * the table's page layout, plus what only the page knows: which items are enabled now, the undo/redo labels and
 * the recent projects under "Open project…".
 */
import { menuLayout, type CommandSpec } from '../../../src-main/shared/commands';
import type { ProjectEntry } from '../../../src-main/shared/project-api';
import { shortcutFor, type Command } from './shortcuts';
import type { EditorState } from './state/editor.svelte';

export interface MenuItem {
  label: string;
  shortcut?: string;
  disabled?: boolean;
  separator?: boolean;
  run?: () => void;
  testid?: string;
}

export interface PageMenu {
  label: string;
  items: MenuItem[];
}

/** Recent projects listed in the File menu. */
const RECENT_IN_MENU = 5;
const SEPARATOR: MenuItem = { separator: true, label: '' };
/** Test ids that are not `menu-<command>` ('menu-help' is the Help menu's own button). */
const TEST_IDS: Partial<Record<Command, string>> = { help: 'menu-help-shortcuts' };

function testId(command: Command): string {
  return TEST_IDS[command] ?? `menu-${command.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface PageMenuActions {
  run(command: Command): void;
  openProject(id: string): void;
}

export function pageMenus(ed: EditorState, recent: ProjectEntry[], actions: PageMenuActions): PageMenu[] {
  const history = ed.edits.history;
  const hasSource = Boolean(ed.source.current);
  const disabled: Partial<Record<Command, boolean>> = {
    new: !ed.model.dir,
    save: !hasSource,
    saveAs: !hasSource,
    export: !ed.shownImage,
    exportScaled: !ed.shownImage,
    undo: !history.canUndo,
    redo: !history.canRedo,
    apply: !hasSource,
    computeBasis: !hasSource,
  };
  const labels: Partial<Record<Command, string | null>> = {
    undo: history.undoLabel && `Undo ${history.undoLabel}`,
    redo: history.redoLabel && `Redo ${history.redoLabel}`,
  };
  const item = (s: CommandSpec): MenuItem => ({
    label: labels[s.command] || s.label,
    shortcut: shortcutFor(s.command),
    run: () => actions.run(s.command),
    disabled: disabled[s.command],
    testid: testId(s.command),
  });
  const recentItems = recent.slice(0, RECENT_IN_MENU).map((r): MenuItem => ({ label: `  ${r.name}`, run: () => actions.openProject(r.id) }));
  return menuLayout('page').map((m) => ({
    label: m.name,
    items: m.groups.flatMap((group, i) => [...(i > 0 ? [SEPARATOR] : []), ...group.flatMap((s) => (s.command === 'open' ? [item(s), ...recentItems] : [item(s)]))]),
  }));
}
