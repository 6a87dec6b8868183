/**
 * Text-conditioned (Stable Diffusion 1.x/2.x) ONNX pipeline folders, in the two layouts the exporters write, read
 * from their own files. model-folder.ts hands a folder here when its model_index.json names text components.
 *
 * Names relied on, and where they come from:
 * - model_index.json `_class_name`: diffusers' ONNX converter (scripts/convert_stable_diffusion_checkpoint_to_onnx.py)
 *   writes "OnnxStableDiffusionPipeline"; Optimum's exported folders name "ORTStableDiffusionPipeline" (or keep the
 *   source's "StableDiffusionPipeline"). SDXL ("…StableDiffusionXL…", a `text_encoder_2`/`tokenizer_2` component),
 *   inpainting, upscaling, LCM and transformer-based pipelines (`transformer/`) are refused, naming what they are.
 * - text_encoder/model.onnx: input "input_ids" (int32 in the diffusers converter, int64 in Optimum), rank 2; output
 *   "last_hidden_state" [batch, seq, hidden] (both exporters; transformers' CLIPTextModel output name). An optional
 *   "attention_mask" input (some exports) is fed with ones, which is what SD pipelines mean (no mask).
 * - unet/model.onnx: inputs "sample" [batch, 4, h, w], "timestep" (float in the diffusers converter, int64 in
 *   Optimum; rank 0 or 1), "encoder_hidden_states" [batch, seq, hidden]; first output ("out_sample" in both).
 *   Weights in `weights.pb` (diffusers) or `model.onnx_data` (Optimum): whatever the graph's external_data names.
 * - vae_decoder/model.onnx: input "latent_sample", first output ("sample") = the image in [-1, 1]. Its batch axis is
 *   dynamic in both exporters; a static one (a hand-made batch-1 export) is kept so decodes are never batched past it.
 * - vae_encoder/model.onnx: input "sample"; output "latent_sample" (diffusers: a posterior *draw*, RandomNormalLike
 *   in the graph; image import opens a copy whose output is the mean, core/onnx/mean-encoder.ts) or
 *   "latent_parameters" (Optimum: mean ‖ logvar on the channel axis). Optional: only image import needs it, and it
 *   says so when missing.
 * - vae_decoder/config.json or vae_encoder/config.json `scaling_factor` (Optimum writes them); without a config
 *   (diffusers' ONNX layout) diffusers' AutoencoderKL default 0.18215, the SD 1.x/2.x value.
 * - tokenizer/: vocab.json + merges.txt (the slow CLIP files, both layouts) or tokenizer.json (Optimum);
 *   tokenizer_config.json `model_max_length`, `pad_token`, `bos_token`, `eos_token` (special_tokens_map.json as
 *   fallback; transformers' CLIPTokenizer defaults otherwise: <|startoftext|>, <|endoftext|>, pad = eos).
 * - Latent size: the U-Net's static dims, else unet/config.json `in_channels`/`sample_size` (Optimum), else the
 *   upstream pipelines' defaults: 4 channels and 64×64 (512 px; OnnxStableDiffusionPipeline's height/width), or
 *   96×96 (768 px) for v-prediction, the SD 2.x 768-v checkpoints (`sampleSizeSource` says which).
 * - Sequence length: tokenizer_config `model_max_length`, else text_encoder/config.json `max_position_embeddings`,
 *   else a static input_ids length, else CLIP's 77.
 *
 * Over 400 lines on purpose: it is the one place that knows both exporters' file layouts, input/output names and
 * configs; split by component, the layout rules (which file, which name, which fallback) would be scattered.
 */
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ModelFolderError } from './errors';
import { alphasCumprod, parseSchedulerConfig } from './scheduler';
import type { OnnxElemType, OnnxSignature, OnnxValueInfo } from './onnx-signature';
import { MAX_SAMPLE_SIDE, folderError, readJson as readFolderJson, readOnnxFile, unetSignature, type ModelFolder, type UnetSignature } from './model-folder';
import { FileAccessError, isInside, statRegularFile } from '../fs/regular-file';

