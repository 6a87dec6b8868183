/**
 * `npm run bench -- preview [model-dir] [--seeds 16] [--directions 4] [--strengths 1,3] [--render-steps 100]`: what a
 * strength drag can show before the exact edit is ready (issue 12), measured against the exact edit on the bundled
 * model.
 *
 * Exact = Apply's render (shared/edit-defaults.ts): guidance n = 16 steps of s = 0.1, δ = 1, then `--render-steps`
 * DDIM steps with the η = 1 tail below 0.2·T (noise seed 0). Approximations of the same edit (each strength):
 * - one-shot guidance: x + n·s·(ε(x + δv) − ε(x)), i.e. ONE forward pair instead of n (guidanceSteps 1, scale n·s
 *   in the `edit` job), then the same render;
 * - exact guidance, then a 20-step render (the gallery's preview steps);
 * - the editor's live preview (shared/live-preview.ts: 4 steps of the same n·s, 10-step render);
 * - one-shot guidance with a 10-step render.
 * For each: PSNR against the exact image (8-bit, as the PNGs) over seeds × directions (the top directions of each
 * seed's k = directions krylov basis at t = 0.6·T), and the median seconds of one image on this CPU.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { markdownTable } from './lib/table';
import { benchOption, BUNDLED_MODEL, hasBundledModel, loadBenchModel } from './lib/model';
import { JacobianSessions } from '../src-main/engine/worker/jacobian-operator';
import { jacobianK } from '../src-main/engine/jobs/support/local-basis';
import { modelStepper } from '../src-main/engine/jobs/support/latent';
import { basisRow } from '../src-main/engine/jobs/support/wire-tensors';
import { computeLocalBasis } from '../src-main/core/geometry';
import { editLatent } from '../src-main/core/edit/guidance';
import { renderFrom } from '../src-main/core/edit/render';
import { ddimTimesteps } from '../src-main/core/diffusion/ddim';
import { psnr } from '../src-main/core/diffusion/inversion';
import { EDIT_DEFAULTS, GALLERY_DEFAULTS } from '../src-main/shared/edit-defaults';
import { LIVE_PREVIEW_GUIDANCE_STEPS, LIVE_PREVIEW_RENDER_STEPS } from '../src-main/shared/live-preview';
import type { Tensor } from '../src-main/core/tensor';

interface Variant {
  name: string;
  guidanceSteps: number;
  scale: number;
  renderSteps: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(args: string[]): Promise<void> {
  if (args.includes('--vae-decode')) return vaeDecodeRows(args);
  if (args.includes('--gallery')) return galleryRows(args);
  const seeds = Number(benchOption(args, '--seeds') ?? 16);
  const directions = Number(benchOption(args, '--directions') ?? 4);
  const strengths = (benchOption(args, '--strengths') ?? '1,3').split(',').map(Number);
  const exactSteps = Number(benchOption(args, '--render-steps') ?? EDIT_DEFAULTS.renderSteps);
  const modelDir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? (hasBundledModel() ? BUNDLED_MODEL : undefined);
  if (!modelDir) throw new Error('give a model folder (the bundled avatars64 is absent)');
  const { models, model, predictor, timestep, xtOf } = await loadBenchModel(modelDir);
  const T = model.scheduler.numTrainTimesteps;
  const stepper = modelStepper(model, predictor);
  const { guidanceSteps: n, scale: s, delta } = EDIT_DEFAULTS;
  const exact: Variant = { name: `exact: guidance n=${n} s=${s}, render ${exactSteps} steps`, guidanceSteps: n, scale: s, renderSteps: exactSteps };
  const variants: Variant[] = [
    { name: `one-shot guidance (1 forward pair, s=${n * s}), render ${exactSteps} steps`, guidanceSteps: 1, scale: n * s, renderSteps: exactSteps },
    { name: `exact guidance, render 20 steps`, guidanceSteps: n, scale: s, renderSteps: 20 },
    {
      name: `live preview: ${LIVE_PREVIEW_GUIDANCE_STEPS} guidance steps of s=${(n * s) / LIVE_PREVIEW_GUIDANCE_STEPS}, render ${LIVE_PREVIEW_RENDER_STEPS} steps`,
      guidanceSteps: LIVE_PREVIEW_GUIDANCE_STEPS,
      scale: (n * s) / LIVE_PREVIEW_GUIDANCE_STEPS,
      renderSteps: LIVE_PREVIEW_RENDER_STEPS,
    },
    { name: `one-shot guidance, render 10 steps`, guidanceSteps: 1, scale: n * s, renderSteps: 10 },
  ];
  const render = async (xt: Tensor, v: Tensor, variant: Variant, strength: number) => {
    const started = performance.now();
    const edited = await editLatent(predictor, xt, [{ v, strength }], { timestep, steps: variant.guidanceSteps, scale: variant.scale, delta });
    const image = await renderFrom(stepper, edited, { timestep, schedule: ddimTimesteps(variant.renderSteps, T), T, boostFraction: EDIT_DEFAULTS.boostFraction, noiseSeed: 0 });
    return { image, seconds: (performance.now() - started) / 1000 };
  };
  process.stdout.write(
    `preview benchmark: ${modelDir === BUNDLED_MODEL ? 'bundled avatars64' : modelDir}, timestep ${timestep}, ${seeds} seeds × ${directions} directions × strengths ${strengths.join(', ')}, ` +
      `CPU onnxruntime-node, ${cpus().length} cores\n`,
  );
  const jacobians = new JacobianSessions();
  const psnrs = variants.map(() => [] as number[]);
  const times = [[] as number[], ...variants.map(() => [] as number[])];
  for (let seed = 0; seed < seeds; seed++) {
    const xt = await xtOf(seed);
    const op = await jacobians.operator({ model, K: jacobianK('krylov', directions) }, xt, timestep);
    const basis = await computeLocalBasis(op, { method: 'krylov', k: directions, seed: 0, maxBatch: op.K } as Parameters<typeof computeLocalBasis>[1]);
    for (let d = 0; d < directions; d++) {
      const v = basisRow(basis.V, d);
      for (const strength of strengths) {
        const reference = await render(xt, v, exact, strength);
        times[0].push(reference.seconds);
        for (let i = 0; i < variants.length; i++) {
          const approx = await render(xt, v, variants[i], strength);
          times[i + 1].push(approx.seconds);
          psnrs[i].push(psnr(approx.image, reference.image));
        }
      }
    }
    process.stdout.write(`  seed ${seed}: done\n`);
  }
  await jacobians.release();
  await models.release();
  const fmt = (xs: number[]) => (Number.isFinite(median(xs)) ? median(xs).toFixed(1) : '∞');
  process.stdout.write(
    `\n${markdownTable(
      ['render', 'median seconds', 'PSNR vs exact: median dB', 'min dB'],
      [
        [exact.name, median(times[0]).toFixed(2), '—', '—'],
        ...variants.map((v, i) => [v.name, median(times[i + 1]).toFixed(2), fmt(psnrs[i]), Math.min(...psnrs[i]).toFixed(1)]),
      ],
    )}\n`,
  );
}

/**
 * `npm run bench -- preview --vae-decode [text-model-dir] [--repeats 20]`: the gallery's VAE decode of text models
 * (text-pipeline.ts batches the previews asked for together): milliseconds per image for 1, 2, 4 and 8 images per
 * decoder call, median of `--repeats` rounds of 8 images. Defaults to the tiny sd1-diffusers fixture (64² images): its
 * numbers say what batching saves in per-call overhead, not what a real SD decoder (≈ 50 GFLOP per 512² image) takes.
 */
