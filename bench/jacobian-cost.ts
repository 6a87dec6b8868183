/**
 * What one Jacobian product costs in forward passes (shared/basis-estimate.ts FORWARDS_PER_PRODUCT), on ORT's CPU
 * provider: the median of 5 forward passes (batch 1) against
 *   - the median of 5 fused pullback calls (K columns of J·v and Jᵀ(J·v), 2K products) of the derived graphs at
 *     h = the mid block (the graph alone), and
 *   - a whole krylov basis (k = 8, tol 1e-3, the engine's K for it), which adds the method's linear algebra: what the
 *     editor's estimate of a basis must cover.
 * The forward is measured before and after the basis (other work on the machine changes both) and averaged.
 *
 *   npm run bench -- jacobian-cost [model-dir = resources/models/avatars64] [K = 7]
 *
 * Prints a table. The derived graphs go to a temp folder (derived again on every run: seconds).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModelFolder } from '../src-main/core/diffusion/model-folder';
import { createSession } from '../src-main/engine/worker/sessions';
import { OrtNoisePredictor } from '../src-main/engine/worker/ort-predictor';
import { JacobianSessions } from '../src-main/engine/worker/jacobian-operator';
import { computeLocalBasis } from '../src-main/core/geometry/basis';
import { jacobianK } from '../src-main/engine/jobs/support/local-basis';
import { markdownTable } from './lib/table';

const RUNS = 5;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  await f(); // warm-up: ORT allocates its arenas on the first run
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return ms;
}

export async function main(args: string[]): Promise<void> {
  const dir = resolve(args[0] ?? join(import.meta.dirname, '..', 'resources', 'models', 'avatars64'));
  const K = Number(args[1] ?? 7);
  const model = await loadModelFolder(dir);
  if (model.text) throw new Error('this script measures unconditional models only (a text model needs a prompt embedding)');
  const [C, H, W] = model.unet.sampleDims;
  const x = { dims: [1, C, H, W], data: Float32Array.from({ length: C * H * W }, (_, i) => Math.sin(i)) };
  const session = await createSession(model.unet.file, { executionProvider: 'cpu' });
  const forwardMs = async () => median(await timed(RUNS, () => new OrtNoisePredictor(session, model).predictEps(x, 500)));

  const root = await mkdtemp(join(tmpdir(), 'pullback-ratio-'));
  const jacobians = new JacobianSessions(() => root);
  try {
    const f1 = await forwardMs();
    const op = await jacobians.operator({ model, K }, x, 500);
    const v = { dims: [K, C, H, W], data: Float32Array.from({ length: K * C * H * W }, (_, i) => Math.cos(i)) };
    const pullback = median(await timed(RUNS, () => op.pullback(v)));
    const f2 = await forwardMs();
    const basisOp = await jacobians.operator({ model, K: jacobianK('krylov', 8) }, x, 500);
    await basisOp.pullback({ dims: [basisOp.K, C, H, W], data: new Float32Array(basisOp.K * C * H * W) }); // session warm-up
    const basis = await computeLocalBasis(basisOp, { method: 'krylov', k: 8, tol: 1e-3, seed: 0, maxBatch: basisOp.K });
    const f3 = await forwardMs();
    const fCall = (f1 + f2) / 2;
    const fBasis = (f2 + f3) / 2;
    console.log(`${model.name}, K = ${K}, forward (batch 1) ${f1.toFixed(1)} / ${f2.toFixed(1)} / ${f3.toFixed(1)} ms before / between / after`);
    console.log(
      markdownTable(
        ['measured', 'ms', 'Jacobian products', 'forwards per product'],
        [
          ['one fused pullback call (graph only)', pullback.toFixed(1), String(2 * K), (pullback / (2 * K) / fCall).toFixed(3)],
          [`krylov basis k = 8`, (basis.seconds * 1000).toFixed(0), String(basis.jacobianProducts.total), ((basis.seconds * 1000) / basis.jacobianProducts.total / fBasis).toFixed(3)],
        ],
      ),
    );
  } finally {
    await session.release();
    await jacobians.release();
    await rm(root, { recursive: true, force: true });
  }
}
