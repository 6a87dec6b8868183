/**
 * Batched VAE decodes of text models (text-pipeline.ts): images are byte-identical to one-at-a-time decodes (ORT's
 * batched Conv/attention kernels give the same floats per item on these exports), decode calls made together share a
 * decoder call, a static batch-1 decoder is never batched, and a cancelled signal stops before the next batch. The
 * gallery (gallery.ts) asks for a group of directions' previews together: its PNGs are the same as with batch 1.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { TextPipeline } from '../../src-main/engine/worker/text-pipeline';
import { decodeBatchFor, type VaeSignature } from '../../src-main/core/diffusion/text-model-folder';
import { isCancelled } from '../../src-main/core/progress';
import { readModel, writeModel } from '../../src-main/core/onnx/proto';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import type { GalleryPartial, JobOutput } from '../../src-main/shared/api';
import { randn } from '../unit/onnx-testgraph';
import { textFolder, type TextFolderName } from '../helpers/text-fixtures';
import { useTempDataDir } from './basis-fixture';

const forcedBatch = vi.hoisted(() => ({ value: null as number | null }));
vi.mock('../../src-main/core/diffusion/text-model-folder', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src-main/core/diffusion/text-model-folder')>();
  return { ...actual, decodeBatchFor: (...a: Parameters<typeof actual.decodeBatchFor>) => forcedBatch.value ?? actual.decodeBatchFor(...a) };
});

const dataDir = useTempDataDir('decode-batch');
const caches: ModelCache[] = [];
const roots: string[] = [];
afterAll(async () => {
  for (const c of caches) await c.release();
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** A fixture's pipeline and the image count of each of its decoder calls, in order. */
async function pipeline(dir: string): Promise<TextPipeline & { calls: number[] }> {
  const cache = new ModelCache();
  caches.push(cache);
  const text = (await cache.load(dir, 'cpu')).text! as TextPipeline & { calls: number[] };
  text.calls = [];
  text.onDecoderCall = (n) => text.calls.push(n);
  return text;
}

/** 8 latents [8, 4, 8, 8] as the U-Net sees them (× scaling factor ≈ unit variance). */
const latents = () => ({ dims: [8, 4, 8, 8], data: randn(8 * 256, 11) });
const one = (t: { dims: number[]; data: Float32Array }, b: number) => ({ dims: [1, ...t.dims.slice(1)], data: t.data.slice(b * 256, (b + 1) * 256) });
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('decodeBatchFor', () => {
  const vae = (batch: number | null): VaeSignature => ({
    decoder: { file: 'd', input: 'latent_sample', output: 'sample', dtype: 'float32', batch },
    encoder: null,
    encoderFile: 'e',
    scalingFactor: 0.18215,
    scalingFactorSource: 'default',
    downscale: 8,
  });
  it('a static batch is kept; a dynamic one fills one 512² image of pixels, 1 to 8 images', () => {
    expect(decodeBatchFor(vae(1), [4, 8, 8])).toBe(1);
    expect(decodeBatchFor(vae(null), [4, 8, 8])).toBe(8); // 64² fixture
    expect(decodeBatchFor(vae(null), [4, 32, 32])).toBe(4); // 256²
    expect(decodeBatchFor(vae(null), [4, 64, 64])).toBe(1); // SD 1.x 512²
    expect(decodeBatchFor(vae(null), [4, 96, 96])).toBe(1); // SD 2.x 768²
  });
});

describe.each(['sd1-diffusers', 'sd1-diffusers-fp16', 'sd2v-optimum'] as TextFolderName[])('%s', (name) => {
  it('batched decodes are byte-identical to one-at-a-time decodes', async () => {
    const text = await pipeline(textFolder(name));
    expect(text.model.text.vae.decoder.batch).toBeNull(); // both exporters leave the batch axis dynamic
    const z = latents();
    text.decodeBatch = 1;
    const singles: Float32Array[] = [];
    for (let b = 0; b < 8; b++) singles.push((await text.decode(one(z, b))).data);
    const calls0 = text.calls.length;
    for (const size of [2, 3, 8]) {
      text.decodeBatch = size;
      const all = await text.decode(z);
      expect(all.dims).toEqual([8, 3, 64, 64]);
      const per = 3 * 64 * 64;
      for (let b = 0; b < 8; b++) expect(bytes(all.data.subarray(b * per, (b + 1) * per)).equals(bytes(singles[b]))).toBe(true);
    }
    // 8 items in batches of 2, of 3 (3 + 3 + 2) and of 8
    expect(text.calls.slice(calls0)).toEqual([2, 2, 2, 2, 3, 3, 2, 8]);
  });
});