async function vaeDecodeRows(args: string[]): Promise<void> {
  const { ModelCache } = await import('../src-main/engine/worker/model-cache');
  const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? join(import.meta.dirname, '..', 'test', 'fixtures', 'text-pipelines', 'sd1-diffusers');
  const repeats = Number(benchOption(args, '--repeats') ?? 20);
  const models = new ModelCache();
  const text = (await models.load(dir, 'cpu')).text;
  if (!text) throw new Error(`${dir} is not a text-conditioned (Stable Diffusion) model folder`);
  const [C, h, w] = text.model.unet.sampleDims;
  const images = 8;
  const latents: Tensor = { dims: [images, C, h, w], data: Float32Array.from({ length: images * C * h * w }, (_, i) => Math.sin(i * 0.7)) };
  const limit = text.model.text.vae.decoder.batch ?? Infinity;
  const rows: string[][] = [];
  let perImageAtOne = 0;
  await text.decode(latents); // warm-up: session initialisation and first-run allocations
  for (const batch of [1, 2, 4, 8].filter((b) => b <= limit)) {
    text.decodeBatch = batch;
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      await text.decode(latents);
      ms.push((performance.now() - started) / images);
    }
    const perImage = median(ms);
    if (batch === 1) perImageAtOne = perImage;
    rows.push([String(batch), String(images / batch), perImage.toFixed(2), (perImageAtOne / perImage).toFixed(2)]);
  }
  await models.release();
  process.stdout.write(
    `VAE decode: ${dir}, ${h * text.model.text.vae.downscale}×${w * text.model.text.vae.downscale} images, ${images} per round, median of ${repeats} rounds, ` +
      `CPU onnxruntime-node, ${cpus().length} cores\n\n${markdownTable(['images per call', 'calls per round', 'ms per image', 'speed-up vs 1'], rows)}\n`,
  );
}

