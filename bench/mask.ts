/**
 * `npm run bench -- mask [model-dir] [--k 8] [--seed 0]`: masked directions on the CPU (issue 13 item 2). Model: the
 * given folder, else the bundled resources/models/avatars64.
 *
 * Basis rows: the krylov basis (k, t = 0.6·T on the 100-step schedule, x_t of `--seed`) of J and of J·M for a few
 * masks (upper half, centre square, a 1/16 corner), through the ORT operator with the basis cache bypassed: seconds,
 * Jacobian products, iterations, σ_1 and the share of each direction's energy inside the mask (1 by construction).
 * Edit rows: the real `edit` job (direction 0 of the centre-square basis, strength ±2, 100 render steps, n = 16,
 * s = 0.1) without a region, with `region` (x_t updates × M) and with `region` + `regionBlend` (the render's outside
 * from the unedited path): mean |Δ| of the final 8-bit picture against the unedited render (strength 0) inside and
 * outside the mask, i.e. how much of the edit leaks out through guidance and through the render's context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/model';
import sharp from 'sharp';
import { markdownTable } from './lib/table';
import { ModelCache } from '../src-main/engine/worker/model-cache';
import { JacobianSessions } from '../src-main/engine/worker/jacobian-operator';
import { batchSafePredictor, resolveTimestep, resolveXt } from '../src-main/engine/jobs/support/latent';
import { jacobianK } from '../src-main/engine/jobs/support/local-basis';
import { computeLocalBasis, latentMask, type LatentMask } from '../src-main/core/geometry';
import { runJobInProcess } from '../src-main/engine/run-in-process';
import { toPayload } from '../src-main/engine/jobs/support/wire-tensors';


function masks(H: number, W: number): { name: string; mask: LatentMask | null }[] {
  const make = (f: (y: number, x: number) => boolean) => latentMask(Float32Array.from({ length: H * W }, (_, p) => (f(Math.floor(p / W), p % W) ? 1 : 0)), H, W);
  return [
    { name: 'none', mask: null },
    { name: 'upper half', mask: make((y) => y < H / 2) },
    { name: 'centre square (1/4)', mask: make((y, x) => Math.abs(y - H / 2 + 0.5) < H / 4 && Math.abs(x - W / 2 + 0.5) < W / 4) },
    { name: 'corner (1/16)', mask: make((y, x) => y >= (3 * H) / 4 && x >= (3 * W) / 4) },
  ];
}

async function pixels(png: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());
}

export async function main(args: string[]): Promise<void> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const modelDir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) ?? path.join(ROOT, 'resources/models/avatars64');
  const k = Number(opt('--k') ?? 8);
  const seed = Number(opt('--seed') ?? 0);
  // The edit job caches bases under the data folder: use a fresh one so the timings are of computations.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pullback-bench-mask-'));
  process.env.PULLBACK_DATA_DIR = dataDir;
  try {
    const models = new ModelCache();
    const loaded = await models.load(modelDir, 'cpu');
    const model = loaded.model;
    const predictor = batchSafePredictor(model, loaded.predictor);
    const timestep = resolveTimestep({ t: 0.6, steps: 100 }, model);
    const xt = await resolveXt({ seed, steps: 100 }, model, predictor, timestep);
    const [C, H, W] = model.unet.sampleDims;
    const sessions = new JacobianSessions(() => dataDir);
    const op = await sessions.operator({ model, K: jacobianK('krylov', k) }, xt, timestep);
    await op.pullback({ dims: [1, C, H, W], data: new Float32Array(C * H * W) }); // session warm-up, not timed
    const basisRows: string[][] = [];
    for (const { name, mask } of masks(H, W)) {
      const b = await computeLocalBasis(op, { method: 'krylov', k, seed: 0, maxBatch: op.K, ...(mask ? { mask } : {}) });
      const n = C * H * W;
      let worstInside = 1;
      if (mask) {
        for (let i = 0; i < k; i++) {
          let inside = 0;
          for (let t = 0; t < n; t++) if (mask.weights[t % (H * W)] > 0) inside += b.V.data[i * n + t] ** 2;
          worstInside = Math.min(worstInside, inside);
        }
      }
      basisRows.push([name, b.seconds.toFixed(1), String(b.jacobianProducts.total), String(b.iterations), String(b.converged), b.S.data[0].toPrecision(4), b.S.data[k - 1].toPrecision(4), worstInside.toFixed(6)]);
      process.stderr.write(`basis ${name}: ${b.seconds.toFixed(1)} s\n`);
    }
    await sessions.release();
    await models.release();
    process.stdout.write(`\nMasked vs unmasked local basis: ${path.relative(ROOT, modelDir) || modelDir}, seed ${seed}, timestep ${timestep}, k = ${k}, krylov (tol 1e-3)\n\n`);
    process.stdout.write(`${markdownTable(['mask', 'seconds', 'products', 'iterations', 'converged', 'σ_1', `σ_${k}`, 'min energy inside'], basisRows)}\n`);

    // Edits: direction 0 of the centre-square basis, with and without the same square as the region.
    const editRows: string[][] = [];
    const square = masks(H, W)[2].mask!;
    const weights = toPayload({ dims: [H, W], data: square.weights });
    const common = { modelDir, seed, t: 0.6, steps: 100, provider: 'cpu' as const, basis: { k, mask: { weights } } };
    const unedited = await pixels((await runJobInProcess('edit', { ...common, edits: [{ index: 0, strength: 0 }] }, { quiet: true })).image.bytes);
    const change = (img: Uint8Array, inside: boolean) => {
      let sum = 0;
      let count = 0;
      for (let p = 0; p < H * W; p++) {
        if (square.weights[p] > 0 !== inside) continue;
        for (let c = 0; c < 3; c++) sum += Math.abs(img[p * 3 + c] - unedited[p * 3 + c]);
        count += 3;
      }
      return sum / count;
    };
    for (const strength of [-2, 2]) {
      for (const variant of ['none', 'x_t update', 'x_t update + blended render'] as const) {
        const region = variant === 'none' ? {} : { region: { weights }, regionBlend: variant !== 'x_t update' };
        const out = await runJobInProcess('edit', { ...common, edits: [{ index: 0, strength }], ...region }, { quiet: true });
        const img = await pixels(out.image.bytes);
        editRows.push([String(strength), variant, change(img, true).toFixed(2), change(img, false).toFixed(2), (out.elapsedMs / 1000).toFixed(1)]);
      }
    }
    process.stdout.write(`\nEdit with the centre-square basis (direction 0, guidance n = 16, s = 0.1, 100 render steps): mean |Δ| of 8-bit pixels vs the unedited render\n\n`);
    process.stdout.write(`${markdownTable(['strength', 'region (keep outside)', 'inside', 'outside', 'seconds'], editRows)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
