/**
 * Every candidate h of every U-Net fixture (down, mid, up blocks, conv_out: decoder paths with skip
 * Concat, Resize, up-sampling convs included) derives, and its jvp/vjp pass the dot-product test.
 * One optimisation level and K = 2 keep this a broad smoke test; exactness is onnx-unets.test.ts's job.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveGraphs, listHCandidates } from '../../src-main/core/onnx';
import { dot, norm, randn, run, session, type Arr } from './onnx-harness';

const ROOT = path.resolve(__dirname, '../fixtures/unets');
const fixtures = existsSync(ROOT) ? readdirSync(ROOT).filter((d) => existsSync(path.join(ROOT, d, 'meta.json'))).sort() : [];

describe('all h candidates of the U-Net fixtures', () => {
  it.each(fixtures)('%s', async (name) => {
    const dir = path.join(ROOT, name);
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as {
      inputs: { name: string; dims: number[]; dtype: string }[];
    };
    const model = path.join(dir, 'model.onnx');
    const seq = meta.inputs.find((i) => i.name === 'encoder_hidden_states')?.dims[1];
    const feeds: Record<string, Arr> = {};
    for (const i of meta.inputs) {
      const n = i.dims.reduce((a, b) => a * b, 1);
      feeds[i.name] = i.dtype === 'int64' ? { dims: i.dims, data: BigInt64Array.from({ length: n }, () => 300n) } : { dims: i.dims, data: randn(n, 3) };
    }
    const { candidates } = await listHCandidates(model, { seq });
    expect(candidates.length).toBeGreaterThan(2);
    for (const c of candidates) {
      const d = await deriveGraphs(model, { h: c.tensor, tangents: 2, seq });
      const nx = d.info.tangentShape.slice(1).reduce((a, b) => a * b, 1);
      const nh = d.info.cotangentShape.slice(1).reduce((a, b) => a * b, 1);
      const V = randn(2 * nx, 5);
      const U = randn(2 * nh, 6);
      const jv = (await run(await session(d.jvp, 'all'), { ...feeds, tangent: { dims: d.info.tangentShape, data: V } })).h_dot.data;
      const jtu = (await run(await session(d.vjp, 'all'), { ...feeds, cotangent: { dims: d.info.cotangentShape, data: U } })).x_bar.data;
      const r = Math.abs(dot(jv, U) - dot(V, jtu)) / (norm(jv) * norm(U) + norm(V) * norm(jtu));
      expect(r, `${name} h=${c.tensor}`).toBeLessThan(1e-6);
      expect(norm(jv), `${name} h=${c.tensor} J·V is not identically zero`).toBeGreaterThan(0);
    }
  });
});
