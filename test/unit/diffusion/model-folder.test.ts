import { afterAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder, checkUnetSignature, readOnnxFile } from '../../../src-main/core/diffusion/model-folder';
import { readOnnxSignature, OnnxParseError } from '../../../src-main/core/diffusion/onnx-signature';
import { ModelFolderError } from '../../../src-main/core/diffusion/errors';
import { ANALYTIC_EXTERNAL, ANALYTIC_FLOAT, ANALYTIC_INT64, ANALYTIC_VPRED, BAD_CASES, makeBadFolder } from '../../helpers/model-folders';
import { stat } from 'node:fs/promises';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

describe('readOnnxSignature', () => {
  it('reads names, dtypes and ranks without ORT', async () => {
    const sig = readOnnxSignature(await readFile(join(ANALYTIC_INT64, 'unet', 'model.onnx')));
    expect(sig.inputs).toEqual([
      { name: 'sample', elemType: 'float32', dims: ['batch', 3, 8, 8] },
      { name: 'timestep', elemType: 'int64', dims: [1] },
    ]);
    expect(sig.outputs.map((o) => o.name)).toEqual(['out_sample']);
    const f = readOnnxSignature(await readFile(join(ANALYTIC_FLOAT, 'unet', 'model.onnx')));
    expect(f.inputs[1]).toEqual({ name: 'timestep', elemType: 'float32', dims: [] });
  });
  it('rejects junk and truncation with OnnxParseError', () => {
    expect(() => readOnnxSignature(new TextEncoder().encode('hello world, not onnx'))).toThrow(OnnxParseError);
    expect(() => readOnnxSignature(new Uint8Array(0))).toThrow(OnnxParseError);
    expect(() => readOnnxSignature(Uint8Array.from([0x3a, 0xff, 0x01]))).toThrow(OnnxParseError);
  });
});

describe('loadModelFolder', () => {
  it('opens the fixtures (int64 rank-1, float rank-0, v-prediction)', async () => {
    const a = await loadModelFolder(ANALYTIC_INT64);
    expect(a.unet).toMatchObject({ sampleDims: [3, 8, 8], timestepType: 'int64', timestepRank: 1, timestepPerItem: false, outputName: 'out_sample' });
    expect(a.scheduler).toMatchObject({ betaSchedule: 'linear', predictionType: 'epsilon', numTrainTimesteps: 1000 });
    expect(a.unet.weightsBytes).toBeGreaterThan(1000);
    const b = await loadModelFolder(ANALYTIC_FLOAT);
    expect(b.unet).toMatchObject({ timestepType: 'float32', timestepRank: 0 });
    expect((await loadModelFolder(ANALYTIC_VPRED)).scheduler.predictionType).toBe('v_prediction');
  });

  it('counts external-data weights in the weight size', async () => {
    const m = await loadModelFolder(ANALYTIC_EXTERNAL);
    const onnxSize = (await stat(join(ANALYTIC_EXTERNAL, 'unet', 'model.onnx'))).size;
    const dataSize = (await stat(join(ANALYTIC_EXTERNAL, 'unet', 'model.onnx_data'))).size;
    expect(onnxSize).toBeLessThan(2000); // the graph only; weights are outside
    expect(m.unet.weightsBytes).toBe(onnxSize + dataSize);
  });

  it.each(BAD_CASES)('$name → $code naming $file', async (c) => {
    const { root, dir } = await makeBadFolder(c);
    roots.push(root);
    const err = await loadModelFolder(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as ModelFolderError).code).toBe(c.code);
    expect((err as ModelFolderError).file).toBe(join(dir, c.file));
  });

  it('a missing folder is a typed error too', async () => {
    await expect(loadModelFolder('/definitely/not/here')).rejects.toMatchObject({ code: 'missing-file' });
  });

  it('dynamic sizes fall back to unet/config.json, else fail with wrong-inputs', () => {
    const inputs = [
      { name: 'sample', elemType: 'float32' as const, dims: ['b', 'c', 'h', 'w'] },
      { name: 'timestep', elemType: 'int64' as const, dims: ['b'] },
    ];
    const outputs = [{ name: 'out', elemType: 'float32' as const, dims: [] }];
    const sig = checkUnetSignature('/m/unet/model.onnx', inputs, outputs, { in_channels: 3, sample_size: 32 }, '/m/unet/config.json');
    expect(sig.sampleDims).toEqual([3, 32, 32]);
    expect(sig.timestepPerItem).toBe(true);
    expect(() => checkUnetSignature('/m/unet/model.onnx', inputs, outputs, null, '/m/unet/config.json')).toThrow(/in_channels/);
    expect(() =>
      checkUnetSignature('/m/unet/model.onnx', [...inputs, { name: 'encoder_hidden_states', elemType: 'float32', dims: [] }], outputs, null, 'x'),
    ).toThrow(expect.objectContaining({ code: 'unsupported-model' }));
    expect(() =>
      checkUnetSignature('/m/unet/model.onnx', [inputs[0], { name: 'timestep', elemType: 'int64', dims: [1, 1] }], outputs, { in_channels: 3, sample_size: 8 }, 'x'),
    ).toThrow(expect.objectContaining({ code: 'wrong-inputs' }));
  });
});

describe('readOnnxFile: the signature is read once per version of the file', () => {
  it('answers a file seen before from memory, reads a rewritten one again, and still refuses what it would refuse', async () => {
    const root = await mkdtemp(join(tmpdir(), 'onnx-memo-'));
    roots.push(root);
    const file = join(root, 'model.onnx');
    await copyFile(join(ANALYTIC_INT64, 'unet', 'model.onnx'), file);
    const first = await readOnnxFile(file, root);
    expect(first.sig.inputs[1]).toMatchObject({ name: 'timestep', elemType: 'int64' });
    // The same object: nothing was read or parsed again.
    expect(await readOnnxFile(file, root)).toBe(first);

    // Rewritten with another model: a new stat, so a new signature.
    await copyFile(join(ANALYTIC_FLOAT, 'unet', 'model.onnx'), file);
    const second = await readOnnxFile(file, root);
    expect(second).not.toBe(first);
    expect(second.sig.inputs[1]).toMatchObject({ name: 'timestep', elemType: 'float32' });

    // Junk in its place is refused, not answered from memory.
    await writeFile(file, 'not onnx');
    await expect(readOnnxFile(file, root)).rejects.toMatchObject({ code: 'bad-onnx' });
    // The confinement check runs every time: a link leading out of the folder is refused.
    await rm(file);
    await symlink(join(ANALYTIC_FLOAT, 'unet', 'model.onnx'), file);
    await expect(readOnnxFile(file, root)).rejects.toBeInstanceOf(ModelFolderError);
  });
});
