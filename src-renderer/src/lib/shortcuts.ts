/** The page's side of the command table (src-main/shared/commands.ts): this platform's key handling and key labels. */
import { COMMANDS, commandForKey, shortcutLabel, type CommandSpec, type EditorCommand, type KeyLike } from '../../../src-main/shared/commands';

export type Command = EditorCommand;

/** The commands with a key binding, in table order: the Help panel's list. */
export const SHORTCUTS: readonly CommandSpec[] = COMMANDS.filter((s) => s.keys.length > 0);

export function isMac(): boolean {
  const nav = (globalThis as { navigator?: { platform?: string } }).navigator;
  return /Mac|iPhone|iPad/.test(nav?.platform ?? '');
}

/** The Mod key's name on this platform. */
export function mod(): string {
  return isMac() ? '⌘' : 'Ctrl';
}

/** The command for a key event on this platform, or null. */
export function commandFor(e: KeyLike): Command | null {
  return commandForKey(e, isMac());
}

/** How this platform writes a command's key ('Ctrl+S', '⌘+S', 'B'), or undefined without one. */
export function shortcutFor(command: Command): string | undefined {
  return shortcutLabel(command, isMac());
}
