/**
 * The engine through its host: a real worker thread running ORT. Determinism (byte-identical PNGs), cancel,
 * worker death and restart, and bad model folders that must fail typed without taking the engine down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import type { JobEvent, JobName } from '../../src-main/shared/api';
import { ANALYTIC_INT64, BAD_CASES, makeBadFolder } from '../helpers/model-folders';
import { decodePng } from '../../src-main/engine/png';

interface Outcome {
  events: JobEvent[];
  final: Extract<JobEvent, { type: 'done' | 'error' }>;
}

/** Submit and collect every event of the job until it ends; `onEvent` may act on the way (cancel, kill). */
function runOn(host: EngineHost, name: JobName, input: unknown, onEvent?: (e: JobEvent, jobId: string) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const events: JobEvent[] = [];
    let jobId = '';
    const off = host.onEvent((e) => {
      if (!jobId && e.type === 'queued') jobId = e.jobId;
      if (e.jobId !== jobId) return;
      events.push(e);
      onEvent?.(e, jobId);
      if (e.type === 'done' || e.type === 'error') {
        off();
        resolve({ events, final: e });
      }
    });
    host.submit(name, input);
  });
}

const pngOf = (o: Outcome): Uint8Array => {
  expect(o.final.type).toBe('done');
  return ((o.final as { output: { images: { bytes: Uint8Array }[] } }).output.images[0]).bytes;
};

describe('engine host + worker', () => {
  let host: EngineHost;
  beforeAll(() => {
    host = new EngineHost();
  });
  afterAll(() => host.close());

  it('generates a PNG with per-step progress and reports the provider used', async () => {
    const o = await runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 3, steps: 20, provider: 'auto' });
    expect(o.final.type).toBe('done');
    const out = (o.final as { output: { provider: string; timesteps: number[]; images: { width: number; bytes: Uint8Array }[] } }).output;
    expect(out.provider).toBe('cpu'); // no GPU here: auto falls back to CPU and says so
    expect(out.timesteps[0]).toBe(999);
    expect(out.images[0].width).toBe(8);
    const img = await decodePng(out.images[0].bytes);
    expect([img.width, img.height, img.channels]).toEqual([8, 8, 3]);
    const progress = o.events.filter((e) => e.type === 'progress') as Extract<JobEvent, { type: 'progress' }>[];
    expect(progress.at(-1)?.fraction).toBe(1);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(o.events[0].type).toBe('queued');
  });

  it('same seed → byte-identical PNG; another seed → different bytes', async () => {
    const input = { modelDir: ANALYTIC_INT64, seed: 42, steps: 30, provider: 'cpu' };
    const a = pngOf(await runOn(host, 'generate', input));
    const b = pngOf(await runOn(host, 'generate', input));
    const c = pngOf(await runOn(host, 'generate', { ...input, seed: 43 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // A fresh engine (new worker, new session) gives the same bytes too.
    const other = new EngineHost();
    try {
      expect(Buffer.from(pngOf(await runOn(other, 'generate', input))).equals(Buffer.from(a))).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('cancel stops a running job with a typed cancelled error before it completes', async () => {
    const o = await runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 1, steps: 1000, batch: 16, provider: 'cpu' }, (e, id) => {
      if (e.type === 'progress' && e.message.startsWith('step')) host.cancel(id);
    });
    expect(o.final).toMatchObject({ type: 'error', error: { code: 'cancelled' } });
    const last = o.events.filter((e) => e.type === 'progress').at(-1) as { fraction: number };
    expect(last.fraction).toBeLessThan(1);
  });

  it('cancelling a queued job removes it without running it', async () => {
    const first = runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 1, steps: 50, provider: 'cpu' });
    const second = runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 2, steps: 50, provider: 'cpu' }, (e, id) => {
      if (e.type === 'queued') host.cancel(id);
    });
    const o2 = await second;
    expect(o2.final).toMatchObject({ type: 'error', error: { code: 'cancelled' } });
    expect(o2.events.some((e) => e.type === 'progress')).toBe(false);
    expect((await first).final.type).toBe('done');
  });

  it('a killed worker is restarted, the running job reports worker-died, the next job works', async () => {
    const before = host.restartCount;
    const o = await runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 5, steps: 1000, batch: 16, provider: 'cpu' }, (e) => {
      if (e.type === 'progress') void host.terminateWorker();
    });
    expect(o.final).toMatchObject({ type: 'error', error: { code: 'worker-died' } });
    expect(host.restartCount).toBe(before + 1);
    const next = await runOn(host, 'generate', { modelDir: ANALYTIC_INT64, seed: 5, steps: 5, provider: 'cpu' });
    expect(next.final.type).toBe('done');
  });

  it('rejects invalid input synchronously with invalid-input', () => {
    expect(() => host.submit('generate', { modelDir: ANALYTIC_INT64, seed: -1, steps: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });

  describe('bad model folders give typed errors and never crash the engine', () => {
    const roots: string[] = [];
    afterAll(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
    it.each(BAD_CASES)('$name', async (c) => {
      const restarts = host.restartCount;
      const { root, dir } = await makeBadFolder(c);
      roots.push(root);
      for (const job of ['generate', 'model.info'] as const) {
        const o = await runOn(host, job, { modelDir: dir, seed: 1, steps: 3, provider: 'cpu' });
        expect(o.final).toMatchObject({ type: 'error', error: { code: c.code, file: join(dir, c.file) } });
      }
      // The engine is still the same worker and still works.
      expect(host.restartCount).toBe(restarts);
      expect((await runOn(host, 'model.info', { modelDir: ANALYTIC_INT64 })).final.type).toBe('done');
    });
  });
});
