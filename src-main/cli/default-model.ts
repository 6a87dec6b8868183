/**
 * The bundled default model: every CLI command that takes a <model-dir> uses it when the argument is omitted,
 * so `npx pullback generate --seed 1 --steps 50 --out a.png` works right after install.
 */
import { existsSync } from 'node:fs';
import { UsageError } from './types';
import { defaultModelDir } from '../app/bundled-models';

/** The model folder a command should open: the one given, else the bundled default. */
export function resolveModelDir(positionals: readonly string[], command: string): string {
  if (positionals.length > 1) throw new UsageError(`${command} takes at most one <model-dir>`);
  if (positionals.length === 1) return positionals[0];
  const dir = defaultModelDir();
  if (!existsSync(dir)) {
    throw new UsageError(`${command}: no <model-dir> given and the bundled model is missing at ${dir}`);
  }
  return dir;
}