describe('the decode queue', () => {
  it('decode calls made together share decoder calls, in order', async () => {
    const text = await pipeline(textFolder('sd1-diffusers'));
    text.decodeBatch = 4;
    const z = latents();
    const separate = await Promise.all(Array.from({ length: 6 }, (_, b) => text.decode(one(z, b))));
    expect(text.calls.slice(-2)).toEqual([4, 2]);
    text.decodeBatch = 1;
    for (let b = 0; b < 6; b++) expect(bytes(separate[b].data).equals(bytes((await text.decode(one(z, b))).data))).toBe(true);
  });

  it('a cancelled decode leaves the queue before its batch; one cancelled between batches stops there', async () => {
    const text = await pipeline(textFolder('sd1-diffusers'));
    text.decodeBatch = 2;
    const z = latents();
    const before = text.calls.length;
    const cancelled = new AbortController();
    const kept = text.decode({ dims: [2, 4, 8, 8], data: z.data.slice(0, 512) });
    const dropped = text.decode({ dims: [2, 4, 8, 8], data: z.data.slice(512, 1024) }, cancelled.signal).catch((e: unknown) => e);
    cancelled.abort();
    expect((await kept).dims).toEqual([2, 3, 64, 64]);
    expect(isCancelled(await dropped)).toBe(true);
    expect(text.calls.slice(before)).toEqual([2]);

    // Cancelled while the first of 4 batches runs: that batch finishes, the other three never start.
    const mid = new AbortController();
    text.onDecoderCall = (n) => {
      mid.abort();
      text.calls.push(n);
    };
    const start = text.calls.length;
    const err = await text.decode(z, mid.signal).catch((e: unknown) => e);
    expect(isCancelled(err)).toBe(true);
    expect(text.calls.slice(start)).toEqual([2]);
  });

  it('a decoder with a static batch of 1 decodes one image per call whatever is asked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'decode-static-'));
    roots.push(root);
    const dir = join(root, 'model');
    await cp(textFolder('sd1-diffusers'), dir, { recursive: true });
    const file = join(dir, 'vae_decoder', 'model.onnx');
    const model = readModel(await readFile(file));
    const type = model.graph!.input[0].type!.value;
    if (type.case !== 'tensorType') throw new Error('the decoder input is not a tensor');
    type.value.shape!.dim[0].value = { case: 'dimValue', value: 1n };
    await writeFile(file, writeModel(model));
    const text = await pipeline(dir);
    expect(text.model.text.vae.decoder.batch).toBe(1);
    expect(text.decodeBatch).toBe(1);
    text.decodeBatch = 8;
    const start = text.calls.length;
    const out = await text.decode(latents());
    expect(out.dims).toEqual([8, 3, 64, 64]);
    expect(text.calls.slice(start)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('gallery previews of a text model', () => {
  const input = { modelDir: textFolder('sd1-diffusers'), seed: 3, t: 0.6, steps: 10, previewSteps: 5, k: 4, directions: [0, 1, 2, 3], strength: 2, prompt: 'a photo of a cat', provider: 'cpu' as const };
  it('decoded 8 at a time: the same PNGs as one at a time, streamed per batch', async () => {
    const runs: { calls: number[]; result: JobOutput<'gallery'>; thumbs: number[] }[] = [];
    for (const batch of [8, 1]) {
      forcedBatch.value = batch;
      // A fresh data folder per run: the second must render, not read the first one's stored previews.
      await rm(join(dataDir.root, 'data'), { recursive: true, force: true });
      const calls: number[] = [];
      const proto = TextPipeline.prototype as unknown as { runDecoder(zs: Float32Array[], d: number[]): Promise<unknown> };
      const original = proto.runDecoder;
      const spy = vi.spyOn(proto, 'runDecoder').mockImplementation(async function (this: unknown, zs: Float32Array[], d: number[]) {
        calls.push(zs.length);
        return original.call(this, zs, d);
      });
      const thumbs: number[] = [];
      const result = await runJobInProcess('gallery', input, {
        quiet: true,
        onProgress: (p) => {
          const partial = p.partial as GalleryPartial | undefined;
          if (partial?.kind === 'gallery-thumb') thumbs.push(partial.index);
        },
      });
      spy.mockRestore();
      runs.push({ calls, result, thumbs });
    }
    forcedBatch.value = null;
    const [batched, single] = runs;
    // centre: 1 image; then the 4 directions' −/+ pairs in one batch of 8 (or 8 calls of 1)
    expect(batched.calls).toEqual([1, 8]);
    expect(single.calls).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(batched.thumbs).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Buffer.from(batched.result.center.bytes).equals(Buffer.from(single.result.center.bytes))).toBe(true);
    for (let i = 0; i < 4; i++) {
      for (const side of ['minus', 'plus'] as const) {
        expect(Buffer.from(batched.result.items[i][side].bytes).equals(Buffer.from(single.result.items[i][side].bytes))).toBe(true);
      }
    }
  });
});
