/** Host fault handling with stand-in workers: out-of-memory during a job, and a worker that cannot start at all. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import type { JobEvent } from '../../src-main/shared/api';
import { ANALYTIC_INT64 } from '../helpers/model-folders';

const HELPERS = join(import.meta.dirname, '..', 'helpers');

function finalEvent(host: EngineHost, input: unknown): Promise<Extract<JobEvent, { type: 'done' | 'error' }>> {
  return new Promise((resolve) => {
    let id = '';
    host.onEvent((e) => {
      if (e.type === 'queued' && !id) id = e.jobId;
      if (e.jobId === id && (e.type === 'done' || e.type === 'error')) resolve(e);
    });
    host.submit('model.info', input);
  });
}

describe('engine host faults', () => {
  it('a worker that runs out of heap fails its job with worker-died and is restarted', async () => {
    const host = new EngineHost({ workerFile: join(HELPERS, 'worker-oom.mjs'), resourceLimits: { maxOldGenerationSizeMb: 32 } });
    try {
      const e = await finalEvent(host, { modelDir: ANALYTIC_INT64 });
      expect(e).toMatchObject({ type: 'error', error: { code: 'worker-died' } });
      expect(host.restartCount).toBe(1);
      expect(await host.availableProviders()).toEqual(['cpu']); // the fresh worker came up
    } finally {
      await host.close();
    }
  });

  it('a worker that cannot start fails queued jobs after a few tries instead of looping', async () => {
    const host = new EngineHost({ workerFile: join(HELPERS, 'worker-broken.mjs'), maxStartFailures: 3 });
    try {
      const e = await finalEvent(host, { modelDir: ANALYTIC_INT64 });
      expect(e).toMatchObject({ type: 'error', error: { code: 'worker-died' } });
      expect((e as { error: { message: string } }).error.message).toContain('cannot load onnxruntime binding');
      expect(host.restartCount).toBe(2);
    } finally {
      await host.close();
    }
  });
});

describe('engine shutdown', () => {
  it('ends the running and queued jobs with cancelled events', async () => {
    const host = new EngineHost();
    const ends: string[] = [];
    host.onEvent((e) => {
      if (e.type === 'error') ends.push(`${e.jobId}:${e.error.code}`);
    });
    const running = host.submit('generate', { modelDir: ANALYTIC_INT64, seed: 1, steps: 1000, batch: 16, provider: 'cpu' });
    // Same priority as the running one, so it stays queued (model.info would be started at once: it outranks it).
    const queued = host.submit('generate', { modelDir: ANALYTIC_INT64, seed: 2, steps: 5, provider: 'cpu' });
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e) => {
        if (e.type === 'progress' && e.jobId === running) {
          off();
          resolve();
        }
      });
    });
    await host.close();
    expect(ends.sort()).toEqual([`${running}:cancelled`, `${queued}:cancelled`].sort());
    expect(() => host.submit('model.info', { modelDir: ANALYTIC_INT64 })).toThrow(expect.objectContaining({ code: 'disconnected' }));
  });
});
