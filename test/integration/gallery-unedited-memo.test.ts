/**
 * The gallery remembers its unedited preview render per x_t (issue 12: a ± pair at a new strength rendered it again,
 * 12 of its 68 U-Net evaluations on the bundled model). A gallery at the same x_t with another strength skips it —
 * its plan and the model calls it makes are one preview render shorter — and its thumbnails are byte for byte those
 * of a gallery that rendered it afresh.
 */
import { describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { forgetUnEditedPreviews } from '../../src-main/engine/jobs/gallery';
import type { Progress, WorkReport } from '../../src-main/core/progress';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('gallery-unedited-memo');
const base = { modelDir: defaultModelDir(), seed: 9, t: 0.6, steps: 20, k: 2, previewSteps: 6, guidanceSteps: 2, provider: 'cpu' as const };

async function run(input: Parameters<typeof runJobInProcess<'gallery'>>[1]) {
  let last: WorkReport | undefined;
  let first: WorkReport | undefined;
  const output = await runJobInProcess('gallery', input, {
    quiet: true,
    onProgress: (p: Progress) => {
      if (!p.work) return;
      first ??= p.work;
      last = p.work;
    },
  });
  const unet = (r: WorkReport | undefined, key: 'done' | 'remaining') => r?.[key].unet ?? 0;
  return { output, planned: unet(first, 'remaining'), done: unet(last, 'done') - unet(first, 'done') };
}

describe('gallery: the unedited preview is rendered once per x_t', () => {
  it('a second strength skips it, and its thumbnails equal a fresh render', async () => {
    forgetUnEditedPreviews();
    const first = await run({ ...base, directions: [0], strength: 2 });
    const remembered = await run({ ...base, directions: [0], strength: 3 });
    // The preview render at t = 0.6·T with 6 steps: the one render the second gallery did not do.
    const previewLength = first.planned - remembered.planned;
    expect(previewLength).toBeGreaterThan(0);
    expect(remembered.done).toBe(remembered.planned);
    expect(first.done - remembered.done).toBe(previewLength);

    forgetUnEditedPreviews();
    // Directions [0, 1]: other preview parameters, so the stored previews do not answer; the unedited preview is rendered.
    const fresh = await run({ ...base, directions: [0, 1], strength: 3 });
    expect(fresh.done).toBe(fresh.planned);
    const item = (o: typeof fresh.output) => o.items.find((i) => i.index === 0)!;
    expect(Buffer.from(item(remembered.output).minus.bytes).equals(Buffer.from(item(fresh.output).minus.bytes))).toBe(true);
    expect(Buffer.from(item(remembered.output).plus.bytes).equals(Buffer.from(item(fresh.output).plus.bytes))).toBe(true);
    expect(remembered.output.previewsFromCache).toBe(false);
  }, 600_000);
});
