/**
 * The canvas's progress overlay (state/canvas-progress.svelte.ts) against a hand-driven engine: the test emits each
 * job event itself, so it can look at the overlay between a job's x̂₀ preview, its end, and the landing of its
 * picture — the in-progress picture shows while the job runs, the final one lands before the overlay goes, and
 * cancel or failure leave nothing behind.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import { JobsState } from '../../src-renderer/src/lib/state/jobs.svelte';
import { CanvasProgress } from '../../src-renderer/src/lib/state/canvas-progress.svelte';
import { png } from './state-fake-api';

function manualApi() {
  const listeners = new Set<(e: JobEvent) => void>();
  const cancelled: string[] = [];
  let n = 0;
  const api: PullbackApi = {
    getAppInfo: async () => ({ version: '0', mode: 'web', bundledModels: [], canPickFolder: false, providers: ['cpu'] }),
    pickModelFolder: async () => null,
    cancelJob: async (jobId: string) => {
      cancelled.push(jobId);
      emit({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } });
    },
    onJobEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    project: async () => {
      throw new Error('not used');
    },
    startJob: async () => ({ jobId: `j${++n}` }),
  };
  const emit = (e: JobEvent) => {
    for (const l of listeners) l(e);
  };
  return { api, emit, cancelled };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const image = (v: number) => ({ mime: 'image/png' as const, width: 1, height: 1, bytes: png(v) });
const x0 = (v: number, timestep: number) => ({ kind: 'x0-preview', timestep, image: image(v) });
const generateOutput = (v: number) => ({ images: [image(v)], provider: 'cpu', timesteps: [999, 0], elapsedMs: 1 });

describe('canvas progress overlay', () => {
  it('shows the running job and its latest x̂₀, keeps it until the final picture has landed, then goes', async () => {
    const { api, emit } = manualApi();
    const progress = new CanvasProgress(new JobsState(api));
    let seenWhileLanding: unknown = 'not called';
    const landed = progress.run('generate', { modelDir: '/m', seed: 1, steps: 10 }, 'Render seed 1', async (out) => {
      seenWhileLanding = progress.picture?.timestep;
      return out.images[0];
    });
    expect(progress.job?.status).toBe('queued');
    await settle();
    emit({ type: 'progress', jobId: 'j1', fraction: 0.3, message: 'step 3/10', etaMs: 700, partial: x0(11, 699), state: 'running' });
    expect(progress.job).toMatchObject({ label: 'Render seed 1', fraction: 0.3, message: 'step 3/10', etaMs: 700, status: 'running' });
    expect(progress.picture?.timestep).toBe(699);
    // A gallery's partial is not a canvas picture; a newer x̂₀ replaces the older.
    emit({ type: 'progress', jobId: 'j1', fraction: 0.4, message: 'step 4/10', partial: { kind: 'gallery-heat', index: 0, image: image(3) } });
    expect(progress.picture?.timestep).toBe(699);
    emit({ type: 'progress', jobId: 'j1', fraction: 0.6, message: 'step 6/10', partial: x0(12, 399) });
    expect(progress.picture?.timestep).toBe(399);
    expect(progress.picture?.image.bytes).toEqual(png(12));
    emit({ type: 'done', jobId: 'j1', name: 'generate', output: generateOutput(99) });
    const final = await landed;
    expect(final.bytes).toEqual(png(99));
    expect(seenWhileLanding).toBe(399);
    expect(progress.job).toBeNull();
    expect(progress.picture).toBeNull();
  });

  it('Cancel cancels the job and removes the overlay; a failure removes it too', async () => {
    const { api, emit, cancelled } = manualApi();
    const progress = new CanvasProgress(new JobsState(api));
    const first = progress.run('generate', { modelDir: '/m', seed: 1, steps: 10 }, 'Render', (o) => o);
    await settle();
    emit({ type: 'progress', jobId: 'j1', fraction: 0.5, message: 'step 5/10', partial: x0(1, 500) });
    progress.cancel();
    await expect(first).rejects.toMatchObject({ code: 'cancelled' });
    expect(cancelled).toEqual(['j1']);
    expect([progress.job, progress.picture]).toEqual([null, null]);

    const second = progress.run('generate', { modelDir: '/m', seed: 2, steps: 10 }, 'Render', (o) => o);
    await settle();
    emit({ type: 'progress', jobId: 'j2', fraction: 0.5, message: 'step 5/10', partial: x0(2, 500) });
    emit({ type: 'error', jobId: 'j2', error: { code: 'worker-died', message: 'gone' } });
    await expect(second).rejects.toMatchObject({ code: 'worker-died' });
    expect([progress.job, progress.picture]).toEqual([null, null]);
  });

  it('belongs to the latest job: an older one neither repaints nor clears it', async () => {
    const { api, emit } = manualApi();
    const progress = new CanvasProgress(new JobsState(api));
    const older = progress.run('generate', { modelDir: '/m', seed: 1, steps: 10 }, 'Old', (o) => o);
    await settle();
    const newer = progress.run('generate', { modelDir: '/m', seed: 2, steps: 10 }, 'New', (o) => o);
    await settle();
    emit({ type: 'progress', jobId: 'j2', fraction: 0.2, message: 'step 2/10', partial: x0(2, 800) });
    emit({ type: 'progress', jobId: 'j1', fraction: 0.9, message: 'step 9/10', partial: x0(1, 100) });
    expect(progress.job?.label).toBe('New');
    expect(progress.picture?.timestep).toBe(800);
    emit({ type: 'done', jobId: 'j1', name: 'generate', output: generateOutput(1) });
    await older;
    expect(progress.job?.label).toBe('New');
    expect(progress.picture?.timestep).toBe(800);
    emit({ type: 'done', jobId: 'j2', name: 'generate', output: generateOutput(2) });
    await newer;
    expect(progress.job).toBeNull();
  });
});
