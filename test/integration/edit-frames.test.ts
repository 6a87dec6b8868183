/**
 * The `edit` job's `frames` (the authors' strip) and `renderSteps`, on a U-Net fixture (ddpm_unet2d_op14):
 * - the frame after m of n guidance steps is bit for bit the image of an m-step edit, frame 0 the unedited image,
 *   frame n the job's own image;
 * - frames are refused in move mode, with sequential composition and beyond n (invalid input, not a wrong strip);
 * - renderSteps changes only the render (same edited x_t), and renderSteps = steps is the default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { JobInputError, runJobInProcess } from '../../src-main/engine/run-in-process';
import type { JobInput } from '../../src-main/shared/api';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('edit-frames');
let base: Omit<JobInput<'edit'>, 'edits'>;

beforeAll(async () => {
  base = {
    modelDir: await wrapUnet('ddpm_unet2d_op14', tmp.root),
    seed: 4,
    t: 0.6,
    steps: 12,
    basis: { k: 2 },
    // A strong edit so the frames visibly differ on a random-weight toy U-Net.
    scale: 2,
    guidanceSteps: 4,
    provider: 'cpu',
  };
});

const edit = (extra: Partial<JobInput<'edit'>> = {}) => runJobInProcess('edit', { ...base, edits: [{ index: 0, strength: 1 }], ...extra }, { quiet: true });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('edit job frames', () => {
  it('frame m of n is the m-step edit bit for bit; 0 is unedited; n is the image', async () => {
    const strip = await edit({ frames: [0, 2, 3, 4] });
    expect(strip.frames?.map((f) => f.guidanceSteps)).toEqual([0, 2, 3, 4]);
    const frame = (m: number) => strip.frames!.find((f) => f.guidanceSteps === m)!.image.bytes;
    expect(same(frame(4), strip.image.bytes)).toBe(true);
    const unedited = await edit({ edits: [] });
    expect(same(frame(0), unedited.image.bytes)).toBe(true);
    for (const m of [2, 3]) {
      const alone = await edit({ guidanceSteps: m });
      expect(same(frame(m), alone.image.bytes), `frame ${m}`).toBe(true);
    }
    expect(same(frame(2), frame(4))).toBe(false);
    const plain = await edit();
    expect(same(plain.image.bytes, strip.image.bytes)).toBe(true);
    expect(same(plain.xEdited.data, strip.xEdited.data)).toBe(true);
    expect(plain.frames).toBeUndefined();
  });

  it('refuses frames in move mode, with sequential composition and beyond guidanceSteps', async () => {
    await expect(edit({ frames: [0, 4], mode: 'move' })).rejects.toThrow(JobInputError);
    await expect(edit({ frames: [0, 4], composition: 'sequential' })).rejects.toThrow(/summed/);
    await expect(edit({ frames: [5] })).rejects.toThrow(/≤ guidanceSteps/);
  });

  it('renderSteps renders the same edited x_t with its own schedule; absent = steps', async () => {
    const byDefault = await edit();
    const explicit = await edit({ renderSteps: base.steps });
    expect(same(byDefault.image.bytes, explicit.image.bytes)).toBe(true);
    const finer = await edit({ renderSteps: 30 });
    expect(same(finer.xEdited.data, byDefault.xEdited.data)).toBe(true);
    expect(same(finer.image.bytes, byDefault.image.bytes)).toBe(false);
  });
});