export type TextPipelineLayout = 'diffusers-onnx' | 'optimum';
export type FloatElemType = 'float32' | 'float16';

export interface TextEncoderSignature {
  file: string;
  idsInput: string;
  idsType: 'int32' | 'int64';
  /** Fed with ones when present. */
  maskInput: string | null;
  output: string;
  dtype: FloatElemType;
}

export interface TokenizerFiles {
  dir: string;
  /** tokenizer.json when present (preferred), else built from vocab.json + merges.txt. */
  tokenizerJson: string | null;
  vocab: string | null;
  merges: string | null;
  /** tokenizer_config.json when present. */
  config: string | null;
  maxLength: number;
  bosToken: string;
  eosToken: string;
  padToken: string;
}

export interface VaeSignature {
  /** `batch`: the static batch size of the decoder's input (1 in a batch-1 export), null when the axis is dynamic. */
  decoder: { file: string; input: string; output: string; dtype: FloatElemType; batch: number | null };
  /** Null when the folder has no vae_encoder (generation works; image import says what is missing). */
  encoder: { file: string; input: string; output: string; dtype: FloatElemType; kind: 'sample' | 'parameters' } | null;
  encoderFile: string;
  scalingFactor: number;
  scalingFactorSource: 'config' | 'default';
  /** Image pixels per latent pixel (8 for SD). */
  downscale: number;
}

export interface TextConditioning {
  layout: TextPipelineLayout;
  pipelineClass: string;
  /** The U-Net input the prompt embedding goes to. */
  conditionInput: string;
  /** Tokens per prompt (CLIP: 77) = the embedding's sequence length. */
  seqLength: number;
  /** Width of the embedding (768 SD 1.x, 1024 SD 2.x). */
  hiddenSize: number;
  unetDtype: FloatElemType;
  sampleSizeSource: 'onnx' | 'config' | 'default';
  textEncoder: TextEncoderSignature;
  tokenizer: TokenizerFiles;
  vae: VaeSignature;
}

export type TextModelFolder = ModelFolder & { text: TextConditioning };

export function isTextModel(m: ModelFolder): m is TextModelFolder {
  return m.text !== undefined;
}

export const TEXT_FILES = {
  textEncoder: join('text_encoder', 'model.onnx'),
  textEncoderConfig: join('text_encoder', 'config.json'),
  unet: join('unet', 'model.onnx'),
  unetConfig: join('unet', 'config.json'),
  vaeDecoder: join('vae_decoder', 'model.onnx'),
  vaeDecoderConfig: join('vae_decoder', 'config.json'),
  vaeEncoder: join('vae_encoder', 'model.onnx'),
  vaeEncoderConfig: join('vae_encoder', 'config.json'),
  tokenizer: 'tokenizer',
  scheduler: join('scheduler', 'scheduler_config.json'),
} as const;

const SUPPORTED_CLASSES = /^(Onnx|ORT)?StableDiffusion(Img2Img)?Pipeline$/;

/** Whether model_index.json describes a text-conditioned pipeline (it names text components or is an SD class). */
export function isTextPipelineIndex(index: Record<string, unknown>): boolean {
  const cls = typeof index._class_name === 'string' ? index._class_name : '';
  return ['text_encoder', 'tokenizer', 'text_encoder_2', 'tokenizer_2', 'transformer'].some((k) => k in index) || /StableDiffusion|Flux|PixArt|Kandinsky/.test(cls);
}

/** The family a model_index.json describes, when it is one this app cannot open (null when it is SD 1.x/2.x). */
export function unsupportedFamily(index: Record<string, unknown>): string | null {
  const cls = typeof index._class_name === 'string' ? index._class_name : '(no _class_name)';
  if (/XL/.test(cls) || 'text_encoder_2' in index || 'tokenizer_2' in index) {
    return `${cls}: SDXL (a second text encoder "text_encoder_2" and added conditioning "text_embeds"/"time_ids") is not supported; use an SD 1.x or 2.x export`;
  }
  if ('transformer' in index) return `${cls}: transformer-based pipelines (SD 3, Flux, PixArt) are not supported; use an SD 1.x or 2.x export`;
  if (/Inpaint/.test(cls)) return `${cls}: inpainting U-Nets (9 input channels) are not supported; use a text-to-image SD 1.x or 2.x export`;
  if (!SUPPORTED_CLASSES.test(cls)) return `pipeline class "${cls}" is not a Stable Diffusion 1.x/2.x text-to-image pipeline`;
  return null;
}

