/**
 * A global direction in the edit stack, on the bundled model's engine (issue 13):
 * - `transport` with an explicit `direction` equal to row i of B's own local basis V_B returns that row (captured ≈ 1)
 *   without computing A's basis; a direction outside B's span keeps only part of itself.
 * - The editor's Apply of a global entry (the real EditorState, its Global directions panel and "Add to edit", jobs on
 *   the engine in this process) renders exactly the PNG of a hand-built explicit-direction `edit` job.
 * Small k and steps, as the other bundled-model tests.
 */
import { describe, expect, it } from 'vitest';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { fromPayload, toPayload } from '../../src-main/engine/jobs/support/wire-tensors';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { inProcessApi } from '../helpers/in-process-api';
import { useTempDataDir } from './basis-fixture';
import { directionRow } from '../../src-renderer/src/lib/state/global-directions.svelte';

useTempDataDir('global-entry');

describe('global directions on the engine', () => {
  it('transport with direction = row i of B’s own V gives that row back with captured ≈ 1, and A’s basis is not computed', async () => {
    const modelDir = defaultModelDir();
    const common = { modelDir, t: 0.6, steps: 10, k: 2, provider: 'cpu' as const };
    const basisB = await runJobInProcess('basis', { ...common, seed: 5 }, { quiet: true });
    const V = fromPayload(basisB.V, 'V');
    const n = V.data.length / 2;
    const row = V.data.slice(n, 2 * n);
    const out = await runJobInProcess('transport', { ...common, seedB: 5, direction: toPayload({ dims: [1, ...V.dims.slice(1)], data: row }) }, { quiet: true });
    expect(out.basisA).toBeUndefined();
    expect(out.basisB.cacheHit).toBe(true);
    expect(out.captured).toBeGreaterThan(1 - 1e-4);
    expect(out.captured).toBeLessThanOrEqual(1);
    const v = fromPayload(out.v, 'v');
    expect(v.dims).toEqual([1, ...V.dims.slice(1)]);
    let dot = 0;
    let maxDiff = 0;
    for (let j = 0; j < n; j++) {
      dot += v.data[j] * row[j];
      maxDiff = Math.max(maxDiff, Math.abs(v.data[j] - row[j]));
    }
    expect(dot).toBeGreaterThan(1 - 1e-5);
    expect(maxDiff).toBeLessThan(1e-3);
    expect(out.coefficients.map((c) => Math.abs(c))).toEqual([expect.closeTo(0, 4), expect.closeTo(1, 4)]);

    // Half of the direction outside B's span: captured is its in-span share (1/√2 here), v the unit in-span part.
    const outside = Float32Array.from(row, (x, j) => x + (j === 0 ? 1 : 0));
    // Make the added piece orthogonal to B's span exactly (Gram–Schmidt against both rows), then scale it to ‖row‖.
    const e = new Float64Array(n);
    e[0] = 1;
    for (let r = 0; r < 2; r++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += e[j] * V.data[r * n + j];
      for (let j = 0; j < n; j++) e[j] -= d * V.data[r * n + j];
    }
    const ne = Math.hypot(...e);
    for (let j = 0; j < n; j++) outside[j] = row[j] + e[j] / ne;
    const half = await runJobInProcess('transport', { ...common, seedB: 5, direction: toPayload({ dims: [1, ...V.dims.slice(1)], data: outside }) }, { quiet: true });
    expect(half.captured).toBeCloseTo(Math.SQRT1_2, 3);
    const vh = fromPayload(half.v, 'v');
    let dh = 0;
    for (let j = 0; j < n; j++) dh += vh.data[j] * row[j];
    expect(dh).toBeGreaterThan(1 - 1e-4);
  }, 600_000);

  it('Apply of a global entry = a hand-built explicit-direction edit job: identical PNG bytes', async () => {
    const modelDir = defaultModelDir();
    const ed = new EditorState(inProcessApi(modelDir));
    await ed.load();
    ed.model.provider = 'cpu';
    ed.source.seed = 3;
    ed.source.steps = 10;
    await ed.newFromSeed();
    await ed.globalDirections.compute({ modelDir, provider: 'cpu', samples: [{ kind: 'seed', seed: 1 }, { kind: 'seed', seed: 2 }], fraction: 0.6, steps: 10, k: 2, kGlobal: 2, space: 'x', mean: 'karcher' });
    expect(ed.globalDirections.error).toBeNull();
    const g = ed.globalDirections.result!;
    await ed.addGlobalDirection(1);
    ed.edits.setStrength(ed.edits.doc.edits[0].id, 2);
    ed.edits.setParam('guidanceSteps', 6);
    ed.edits.setParam('renderSteps', 12);
    await ed.apply();
    expect(ed.notices.list.filter((x) => x.kind !== 'info')).toEqual([]);
    const applied = ed.result.image!.bytes;

    const hand = async (strength: number) =>
      (
        await runJobInProcess(
          'edit',
          {
            modelDir,
            seed: 3,
            timestep: g.timestep,
            steps: 10,
            edits: [{ direction: directionRow(g.V!, 1), strength }],
            mode: 'guidance',
            guidanceSteps: 6,
            scale: 0.1,
            delta: 1,
            alpha: ed.edits.params.alpha,
            boostFraction: ed.edits.params.boostFraction,
            renderSteps: 12,
            provider: 'cpu',
          },
          { quiet: true },
        )
      ).image.bytes;
    expect(ed.edits.params).toMatchObject({ mode: 'guidance', scale: 0.1, delta: 1 });
    expect(Buffer.from(applied).equals(Buffer.from(await hand(2)))).toBe(true);
    // The comparison can fail: another strength gives other bytes.
    expect(Buffer.from(applied).equals(Buffer.from(await hand(1)))).toBe(false);
  }, 600_000);
});
