/**
 * Diffusers-layout ONNX model folders: model_index.json, scheduler/scheduler_config.json, unet/model.onnx
 * (weights inline or as external data beside it). Everything is checked up front so a bad folder gives one typed
 * ModelFolderError naming the file, instead of an ORT failure in the middle of a job.
 *
 * A folder is untrusted input: every file is read only when it is a regular file that resolves (symlinks followed)
 * inside the folder, with a size cap, so a FIFO cannot block the engine, /dev/zero cannot fill its memory and a link
 * cannot read or measure files elsewhere ('unsafe-file'). Values that size allocations (timesteps, sample dims) are
 * capped too, each error naming the field.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, dirname } from 'node:path';
import { ModelFolderError } from './errors';
import { alphasCumprod, parseSchedulerConfig, type SchedulerConfig } from './scheduler';
import { readOnnxSignature, OnnxParseError, type OnnxElemType, type OnnxSignature, type OnnxValueInfo } from './onnx-signature';
import { isTextPipelineIndex, loadTextModelFolder, type TextConditioning } from './text-model-folder';
import { FileAccessError, isInside, readRegularFile, statRegularFile } from '../fs/regular-file';
import { RecentlyUsed } from '../recently-used';

/** JSON configs are a few hundred bytes; 4 MiB leaves room for odd ones but not for a memory attack. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Protobuf cannot encode a message over 2 GiB: a bigger model.onnx is not a model (weights go to external data). */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;
/** Sample limits: channels, side length and elements of one sample [C, H, W] (256 MiB of float32). */
export const MAX_SAMPLE_CHANNELS = 64;
export const MAX_SAMPLE_SIDE = 4096;
export const MAX_SAMPLE_ELEMENTS = 2 ** 26;

export type TimestepElemType = 'int64' | 'int32' | 'float32' | 'float64' | 'float16';

export interface UnetSignature {
  file: string;
  sampleInput: string;
  /** [C, H, W] of one sample. */
  sampleDims: [number, number, number];
  timestepInput: string;
  timestepType: TimestepElemType;
  /** 0: a scalar; 1: a vector (length 1 when static, B when dynamic). */
  timestepRank: 0 | 1;
  /** True when the rank-1 timestep has a dynamic length and takes one value per batch item. */
  timestepPerItem: boolean;
  outputName: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Bytes of model.onnx plus its external data files. */
  weightsBytes: number;
  /** External data files (absolute, resolved, checked to be regular files inside the model folder). */
  externalData: string[];
}

export interface ModelFolder {
  dir: string;
  name: string;
  modelIndex: Record<string, unknown>;
  scheduler: SchedulerConfig;
  alphasCumprod: Float64Array;
  unet: UnetSignature;
  /** Text-conditioned pipelines only (text-model-folder.ts): text encoder, tokenizer, VAE, the condition input. */
  text?: TextConditioning;
}

export const MODEL_FILES = {
  index: 'model_index.json',
  scheduler: join('scheduler', 'scheduler_config.json'),
  unet: join('unet', 'model.onnx'),
  unetConfig: join('unet', 'config.json'),
} as const;

/**
 * Map a refused file to the folder's typed error; `tooLarge` says which code a file over its cap gets. Shared by the
 * text-model loader and the tokenizer's reads, so every file of a folder is refused in the same words.
 */
export function folderError(err: unknown, file: string, tooLarge: 'malformed-json' | 'bad-onnx'): ModelFolderError {
  if (!(err instanceof FileAccessError)) return new ModelFolderError('missing-file', file, 'file is missing or unreadable');
  switch (err.problem) {
    case 'missing':
    case 'unreadable':
      return new ModelFolderError('missing-file', file, 'file is missing or unreadable');
    case 'stalled':
      return new ModelFolderError('missing-file', file, err.message);
    case 'directory':
      return new ModelFolderError('missing-file', file, 'is a folder where a file was expected');
    case 'outside':
      return new ModelFolderError('unsafe-file', file, 'is a link that leads out of the model folder; only files inside it are read');
    case 'not-regular':
      return new ModelFolderError('unsafe-file', file, `${err.message}; only regular files inside the model folder are read`);
    case 'too-large':
      return new ModelFolderError(tooLarge, file, err.message);
  }
}

/**
 * A JSON object from a config file: a regular file of at most MAX_CONFIG_BYTES, inside `root` when given (the
 * model folder, resolved). Missing and `required` false: null.
 */
export async function readJson(file: string, required: boolean, root?: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = (await readRegularFile(file, { root, maxBytes: MAX_CONFIG_BYTES })).toString('utf8');
  } catch (err) {
    if (!required && err instanceof FileAccessError && err.problem === 'missing') return null;
    throw folderError(err, file, 'malformed-json');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError('malformed-json', file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFolderError('malformed-json', file, 'expected a JSON object');
  }
  return json as Record<string, unknown>;
}

const TIMESTEP_TYPES: readonly OnnxElemType[] = ['int64', 'int32', 'float32', 'float64'];

