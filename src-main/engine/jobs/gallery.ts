/**
 * `gallery`: for the local basis at (x_t, t), a − and a + preview of each direction around the unedited `center`.
 *
 * The centre is the canvas image of the unedited document: x_t rendered with the document's own `steps` schedule and
 * η = 0 throughout, which is `generate(seed, steps)`'s image bit for bit (the x_t path is generate's, and the DDIM step
 * is the same function), so the middle preview is byte for byte the picture the editor shows (issue 16: it was rendered
 * with the 20 preview steps and the η = 1 tail and looked grainier, 3.4 levels apart). The ± previews stay cheap: each
 * pair is edited (guidance batches x and x ± δv through the U-Net), rendered as one batch with `previewSteps` and the
 * tail noise, and the unedited preview render (same steps, same noise) is subtracted, so
 *   ± = centre + (preview(x_t ± edit) − preview(x_t))
 * differs from the centre by the edit only, as the preview renders see it; the shared noise cancels. An imported
 * image's canvas is the picture itself, which no render reproduces: the client sends it (`centerImage`), the centre is
 * it byte for byte, and ± = its pixels + (preview(x_t ± edit) − preview(x_t)) in decoded 8-bit pixels.
 *
 * Streaming: each direction's |v| heat map as soon as the basis exists ({kind: 'gallery-heat', index, image}), then
 * each thumbnail as soon as it is rendered ({kind: 'gallery-thumb', index, sign, strength, image}), − before +.
 * PNGs are encoded in the worker so the partials are ready to display.
 *
 * Previews are stored beside a cached basis (support/preview-store.ts): when the basis comes from the cache and an
 * entry with the same preview parameters exists, its PNGs are returned without rendering (`previewsFromCache`).
 */
import type { EngineJob } from './types';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import { decodeBatchFor } from '../../core/diffusion/text-model-folder';
import type { RawImage } from '../../core/diffusion/image';
import { directionMagnitudeImage } from '../../core/geometry/magnitude-map';
import { renderFrom, renderPath } from '../../core/edit/render';
import type { ProgressFn } from '../../core/progress';
import { WorkMeter } from './support/work-meter';
import { sizeOf, stackBatch, type Tensor } from '../../core/tensor';
import { GaussianRng } from '../../core/diffusion/rng';
import type { EncodedImage, GalleryPartial, JobOutput, JobParsedInput } from '../../shared/api';
import { decodePng, encodePng } from '../png';
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import { changePerUnitStrength } from '../../core/edit/visual-change';
import { basisRow } from './support/wire-tensors';
import { basisCache, localBasis } from './support/local-basis';
import { modelStepper, resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { editFromRequest } from './support/edit-request';
import { resolveRegion } from './support/mask';
import { PreviewStore, type PreviewParams, type StoredPreviews } from './support/preview-store';
import { LatentMemo } from './support/latent-memo';
import { tensorSha256 } from '../../core/tensor/hash';
import { modelContentHash } from '../worker/model-hash';

/** The unedited preview render of recent x_t (see `base` below). */
const unEditedPreviews = new LatentMemo(16);

/** Forgets the remembered unedited previews (tests compare a remembered one with a fresh render). */
export function forgetUnEditedPreviews(): void {
  unEditedPreviews.clear();
}

async function encodeRaw(img: RawImage): Promise<EncodedImage> {
  return { mime: 'image/png', width: img.width, height: img.height, bytes: await encodePng(img) };
}

/** A copy for a partial: the worker transfers partial buffers, and the final output still needs these bytes. */
function copy(image: EncodedImage): EncodedImage {
  return { ...image, bytes: image.bytes.slice() };
}

function sendHeat(onProgress: ProgressFn, index: number, image: EncodedImage): void {
  const partial: GalleryPartial = { kind: 'gallery-heat', index, image: copy(image) };
  onProgress({ fraction: 0.4, message: `direction ${index} found`, partial });
}

function sendThumbs(onProgress: ProgressFn, index: number, s: number, fraction: number, minus: EncodedImage, plus: EncodedImage, how: string): void {
  for (const [sign, image] of [
    [-1, minus],
    [1, plus],
  ] as const) {
    const partial: GalleryPartial = { kind: 'gallery-thumb', index, sign, strength: sign * s, image: copy(image) };
    onProgress({ fraction, message: `direction ${index} ${sign < 0 ? '−' : '+'} ${how}`, partial });
  }
}

/** The canvas picture a gallery was given, checked against the model's image size [C, H, W]. */
async function canvasPicture(bytes: Uint8Array, dims: readonly [number, number, number]): Promise<RawImage> {
  let img: RawImage;
  try {
    img = await decodePng(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`centerImage is not a PNG the engine can read (${(err as Error).message})`);
  }
  if (img.width !== dims[2] || img.height !== dims[1] || img.channels !== (dims[0] === 1 ? 1 : 3)) {
    throw new InvalidArgumentError(`centerImage is ${img.width}×${img.height}×${img.channels}; this model's pictures are ${dims[2]}×${dims[1]}×${dims[0]}`);
  }
  return img;
}

/** `canvas` + (`edited` − `base`) per 8-bit sample, clamped: the edit's change laid onto the canvas picture. */
export function addChange(canvas: RawImage, edited: RawImage, base: RawImage): RawImage {
  const pixels = new Uint8Array(canvas.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, canvas.pixels[i] + edited.pixels[i] - base.pixels[i]));
  return { ...canvas, pixels };
}

