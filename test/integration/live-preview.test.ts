/**
 * The live preview a strength drag shows (shared/live-preview.ts) against the exact render Apply makes, through the
 * `edit` job on the bundled model: close to the exact image (a preview may be grainier, not a different edit), and
 * clearly showing the edit (closer to the exact edited image than the unedited one is).
 */
import { describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { decodePng } from '../../src-main/engine/png';
import { applyJobInput, type ApplyRequest } from '../../src-main/shared/edit-job';
import { livePreviewJobInput } from '../../src-main/shared/live-preview';
import { EDIT_PARAMS_DEFAULT } from '../../src-main/shared/edit-defaults';
import type { RawImage } from '../../src-main/core/diffusion/image';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('live-preview');

function psnr(a: RawImage, b: RawImage): number {
  let se = 0;
  for (let i = 0; i < a.pixels.length; i++) se += (a.pixels[i] - b.pixels[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.pixels.length));
}

describe('live preview vs the exact edit', () => {
  it('is within 28 dB of Apply and shows the edit', async () => {
    const request = (strength: number): ApplyRequest => ({
      modelDir: defaultModelDir(),
      source: { seed: 2 },
      timestep: 595,
      steps: 100,
      basis: { k: 2, method: 'krylov' },
      // A strong edit, so "shows the edit" is a real margin.
      edits: [{ index: 0, strength }],
      params: { ...EDIT_PARAMS_DEFAULT },
      textConditioned: false,
      provider: 'cpu',
    });
    const render = async (input: ReturnType<typeof applyJobInput>) => decodePng((await runJobInProcess('edit', input, { quiet: true })).image.bytes);
    const exact = await render(applyJobInput(request(3)));
    const preview = await render(livePreviewJobInput(request(3)));
    const unedited = await render(applyJobInput(request(0)));
    const previewVsExact = psnr(preview, exact);
    expect(previewVsExact).toBeGreaterThan(28);
    expect(previewVsExact).toBeGreaterThan(psnr(unedited, exact) + 3);
  });
});
