/**
 * Worker-side cache of the open model and its ORT session. One model at a time: switching releases the previous
 * session, because U-Net sessions are large and the worker is long-lived.
 */
import type * as ort from 'onnxruntime-node';
import { createSession, supportedBackends } from './sessions';
import { loadModelFolder, type ModelFolder } from '../../core/diffusion/model-folder';
import { ModelFolderError } from '../../core/diffusion/errors';
import type { Provider, ProviderPreference } from '../../shared/api';
import { availableProviders, createWithFallback, providerOrder } from './providers';
import { OrtNoisePredictor } from './ort-predictor';
import type { LoadedModel } from '../jobs/types';
import { EngineError } from '../errors';

/** Providers this machine may use, best first, CPU last. */
export function availableProvidersHere(): Provider[] {
  return availableProviders(process.platform, process.arch, supportedBackends());
}

export class ModelCache {
  private current: { key: string; loaded: LoadedModel; session: ort.InferenceSession } | null = null;

  async inspect(dir: string): Promise<ModelFolder> {
    return loadModelFolder(dir);
  }

  async load(dir: string, pref: ProviderPreference): Promise<LoadedModel> {
    const model = await loadModelFolder(dir);
    const key = `${model.dir}\u0000${pref}`;
    if (this.current?.key === key) return this.current.loaded;
    await this.release();
    let created;
    try {
      created = await createWithFallback(providerOrder(pref, availableProvidersHere()), async (ep) => {
        const session = await createSession(model.unet.file, { executionProvider: ep });
        if (ep !== 'cpu') {
          // GPU providers can create a session and still fail on the first run (missing kernels, driver
          // problems): one warm-up call here lets that fall back to CPU instead of failing the user's job.
          try {
            const [C, H, W] = model.unet.sampleDims;
            await new OrtNoisePredictor(session, model).predictEps({ dims: [1, C, H, W], data: new Float32Array(C * H * W) }, 0);
          } catch (err) {
            await session.release().catch(() => undefined);
            throw err;
          }
        }
        return session;
      });
    } catch (err) {
      // The signature was fine but ORT still refused it: an invalid graph (bad op, bad initializer...).
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (/protobuf|parse|load model|invalid|graph|node|opset|type/i.test(msg)) {
        throw new ModelFolderError('bad-onnx', model.unet.file, `ONNX Runtime cannot load it: ${msg}`);
      }
      throw new EngineError('provider-failed', `no execution provider could run ${model.unet.file}: ${msg}`);
    }
    const loaded: LoadedModel = {
      model,
      predictor: new OrtNoisePredictor(created.session, model),
      provider: created.provider,
      ...(created.fallbackReason ? { fallbackReason: created.fallbackReason } : {}),
    };
    this.current = { key, loaded, session: created.session };
    return loaded;
  }

  async release(): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (cur) await cur.session.release().catch(() => undefined);
  }
}