/** What besides the basis decides the previews' pixels: equal parameters, equal PNGs. */
function previewParams(input: JobParsedInput<'gallery'>, indices: number[], pathKey: string): PreviewParams {
  return {
    editPrompt: input.editPrompt ?? null,
    centerImage: input.centerImage ? createHash('sha256').update(input.centerImage).digest('hex') : null,
    steps: input.steps,
    previewSteps: input.previewSteps,
    strength: input.strength,
    mode: input.mode,
    guidanceSteps: input.guidanceSteps,
    scale: input.scale,
    delta: input.delta,
    alpha: input.alpha,
    boostFraction: input.boostFraction,
    noiseSeed: input.noiseSeed,
    directions: indices,
    pathKey,
  };
}

export const galleryJob: EngineJob<'gallery', JobOutput<'gallery'>> = {
  name: 'gallery',
  async run(input, ctx) {
    // Text models: previews decode through the VAE (2 images per direction plus the centre, batched below).
    const { model, predictor, promptPredictor, start, pathKey, condition, toImage, imageDims, forwardProvider } = await openModel(input, ctx);
    const encode = async (x: Tensor, index: number) => encodeRaw(await toImage(x, index, ctx.signal));
    const timestep = resolveTimestep(input, model);
    const T = model.scheduler.numTrainTimesteps;
    // Model calls are counted for the host's measured ETA (work-meter.ts): the basis ahead is of unknown length (the
    // fraction rule meanwhile), the previews after it are a known plan (galleryPlan).
    const meter = new WorkMeter(ctx.onProgress);
    const onProgress = meter.onProgress;
    const guided = predictor !== promptPredictor;
    const pathUnit = guided ? 'unet-cfg' : 'unet';
    const promptUnit = guided ? 'unet' : pathUnit;
    const path = meter.predictor(predictor, pathUnit);
    const prompt = meter.predictor(promptPredictor, promptUnit);
    const xt = await resolveXt(input, model, path, timestep, ctx.signal, subProgress(onProgress, 0, 0.05), pathKey);
    const { basis, stats } = await localBasis(ctx.jacobians, model, xt, timestep, { ...input, forwardProvider }, ctx.signal, subProgress(onProgress, 0.05, 0.4), condition);
    const indices = input.directions ?? Array.from({ length: basis.V.dims[0] }, (_, i) => i);
    const s = input.strength;
    const params = previewParams(input, indices, pathKey);
    const store = new PreviewStore(basisCache());
    const sigma = (index: number) => basis.S.data[index];
    const done = async (p: StoredPreviews, previewsFromCache: boolean): Promise<JobOutput<'gallery'>> => {
      // What a unit of strength does on screen (issue 13 item 5), from the PNGs themselves, so stored and fresh
      // previews report it alike: 64×64 decodes cost microseconds, a 512×512 one a few milliseconds.
      const center = await decodePng(p.center.bytes);
      const items: JobOutput<'gallery'>['items'] = [];
      for (const i of p.items) {
        const change = changePerUnitStrength(await decodePng(i.minus.bytes), await decodePng(i.plus.bytes), center, s);
        items.push({ ...i, sigma: sigma(i.index), change });
      }
      return { timestep, basis: stats, center: p.center, items, previewsFromCache, elapsedMs: performance.now() - start };
    };

    // Only with a cached basis: a basis computed just now has no previews stored beside it yet.
    const stored = stats.cacheHit ? await store.get(stats.cacheId, params) : null;
    if (stored?.hit) {
      const { items } = stored.previews;
      for (const it of items) sendHeat(onProgress, it.index, it.heat);
      items.forEach((it, j) => sendThumbs(onProgress, it.index, s, 0.4 + (0.6 * (j + 1)) / items.length, it.minus, it.plus, 'from the cache'));
      return done(stored.previews, true);
    }

    const stepper = modelStepper(model, path, ctx.signal);
    const render = (steps: number, boost: number | null) => renderPath({ timestep, schedule: ddimTimesteps(steps, T), T, boostFraction: boost }).length;
    const previewLength = render(input.previewSteps, input.boostFraction);
    const guidanceUnits = input.mode === 'move' ? 0 : 2 * input.guidanceSteps;
    // Each direction: two signs of n guidance steps on the batch [x, x + δv], then one preview render of the batch of
    // two; before them the unedited preview (unless remembered) and (unless the canvas picture was given) the canvas render.
    // The unedited preview depends on x_t and the preview render only, not on the strength or the directions: an
    // editor asks for galleries at one x_t again and again (a new strength, more directions), so it is rendered once.
    const baseKey = [await modelContentHash(model), forwardProvider, tensorSha256(xt), timestep, input.previewSteps, input.boostFraction, input.noiseSeed, pathKey].join('|');
    const rememberedBase = unEditedPreviews.get(baseKey);
    const plan: Record<string, number> = {};
    const add = (unit: string, n: number) => (plan[unit] = (plan[unit] ?? 0) + n);
    add(pathUnit, (input.centerImage ? 0 : render(input.steps, null)) + (rememberedBase ? 0 : previewLength) + indices.length * 2 * previewLength);
    add(promptUnit, indices.length * 2 * guidanceUnits);
    meter.expect(plan);
    const n = sizeOf(model.unet.sampleDims);
    const preview = (x: Tensor) => {
      // Every item of a batch gets the same η = 1 noise, drawn exactly as renderFrom draws it for one sample
      // (GaussianRng(noiseSeed) in path order), so the unedited preview's noise cancels in ± − centre.
      const rng = new GaussianRng(input.noiseSeed);
      return renderFrom(stepper, x, {
        timestep,
        schedule: ddimTimesteps(input.previewSteps, T),
        T,
        boostFraction: input.boostFraction,
        noise: (_i, _t, dims) => {
          const one = new Float32Array(n);
          rng.fillNormal(one);
          const data = new Float32Array(x.data.length);
          for (let b = 0; b < x.data.length / n; b++) data.set(one, b * n);
          return { dims: [...dims], data };
        },
        signal: ctx.signal,
      });
    };
    const heats = new Map<number, EncodedImage>();
    for (const index of indices) {
      const heat = await encodeRaw(directionMagnitudeImage(basisRow(basis.V, index)));
      heats.set(index, heat);
      sendHeat(onProgress, index, heat);
    }
    // The canvas picture given (an imported image's), or the canvas image rendered: the document's schedule, η = 0 to
    // the end (what generate renders).
    const canvas = input.centerImage ? await canvasPicture(input.centerImage, imageDims) : null;
    const exact = canvas ? null : await renderFrom(stepper, xt, { timestep, schedule: ddimTimesteps(input.steps, T), T, boostFraction: null, signal: ctx.signal });
    const center = canvas ? { mime: 'image/png' as const, width: canvas.width, height: canvas.height, bytes: new Uint8Array(input.centerImage!) } : await encode(exact!, 0);
    // A masked basis previews its edits as Apply makes them: every x_t update × M (the edit job's region), so the
    // guidance's response outside the mask does not show in the previews either.
    const region = input.mask ? await resolveRegion(input.mask, model.unet.sampleDims) : undefined;
    let base = rememberedBase;
    if (!base) {
      base = await preview(xt);
      unEditedPreviews.set(baseKey, base);
    }
    const baseImage = canvas ? await toImage(base, 0, ctx.signal) : null;
    const items: StoredPreviews['items'] = [];
    // Text models decode previews through the VAE in batches (text-pipeline.ts queues the toImage calls made together):
    // the −/+ pairs of `perDecode` directions are rendered, then decoded at once, then streamed. Pixel models' toImage
    // is a copy: one direction at a time, as soon as it is rendered.
    const perDecode = model.text ? Math.max(1, Math.floor(decodeBatchFor(model.text.vae, model.unet.sampleDims) / 2)) : 1;
    for (let first = 0; first < indices.length; first += perDecode) {
      const group: { index: number; latents: Tensor }[] = [];
      for (const index of indices.slice(first, first + perDecode)) {
        const v = basisRow(basis.V, index);
        const edited: Tensor[] = [];
        for (const sign of [-1, 1]) {
          edited.push(await editFromRequest(prompt, xt, [{ v, strength: sign * s }], timestep, input, { signal: ctx.signal, ...(region ? { region } : {}) }));
        }
        const x0 = await preview(stackBatch(edited));
        if (canvas) {
          // A given canvas picture: its pixels + the edit's change in pixels (both previews decoded alike).
          group.push({ index, latents: x0 });
        } else {
          // centre + the edit's change as the preview renders see it (same steps and noise on both sides).
          const moved = new Float32Array(x0.data.length);
          for (let b = 0; b < 2; b++) for (let i = 0; i < n; i++) moved[b * n + i] = exact!.data[i] + x0.data[b * n + i] - base.data[i];
          group.push({ index, latents: { dims: x0.dims, data: moved } });
        }
      }
      // All of the group's images asked for together: one decoder batch (cancellable before it runs).
      const images = await Promise.all(group.flatMap((g) => [toImage(g.latents, 0, ctx.signal), toImage(g.latents, 1, ctx.signal)]));
      for (let k = 0; k < group.length; k++) {
        const { index } = group[k];
        const [minusRaw, plusRaw] = [images[2 * k], images[2 * k + 1]];
        const minus = await encodeRaw(canvas ? addChange(canvas, minusRaw, baseImage!) : minusRaw);
        const plus = await encodeRaw(canvas ? addChange(canvas, plusRaw, baseImage!) : plusRaw);
        sendThumbs(onProgress, index, s, 0.4 + (0.6 * (first + k + 1)) / indices.length, minus, plus, 'ready');
        items.push({ index, minus, plus, heat: heats.get(index)! });
      }
    }
    const result = { center, items };
    try {
      await store.put(stats.cacheId, params, result);
    } catch (err) {
      // The previews are shown all the same; only the next visit renders them again.
      onProgress({ fraction: 1, message: `previews not cached: ${(err as Error).message}` });
    }
    return done(result, false);
  },
};
