/**
 * Worker-side cache of the open model and its ORT session. One model at a time: switching releases the previous
 * session, because U-Net sessions are large and the worker is long-lived — except while a job that is still running
 * uses it (the worker runs several jobs at once, see scheduling.ts): then it is released when the last such job ends.
 */
import type * as ort from 'onnxruntime-node';
import { createSession, providerWorks, supportedBackends } from './sessions';
import { loadModelFolder, type ModelFolder } from '../../core/diffusion/model-folder';
import { ModelFolderError } from '../../core/diffusion/errors';
import type { Provider, ProviderPreference } from '../../shared/api';
import { availableProviders, createWithFallback, missingPrerequisite, providerOrder, usableProviders } from './providers';
import { existsSync } from 'node:fs';
import { OrtNoisePredictor } from './ort-predictor';
import { runTextUnet, TextPipeline } from './text-pipeline';
import { isTextModel } from '../../core/diffusion/text-model-folder';
import type { LoadedModel } from '../jobs/types';
import { EngineError } from '../errors';
import { PinnedCache } from './pinned-cache';
import { currentJobId } from './scheduling';

let probed: Provider[] | null = null;

/**
 * The build's providers for this platform minus those whose system library is missing: their runtime would print
 * why at every try (Dawn's "Couldn't load Vulkan" on Linux without the loader) and then fail anyway.
 */
function installableProviders(): Provider[] {
  return availableProviders(process.platform, process.arch, supportedBackends()).filter((p) => missingPrerequisite(p, process.platform, existsSync) === null);
}

/**
 * Providers this machine can use, best first, CPU last: the probed list once probeProvidersHere ran (the worker),
 * else the installable ones (the CLI runs jobs in-process without the probe).
 */
export function availableProvidersHere(): Provider[] {
  return probed ?? installableProviders();
}

/** Try each provider the build offers on a tiny graph, once per worker (the worker does this before it says ready). */
export async function probeProvidersHere(): Promise<Provider[]> {
  probed ??= await usableProviders(installableProviders(), providerWorks);
  return probed;
}

interface OpenModel {
  loaded: LoadedModel;
  session: ort.InferenceSession;
  text?: TextPipeline;
}

export class ModelCache {
  /** Open models by folder + provider preference: the latest, and older ones while running jobs hold them. */
  private readonly open = new PinnedCache<OpenModel>((m) => releaseModel(m));

  async inspect(dir: string): Promise<ModelFolder> {
    return loadModelFolder(dir);
  }

  async load(dir: string, pref: ProviderPreference): Promise<LoadedModel> {
    const model = await loadModelFolder(dir);
    const key = `${model.dir}\u0000${pref}`;
    // Concurrent jobs asking for the same model share one creation (one session, not two).
    return (await this.open.get(key, () => this.create(model, pref), currentJobId())).loaded;
  }

  /** A job ended: what only it still held is released. */
  jobEnded(jobId: string): Promise<void> {
    return this.open.unpin(jobId);
  }

  private async create(model: ModelFolder, pref: ProviderPreference): Promise<OpenModel> {
    let created;
    try {
      // GPU providers can create a session and still fail on the first run (missing kernels, driver problems): one
      // warm-up call on zeros lets that fall back to CPU instead of failing the user's job.
      created = await createWithFallback(
        providerOrder(pref, availableProvidersHere()),
        (ep) => createSession(model.unet.file, { executionProvider: ep }),
        {
          firstRun: async (session) => {
            const [C, H, W] = model.unet.sampleDims;
            const x = { dims: [1, C, H, W], data: new Float32Array(C * H * W) };
            if (isTextModel(model)) {
              const { seqLength: L, hiddenSize: D } = model.text;
              await runTextUnet(session, model, x, 0, { dims: [1, L, D], data: new Float32Array(L * D) });
            } else {
              await new OrtNoisePredictor(session, model).predictEps(x, 0);
            }
          },
          release: (session) => session.release(),
        },
      );
    } catch (err) {
      // The signature was fine but ORT still refused it: an invalid graph (bad op, bad initializer...).
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (/protobuf|parse|load model|invalid|graph|node|opset|type/i.test(msg)) {
        throw new ModelFolderError('bad-onnx', model.unet.file, `ONNX Runtime cannot load it: ${msg}`);
      }
      throw new EngineError('provider-failed', `no execution provider could run ${model.unet.file}: ${msg}`);
    }
    // A text model's default predictor is conditioned on the empty prompt (no guidance): what a job that names no
    // prompt means, e.g. the unconditional DDIM path of the authors' SD experiments.
    let text: TextPipeline | undefined;
    if (isTextModel(model)) {
      try {
        text = await TextPipeline.open(model, created.session, created.provider);
      } catch (err) {
        await created.session.release().catch(() => undefined);
        if (err instanceof ModelFolderError) throw err;
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        throw new ModelFolderError('bad-onnx', model.dir, `ONNX Runtime cannot load the text encoder or VAE decoder: ${msg}`);
      }
    }
    const loaded: LoadedModel = {
      model,
      predictor: text ? text.predictor(await text.embed('')) : new OrtNoisePredictor(created.session, model),
      provider: created.provider,
      ...(created.fallbackReason ? { fallbackReason: created.fallbackReason } : {}),
      ...(text ? { text } : {}),
    };
    return { loaded, session: created.session, ...(text ? { text } : {}) };
  }

  release(): Promise<void> {
    return this.open.clear();
  }
}

async function releaseModel(m: OpenModel): Promise<void> {
  await m.session.release().catch(() => undefined);
  if (m.text) await m.text.release();
}
