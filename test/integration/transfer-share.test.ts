/**
 * Transfer edit on the real engine (bundled model, in this process): the share the Transfer panel shows for each
 * target and direction is the `transport` job's `captured` for exactly that transport (the same job run directly,
 * a basis-cache hit, gives the same number) for seeds and for an imported picture, the previews and exact renders are pictures of the model's size, and
 * the exact render differs from the unedited target (the transferred direction did something).
 */
import { describe, expect, it } from 'vitest';
import { basisKey } from '../../src-renderer/src/lib/state/galleries.svelte';
import { TransferState, transferSource } from '../../src-renderer/src/lib/state/transfer.svelte';
import { sharePercent, transportInput } from '../../src-renderer/src/lib/state/transfer-plan';
import { pngSize } from '../../src-renderer/src/lib/state/images';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { seededInProcessEditor } from '../helpers/seeded-editor';
import { useTempDataDir } from './basis-fixture';

useTempDataDir('transfer-share');

describe('Transfer edit on the bundled model', () => {
  it('shows the transport job’s captured per target and direction, and renders each target', async () => {
    const modelDir = defaultModelDir();
    const ed = await seededInProcessEditor(modelDir, { seed: 3, steps: 10 });
    const t = ed.edits.timestep;
    // The stack as the gallery's "+" makes it (the transport computes the bases itself, so no gallery is needed).
    ed.edits.add({ key: basisKey(t, 'krylov', 2), timestep: t }, 1);
    ed.edits.add({ key: basisKey(t, 'krylov', 2), timestep: t }, 0);
    ed.edits.setStrength(ed.edits.doc.edits[1].id, -1);

    const transfer = new TransferState({ jobs: ed.jobs, notices: ed.notices, source: () => transferSource(ed) });
    transfer.seedsText = '5, 8';
    // An imported picture too (seed 3's own render: inverted at the edit's timestep, its x_t is the target).
    await transfer.addImage('seed3.png', ed.source.image!.bytes);
    await transfer.start();
    expect(ed.notices.list.filter((n) => n.kind !== 'info')).toEqual([]);
    expect(transfer.targets.map((x) => x.status)).toEqual(['ready', 'ready', 'ready']);

    const src = transfer.source!;
    for (const target of transfer.targets) {
      const b = target.xt!;
      for (const [i, d] of target.directions.entries()) {
        const direct = await runJobInProcess('transport', transportInput(src, b, src.edits[i].index), { quiet: true });
        expect(direct.basisB.cacheHit).toBe(true); // the very bases the panel's job used
        expect(d.captured).toBe(direct.captured);
        expect(direct.captured).toBeGreaterThan(0);
        expect(direct.captured).toBeLessThanOrEqual(1 + 1e-6);
        expect(sharePercent(d.captured!)).toBe(Math.round(Math.min(1, direct.captured) * 100));
      }
      expect(pngSize(target.preview!.bytes)).toEqual({ width: 64, height: 64 });
    }

    await transfer.applyAll();
    for (const target of transfer.targets) {
      expect(target.status).toBe('done');
      expect(pngSize(target.result!.bytes)).toEqual({ width: 64, height: 64 });
      expect(Buffer.from(target.result!.bytes).equals(Buffer.from(target.original!.bytes))).toBe(false);
    }
  }, 600_000);
});