/**
 * Where the folder is: `given` names files in messages (the path the user picked), `root` is its real path that
 * every read must stay inside (model-folder.ts's rule: regular files inside the folder only, with size caps).
 */
interface FolderRoot {
  given: string;
  root: string;
}

/** model-folder.ts readJson, confined to this folder. */
function readJson(f: FolderRoot, file: string, required: boolean): Promise<Record<string, unknown> | null> {
  return readFolderJson(file, required, f.root);
}

async function readOnnx(f: FolderRoot, file: string, what: string): Promise<{ sig: OnnxSignature; bytes: number }> {
  try {
    return await readOnnxFile(file, f.root);
  } catch (err) {
    throw err instanceof ModelFolderError && err.code === 'missing-file' ? new ModelFolderError('missing-file', file, `${what} is missing or unreadable`) : err;
  }
}

/** The external data files of a graph: inside the folder, regular, present. Returns their real paths and bytes. */
async function externalData(f: FolderRoot, file: string, sig: OnnxSignature): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for (const rel of sig.externalDataFiles) {
    const p = resolve(dirname(file), rel);
    if (rel === '' || isAbsolute(rel) || rel.includes('\0') || !isInside(f.given, p)) {
      throw new ModelFolderError('unsafe-file', file, `external weights location "${rel}" is outside the model folder; only files inside it are read`);
    }
    try {
      const st = await statRegularFile(p, { root: f.root });
      bytes += st.size;
      files.push(st.realPath);
    } catch (err) {
      if (err instanceof FileAccessError && (err.problem === 'missing' || err.problem === 'unreadable')) {
        throw new ModelFolderError('missing-file', p, `external weights file referenced by ${file} is missing`);
      }
      throw folderError(err, p, 'bad-onnx');
    }
  }
  return { files, bytes };
}

async function exists(f: FolderRoot, file: string): Promise<boolean> {
  try {
    await statRegularFile(file, { root: f.root });
    return true;
  } catch (err) {
    if (err instanceof FileAccessError && err.problem === 'missing') return false;
    throw folderError(err, file, 'malformed-json');
  }
}

function floatType(file: string, v: OnnxValueInfo, what: string): FloatElemType {
  if (v.elemType === 'float32' || v.elemType === 'float16') return v.elemType;
  throw new ModelFolderError('wrong-inputs', file, `${what} "${v.name}" must be float32 or float16, it is ${v.elemType}`);
}