/**
 * `npm run bench -- preview --gallery [model-dir] [--seeds 8] [--directions 4] [--variants 8:20,4:20,8:10,4:10]`: how
 * far the gallery's ± thumbnails are from what Apply would do, for preview settings cheaper than today's.
 *
 * A thumbnail is the canvas (x_t rendered as generate renders it) plus the edit's change as a preview render sees
 * it: canvas + preview(edit(x_t, ±s)) − preview(x_t), same steps and noise on both sides (jobs/gallery.ts). Its exact
 * counterpart takes Apply's edit and render for the change: canvas + apply(x_t, ±s) − apply(x_t, 0). Each variant
 * `n:steps` keeps the gallery's n·s (GALLERY_DEFAULTS: n = 8 of s = 0.2) with n guidance steps and a `steps`-step
 * preview render; its U-Net evaluations per ± pair (at t = 0.6·T) are counted, and PSNR is taken against the exact
 * thumbnail at strengths −3 and +3 (the gallery's), over seeds × the top directions of each seed's basis.
 */
async function galleryRows(args: string[]): Promise<void> {
  const seeds = Number(benchOption(args, '--seeds') ?? 8);
  const directions = Number(benchOption(args, '--directions') ?? 4);
  const variants = (benchOption(args, '--variants') ?? '8:20,4:20,8:10,4:10').split(',').map((v) => v.split(':').map(Number) as [number, number]);
  const modelDir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? (hasBundledModel() ? BUNDLED_MODEL : undefined);
  if (!modelDir) throw new Error('give a model folder (the bundled avatars64 is absent)');
  const { models, model, predictor, timestep, steps, xtOf } = await loadBenchModel(modelDir);
  const T = model.scheduler.numTrainTimesteps;
  let evaluations = 0;
  const counted = { sampleDims: predictor.sampleDims, predictEps: (x: Tensor, t: number, signal?: AbortSignal) => ((evaluations += x.dims[0] ?? 1), predictor.predictEps(x, t, signal)) };
  const stepper = modelStepper(model, counted);
  const strength = GALLERY_DEFAULTS.strength;
  const total = GALLERY_DEFAULTS.guidanceSteps * GALLERY_DEFAULTS.scale;
  const { delta, boostFraction } = EDIT_DEFAULTS;
  const render = (x: Tensor, renderSteps: number) => renderFrom(stepper, x, { timestep, schedule: ddimTimesteps(renderSteps, T), T, boostFraction, noiseSeed: 0 });
  const thumbnail = (canvas: Tensor, edited: Tensor, unedited: Tensor): Tensor => ({ dims: canvas.dims, data: canvas.data.map((c, i) => c + edited.data[i] - unedited.data[i]) });
  const jacobians = new JacobianSessions();
  const psnrs = variants.map(() => [] as number[]);
  const perPair = variants.map(() => 0);
  for (let seed = 0; seed < seeds; seed++) {
    const xt = await xtOf(seed);
    const canvas = await renderFrom(stepper, xt, { timestep, schedule: ddimTimesteps(steps, T), T, boostFraction: null });
    const op = await jacobians.operator({ model, K: jacobianK('krylov', directions) }, xt, timestep);
    const basis = await computeLocalBasis(op, { method: 'krylov', k: directions, seed: 0, maxBatch: op.K } as Parameters<typeof computeLocalBasis>[1]);
    const exactUnedited = await render(xt, EDIT_DEFAULTS.renderSteps);
    const variantUnedited = await Promise.all(variants.map(([, previewSteps]) => render(xt, previewSteps)));
    for (let d = 0; d < directions; d++) {
      const v = basisRow(basis.V, d);
      for (const sign of [-1, 1]) {
        const exactEdit = await editLatent(counted, xt, [{ v, strength: sign * strength }], { timestep, steps: EDIT_DEFAULTS.guidanceSteps, scale: EDIT_DEFAULTS.scale, delta });
        const exact = thumbnail(canvas, await render(exactEdit, EDIT_DEFAULTS.renderSteps), exactUnedited);
        for (const [i, [n, previewSteps]] of variants.entries()) {
          const before = evaluations;
          const edited = await editLatent(counted, xt, [{ v, strength: sign * strength }], { timestep, steps: n, scale: total / n, delta });
          const approx = thumbnail(canvas, await render(edited, previewSteps), variantUnedited[i]);
          perPair[i] = 2 * (evaluations - before);
          psnrs[i].push(psnr(approx, exact));
        }
      }
    }
    process.stdout.write(`  seed ${seed}: done\n`);
  }
  await jacobians.release();
  await models.release();
  process.stdout.write(
    `\ngallery thumbnails: ${modelDir === BUNDLED_MODEL ? 'bundled avatars64' : modelDir}, timestep ${timestep}, ${seeds} seeds × ${directions} directions × strengths ±${strength}, n·s = ${total}\n\n` +
      `${markdownTable(
        ['guidance steps n', 'preview render steps', 'U-Net evaluations per ± pair', 'PSNR vs exact thumbnail: median dB', 'min dB'],
        variants.map(([n, previewSteps], i) => [String(n), String(previewSteps), String(perPair[i]), median(psnrs[i]).toFixed(1), Math.min(...psnrs[i]).toFixed(1)]),
      )}\n`,
  );
}
