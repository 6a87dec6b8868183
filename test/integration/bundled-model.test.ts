/**
 * The bundled default model (resources/models/avatars64): the shipped ONNX equals the PyTorch model it was exported
 * from (references written by tools/train/export_onnx.py), the folder opens as the app's default, `--h auto` finds
 * the mid block by its scope.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { decodeNpy } from '../../src-main/core/tensor';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { deriveGraph } from '../../src-main/core/onnx';
import { defaultModelDir } from '../../src-main/app/bundled-models';

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

  // The derivative checks on these weights (dot-product, differences, batch, symmetry) live in onnx-bundled.test.ts.
  it('h auto is the mid-block output, found by its module scope', async () => {
    const { info } = await deriveGraph(join(MODEL_DIR, 'unet', 'model.onnx'), 'forward', { h: 'auto' });
    expect(info.hSelectedBy).toBe('scope');
    expect(info.h.startsWith('/mid_block/')).toBe(true);
    expect(info.hShape).toEqual([1, 128, 8, 8]);
  });
});
