/**
 * Diffusers-layout ONNX model folders: model_index.json, scheduler/scheduler_config.json, unet/model.onnx
 * (weights inline or as external data beside it). Everything is checked up front so a bad folder gives one typed
 * ModelFolderError naming the file, instead of an ORT failure in the middle of a job.
 */
import { readFile, stat, readdir } from 'node:fs/promises';
import { basename, join, resolve, dirname } from 'node:path';
import { ModelFolderError } from './errors';
import { alphasCumprod, parseSchedulerConfig, type SchedulerConfig } from './scheduler';
import { readOnnxSignature, OnnxParseError, type OnnxElemType, type OnnxValueInfo } from './onnx-signature';

export type TimestepElemType = 'int64' | 'int32' | 'float32' | 'float64';

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
}

export interface ModelFolder {
  dir: string;
  name: string;
  modelIndex: Record<string, unknown>;
  scheduler: SchedulerConfig;
  alphasCumprod: Float64Array;
  unet: UnetSignature;
}

export const MODEL_FILES = {
  index: 'model_index.json',
  scheduler: join('scheduler', 'scheduler_config.json'),
  unet: join('unet', 'model.onnx'),
  unetConfig: join('unet', 'config.json'),
} as const;

async function readJson(file: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ModelFolderError('missing-file', file, 'file is missing or unreadable');
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
): Omit<UnetSignature, 'weightsBytes'> {
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
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    if (Array.isArray(v) && typeof v[0] === 'number') return v[0] as number;
    return null;
  };
  const C = typeof c === 'number' && c > 0 ? c : fromConfig('in_channels');
  const H = typeof h === 'number' && h > 0 ? h : fromConfig('sample_size');
  const W = typeof w === 'number' && w > 0 ? w : fromConfig('sample_size');
  if (!C || !H || !W) {
    throw new ModelFolderError(
      'wrong-inputs',
      file,
      `input "sample" has dynamic channels/size and ${basename(configFile)} does not give in_channels/sample_size`,
    );
  }
  if (outputs.length < 1) throw new ModelFolderError('bad-onnx', file, 'graph has no outputs');
  const tdim = timestep.dims[0];
  return {
    file,
    sampleInput: 'sample',
    sampleDims: [C, H, W],
    timestepInput: 'timestep',
    timestepType: timestep.elemType as TimestepElemType,
    timestepRank: timestep.dims.length as 0 | 1,
    timestepPerItem: timestep.dims.length === 1 && !(typeof tdim === 'number' && tdim === 1),
    outputName: outputs[0].name,
    inputs,
    outputs,
  };
}

/** Open and validate a model folder. Throws ModelFolderError (naming the file) on any problem. */
export async function loadModelFolder(dirIn: string): Promise<ModelFolder> {
  const dir = resolve(dirIn);
  let dirStat;
  try {
    dirStat = await stat(dir);
  } catch {
    throw new ModelFolderError('missing-file', dir, 'model folder does not exist');
  }
  if (!dirStat.isDirectory()) throw new ModelFolderError('missing-file', dir, 'not a folder');

  const indexFile = join(dir, MODEL_FILES.index);
  const modelIndex = (await readJson(indexFile, true)) as Record<string, unknown>;
  const schedFile = join(dir, MODEL_FILES.scheduler);
  const scheduler = parseSchedulerConfig(await readJson(schedFile, true), schedFile);
  const unetConfigFile = join(dir, MODEL_FILES.unetConfig);
  const unetConfig = await readJson(unetConfigFile, false);

  const unetFile = join(dir, MODEL_FILES.unet);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(unetFile);
  } catch {
    throw new ModelFolderError('missing-file', unetFile, 'file is missing or unreadable');
  }
  let sig;
  try {
    sig = readOnnxSignature(bytes);
  } catch (err) {
    if (err instanceof OnnxParseError) throw new ModelFolderError('bad-onnx', unetFile, `not a valid ONNX model: ${err.message}`);
    throw err;
  }
  const unet = checkUnetSignature(unetFile, sig.inputs, sig.outputs, unetConfig, unetConfigFile);
  let weightsBytes = bytes.length;
  for (const rel of sig.externalDataFiles) {
    const f = resolve(dirname(unetFile), rel);
    try {
      weightsBytes += (await stat(f)).size;
    } catch {
      throw new ModelFolderError('missing-file', f, 'external weights file referenced by unet/model.onnx is missing');
    }
  }
  return {
    dir,
    name: basename(dir),
    modelIndex,
    scheduler,
    alphasCumprod: alphasCumprod(scheduler),
    unet: { ...unet, weightsBytes },
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
