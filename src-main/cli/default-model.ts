/**
 * The bundled default model: every CLI command that takes a <model-dir> uses it when the argument is omitted,
 * so `npx pullback generate --seed 1 --steps 50 --out a.png` works right after install.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './types';

export const DEFAULT_MODEL_NAME = 'avatars64';

/** resources/models of this checkout (src-main/cli → project root). */
export function bundledModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'models');
}

export function defaultModelDir(): string {
  return join(bundledModelsDir(), DEFAULT_MODEL_NAME);
}

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
