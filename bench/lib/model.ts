/**
 * The model a benchmark runs on: the given folder, else the bundled avatars64, loaded on the CPU provider with the
 * engine's batch-safe predictor, and x_t on a seed's 100-step DDIM path at t = 0.6·T (the editor's default).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { batchSafePredictor, resolveTimestep, resolveXt } from '../../src-main/engine/jobs/support/latent';
import { isFloatType, readModel } from '../../src-main/core/onnx/proto';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUNDLED_MODEL = path.join(ROOT, 'resources/models/avatars64');
export const hasBundledModel = (): boolean => existsSync(path.join(BUNDLED_MODEL, 'unet', 'model.onnx'));

export async function loadBenchModel(modelDir: string, options: { seed?: number; t?: number; steps?: number } = {}) {
  const models = new ModelCache();
  const loaded = await models.load(modelDir, 'cpu');
  const model = loaded.model;
  const predictor = batchSafePredictor(model, loaded.predictor);
  const steps = options.steps ?? 100;
  const timestep = resolveTimestep({ t: options.t ?? 0.6, steps }, model);
  const xtOf = (seed: number) => resolveXt({ seed, steps }, model, predictor, timestep);
  const xt = await xtOf(options.seed ?? 0);
  return { models, model, predictor, timestep, steps, xt, xtOf };
}

/** Option `--name value` of a benchmark's argument list. */
export function benchOption(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Parameters of an ONNX graph: elements of its floating-point initializers, counted from the dims in model.onnx
 * alone (external weight files are not opened, so an SD-size U-Net's GBs never enter JS).
 */
export async function onnxParameterCount(file: string): Promise<number> {
  const model = readModel(await readFile(file));
  let n = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (isFloatType(t.dataType)) n += t.dims.reduce((a, d) => a * Number(d), 1);
  }
  return n;
}
