/**
 * The editor's commands: one list for the page's shortcuts and buttons (src-renderer/src/lib/shortcuts.ts) and
 * the native menus (src-main/menu.ts), which send these names to the page over IPC.
 */
export const EDITOR_COMMANDS = [
  'new',
  'open',
  'openRecent',
  'save',
  'saveAs',
  'import',
  'export',
  'undo',
  'redo',
  'apply',
  'computeBasis',
  'randomSeed',
  'compare',
  'zoomIn',
  'zoomOut',
  'zoomFit',
  'zoomActual',
  'help',
  'openModel',
] as const;

export type EditorCommand = (typeof EDITOR_COMMANDS)[number];