const staticDim = (d: number | string | null | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

/** A special token of tokenizer_config.json / special_tokens_map.json: a string or an AddedToken {content}. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

async function readTokenizerFiles(fr: FolderRoot, textConfig: Record<string, unknown> | null, idsDim: number | null): Promise<TokenizerFiles> {
  const tokDir = join(fr.given, TEXT_FILES.tokenizer);
  const f = (n: string) => join(tokDir, n);
  const tokenizerJson = (await exists(fr, f('tokenizer.json'))) ? f('tokenizer.json') : null;
  const haveVocab = await exists(fr, f('vocab.json'));
  const haveMerges = await exists(fr, f('merges.txt'));
  if (!tokenizerJson && !(haveVocab && haveMerges)) {
    throw new ModelFolderError('missing-file', haveVocab ? f('merges.txt') : f('vocab.json'), 'the CLIP tokenizer needs vocab.json and merges.txt (or tokenizer.json)');
  }
  const config = await readJson(fr, f('tokenizer_config.json'), false);
  const special = await readJson(fr, f('special_tokens_map.json'), false);
  const pick = (key: string, dflt: string): string => tokenString(config?.[key]) ?? tokenString(special?.[key]) ?? dflt;
  const eosToken = pick('eos_token', '<|endoftext|>');
  // transformers' "VERY_LARGE_INTEGER" (1e30) stands for "unknown": only a plausible length is taken.
  const cfgLen = positiveInt(config?.model_max_length);
  const maxLength = (cfgLen && cfgLen <= 4096 ? cfgLen : null) ?? positiveInt(textConfig?.max_position_embeddings) ?? idsDim ?? 77;
  return {
    dir: tokDir,
    tokenizerJson,
    vocab: haveVocab ? f('vocab.json') : null,
    merges: haveMerges ? f('merges.txt') : null,
    config: config ? f('tokenizer_config.json') : null,
    maxLength,
    bosToken: pick('bos_token', '<|startoftext|>'),
    eosToken,
    padToken: pick('pad_token', eosToken),
  };
}

function checkTextEncoder(file: string, sig: OnnxSignature): TextEncoderSignature {
  const names = sig.inputs.map((i) => `"${i.name}"`).join(', ') || '(none)';
  const ids = sig.inputs.find((i) => i.name === 'input_ids');
  if (!ids) throw new ModelFolderError('wrong-inputs', file, `text encoder needs input "input_ids"; it has ${names}`);
  if (ids.elemType !== 'int32' && ids.elemType !== 'int64') {
    throw new ModelFolderError('wrong-inputs', file, `input "input_ids" must be int32 or int64, it is ${ids.elemType}`);
  }
  if (ids.dims.length !== 2) throw new ModelFolderError('wrong-inputs', file, `input "input_ids" must have rank 2 [batch, sequence], it has rank ${ids.dims.length}`);
  const mask = sig.inputs.find((i) => i.name === 'attention_mask') ?? null;
  const extra = sig.inputs.filter((i) => i !== ids && i !== mask);
  if (extra.length > 0) {
    throw new ModelFolderError('unsupported-model', file, `text encoder has inputs ${extra.map((i) => `"${i.name}"`).join(', ')} besides "input_ids" (a CLIP text model takes token ids only)`);
  }
  const out = sig.outputs.find((o) => o.name === 'last_hidden_state') ?? sig.outputs.find((o) => o.dims.length === 3);
  if (!out) {
    throw new ModelFolderError('wrong-inputs', file, `text encoder needs output "last_hidden_state" [batch, seq, hidden]; it has ${sig.outputs.map((o) => `"${o.name}"`).join(', ')}`);
  }
  return { file, idsInput: ids.name, idsType: ids.elemType, maskInput: mask?.name ?? null, output: out.name, dtype: floatType(file, out, 'output') };
}

const TIMESTEP_TYPES: readonly OnnxElemType[] = ['int64', 'int32', 'float32', 'float64', 'float16'];

/** The U-Net of a text pipeline: sample, timestep, encoder_hidden_states and nothing else. */
export function checkTextUnet(
  file: string,
  inputs: OnnxValueInfo[],
  outputs: OnnxValueInfo[],
  config: Record<string, unknown> | null,
  predictionType: string,
): { unet: Omit<UnetSignature, 'weightsBytes' | 'externalData'>; condition: OnnxValueInfo; dtype: FloatElemType; sizeSource: TextConditioning['sampleSizeSource'] } {
  const names = inputs.map((i) => `"${i.name}"`).join(', ') || '(none)';
  const sample = inputs.find((i) => i.name === 'sample');
  const timestep = inputs.find((i) => i.name === 'timestep');
  const ehs = inputs.find((i) => i.name === 'encoder_hidden_states');
  if (!sample || !timestep || !ehs) {
    throw new ModelFolderError('wrong-inputs', file, `a text-conditioned U-Net needs inputs "sample", "timestep" and "encoder_hidden_states"; it has ${names}`);
  }
  const extra = inputs.filter((i) => i !== sample && i !== timestep && i !== ehs);
  if (extra.length > 0) {
    const list = extra.map((i) => `"${i.name}"`).join(', ');
    const why = extra.some((i) => ['text_embeds', 'time_ids'].includes(i.name))
      ? ' (SDXL added conditioning)'
      : extra.some((i) => i.name === 'timestep_cond')
        ? ' (a latent consistency model)'
        : '';
    throw new ModelFolderError('unsupported-model', file, `U-Net has extra inputs ${list}${why}; only SD 1.x/2.x U-Nets (sample, timestep, encoder_hidden_states) are supported`);
  }
  const dtype = floatType(file, sample, 'input');
  if (floatType(file, ehs, 'input') !== dtype) {
    throw new ModelFolderError('wrong-inputs', file, `"encoder_hidden_states" is ${ehs.elemType} but "sample" is ${sample.elemType}`);
  }
  if (sample.dims.length !== 4) throw new ModelFolderError('wrong-inputs', file, `input "sample" must have rank 4 [B, C, H, W], it has rank ${sample.dims.length}`);
  if (ehs.dims.length !== 3) throw new ModelFolderError('wrong-inputs', file, `input "encoder_hidden_states" must have rank 3 [B, seq, hidden], it has rank ${ehs.dims.length}`);
  if (!TIMESTEP_TYPES.includes(timestep.elemType)) {
    throw new ModelFolderError('wrong-inputs', file, `input "timestep" must be int64, int32 or float, it is ${timestep.elemType}`);
  }
  if (timestep.dims.length > 1) throw new ModelFolderError('wrong-inputs', file, `input "timestep" must have rank 0 or 1, it has rank ${timestep.dims.length}`);
  if (outputs.length < 1) throw new ModelFolderError('bad-onnx', file, 'graph has no outputs');
  const [, c, h, w] = sample.dims;
  const cfgSize = positiveInt(config?.sample_size) ?? (Array.isArray(config?.sample_size) ? positiveInt(config.sample_size[0]) : null);
  const C = staticDim(c) ?? positiveInt(config?.in_channels) ?? 4;
  if (C !== 4) {
    const what = C === 9 ? 'an inpainting U-Net (9 input channels)' : C === 5 ? 'a depth-conditioned U-Net (5 input channels)' : `a U-Net with ${C} input channels`;
    throw new ModelFolderError('unsupported-model', file, `${what}: only 4-channel SD 1.x/2.x latents are supported`);
  }
  let sizeSource: TextConditioning['sampleSizeSource'] = 'onnx';
  let H = staticDim(h);
  let W = staticDim(w);
  if (!H || !W) {
    sizeSource = cfgSize ? 'config' : 'default';
    const dflt = cfgSize ?? (predictionType === 'v_prediction' ? 96 : 64);
    H = H ?? dflt;
    W = W ?? dflt;
  }
  // Every buffer of a job is sized from these (model-folder.ts caps the unconditional case the same way).
  if (H > MAX_SAMPLE_SIDE || W > MAX_SAMPLE_SIDE) {
    throw new ModelFolderError('unsupported-model', file, `the latent is ${H}×${W} (from ${sizeSource === 'onnx' ? 'the graph' : 'unet/config.json "sample_size"'}); at most ${MAX_SAMPLE_SIDE} per side is supported`);
  }
  return {
    unet: unetSignature(file, [C, H, W], timestep, inputs, outputs),
    condition: ehs,
    dtype,
    sizeSource,
  };
}

function vaePart(file: string, sig: OnnxSignature, input: string, outputs: string[], what: string): { input: string; output: OnnxValueInfo; dtype: FloatElemType; batch: number | null } {
  const inp = sig.inputs.find((i) => i.name === input);
  if (!inp || sig.inputs.length !== 1) {
    throw new ModelFolderError('wrong-inputs', file, `${what} needs the one input "${input}"; it has ${sig.inputs.map((i) => `"${i.name}"`).join(', ') || '(none)'}`);
  }
  if (inp.dims.length !== 4) throw new ModelFolderError('wrong-inputs', file, `input "${input}" must have rank 4, it has rank ${inp.dims.length}`);
  const out = sig.outputs.find((o) => outputs.includes(o.name)) ?? sig.outputs[0];
  return { input, output: out, dtype: floatType(file, inp, 'input'), batch: staticDim(inp.dims[0]) };
}

async function readVae(fr: FolderRoot): Promise<VaeSignature> {
  const decFile = join(fr.given, TEXT_FILES.vaeDecoder);
  const decRead = await readOnnx(fr, decFile, 'the VAE decoder');
  await externalData(fr, decFile, decRead.sig);
  const dec = vaePart(decFile, decRead.sig, 'latent_sample', ['sample'], 'the VAE decoder');
  const encFile = join(fr.given, TEXT_FILES.vaeEncoder);
  let encoder: VaeSignature['encoder'] = null;
  if (await exists(fr, encFile)) {
    const encRead = await readOnnx(fr, encFile, 'the VAE encoder');
    await externalData(fr, encFile, encRead.sig);
    const e = vaePart(encFile, encRead.sig, 'sample', ['latent_parameters', 'latent_sample'], 'the VAE encoder');
    const ch = staticDim(e.output.dims[1]);
    const kind = e.output.name === 'latent_parameters' || ch === 8 ? 'parameters' : e.output.name === 'latent_sample' || ch === 4 ? 'sample' : null;
    if (!kind) {
      throw new ModelFolderError('wrong-inputs', encFile, `cannot tell whether output "${e.output.name}" is a latent sample or the posterior's parameters (expected "latent_sample" or "latent_parameters")`);
    }
    encoder = { file: encFile, input: e.input, output: e.output.name, dtype: e.dtype, kind };
  }
  let scalingFactor = 0.18215;
  let scalingFactorSource: VaeSignature['scalingFactorSource'] = 'default';
  let downscale = 8;
  for (const cfgName of [TEXT_FILES.vaeDecoderConfig, TEXT_FILES.vaeEncoderConfig]) {
    const cfgFile = join(fr.given, cfgName);
    const cfg = await readJson(fr, cfgFile, false);
    if (!cfg) continue;
    if (cfg.scaling_factor !== undefined) {
      const s = cfg.scaling_factor;
      if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) throw new ModelFolderError('malformed-json', cfgFile, '"scaling_factor" must be a positive number');
      scalingFactor = s;
      scalingFactorSource = 'config';
    }
    const blocks = cfg.block_out_channels;
    if (Array.isArray(blocks) && blocks.length > 0) downscale = 2 ** (blocks.length - 1);
    break;
  }
  return { decoder: { file: decFile, input: dec.input, output: dec.output.name, dtype: dec.dtype, batch: dec.batch }, encoder, encoderFile: encFile, scalingFactor, scalingFactorSource, downscale };
}

