/** Temp diffusers-layout folders around the U-Net fixtures (the basis/edit/CLI tests need a model folder). */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Matrix } from 'ml-matrix';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const UNET_FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'unets');

/** A model folder whose unet/model.onnx is test/fixtures/unets/<name>/model.onnx; linear betas, no clipping. */
export async function wrapUnet(name: string, parent?: string): Promise<string> {
  const dir = await mkdtemp(join(parent ?? tmpdir(), `pullback-${name}-`));
  await mkdir(join(dir, 'scheduler'), { recursive: true });
  await mkdir(join(dir, 'unet'), { recursive: true });
  await writeFile(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'DDPMPipeline', unet: ['diffusers', 'UNet2DModel'] }));
  await writeFile(
    join(dir, 'scheduler', 'scheduler_config.json'),
    JSON.stringify({
      _class_name: 'DDIMScheduler',
      num_train_timesteps: 1000,
      beta_start: 0.0001,
      beta_end: 0.02,
      beta_schedule: 'linear',
      prediction_type: 'epsilon',
      clip_sample: false,
    }),
  );
  await copyFile(join(UNET_FIXTURES, name, 'model.onnx'), join(dir, 'unet', 'model.onnx'));
  return dir;
}

/**
 * For this test file: a fresh temp folder (`root`, for model folders and outputs) with PULLBACK_DATA_DIR pointing at
 * root/data, so the basis cache starts empty; the variable is restored and the folder removed afterwards. Call it
 * before the file's own hooks: its beforeAll runs first and its afterAll last. Engine workers inherit the
 * environment at spawn, so create hosts after it.
 */
export function useTempDataDir(prefix: string): { readonly root: string } {
  let root = '';
  const saved = process.env.PULLBACK_DATA_DIR;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `pullback-${prefix}-`));
    process.env.PULLBACK_DATA_DIR = join(root, 'data');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.PULLBACK_DATA_DIR;
    else process.env.PULLBACK_DATA_DIR = saved;
    await rm(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
  };
}

/** The dense J (|h| × |x|) of a Jacobian operator, one jvp column per basis vector e_j: the oracle of small fixtures. */
export async function denseJacobian(op: { xDims: readonly number[]; hDims: readonly number[]; jvp(v: { dims: number[]; data: Float32Array }): Promise<{ data: Float32Array }> }): Promise<Matrix> {
  const n = op.xDims.reduce((a, b) => a * b, 1);
  const m = op.hDims.reduce((a, b) => a * b, 1);
  const eye = new Float32Array(n * n);
  for (let j = 0; j < n; j++) eye[j * n + j] = 1;
  const cols = await op.jvp({ dims: [n, ...op.xDims], data: eye });
  const J = new Matrix(m, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) J.set(i, j, cols.data[j * m + i]);
  return J;
}
