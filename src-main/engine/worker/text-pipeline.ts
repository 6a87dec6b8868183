/**
 * The parts of a text-conditioned (Stable Diffusion) model that run besides the U-Net: the CLIP tokenizer and text
 * encoder (prompt → embedding [1, L, D], cached per prompt), the conditioned ε predictor (one prompt, or classifier-
 * free guidance between a negative and a positive prompt), and the VAE (latents ⇄ images). Sessions come from the
 * one createSession() with the U-Net's provider; fp16 exports are fed and read as float16 and everything handed to
 * core is float32.
 *
 * CFG is applied to the U-Net's raw output before converting it to ε (diffusers: noise_pred_uncond + g·(text −
 * uncond), then the scheduler's conversion); for v-prediction the conversion is affine in the output with weights
 * that sum to one across the guidance, so this equals guiding the converted ε.
 *
 * VAE decodes are batched: every decode call queues its items, and the items queued in the same turn of the event
 * loop (a gallery asking for several previews at once with Promise.all) go through the decoder together, up to
 * `decodeBatch` per call. Batching never changes an image (test/integration/text-decode-batch.test.ts: bytes equal).
 *
 * Image import inverts the posterior *mean*: Optimum's encoder returns it (latent_parameters); diffusers' converter
 * bakes a draw into the graph, so the encoder session opens a copy whose output is the mean (mean-encoder-cache.ts).
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../core/tensor';
import { sizeOf } from '../../core/tensor';
import { floatToHalfArray, halfToFloatArray } from '../../core/tensor/half';
import type { NoisePredictor } from '../../core/diffusion/generate';
import { toEpsilon } from '../../core/diffusion/scheduler';
import { ModelFolderError, InvalidArgumentError } from '../../core/diffusion/errors';
import { decodeBatchFor, type TextModelFolder, type FloatElemType, type VaeSignature } from '../../core/diffusion/text-model-folder';
import { loadClipTokenizer, type ClipTokenizer, type TokenizedPrompt } from '../../core/diffusion/tokenizer';
import { readRegularFile } from '../../core/fs/regular-file';
import { CancelledError, throwIfCancelled } from '../../core/progress';
import { createSession } from './sessions';
import { timestepTensor } from './ort-predictor';
import { meanEncoderFile } from './mean-encoder-cache';
import { RecentlyUsed } from '../../core/recently-used';

export interface PromptEmbedding {
  prompt: string;
  tokens: TokenizedPrompt;
  /** last_hidden_state [1, L, D], float32. */
  embedding: Tensor;
  /** sha256 of the embedding's dims and bytes: the prompt's identity in caches (covers tokenizer and encoder). */
  hash: string;
}

export interface Guidance {
  uncond: PromptEmbedding;
  scale: number;
}

/** Tokenizer files are small JSON/text; the cap only keeps a crafted folder from exhausting memory. */
const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
const EMBEDDING_CACHE = 32;

/** One latent waiting for the VAE decoder (already divided by the scaling factor). */
interface DecodeRequest {
  z: Float32Array;
  itemDims: readonly number[];
  signal?: AbortSignal;
  resolve(image: Float32Array, imageDims: number[]): void;
  reject(err: unknown): void;
}

export function floatTensor(data: Float32Array, dims: readonly number[], dtype: FloatElemType): ort.Tensor {
  return dtype === 'float16' ? new ort.Tensor('float16', floatToHalfArray(data), [...dims]) : new ort.Tensor('float32', data, [...dims]);
}

/** A float output as float32 (fp16 outputs arrive as Uint16Array bit patterns). */
export function floatData(t: ort.Tensor | undefined, file: string, name: string): Float32Array {
  if (!t) throw new ModelFolderError('wrong-inputs', file, `the graph returned no output "${name}"`);
  if (t.type === 'float32') return new Float32Array(t.data as Float32Array);
  if (t.type === 'float16') return halfToFloatArray(t.data as Uint16Array);
  throw new ModelFolderError('wrong-inputs', file, `output "${name}" must be float32 or float16, it is ${t.type}`);
}

/** The largest batch a graph input takes (a static batch axis), else Infinity. */
function maxBatch(dims: readonly (number | string | null)[] | undefined): number {
  const b = dims?.[0];
  return typeof b === 'number' && b > 0 ? b : Number.POSITIVE_INFINITY;
}

/** Batch items [from, to) of a [B, ...] tensor's data. */
function rows(t: Tensor, from: number, to: number): Float32Array {
  const n = sizeOf(t.dims.slice(1));
  return t.data.subarray(from * n, to * n);
}