/** Check the U-Net's inputs: `sample` float32 rank 4 and `timestep` (int or float, rank 0 or 1), nothing else. */
export function checkUnetSignature(
  file: string,
  inputs: OnnxValueInfo[],
  outputs: OnnxValueInfo[],
  config: Record<string, unknown> | null,
  configFile: string,
): Omit<UnetSignature, 'weightsBytes' | 'externalData'> {
  const names = inputs.map((i) => i.name).join(', ') || '(none)';
  const sample = inputs.find((i) => i.name === 'sample');
  const timestep = inputs.find((i) => i.name === 'timestep');
  if (!sample || !timestep) {
    throw new ModelFolderError('wrong-inputs', file, `U-Net needs inputs "sample" and "timestep"; it has ${names}`);
  }
  const extra = inputs.filter((i) => i !== sample && i !== timestep);
  if (extra.length > 0) {
    throw new ModelFolderError(
      'unsupported-model',
      file,
      `U-Net has extra inputs ${extra.map((i) => `"${i.name}"`).join(', ')} (only unconditional models are supported yet)`,
    );
  }
  if (sample.elemType !== 'float32') {
    throw new ModelFolderError('wrong-inputs', file, `input "sample" must be float32, it is ${sample.elemType}`);
  }
  if (sample.dims.length !== 4) {
    throw new ModelFolderError('wrong-inputs', file, `input "sample" must have rank 4 [B, C, H, W], it has rank ${sample.dims.length}`);
  }
  if (!TIMESTEP_TYPES.includes(timestep.elemType)) {
    throw new ModelFolderError('wrong-inputs', file, `input "timestep" must be int64, int32 or float, it is ${timestep.elemType}`);
  }
  if (timestep.dims.length > 1) {
    throw new ModelFolderError('wrong-inputs', file, `input "timestep" must have rank 0 or 1, it has rank ${timestep.dims.length}`);
  }
  // Static dims come from the graph; dynamic ones fall back to unet/config.json (in_channels, sample_size).
  const [, c, h, w] = sample.dims;
  const fromConfig = (key: string): number | null => {
    const v = config?.[key];
    const n = Array.isArray(v) ? v[0] : v;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
  };
  const fixed = (d: number | string | null | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
  const C = fixed(c) ?? fromConfig('in_channels');
  const H = fixed(h) ?? fromConfig('sample_size');
  const W = fixed(w) ?? fromConfig('sample_size');
  if (!C || !H || !W) {
    throw new ModelFolderError(
      'wrong-inputs',
      file,
      `input "sample" has dynamic channels/size and ${basename(configFile)} does not give in_channels/sample_size`,
    );
  }
  // Every buffer of a job is sized from these: an absurd value must be a typed error, not an allocation failure.
  const source = (d: number | string | null | undefined, key: string) => (fixed(d) ? 'the graph' : `${basename(configFile)} "${key}"`);
  if (C > MAX_SAMPLE_CHANNELS) {
    throw new ModelFolderError('unsupported-model', file, `input "sample" has ${C} channels (from ${source(c, 'in_channels')}); at most ${MAX_SAMPLE_CHANNELS} are supported`);
  }
  if (H > MAX_SAMPLE_SIDE || W > MAX_SAMPLE_SIDE || C * H * W > MAX_SAMPLE_ELEMENTS) {
    throw new ModelFolderError(
      'unsupported-model',
      file,
      `input "sample" is ${C}×${H}×${W} (from ${source(h, 'sample_size')}); at most ${MAX_SAMPLE_SIDE} per side and ${MAX_SAMPLE_ELEMENTS} values are supported`,
    );
  }
  if (outputs.length < 1) throw new ModelFolderError('bad-onnx', file, 'graph has no outputs');
  return unetSignature(file, [C, H, W], timestep, inputs, outputs);
}

/**
 * The U-Net's signature from its checked parts (diffusers' input names `sample` and `timestep`; the first output is
 * ε or v), for unconditional and text-conditioned folders alike.
 */
export function unetSignature(
  file: string,
  sampleDims: [number, number, number],
  timestep: OnnxValueInfo,
  inputs: OnnxValueInfo[],
  outputs: OnnxValueInfo[],
): Omit<UnetSignature, 'weightsBytes' | 'externalData'> {
  const tdim = timestep.dims[0];
  return {
    file,
    sampleInput: 'sample',
    sampleDims,
    timestepInput: 'timestep',
    timestepType: timestep.elemType as TimestepElemType,
    timestepRank: timestep.dims.length as 0 | 1,
    timestepPerItem: timestep.dims.length === 1 && !(typeof tdim === 'number' && tdim === 1),
    outputName: outputs[0].name,
    inputs,
    outputs,
  };
}

/**
 * Signatures already read, by the file's real path, size, inode and times: every job opens its model folder, and
 * reading and parsing the bundled U-Net (37 MB) for its signature took ≈ 200 ms of each live preview. A file written
 * since has another stat and is read again; the confinement checks (statRegularFile) run every time. The 16 most
 * recent files are kept.
 */
const signatureMemo = new RecentlyUsed<string, { sig: OnnxSignature; bytes: number }>(16);

/** An ONNX file's signature: a regular file inside `root` of at most MAX_ONNX_BYTES. Throws ModelFolderError. */
export async function readOnnxFile(file: string, root?: string): Promise<{ sig: OnnxSignature; bytes: number }> {
  let key: string;
  try {
    const st = await statRegularFile(file, { root, maxBytes: MAX_ONNX_BYTES });
    key = [st.realPath, st.size, st.ino, st.mtimeMs, st.ctimeMs].join('\u0000');
  } catch (err) {
    throw folderError(err, file, 'bad-onnx');
  }
  const known = signatureMemo.get(key);
  if (known) return known;
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file, { root, maxBytes: MAX_ONNX_BYTES });
  } catch (err) {
    throw folderError(err, file, 'bad-onnx');
  }
  let read: { sig: OnnxSignature; bytes: number };
  try {
    read = { sig: readOnnxSignature(bytes), bytes: bytes.length };
  } catch (err) {
    if (err instanceof OnnxParseError) throw new ModelFolderError('bad-onnx', file, `not a valid ONNX model: ${err.message}`);
    throw err;
  }
  signatureMemo.set(key, read);
  return read;
}

