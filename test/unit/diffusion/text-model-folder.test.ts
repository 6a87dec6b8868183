import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder } from '../../../src-main/core/diffusion/model-folder';
import { checkTextUnet, unsupportedFamily } from '../../../src-main/core/diffusion/text-model-folder';
import { ModelFolderError } from '../../../src-main/core/diffusion/errors';
import type { OnnxValueInfo } from '../../../src-main/core/diffusion/onnx-signature';
import { textFolder, type TextFolderName } from '../../helpers/text-fixtures';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function copyOf(name: TextFolderName): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'text-folder-'));
  roots.push(root);
  const dir = join(root, name);
  await cp(textFolder(name), dir, { recursive: true });
  return dir;
}

/** Same-length byte replacement inside a file (keeps protobuf lengths valid). */
async function rename(file: string, from: string, to: string): Promise<void> {
  const bytes = await readFile(file);
  const a = Buffer.from(from);
  for (let i = bytes.indexOf(a); i >= 0; i = bytes.indexOf(a, i + 1)) Buffer.from(to).copy(bytes, i);
  await writeFile(file, bytes);
}

describe('text pipeline folders (both layouts)', () => {
  it('reads names, dtypes, sizes and the VAE from the files', async () => {
    const d = await loadModelFolder(textFolder('sd1-diffusers'));
    expect(d.text).toMatchObject({ layout: 'diffusers-onnx', pipelineClass: 'OnnxStableDiffusionPipeline', conditionInput: 'encoder_hidden_states', seqLength: 77, hiddenSize: 32, unetDtype: 'float32', sampleSizeSource: 'onnx' });
    expect(d.text!.textEncoder).toMatchObject({ idsInput: 'input_ids', idsType: 'int32', output: 'last_hidden_state', maskInput: null });
    expect(d.text!.vae).toMatchObject({ scalingFactor: 0.18215, scalingFactorSource: 'default', downscale: 8 });
    expect(d.text!.vae.encoder).toMatchObject({ output: 'latent_sample', kind: 'sample' });
    expect(d.text!.tokenizer).toMatchObject({ tokenizerJson: null, padToken: '<|endoftext|>', maxLength: 77 });
    expect(d.unet).toMatchObject({ sampleDims: [4, 8, 8], timestepType: 'float32', timestepRank: 1 });
    expect(d.unet.externalData.map((f) => f.split('/').pop())).toEqual(['weights.pb']);
    expect(d.scheduler.clipSample).toBe(false);

    const o = await loadModelFolder(textFolder('sd1-optimum'));
    expect(o.text).toMatchObject({ layout: 'optimum', pipelineClass: 'ORTStableDiffusionPipeline', sampleSizeSource: 'config' });
    expect(o.text!.textEncoder.idsType).toBe('int64');
    expect(o.text!.vae).toMatchObject({ scalingFactorSource: 'config' });
    expect(o.text!.vae.encoder).toMatchObject({ output: 'latent_parameters', kind: 'parameters' });
    expect(o.unet).toMatchObject({ timestepType: 'int64' });
    expect(o.unet.externalData.map((f) => f.split('/').pop())).toEqual(['model.onnx_data']);
    expect(o.text!.tokenizer.tokenizerJson).toMatch(/tokenizer\.json$/);

    const v = await loadModelFolder(textFolder('sd2v-optimum'));
    expect(v.scheduler.predictionType).toBe('v_prediction');
    expect(v.text!.tokenizer.padToken).toBe('!');

    const h = await loadModelFolder(textFolder('sd1-diffusers-fp16'));
    expect(h.text!.unetDtype).toBe('float16');
    expect(h.unet.timestepType).toBe('float16');
    expect(h.text!.vae.decoder.dtype).toBe('float16');
  });

  it('a scaling_factor in vae config.json wins over the default', async () => {
    const dir = await copyOf('sd1-optimum');
    const f = join(dir, 'vae_decoder', 'config.json');
    await writeFile(f, JSON.stringify({ ...JSON.parse(await readFile(f, 'utf8')), scaling_factor: 0.13025 }));
    expect((await loadModelFolder(dir)).text!.vae.scalingFactor).toBe(0.13025);
  });

  it('without vae_encoder the folder still opens (generation works); the encoder is reported absent', async () => {
    const dir = await copyOf('sd1-diffusers');
    await rm(join(dir, 'vae_encoder'), { recursive: true });
    const m = await loadModelFolder(dir);
    expect(m.text!.vae.encoder).toBeNull();
    expect(m.text!.vae.encoderFile).toBe(join(dir, 'vae_encoder', 'model.onnx'));
  });

  const indexWith = (extra: Record<string, unknown>) => async (d: string) => {
    const f = join(d, 'model_index.json');
    await writeFile(f, JSON.stringify({ ...JSON.parse(await readFile(f, 'utf8')), ...extra }));
  };
  const cases: { name: string; code: string; file: string; message?: RegExp; source?: TextFolderName; make(d: string): Promise<void> }[] = [
    { name: 'missing text_encoder/model.onnx', code: 'missing-file', file: 'text_encoder/model.onnx', make: (d) => rm(join(d, 'text_encoder', 'model.onnx')) },
    { name: 'missing vae_decoder/model.onnx', code: 'missing-file', file: 'vae_decoder/model.onnx', make: (d) => rm(join(d, 'vae_decoder', 'model.onnx')) },
    { name: 'missing unet/model.onnx', code: 'missing-file', file: 'unet/model.onnx', make: (d) => rm(join(d, 'unet', 'model.onnx')) },
    { name: 'missing external weights (Optimum)', code: 'missing-file', file: 'unet/model.onnx_data', make: (d) => rm(join(d, 'unet', 'model.onnx_data')) },
    { name: 'missing external weights (diffusers)', code: 'missing-file', file: 'unet/weights.pb', source: 'sd1-diffusers', make: (d) => rm(join(d, 'unet', 'weights.pb')) },
    { name: 'missing scheduler config', code: 'missing-file', file: 'scheduler/scheduler_config.json', make: (d) => rm(join(d, 'scheduler', 'scheduler_config.json')) },
    { name: 'missing vocab.json without tokenizer.json', code: 'missing-file', file: 'tokenizer/vocab.json', source: 'sd1-diffusers', make: (d) => rm(join(d, 'tokenizer', 'vocab.json')) },
    { name: 'missing merges.txt without tokenizer.json', code: 'missing-file', file: 'tokenizer/merges.txt', source: 'sd1-diffusers', make: (d) => rm(join(d, 'tokenizer', 'merges.txt')) },
    { name: 'malformed tokenizer_config.json', code: 'malformed-json', file: 'tokenizer/tokenizer_config.json', make: (d) => writeFile(join(d, 'tokenizer', 'tokenizer_config.json'), '{"pad_token": ') },
    { name: 'malformed special_tokens_map.json', code: 'malformed-json', file: 'tokenizer/special_tokens_map.json', make: (d) => writeFile(join(d, 'tokenizer', 'special_tokens_map.json'), '[1, 2]') },
    { name: 'malformed vae config.json', code: 'malformed-json', file: 'vae_decoder/config.json', make: (d) => writeFile(join(d, 'vae_decoder', 'config.json'), 'nope') },
    { name: 'scaling_factor not a number', code: 'malformed-json', file: 'vae_decoder/config.json', make: (d) => writeFile(join(d, 'vae_decoder', 'config.json'), '{"scaling_factor": "0.18"}') },
    { name: 'malformed unet/config.json', code: 'malformed-json', file: 'unet/config.json', make: (d) => writeFile(join(d, 'unet', 'config.json'), '{') },
    { name: 'malformed text_encoder/config.json', code: 'malformed-json', file: 'text_encoder/config.json', make: (d) => writeFile(join(d, 'text_encoder', 'config.json'), '{') },
    { name: 'truncated U-Net', code: 'bad-onnx', file: 'unet/model.onnx', make: async (d) => writeFile(join(d, 'unet', 'model.onnx'), (await readFile(join(d, 'unet', 'model.onnx'))).subarray(0, 5000)) },
    { name: 'truncated text encoder', code: 'bad-onnx', file: 'text_encoder/model.onnx', make: async (d) => writeFile(join(d, 'text_encoder', 'model.onnx'), (await readFile(join(d, 'text_encoder', 'model.onnx'))).subarray(0, 3000)) },
    { name: 'junk VAE encoder', code: 'bad-onnx', file: 'vae_encoder/model.onnx', make: (d) => writeFile(join(d, 'vae_encoder', 'model.onnx'), 'not onnx at all') },
    { name: 'text encoder without input_ids', code: 'wrong-inputs', file: 'text_encoder/model.onnx', message: /needs input "input_ids"/, make: (d) => rename(join(d, 'text_encoder', 'model.onnx'), 'input_ids', 'input_idz') },
    { name: 'U-Net without encoder_hidden_states', code: 'wrong-inputs', file: 'unet/model.onnx', message: /"encoder_hidden_states"/, make: (d) => rename(join(d, 'unet', 'model.onnx'), 'encoder_hidden_states', 'encoder_hidden_statez') },
    { name: 'VAE decoder input renamed', code: 'wrong-inputs', file: 'vae_decoder/model.onnx', message: /"latent_sample"/, make: (d) => rename(join(d, 'vae_decoder', 'model.onnx'), 'latent_sample', 'latent_sampla') },
    { name: 'SDXL class', code: 'unsupported-model', file: 'model_index.json', message: /SDXL/, make: indexWith({ _class_name: 'ORTStableDiffusionXLPipeline' }) },
    { name: 'a second text encoder', code: 'unsupported-model', file: 'model_index.json', message: /text_encoder_2/, make: indexWith({ text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }) },
    { name: 'inpainting pipeline', code: 'unsupported-model', file: 'model_index.json', message: /inpainting/, make: indexWith({ _class_name: 'OnnxStableDiffusionInpaintPipeline' }) },
    { name: 'transformer pipeline', code: 'unsupported-model', file: 'model_index.json', message: /transformer-based/, make: indexWith({ _class_name: 'StableDiffusion3Pipeline', transformer: ['diffusers', 'SD3Transformer2DModel'] }) },
    { name: 'unknown text pipeline class', code: 'unsupported-model', file: 'model_index.json', message: /"KandinskyPipeline" is not a Stable Diffusion 1.x\/2.x/, make: indexWith({ _class_name: 'KandinskyPipeline' }) },
  ];

  it.each(cases)('$name → $code naming $file', async (c) => {
    const dir = await copyOf(c.source ?? 'sd1-optimum');
    await c.make(dir);
    const err = await loadModelFolder(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as ModelFolderError).code).toBe(c.code);
    expect((err as ModelFolderError).file).toBe(join(dir, c.file));
    if (c.message) expect((err as Error).message).toMatch(c.message);
  });
});