/** A text model's raw U-Net output for x [B, …] with one embedding row per item (ehs [B, L, D]); cut to a static batch. */
export async function runTextUnet(unet: ort.InferenceSession, model: TextModelFolder, x: Tensor, timestep: number, ehs: Tensor, signal?: AbortSignal): Promise<Float32Array> {
  const sig = model.unet;
  const dtype = model.text.unetDtype;
  const B = x.dims[0];
  const limit = maxBatch(sig.inputs.find((i) => i.name === sig.sampleInput)?.dims);
  const out = new Float32Array(x.data.length);
  const per = sizeOf(x.dims.slice(1));
  for (let s = 0; s < B; s += Math.min(B, limit)) {
    throwIfCancelled(signal);
    const e = Math.min(B, s + limit);
    const res = await unet.run({
      [sig.sampleInput]: floatTensor(rows(x, s, e), [e - s, ...x.dims.slice(1)], dtype),
      [sig.timestepInput]: timestepTensor(sig, timestep, e - s),
      [model.text.conditionInput]: floatTensor(rows(ehs, s, e), [e - s, ...ehs.dims.slice(1)], dtype),
    });
    const y = floatData(res[sig.outputName], sig.file, sig.outputName);
    if (y.length !== (e - s) * per) {
      throw new ModelFolderError('wrong-inputs', sig.file, `output "${sig.outputName}" must have the shape of "sample", got ${y.length} values for ${(e - s) * per}`);
    }
    out.set(y, s * per);
  }
  return out;
}

export class TextPipeline {
  private readonly embeddings = new RecentlyUsed<string, Promise<PromptEmbedding>>(EMBEDDING_CACHE);
  private encoder: Promise<ort.InferenceSession> | null = null;
  private readonly decodeQueue: DecodeRequest[] = [];
  private draining = false;
  /** Images per VAE decoder call (decodeBatchFor; the bench and tests set other sizes, never above a static batch). */
  decodeBatch: number;
  /** Told the number of images of each VAE decoder call before it runs (tests watch the batching through it). */
  onDecoderCall: ((images: number) => void) | null = null;

  private constructor(
    readonly model: TextModelFolder,
    private readonly unet: ort.InferenceSession,
    private readonly textEncoder: ort.InferenceSession,
    private readonly vaeDecoder: ort.InferenceSession,
    readonly tokenizer: ClipTokenizer,
    private readonly provider: string,
  ) {
    this.decodeBatch = decodeBatchFor(model.text.vae, model.unet.sampleDims);
  }

  /** Tokenizer, text encoder and VAE decoder of a folder, on the U-Net's provider. The VAE encoder opens on first use. */
  static async open(model: TextModelFolder, unet: ort.InferenceSession, provider: string): Promise<TextPipeline> {
    const root = await realpath(model.dir);
    const tokenizer = await loadClipTokenizer(model.text.tokenizer, (f) => readRegularFile(f, { root, maxBytes: MAX_TOKENIZER_BYTES }));
    const text = await createSession(model.text.textEncoder.file, { executionProvider: provider });
    let dec: ort.InferenceSession;
    try {
      dec = await createSession(model.text.vae.decoder.file, { executionProvider: provider });
    } catch (err) {
      await text.release().catch(() => undefined);
      throw err;
    }
    return new TextPipeline(model, unet, text, dec, tokenizer, provider);
  }

  /** The embedding of a prompt (cached: an editor asks for the same prompts over and over). */
  embed(prompt: string, signal?: AbortSignal): Promise<PromptEmbedding> {
    const hit = this.embeddings.get(prompt);
    if (hit) return hit;
    const p = this.computeEmbedding(prompt, signal);
    this.embeddings.set(prompt, p);
    p.catch(() => this.embeddings.delete(prompt));
    return p;
  }

