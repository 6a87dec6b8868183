/**
 * Fewer tangent columns per call when the machine's memory is short (jacobian-memory.ts), on the real derived graphs
 * of a U-Net fixture: with the memory reported as nothing the operator takes one column per call, and J·v is the same
 * as with two columns a call, in twice the calls.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { JacobianSessions } from '../../src-main/engine/worker/jacobian-operator';
import { UNET_FIXTURES, useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('jacobian-memory');

describe('tangent columns per call within memory', () => {
  it('one column per call when K would not fit, with the same J·v', async () => {
    const model = await loadModelFolder(await wrapUnet('ddpm_unet2d_op14', tmp.root));
    const x = decodeNpy(await readFile(join(UNET_FIXTURES, 'ddpm_unet2d_op14', 'x.npy')));
    const n = x.data.length;
    const v = { dims: [2, ...x.dims.slice(1)], data: Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 0.37)) };
    const roomy = new JacobianSessions(() => join(tmp.root, 'data'));
    const short = new JacobianSessions(() => join(tmp.root, 'data'), { totalMemory: () => 0 });
    try {
      const wide = await roomy.operator({ model, K: 2 }, x, 500);
      const narrow = await short.operator({ model, K: 2 }, x, 500);
      expect(wide.K).toBe(2);
      expect(narrow.K).toBe(1);
      const a = (await wide.jvp(v)).data;
      const callsBefore = narrow.calls;
      const b = (await narrow.jvp(v)).data;
      expect(narrow.calls - callsBefore).toBe(2);
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < a.length; i++) {
        diff += (a[i] - b[i]) ** 2;
        norm += a[i] ** 2;
      }
      expect(norm).toBeGreaterThan(0);
      expect(Math.sqrt(diff / norm)).toBeLessThan(1e-5);
    } finally {
      await roomy.release();
      await short.release();
    }
  }, 120_000);
});
