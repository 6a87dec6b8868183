/**
 * Image import of diffusers-layout text models inverts the posterior mean (issue 11): the export's vae_encoder returns
 * a draw (RandomNormalLike in the graph), so the worker opens a copy whose output is the mean
 * (core/onnx/mean-encoder.ts, worker/mean-encoder-cache.ts). Checked against the float64 PyTorch posterior mean
 * (references/sd1/vae_mean.npy, the same weights as these folders), with the tolerances of text-pipeline.test.ts:
 * relative L2 1e-4 for fp32 (measured 1.0e-6), 2e-2 for the fp16 export (measured 1.9e-3).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { ModelFolderError } from '../../src-main/core/diffusion/errors';
import { readModel, writeModel } from '../../src-main/core/onnx/proto';
import { useTempDataDir } from './basis-fixture';
import { fixtureInfo, reference, referenceMeta, relErr, textFolder, type TextFolderName } from '../helpers/text-fixtures';

// diffusers-layout imports cache a posterior-mean copy of the VAE encoder in the app's data folder: a temp one here.
const tmp = useTempDataDir('mean-encoder');
const caches: ModelCache[] = [];
afterAll(async () => {
  for (const c of caches) await c.release();
});

async function pipeline(dir: string) {
  const cache = new ModelCache();
  caches.push(cache);
  const loaded = await cache.load(dir, 'cpu');
  return loaded.text!;
}

const measured: Record<string, number> = {};
afterAll(() => console.log('mean encoder relative error vs PyTorch posterior mean', JSON.stringify(measured)));

describe.each(['sd1-diffusers', 'sd1-diffusers-fp16'] as TextFolderName[])('%s', (name) => {
  it('imports from the posterior mean, the same bytes every time', async () => {
    expect(fixtureInfo(name).vae_encoder_output).toBe('latent_sample'); // the export draws from the posterior
    const text = await pipeline(textFolder(name));
    const image = await reference(name, 'image.npy');
    const mean = await reference(name, 'vae_mean.npy');
    const s = referenceMeta(name).scaling_factor;
    const first = await text.encodeImage(image);
    expect(first.fromMean).toBe(true);
    expect(first.latent.dims).toEqual(mean.dims);
    measured[name] = relErr(first.latent.data.map((v) => v / s), mean.data);
    expect(measured[name]).toBeLessThan(fixtureInfo(name).fp16 ? 2e-2 : 1e-4);
    const second = await text.encodeImage(image);
    expect(Buffer.from(second.latent.data.buffer).equals(Buffer.from(first.latent.data.buffer))).toBe(true);
    // A second pipeline (a new session) reuses the cached copy and still gives the same bytes.
    const again = await (await pipeline(textFolder(name))).encodeImage(image);
    expect(Buffer.from(again.latent.data.buffer).equals(Buffer.from(first.latent.data.buffer))).toBe(true);
  });
});

describe('the cached copy', () => {
  it('is private, has no random op, and keeps the export\'s output', async () => {
    const root = join(tmp.root, 'data', 'mean-encoder');
    const entries = (await readdir(root)).filter((e) => !e.endsWith('.tmp'));
    expect(entries.length).toBeGreaterThanOrEqual(1);
    for (const e of entries) {
      const file = join(root, e, 'model.onnx');
      if (process.platform !== 'win32') {
        expect((await stat(join(root, e))).mode & 0o777).toBe(0o700);
        expect((await stat(file)).mode & 0o777).toBe(0o600);
      }
      const g = readModel(await readFile(file)).graph!;
      expect(g.node.filter((n) => n.opType.startsWith('Random'))).toEqual([]);
      expect(g.output.map((o) => o.name)).toEqual(['latent_sample']);
    }
  });

  it('a damaged copy is made again', async () => {
    const root = join(tmp.root, 'data', 'mean-encoder');
    for (const e of await readdir(root)) await writeFile(join(root, e, 'model.onnx'), 'torn');
    const name: TextFolderName = 'sd1-diffusers';
    const { latent } = await (await pipeline(textFolder(name))).encodeImage(await reference(name, 'image.npy'));
    const mean = await reference(name, 'vae_mean.npy');
    expect(relErr(latent.data.map((v) => v / referenceMeta(name).scaling_factor), mean.data)).toBeLessThan(1e-4);
  });
});

describe('an encoder whose draw is not mean + std · ε', () => {
  it('is refused with a ModelFolderError naming vae_encoder/model.onnx', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mean-encoder-odd-'));
    try {
      const dir = join(root, 'model');
      await cp(textFolder('sd1-diffusers'), dir, { recursive: true });
      const encFile = join(dir, 'vae_encoder', 'model.onnx');
      // std · ε becomes std − ε: still a draw, but no longer one whose mean is the Add's other operand.
      const model = readModel(await readFile(encFile));
      const noiseMul = model.graph!.node.find((n) => n.opType === 'Mul' && n.input.some((x) => x.includes('RandomNormalLike')))!;
      noiseMul.opType = 'Sub';
      await writeFile(encFile, writeModel(model));
      const text = await pipeline(dir);
      const err = await text.encodeImage(await reference('sd1-diffusers', 'image.npy')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFolderError);
      const e = err as ModelFolderError;
      expect(e.code).toBe('unsupported-model');
      expect(e.file).toBe(encFile);
      expect(e.message).toMatch(/RandomNormalLike/);
      expect(e.message).toMatch(/mean \+ std · ε/);
      expect(e.message).toMatch(/latent_parameters/); // what to do: re-export with the parameters
      // refused every time (the failed opening is not cached as a session)
      await expect(text.encodeImage(await reference('sd1-diffusers', 'image.npy'))).rejects.toBeInstanceOf(ModelFolderError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