describe('checkTextUnet (signatures real exports have)', () => {
  const f = '/m/unet/model.onnx';
  const sample = (dims: OnnxValueInfo['dims'], elemType: OnnxValueInfo['elemType'] = 'float32'): OnnxValueInfo => ({ name: 'sample', elemType, dims });
  const ts: OnnxValueInfo = { name: 'timestep', elemType: 'float32', dims: ['batch'] };
  const ehs: OnnxValueInfo = { name: 'encoder_hidden_states', elemType: 'float32', dims: ['batch', 'sequence', 768] };
  const out: OnnxValueInfo[] = [{ name: 'out_sample', elemType: 'float32', dims: ['batch', 4, 'h', 'w'] }];
  const dyn = sample(['batch', 'channels', 'height', 'width']);

  it("diffusers' converter leaves every sample axis dynamic: the pipeline default 64 (512 px), 96 for v-prediction; config wins", () => {
    expect(checkTextUnet(f, [dyn, ts, ehs], out, null, 'epsilon')).toMatchObject({ unet: { sampleDims: [4, 64, 64] }, sizeSource: 'default' });
    expect(checkTextUnet(f, [dyn, ts, ehs], out, null, 'v_prediction').unet.sampleDims).toEqual([4, 96, 96]);
    expect(checkTextUnet(f, [dyn, ts, ehs], out, { sample_size: 32, in_channels: 4 }, 'epsilon')).toMatchObject({ unet: { sampleDims: [4, 32, 32] }, sizeSource: 'config' });
  });

  it('refuses SDXL, LCM, inpainting and depth U-Nets by what they are', () => {
    const err = (inputs: OnnxValueInfo[]) => {
      try {
        checkTextUnet(f, inputs, out, null, 'epsilon');
      } catch (e) {
        return e as ModelFolderError;
      }
      throw new Error('accepted');
    };
    const xl = err([dyn, ts, ehs, { name: 'text_embeds', elemType: 'float32', dims: ['b', 1280] }, { name: 'time_ids', elemType: 'float32', dims: ['b', 6] }]);
    expect(xl.code).toBe('unsupported-model');
    expect(xl.message).toMatch(/"text_embeds", "time_ids" \(SDXL added conditioning\)/);
    expect(err([dyn, ts, ehs, { name: 'timestep_cond', elemType: 'float32', dims: ['b', 256] }]).message).toMatch(/latent consistency/);
    expect(err([sample([1, 9, 64, 64]), ts, ehs]).message).toMatch(/inpainting U-Net \(9 input channels\)/);
    expect(err([sample([1, 5, 64, 64]), ts, ehs]).message).toMatch(/depth-conditioned/);
    expect(err([dyn, ts]).code).toBe('wrong-inputs');
    expect(err([dyn, ts, { ...ehs, elemType: 'float16' }]).message).toMatch(/is float16 but "sample" is float32/);
  });

  it('takes fp16 exports (sample, condition and timestep float16)', () => {
    const r = checkTextUnet(f, [sample(['b', 4, 64, 64], 'float16'), { ...ts, elemType: 'float16' }, { ...ehs, elemType: 'float16' }], out, null, 'epsilon');
    expect(r.dtype).toBe('float16');
    expect(r.unet.timestepType).toBe('float16');
  });

  it('unsupportedFamily accepts the SD 1.x/2.x classes of both exporters', () => {
    for (const c of ['OnnxStableDiffusionPipeline', 'ORTStableDiffusionPipeline', 'StableDiffusionPipeline', 'OnnxStableDiffusionImg2ImgPipeline']) {
      expect(unsupportedFamily({ _class_name: c, text_encoder: [], tokenizer: [] })).toBeNull();
    }
  });
});
