/**
 * The bundled model (resources/models/*, real trained weights, 64×64): every derivative check of the
 * harness — dot-product, central differences, pullback = vjp∘jvp, batch consistency, linearity, JᵀJ
 * symmetry — at both optimisation levels, for the automatically chosen h.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEVELS, expectDerivativesPass, checkDerivatives, randn } from './onnx-harness';

const ROOT = path.resolve(__dirname, '../../resources/models');
const models = existsSync(ROOT)
  ? readdirSync(ROOT).filter((d) => existsSync(path.join(ROOT, d, 'unet/model.onnx')) && existsSync(path.join(ROOT, d, 'unet/config.json')))
  : [];

describe('bundled models', () => {
  it('include the default model', () => {
    expect(models).toContain('avatars64');
  });

  it.each(models)('%s', async (name) => {
    const file = path.join(ROOT, name, 'unet/model.onnx');
    const cfg = JSON.parse(readFileSync(path.join(ROOT, name, 'unet/config.json'), 'utf8')) as { sample_size: number; in_channels: number };
    const s = cfg.sample_size;
    const c = cfg.in_channels;
    const x = { dims: [1, c, s, s], data: randn(c * s * s, 21) };
    const feeds = { timestep: { dims: [1], data: BigInt64Array.from([400n]) } };
    const bytes = new Uint8Array(readFileSync(file));
    for (const level of LEVELS) {
      const r = await checkDerivatives(bytes, x, feeds, { h: 'auto', tangents: 2, height: s, width: s }, level, 9);
      console.log(`[onnx-bundled] ${name} ${level} ${JSON.stringify(r)}`);
      expectDerivativesPass(r, level);
    }
  });
});
