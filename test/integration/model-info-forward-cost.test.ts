/**
 * model.info asked with a device preference reports the forward cost the host measured (issue 11 item 8: the editor's
 * estimate before a long basis), through the real host and worker on an analytic model: nothing before a job ran,
 * the mean per sample after a generate under that preference, and nothing under a preference no job used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import type { JobEvent, JobName, ModelInfo } from '../../src-main/shared/api';
import { ANALYTIC_INT64 } from '../helpers/model-folders';

function run(host: EngineHost, name: JobName, input: unknown): Promise<Extract<JobEvent, { type: 'done' | 'error' }>> {
  return new Promise((resolve) => {
    let jobId = '';
    const off = host.onEvent((e) => {
      if (!jobId && e.type === 'queued') jobId = e.jobId;
      if (e.jobId !== jobId || (e.type !== 'done' && e.type !== 'error')) return;
      off();
      resolve(e);
    });
    host.submit(name, input);
  });
}

async function info(host: EngineHost, input: Record<string, unknown>): Promise<ModelInfo> {
  const e = await run(host, 'model.info', { modelDir: ANALYTIC_INT64, ...input });
  if (e.type !== 'done') throw new Error(`model.info failed: ${JSON.stringify(e.error)}`);
  return e.output as ModelInfo;
}

let host: EngineHost;
beforeAll(() => {
  host = new EngineHost();
});
afterAll(() => host.close());

describe('model.info forwardCost', () => {
  it('is absent until a job measured U-Net calls under that preference, then their mean per sample', async () => {
    expect((await info(host, { provider: 'auto' })).forwardCost).toBeUndefined();
    const gen = await run(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 1, steps: 12, batch: 2, provider: 'auto' });
    expect(gen.type).toBe('done');
    const elapsedMs = (gen as { output: { elapsedMs: number } }).output.elapsedMs;
    const cost = (await info(host, { provider: 'auto' })).forwardCost;
    expect(cost).toBeDefined();
    // 12 steps of a batch of 2: the measured samples (the first step opens the measuring stretch) are at most 24.
    expect(cost!.forwards).toBeGreaterThan(0);
    expect(cost!.forwards).toBeLessThanOrEqual(24);
    // A sample cannot cost more than the whole job took, nor nothing.
    expect(cost!.msPerForward).toBeGreaterThan(0);
    expect(cost!.msPerForward).toBeLessThan(elapsedMs);
    // Asked without a preference, or under another one, it says nothing: those were not measured.
    expect((await info(host, {})).forwardCost).toBeUndefined();
    expect((await info(host, { provider: 'cpu' })).forwardCost).toBeUndefined();
  }, 120_000);
});
