/**
 * The bundled default model (resources/models/avatars64): the shipped ONNX equals the PyTorch model it was exported
 * from (references written by tools/train/export_onnx.py), the folder opens as the app's default, `--h auto` finds
 * the mid block by its scope, and the derived Jacobian graphs pass the adjoint (dot-product) test on it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { decodeNpy } from '../../src-main/core/tensor';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { deriveGraphs } from '../../src-main/core/onnx';
import { defaultModelDir } from '../../src-main/cli/default-model';

const MODEL_DIR = defaultModelDir();
const REF_DIR = join(__dirname, '..', 'fixtures', 'bundled-model-ref');

function timestepTensor(t: number): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]);
}

describe('bundled avatars64 model', () => {
  it('opens as a diffusers folder with the expected signature', async () => {
    const folder = await loadModelFolder(MODEL_DIR);
    expect(folder.unet.sampleDims).toEqual([3, 64, 64]);
    expect(folder.unet.timestepType).toBe('int64');
    expect(folder.scheduler.predictionType).toBe('epsilon');
    expect(folder.scheduler.betaSchedule).toBe('linear');
    // Model card promise: the shipped U-Net stays small enough to bundle.
    expect(folder.unet.weightsBytes).toBeLessThanOrEqual(40 * 1024 * 1024);
  });

  for (const level of ['disabled', 'all'] as const) {
    it(`ORT output equals the PyTorch export reference (rel ≤ 1e-4, optimisation ${level})`, async () => {
      const meta = JSON.parse(readFileSync(join(REF_DIR, 'meta.json'), 'utf8')) as { timesteps: number[]; files: Record<string, string> };
      const x = decodeNpy(readFileSync(join(REF_DIR, 'x.npy')));
      const session = await ort.InferenceSession.create(join(MODEL_DIR, 'unet', 'model.onnx'), {
        graphOptimizationLevel: level,
        intraOpNumThreads: 2,
      });
      for (const t of meta.timesteps) {
        const ref = decodeNpy(readFileSync(join(REF_DIR, meta.files[String(t)])));
        const out = await session.run({ sample: new ort.Tensor('float32', x.data, [...x.dims]), timestep: timestepTensor(t) });
        const got = out.out_sample.data as Float32Array;
        expect(got.length).toBe(ref.data.length);
        let maxErr = 0;
        let maxRef = 0;
        for (let i = 0; i < got.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(got[i] - ref.data[i]));
          maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
        }
        expect(maxErr / maxRef).toBeLessThanOrEqual(1e-4);
      }
      await session.release();
    });
  }

  it('h auto is the mid-block output, and the derived JVP/VJP are adjoint on the real weights', async () => {
    const K = 2;
    const d = await deriveGraphs(join(MODEL_DIR, 'unet', 'model.onnx'), { h: 'auto', tangents: K });
    expect(d.info.hSelectedBy).toBe('scope');
    expect(d.info.h.startsWith('/mid_block/')).toBe(true);
    expect(d.info.hShape).toEqual([1, 128, 8, 8]);

    const opts = { graphOptimizationLevel: 'all' as const, intraOpNumThreads: 2 };
    const jvp = await ort.InferenceSession.create(d.jvp, opts);
    const vjp = await ort.InferenceSession.create(d.vjp, opts);
    let seed = 12345;
    const rand = (n: number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const u = (seed + 0.5) / 4294967296;
        seed = (seed * 1103515245 + 12345) >>> 0;
        const w = (seed + 0.5) / 4294967296;
        a[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
      }
      return a;
    };
    const xN = 3 * 64 * 64;
    const hN = 128 * 8 * 8;
    const x = rand(xN);
    const v = rand(K * xN);
    const u = rand(K * hN);
    const base = { sample: new ort.Tensor('float32', x, [1, 3, 64, 64]), timestep: timestepTensor(600) };
    const jv = (await jvp.run({ ...base, tangent: new ort.Tensor('float32', v, [K, 3, 64, 64]) })).h_dot.data as Float32Array;
    const jtu = (await vjp.run({ ...base, cotangent: new ort.Tensor('float32', u, [K, 128, 8, 8]) })).x_bar.data as Float32Array;
    for (let k = 0; k < K; k++) {
      let a = 0, b = 0, nJv = 0, nU = 0, nV = 0, nJtu = 0;
      for (let i = 0; i < hN; i++) {
        a += jv[k * hN + i] * u[k * hN + i];
        nJv += jv[k * hN + i] ** 2;
        nU += u[k * hN + i] ** 2;
      }
      for (let i = 0; i < xN; i++) {
        b += v[k * xN + i] * jtu[k * xN + i];
        nV += v[k * xN + i] ** 2;
        nJtu += jtu[k * xN + i] ** 2;
      }
      const r = Math.abs(a - b) / (Math.sqrt(nJv * nU) + Math.sqrt(nV * nJtu));
      expect(nJv).toBeGreaterThan(0);
      expect(r).toBeLessThan(1e-5);
    }
    await jvp.release();
    await vjp.release();
  });
});
