/**
 * Compute directions asks before a long basis (issue 11 item 8), against the fake engine: the editor asks the engine
 * what a forward pass measured (model.info with the device preference), and only an estimate above ~30 s waits for
 * "Compute anyway" / "Cancel"; a short one, a cached one and an unmeasured one start at once.
 */
import { describe, expect, it, vi } from 'vitest';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { fakeApi, seededEditor } from './state-fake-api';

/** The fake engine, its model.info answering `forwardMs` as the measured forward pass (when given). */
function engineMeasuring(forwardMs?: number) {
  const f = fakeApi();
  const api: PullbackApi = {
    ...f.api,
    onJobEvent: (l) =>
      f.api.onJobEvent((e: JobEvent) => {
        if (forwardMs !== undefined && e.type === 'done' && e.name === 'model.info') {
          l({ ...e, output: { ...(e.output as object), forwardCost: { msPerForward: forwardMs, forwards: 10 } } });
        } else l(e);
      }),
  };
  return { api, calls: f.calls };
}

const named = (calls: { name: string; input: Record<string, unknown> }[], name: string) => calls.filter((c) => c.name === name);

async function editorAt8(api: PullbackApi) {
  const ed = await seededEditor(api);
  ed.edits.setTimestep(555);
  ed.galleries.k = 8;
  ed.galleries.method = 'krylov';
  return ed;
}

describe('the estimate before Compute directions', () => {
  it('asks before a long basis, says why, and starts it only on Compute anyway', async () => {
    const { api, calls } = engineMeasuring(1000); // 196 products × 0.4 × 1 s ≈ 78 s
    const ed = await editorAt8(api);
    const computing = ed.computeBasis();
    await vi.waitFor(() => expect(ed.basisEstimate.pending).not.toBeNull());
    expect(ed.basisEstimate.pending!.text).toBe('≈ 78 s on cpu: about 196 Jacobian products (krylov, k = 8, typical), each ≈ 0.4 forward passes of 1.0 s measured');
    // The engine was asked under the document's device preference, and nothing started yet.
    expect(named(calls, 'model.info').at(-1)?.input).toEqual({ modelDir: '/m', provider: 'auto' });
    expect(named(calls, 'gallery')).toEqual([]);
    ed.basisEstimate.answer(true);
    await computing;
    expect(named(calls, 'gallery')).toHaveLength(1);
    expect(ed.basisEstimate.pending).toBeNull();
  });

  it('Cancel starts nothing', async () => {
    const { api, calls } = engineMeasuring(1000);
    const ed = await editorAt8(api);
    const computing = ed.computeBasis();
    await vi.waitFor(() => expect(ed.basisEstimate.pending).not.toBeNull());
    ed.basisEstimate.answer(false);
    await computing;
    expect(named(calls, 'gallery')).toEqual([]);
  });

  it('starts a short basis without asking', async () => {
    const { api, calls } = engineMeasuring(100); // ≈ 7.8 s
    const ed = await editorAt8(api);
    await ed.computeBasis();
    expect(named(calls, 'gallery')).toHaveLength(1);
    expect(ed.basisEstimate.pending).toBeNull();
    expect(ed.basisEstimate.note).toBeNull();
  });

  it('with nothing measured, starts and says there is no estimate instead of guessing', async () => {
    const { api, calls } = engineMeasuring(undefined);
    const ed = await editorAt8(api);
    await ed.computeBasis();
    expect(named(calls, 'gallery')).toHaveLength(1);
    expect(ed.basisEstimate.note).toMatch(/^No estimate yet: nothing has been measured on cpu/);
  });

  it('a basis already computed is not estimated again', async () => {
    const { api, calls } = engineMeasuring(100);
    const ed = await editorAt8(api);
    await ed.computeBasis();
    const asked = named(calls, 'model.info').length;
    await ed.computeBasis();
    expect(named(calls, 'model.info')).toHaveLength(asked);
    expect(named(calls, 'gallery')).toHaveLength(2);
  });
});
