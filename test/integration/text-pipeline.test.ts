/**
 * The text-conditioned pipeline through ORT against the fixture's float64 PyTorch references
 * (tools/fixtures/make_text_pipelines.py): text embeddings, one classifier-free-guidance step, the VAE round trip.
 * Tolerances (relative L2): fp32 exports 1e-4 (measured ≈ 1e-6); the fp16 export 2e-2 (measured ≈ 1e-3), the
 * precision of float16 weights and activations.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import type { TextPipeline } from '../../src-main/engine/worker/text-pipeline';
import { toEpsilon } from '../../src-main/core/diffusion/scheduler';
import { useTempDataDir } from './basis-fixture';
import { TEXT_FOLDERS, fixtureInfo, reference, referenceMeta, relErr, textFolder, type TextFolderName } from '../helpers/text-fixtures';

// diffusers-layout imports cache a posterior-mean copy of the VAE encoder in the app's data folder: a temp one here.
useTempDataDir('text-pipeline');
const caches: ModelCache[] = [];
afterAll(async () => {
  for (const c of caches) await c.release();
});

async function open(name: TextFolderName): Promise<{ text: TextPipeline; cache: ModelCache }> {
  const cache = new ModelCache();
  caches.push(cache);
  const loaded = await cache.load(textFolder(name), 'cpu');
  expect(loaded.text).toBeDefined();
  return { text: loaded.text!, cache };
}

const tol = (name: TextFolderName) => (fixtureInfo(name).fp16 ? 2e-2 : 1e-4);
const measured: Record<string, Record<string, number>> = {};
afterAll(() => console.log('text pipeline relative errors', JSON.stringify(measured, null, 1)));

describe.each(TEXT_FOLDERS)('%s', (name) => {
  it('text embeddings, one CFG step and the VAE match PyTorch', async () => {
    const { text } = await open(name);
    const meta = referenceMeta(name);
    const m: Record<string, number> = (measured[name] = {});

    const empty = await text.embed('');
    const a = await text.embed(meta.prompt_a);
    m.embEmpty = relErr(empty.embedding.data, (await reference(name, 'emb_empty.npy')).data);
    m.embA = relErr(a.embedding.data, (await reference(name, 'emb_a.npy')).data);
    expect(empty.embedding.dims).toEqual([1, 77, 32]);
    expect(m.embEmpty).toBeLessThan(tol(name));
    expect(m.embA).toBeLessThan(tol(name));
    expect(a.hash).not.toBe(empty.hash);
    expect(await text.embed(meta.prompt_a)).toBe(a); // cached per prompt

    const x = await reference(name, 'x.npy');
    const t = meta.timestep;
    const outCond = await text.runUnet(x, t, a.embedding);
    m.unetCond = relErr(outCond, (await reference(name, 'out_cond.npy')).data);
    expect(m.unetCond).toBeLessThan(tol(name));
    // the guided ε: CFG on the raw output, then the scheduler's conversion (v-prediction for sd2v)
    const cfgRef = await reference(name, 'out_cfg.npy');
    const model = text.model;
    const epsRef = toEpsilon(cfgRef.data, x.data, model.alphasCumprod[t], model.scheduler.predictionType);
    const eps = await text.predictor(a, { uncond: empty, scale: meta.guidance_scale }).predictEps(x, t);
    m.cfgEps = relErr(eps.data, epsRef);
    expect(m.cfgEps).toBeLessThan(tol(name) * 10); // ×7.5 guidance amplifies the branch difference's error
    // batch of two items: each item's ε equals its own single-item ε (embeddings repeated per item)
    const x2 = { dims: [2, ...x.dims.slice(1)], data: new Float32Array([...x.data, ...x.data.map((v) => -v)]) };
    const eps2 = await text.predictor(a, { uncond: empty, scale: meta.guidance_scale }).predictEps(x2, t);
    expect(relErr(eps2.data.subarray(0, x.data.length), eps.data)).toBeLessThan(1e-5);

    const mean = await reference(name, 'vae_mean.npy');
    const s = meta.scaling_factor;
    const decoded = await text.decode({ dims: mean.dims, data: mean.data.map((v) => v * s) });
    m.vaeDecode = relErr(decoded.data, (await reference(name, 'vae_decoded.npy')).data);
    expect(decoded.dims).toEqual([1, 3, 64, 64]);
    expect(m.vaeDecode).toBeLessThan(tol(name));

    const image = await reference(name, 'image.npy');
    const { latent, fromMean } = await text.encodeImage(image);
    // Both layouts import from the posterior mean: Optimum's parameters, or the mean copy of diffusers' draw
    // (text-mean-encoder.test.ts covers the copy itself).
    expect(fromMean).toBe(true);
    m.vaeEncodeMean = relErr(latent.data.map((v) => v / s), mean.data);
    expect(m.vaeEncodeMean).toBeLessThan(tol(name));
  });
});