/**
 * Image pixels one batched VAE decode may hold: one 512×512 image. A decoder's activations grow with batch × pixels
 * (the SD decoder's last blocks hold 128 channels at full resolution, hundreds of MB per 512² image in float32), so
 * SD at 512² keeps decoding one image per call, as diffusers' `enable_vae_slicing` does; smaller images batch up to
 * MAX_DECODE_BATCH.
 */
const DECODE_PIXEL_BUDGET = 512 * 512;
const MAX_DECODE_BATCH = 8;

/** Images per VAE decoder call: the export's static batch, else as many as DECODE_PIXEL_BUDGET allows (1–8). */
export function decodeBatchFor(vae: VaeSignature, latentDims: readonly number[]): number {
  if (vae.decoder.batch !== null) return vae.decoder.batch;
  const [, h, w] = latentDims;
  const pixels = h * vae.downscale * w * vae.downscale;
  return Math.max(1, Math.min(MAX_DECODE_BATCH, Math.floor(DECODE_PIXEL_BUDGET / pixels)));
}

/**
 * Open a text-conditioned pipeline folder whose model_index.json model-folder.ts has read: `given` is the path the
 * user gave (files are named under it), `root` its real path (every read stays inside it). Throws ModelFolderError
 * naming the file for anything missing, malformed, unsafe or unsupported.
 */
