/**
 * The models that ship with the app (resources/models): the folder, the default model, and the list the editor's
 * model picker offers. From source (CLI, web mode, tests) the folder is found beside this file; the packaged
 * Electron app passes its resources path instead.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listModelFolders } from '../core/diffusion/model-folder';

export const DEFAULT_MODEL_NAME = 'avatars64';

/** resources/models of this checkout (src-main/app → project root). */
export function bundledModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'models');
}

export function defaultModelDir(): string {
  return join(bundledModelsDir(), DEFAULT_MODEL_NAME);
}

/** The model folders in `modelsDir`, each named by its folder, the default model first. */
export async function listBundledModels(modelsDir: string): Promise<{ name: string; dir: string }[]> {
  const dirs = await listModelFolders(modelsDir);
  const models = dirs.map((dir) => ({ name: dir.split(/[\\/]/).pop() ?? dir, dir }));
  return models.sort((a, b) => Number(b.name === DEFAULT_MODEL_NAME) - Number(a.name === DEFAULT_MODEL_NAME));
}