/**
 * The external data files an ONNX file names, checked: each location must lie inside the model folder `given`
 * (lexically, refused before any stat, so neither the size nor the existence of a file elsewhere leaks) and resolve
 * to a regular file inside `real` (the folder resolved). Returns their total size and resolved paths.
 */
export async function checkExternalData(onnxFile: string, locations: readonly string[], given: string, real: string): Promise<{ bytes: number; files: string[] }> {
  let bytes = 0;
  const files: string[] = [];
  for (const rel of locations) {
    const f = resolve(dirname(onnxFile), rel);
    if (rel === '' || isAbsolute(rel) || rel.includes('\0') || !isInside(given, f)) {
      throw new ModelFolderError('unsafe-file', onnxFile, `external weights location "${rel}" is outside the model folder; only files inside it are read`);
    }
    try {
      const st = await statRegularFile(f, { root: real });
      bytes += st.size;
      files.push(st.realPath);
    } catch (err) {
      if (err instanceof FileAccessError && (err.problem === 'missing' || err.problem === 'unreadable')) {
        throw new ModelFolderError('missing-file', f, `external weights file referenced by ${basename(dirname(onnxFile))}/${basename(onnxFile)} is missing`);
      }
      throw folderError(err, f, 'bad-onnx');
    }
  }
  return { bytes, files };
}

/** Open and validate a model folder. Throws ModelFolderError (naming the file) on any problem. */
export async function loadModelFolder(dirIn: string): Promise<ModelFolder> {
  const given = resolve(dirIn);
  let dir: string;
  try {
    // The folder itself may be a link (a models folder on another disk); its contents are confined to where it leads.
    dir = await realpath(given);
    if (!(await stat(dir)).isDirectory()) throw new ModelFolderError('missing-file', given, 'not a folder');
  } catch (err) {
    if (err instanceof ModelFolderError) throw err;
    throw new ModelFolderError('missing-file', given, 'model folder does not exist');
  }
  // Files are named under the path the user gave, so messages show the folder they picked.
  const at = (rel: string) => join(given, rel);

  const indexFile = at(MODEL_FILES.index);
  const modelIndex = (await readJson(indexFile, true, dir)) as Record<string, unknown>;
  // Text-conditioned pipelines (Stable Diffusion 1.x/2.x) have their own reader: text-model-folder.ts.
  if (isTextPipelineIndex(modelIndex)) return loadTextModelFolder(given, dir, modelIndex, indexFile);
  const schedFile = at(MODEL_FILES.scheduler);
  const scheduler = parseSchedulerConfig(await readJson(schedFile, true, dir), schedFile);
  const unetConfigFile = at(MODEL_FILES.unetConfig);
  const unetConfig = await readJson(unetConfigFile, false, dir);

  const unetFile = at(MODEL_FILES.unet);
  const { sig, bytes } = await readOnnxFile(unetFile, dir);
  const unet = checkUnetSignature(unetFile, sig.inputs, sig.outputs, unetConfig, unetConfigFile);
  const external = await checkExternalData(unetFile, sig.externalDataFiles, given, dir);
  const weightsBytes = bytes + external.bytes;
  const externalData = external.files;
  return {
    dir: given,
    name: basename(given),
    modelIndex,
    scheduler,
    alphasCumprod: alphasCumprod(scheduler),
    unet: { ...unet, weightsBytes, externalData },
  };
}

/** Model folders directly under `root` (e.g. resources/models) that at least have a model_index.json. */
export async function listModelFolders(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    try {
      await stat(join(root, n, MODEL_FILES.index));
      out.push(join(root, n));
    } catch {
      // not a model folder
    }
  }
  return out;
}
