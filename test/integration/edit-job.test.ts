/**
 * The `edit` job on a U-Net fixture (ddpm_unet2d_op14 in a temp model folder; basis by index through the cache).
 * - strength 0 reproduces the unedited image bit for bit (PNG bytes) and leaves x_t untouched;
 * - −1 and +1 differ from it and from each other;
 * - composition: 'summed' is independent of the order the edits are listed in (identical bytes), while
 *   'sequential' applies them in the listed order, so swapping two directions changes the edited x_t.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import type { JobInput } from '../../src-main/shared/api';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('edit');
let base: Omit<JobInput<'edit'>, 'edits'>;

beforeAll(async () => {
  base = {
    modelDir: await wrapUnet('ddpm_unet2d_op14', tmp.root),
    seed: 2,
    t: 0.6,
    steps: 20,
    basis: { k: 3 },
    // A strong edit so ± visibly differ on a random-weight toy U-Net.
    scale: 2,
    guidanceSteps: 4,
    provider: 'cpu',
  };
});

const edit = (edits: JobInput<'edit'>['edits'], extra: Partial<JobInput<'edit'>> = {}) =>
  runJobInProcess('edit', { ...base, ...extra, edits }, { quiet: true });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('edit job', () => {
  it('strength 0 is the unedited image bit for bit; ± differ', async () => {
    const unedited = await edit([]);
    const zero = await edit([{ index: 0, strength: 0 }]);
    expect(same(zero.image.bytes, unedited.image.bytes)).toBe(true);
    expect(same(zero.xEdited.data, unedited.xEdited.data)).toBe(true);
    const plus = await edit([{ index: 0, strength: 1 }]);
    const minus = await edit([{ index: 0, strength: -1 }]);
    expect(same(plus.image.bytes, unedited.image.bytes)).toBe(false);
    expect(same(minus.image.bytes, unedited.image.bytes)).toBe(false);
    expect(same(plus.image.bytes, minus.image.bytes)).toBe(false);
    expect(plus.basis?.cacheHit).toBe(true); // the strength-0 request already computed it
    const moveZero = await edit([{ index: 1, strength: 0 }], { mode: 'move' });
    expect(same(moveZero.image.bytes, unedited.image.bytes)).toBe(true);
  });

  it("summed composition ignores the listed order; sequential doesn't", async () => {
    const ab = await edit([
      { index: 0, strength: 1 },
      { index: 1, strength: -1 },
    ]);
    const ba = await edit([
      { index: 1, strength: -1 },
      { index: 0, strength: 1 },
    ]);
    expect(same(ab.xEdited.data, ba.xEdited.data)).toBe(true);
    expect(same(ab.image.bytes, ba.image.bytes)).toBe(true);
    const seqAb = await edit(
      [
        { index: 0, strength: 1 },
        { index: 1, strength: -1 },
      ],
      { composition: 'sequential' },
    );
    const seqBa = await edit(
      [
        { index: 1, strength: -1 },
        { index: 0, strength: 1 },
      ],
      { composition: 'sequential' },
    );
    expect(same(seqAb.xEdited.data, seqBa.xEdited.data)).toBe(false);
    expect(same(seqAb.xEdited.data, ab.xEdited.data)).toBe(false);
  });

  it('a given direction vector equals the same basis row by index', async () => {
    const basis = await runJobInProcess('basis', { ...base, ...base.basis, modelDir: base.modelDir }, { quiet: true });
    const n = basis.V.data.byteLength / basis.V.dims[0];
    const row = { dims: [1, ...basis.V.dims.slice(1)], data: basis.V.data.slice(n, 2 * n) };
    const byIndex = await edit([{ index: 1, strength: 1 }]);
    const byVector = await edit([{ direction: row, strength: 1 }]);
    expect(same(byIndex.image.bytes, byVector.image.bytes)).toBe(true);
  });

  it('an index outside the basis is invalid-argument', async () => {
    await expect(edit([{ index: 7, strength: 1 }])).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