  private async computeEmbedding(prompt: string, signal?: AbortSignal): Promise<PromptEmbedding> {
    throwIfCancelled(signal);
    const te = this.model.text.textEncoder;
    const tokens = this.tokenizer.encode(prompt);
    const L = tokens.ids.length;
    const ids =
      te.idsType === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(tokens.ids, (i) => BigInt(i)), [1, L])
        : new ort.Tensor('int32', Int32Array.from(tokens.ids), [1, L]);
    const feeds: Record<string, ort.Tensor> = { [te.idsInput]: ids };
    if (te.maskInput) feeds[te.maskInput] = te.idsType === 'int64' ? new ort.Tensor('int64', new BigInt64Array(L).fill(1n), [1, L]) : new ort.Tensor('int32', new Int32Array(L).fill(1), [1, L]);
    const out = await this.textEncoder.run(feeds);
    const data = floatData(out[te.output], te.file, te.output);
    const D = this.model.text.hiddenSize;
    if (data.length !== L * D) {
      throw new ModelFolderError('wrong-inputs', te.file, `output "${te.output}" has ${data.length} values, expected [1, ${L}, ${D}]`);
    }
    const embedding: Tensor = { dims: [1, L, D], data };
    const hash = createHash('sha256').update(`emb[${embedding.dims.join(',')}]`).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
    return { prompt, tokens, embedding, hash };
  }

  /** Raw U-Net output for x [B, …] with one embedding row per item (ehs [B, L, D]). */
  runUnet(x: Tensor, timestep: number, ehs: Tensor, signal?: AbortSignal): Promise<Float32Array> {
    return runTextUnet(this.unet, this.model, x, timestep, ehs, signal);
  }

  /** ε conditioned on `cond`, or guided between `guidance.uncond` and `cond` with `guidance.scale`. */
  predictor(cond: PromptEmbedding, guidance?: Guidance): NoisePredictor {
    const model = this.model;
    const repeat = (embs: PromptEmbedding[], each: number): Tensor => {
      const [, L, D] = cond.embedding.dims;
      const data = new Float32Array(embs.length * each * L * D);
      embs.forEach((emb, j) => {
        for (let b = 0; b < each; b++) data.set(emb.embedding.data, (j * each + b) * L * D);
      });
      return { dims: [embs.length * each, L, D], data };
    };
    return {
      sampleDims: model.unet.sampleDims,
      predictEps: async (x, timestep, signal) => {
        const B = x.dims[0];
        const alphaBar = model.alphasCumprod[timestep];
        if (!guidance || guidance.scale === 1) {
          const out = await this.runUnet(x, timestep, repeat([cond], B), signal);
          return { dims: [...x.dims], data: toEpsilon(out, x.data, alphaBar, model.scheduler.predictionType) };
        }
        const xx: Tensor = { dims: [2 * B, ...x.dims.slice(1)], data: new Float32Array(2 * x.data.length) };
        xx.data.set(x.data);
        xx.data.set(x.data, x.data.length);
        const out = await this.runUnet(xx, timestep, repeat([guidance.uncond, cond], B), signal);
        const n = x.data.length;
        const g = guidance.scale;
        const guided = new Float32Array(n);
        for (let i = 0; i < n; i++) guided[i] = out[i] + g * (out[n + i] - out[i]);
        return { dims: [...x.dims], data: toEpsilon(guided, x.data, alphaBar, model.scheduler.predictionType) };
      },
    };
  }

  /**
   * Latents (already × scaling factor, as the U-Net sees them) [B, 4, h, w] → images [B, 3, H, W] in [-1, 1]. The
   * items join the decode queue: with those of other decode calls made in the same turn they are decoded up to
   * `decodeBatch` per decoder call; a cancelled signal rejects its items before their batch runs.
   */
  async decode(latents: Tensor, signal?: AbortSignal): Promise<Tensor> {
    throwIfCancelled(signal);
    const s = this.model.text.vae.scalingFactor;
    const B = latents.dims[0];
    if (!(B >= 1)) throw new InvalidArgumentError(`decode needs a batch of latents [B ≥ 1, C, h, w], got [${latents.dims.join(', ')}]`);
    const itemDims = latents.dims.slice(1);
    const per = sizeOf(itemDims);
    const items = Array.from({ length: B }, (_, b) => {
      const z = new Float32Array(per);
      const src = latents.data.subarray(b * per, (b + 1) * per);
      for (let i = 0; i < per; i++) z[i] = src[i] / s;
      return new Promise<{ image: Float32Array; dims: number[] }>((resolve, reject) => {
        this.decodeQueue.push({ z, itemDims, signal, resolve: (image, dims) => resolve({ image, dims }), reject });
      });
    });
    if (!this.draining) {
      this.draining = true;
      void this.drainDecodes();
    }
    const done = await Promise.all(items);
    const data = new Float32Array(done.reduce((a, d) => a + d.image.length, 0));
    done.forEach((d, b) => data.set(d.image, b * d.image.length));
    return { dims: [B, ...done[0].dims], data };
  }

  /** Decode queued items in batches until the queue is empty (one drain at a time: decoder calls never overlap). */
  private async drainDecodes(): Promise<void> {
    // One microtask: decode calls made in the same synchronous run as the first one join its batch.
    await Promise.resolve();
    while (this.decodeQueue.length > 0) {
      // Cancelled items leave before their batch is formed, so they neither run nor hold a place in it.
      for (let i = this.decodeQueue.length - 1; i >= 0; i--) {
        if (this.decodeQueue[i].signal?.aborted) this.decodeQueue.splice(i, 1)[0].reject(new CancelledError());
      }
      if (this.decodeQueue.length === 0) break;
      const dims = this.decodeQueue[0].itemDims;
      const same = (r: DecodeRequest) => r.itemDims.length === dims.length && r.itemDims.every((d, i) => d === dims[i]);
      const staticBatch = this.model.text.vae.decoder.batch;
      const cap = Math.max(1, staticBatch === null ? this.decodeBatch : Math.min(this.decodeBatch, staticBatch));
      let n = 0;
      while (n < this.decodeQueue.length && n < cap && same(this.decodeQueue[n])) n++;
      const batch = this.decodeQueue.splice(0, n);
      try {
        const images = await this.runDecoder(batch.map((r) => r.z), dims);
        batch.forEach((r, b) => r.resolve(images.data.subarray(b * images.per, (b + 1) * images.per), images.itemDims));
      } catch (err) {
        for (const r of batch) r.reject(err);
      }
    }
    this.draining = false;
  }

  /** One VAE decoder call on `zs` (each one latent [C, h, w], already ÷ scaling factor); a static batch is zero-padded. */
  private async runDecoder(zs: Float32Array[], itemDims: readonly number[]): Promise<{ data: Float32Array; per: number; itemDims: number[] }> {
    const vae = this.model.text.vae;
    const batchRows = Math.max(zs.length, vae.decoder.batch ?? 0);
    const per = sizeOf(itemDims);
    const z = new Float32Array(batchRows * per);
    zs.forEach((item, b) => z.set(item, b * per));
    this.onDecoderCall?.(zs.length);
    const out = await this.vaeDecoder.run({ [vae.decoder.input]: floatTensor(z, [batchRows, ...itemDims], vae.decoder.dtype) });
    const y = out[vae.decoder.output];
    const data = floatData(y, vae.decoder.file, vae.decoder.output);
    const dims = [...(y!.dims as readonly number[])];
    if (dims.length !== 4 || dims[0] !== batchRows || dims[1] !== 3) {
      throw new ModelFolderError('wrong-inputs', vae.decoder.file, `output "${vae.decoder.output}" must be RGB images [${batchRows}, 3, H, W] for ${batchRows} latents, got [${dims.join(', ')}]`);
    }
    return { data, per: sizeOf(dims.slice(1)), itemDims: dims.slice(1) };
  }

  /**
   * Images [1, 3, H, W] in [-1, 1] → the latent the U-Net sees: the posterior mean × scaling factor. Optimum's encoder
   * returns the posterior's parameters (mean = channels 0..C−1); diffusers' converter bakes a draw into the graph
   * (`vae.encode(x).latent_dist.sample()`), so its session is opened on a copy whose output is the mean
   * (mean-encoder-cache.ts): an import is deterministic either way (`fromMean` is always true).
   */
  async encodeImage(image: Tensor, signal?: AbortSignal): Promise<{ latent: Tensor; fromMean: boolean }> {
    const vae = this.model.text.vae;
    if (!vae.encoder) throw new ModelFolderError('missing-file', vae.encoderFile, 'importing an image needs the VAE encoder (vae_encoder/model.onnx)');
    const enc = vae.encoder;
    throwIfCancelled(signal);
    if (!this.encoder) {
      const opening = this.openEncoder(enc);
      this.encoder = opening;
      // A failed opening (unrecognised draw, ORT refusal) is not kept: the next import says why again.
      opening.catch(() => {
        if (this.encoder === opening) this.encoder = null;
      });
    }
    const session = await this.encoder;
    const out = await session.run({ [enc.input]: floatTensor(image.data, image.dims, enc.dtype) });
    const y = out[enc.output];
    const data = floatData(y, enc.file, enc.output);
    const dims = [...(y!.dims as readonly number[])];
    const [C, h, w] = this.model.unet.sampleDims;
    const wantC = enc.kind === 'parameters' ? 2 * C : C;
    if (dims.length !== 4 || dims[1] !== wantC || dims[2] !== h || dims[3] !== w) {
      throw new InvalidArgumentError(`the VAE encoder returned [${dims.join(', ')}] for this image; the U-Net's latent is [1, ${C}, ${h}, ${w}]`);
    }
    const n = C * h * w;
    const latent = new Float32Array(n);
    for (let i = 0; i < n; i++) latent[i] = data[i] * vae.scalingFactor; // parameters: channels 0..C−1 are the mean
    return { latent: { dims: [1, C, h, w], data: latent }, fromMean: true };
  }

  /** The encoder session: the export itself when it returns the parameters, else its posterior-mean copy. */
  private async openEncoder(enc: NonNullable<VaeSignature['encoder']>): Promise<ort.InferenceSession> {
    if (enc.kind === 'parameters') return createSession(enc.file, { executionProvider: this.provider });
    const mean = await meanEncoderFile(enc.file, enc.output, this.model.dir);
    return createSession(mean.file, { executionProvider: this.provider, externalDataFolder: mean.externalDataFolder });
  }

  async release(): Promise<void> {
    const all = [this.textEncoder, this.vaeDecoder, ...(this.encoder ? [await this.encoder.catch(() => null)] : [])];
    for (const s of all) await s?.release().catch(() => undefined);
  }
}