export async function loadTextModelFolder(given: string, root: string, modelIndex: Record<string, unknown>, indexFile: string): Promise<TextModelFolder> {
  const fr: FolderRoot = { given, root };
  const at = (rel: string) => join(given, rel);
  const unsupported = unsupportedFamily(modelIndex);
  if (unsupported) throw new ModelFolderError('unsupported-model', indexFile, unsupported);
  const cls = modelIndex._class_name as string;

  const schedFile = at(TEXT_FILES.scheduler);
  const schedJson = await readJson(fr, schedFile, true);
  const scheduler = parseSchedulerConfig(schedJson, schedFile);
  // clip_sample defaults to true only for DDIM/DDPM schedulers; SD's PNDM/LMS/Euler configs never clip, and an SD
  // latent (|x| up to ~4) clipped to ±1 would be destroyed.
  const schedClass = typeof schedJson?._class_name === 'string' ? schedJson._class_name : '';
  if (schedJson && !('clip_sample' in schedJson) && !/^DD(I|P)MScheduler$/.test(schedClass)) scheduler.clipSample = false;

  const unetFile = at(TEXT_FILES.unet);
  const unetRead = await readOnnx(fr, unetFile, 'the U-Net');
  const unetConfig = await readJson(fr, at(TEXT_FILES.unetConfig), false);
  const u = checkTextUnet(unetFile, unetRead.sig.inputs, unetRead.sig.outputs, unetConfig, scheduler.predictionType);
  const unetData = await externalData(fr, unetFile, unetRead.sig);

  const teFile = at(TEXT_FILES.textEncoder);
  const te = await readOnnx(fr, teFile, 'the text encoder');
  const textEncoder = checkTextEncoder(teFile, te.sig);
  await externalData(fr, teFile, te.sig);
  const textConfig = await readJson(fr, at(TEXT_FILES.textEncoderConfig), false);
  const idsDim = staticDim(te.sig.inputs.find((i) => i.name === textEncoder.idsInput)?.dims[1]);
  const tokenizer = await readTokenizerFiles(fr, textConfig, idsDim);

  const teOut = te.sig.outputs.find((o) => o.name === textEncoder.output)!;
  const hidden = staticDim(u.condition.dims[2]) ?? staticDim(teOut.dims[2]) ?? positiveInt(textConfig?.hidden_size) ?? positiveInt(unetConfig?.cross_attention_dim);
  if (!hidden) {
    throw new ModelFolderError('wrong-inputs', unetFile, 'the width of "encoder_hidden_states" is dynamic and no config.json gives it (text_encoder hidden_size / unet cross_attention_dim)');
  }
  const teHidden = staticDim(teOut.dims[2]);
  if (teHidden && teHidden !== hidden) {
    throw new ModelFolderError('wrong-inputs', teFile, `the text encoder's output width is ${teHidden}, the U-Net's encoder_hidden_states take ${hidden}`);
  }
  const seqStatic = staticDim(u.condition.dims[1]);
  if (seqStatic && seqStatic !== tokenizer.maxLength) {
    throw new ModelFolderError('wrong-inputs', unetFile, `"encoder_hidden_states" has a fixed length ${seqStatic}, the tokenizer pads to ${tokenizer.maxLength}`);
  }
  const vae = await readVae(fr);

  const layout: TextPipelineLayout = /^ORT/.test(cls) || unetRead.sig.externalDataFiles.some((f) => f.endsWith('.onnx_data')) ? 'optimum' : 'diffusers-onnx';
  return {
    dir: given,
    name: basename(given),
    modelIndex,
    scheduler,
    alphasCumprod: alphasCumprod(scheduler),
    unet: { ...u.unet, weightsBytes: unetRead.bytes + unetData.bytes, externalData: unetData.files },
    text: {
      layout,
      pipelineClass: cls,
      conditionInput: u.condition.name,
      seqLength: tokenizer.maxLength,
      hiddenSize: hidden,
      unetDtype: u.dtype,
      sampleSizeSource: u.sizeSource,
      textEncoder,
      tokenizer,
      vae,
    },
  };
}
