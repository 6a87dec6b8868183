/**
 * The posterior-mean VAE encoder of a text model whose export draws from the posterior (diffusers' converter:
 * `latent_sample` = mean + std · ε, core/onnx/mean-encoder.ts), made once per encoder graph in the app's data folder:
 * <data dir>/mean-encoder/<sha256 of (rules version, output name, model.onnx bytes)>/model.onnx.
 *
 * Only the graph file is written: external weights keep their relative locations and ORT reads them from the source
 * folder (the session's external-data folder), so they never enter JS and are never copied. The copy is written like
 * the other derived graphs of the data folder (jacobian-operator.ts): a private temp folder renamed into place, with
 * the sizes written recorded so a torn or damaged copy is made again instead of loaded.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dataDir } from '../../app/data-dir';
import { ModelFolderError } from '../../core/diffusion/errors';
import { MAX_ONNX_BYTES } from '../../core/diffusion/model-folder';
import { readRegularFile } from '../../core/fs/regular-file';
import { OnnxDeriveError } from '../../core/onnx/errors';
import { posteriorMeanModel } from '../../core/onnx/mean-encoder';
import { writeCacheFiles } from './cache-folder';

/** Bumped when posteriorMeanModel writes different graphs, so copies cached by an older version are made again. */
const RULES_VERSION = 1;

export interface MeanEncoderFile {
  /** The graph to open: the cached mean copy, or the export itself when its output was already deterministic. */
  file: string;
  /** Folder its external weights resolve against (the export's own folder). */
  externalDataFolder: string;
  /** Whether `file` is a copy made here (false: the export had no random op on the way to its output). */
  derived: boolean;
}

/**
 * The graph whose output is the posterior mean of the VAE encoder `encoderFile` (a draw `output` = mean + std · ε),
 * made once and cached under `root` (the app's data folder by default). `modelDir` confines the read to the model
 * folder. Throws ModelFolderError('unsupported-model') naming the encoder when the draw is not recognised.
 */
export async function meanEncoderFile(encoderFile: string, output: string, modelDir: string, root: string = dataDir()): Promise<MeanEncoderFile> {
  const bytes = await readRegularFile(encoderFile, { root: await realpath(modelDir), maxBytes: MAX_ONNX_BYTES });
  const key = createHash('sha256').update(`pullback-mean-encoder-v${RULES_VERSION}\0${output}\0`).update(bytes).digest('hex');
  const dir = join(root, 'mean-encoder', key.slice(0, 32));
  const file = join(dir, 'model.onnx');
  const externalDataFolder = dirname(encoderFile);
  try {
    const done = JSON.parse(await readFile(join(dir, 'done.json'), 'utf8')) as { modelBytes: number };
    if ((await stat(file)).size === done.modelBytes) return { file, externalDataFolder, derived: true };
  } catch {
    // absent or damaged: make it again
  }
  let r;
  try {
    r = posteriorMeanModel(bytes, output);
  } catch (err) {
    if (err instanceof OnnxDeriveError) {
      throw new ModelFolderError('unsupported-model', encoderFile, `cannot take the posterior mean from this VAE encoder, so an imported image would be inverted from a random draw: ${err.message}`);
    }
    throw err;
  }
  if (r.kind === 'deterministic') return { file: encoderFile, externalDataFolder, derived: false };
  await writeCacheFiles(dir, {
    'model.onnx': r.model,
    'done.json': JSON.stringify({ modelBytes: r.model.length, source: encoderFile, meanTensor: r.meanTensor, drawNode: r.drawNode, removedNodes: r.removedNodes }),
  });
  return { file, externalDataFolder, derived: true };
}
