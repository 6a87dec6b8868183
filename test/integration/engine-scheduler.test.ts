/**
 * The scheduler through the real EngineHost and worker: a preview-priority job submitted while a basis is being
 * computed on the bundled model runs between the basis's Jacobian products and finishes first, the basis reports
 * 'paused' meanwhile and still gives exactly the bytes it gives alone; a coalescing key replaces a running job
 * ('superseded'). (A worker killed with two jobs inside ORT's native code intermittently aborted the whole test
 * process — "terminate called after throwing an instance of Napi::Error" — so that case is not run here; the
 * single-job worker death is tested in engine.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import type { JobEvent, JobName, JobOutput, StartJobOptions } from '../../src-main/shared/api';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { useTempDataDir } from './basis-fixture';

type End = Extract<JobEvent, { type: 'done' | 'error' }>;
interface Run {
  jobId: string;
  events: JobEvent[];
  end: Promise<End>;
}

/** Submit and collect the job's events; `onEvent` may act on the way. */
function submit(host: EngineHost, name: JobName, input: unknown, options: StartJobOptions = {}, onEvent?: (e: JobEvent) => void): Run {
  const events: JobEvent[] = [];
  let jobId = '';
  let resolveEnd!: (e: End) => void;
  const end = new Promise<End>((r) => (resolveEnd = r));
  const off = host.onEvent((e) => {
    if (e.jobId !== jobId) return;
    events.push(e);
    onEvent?.(e);
    if (e.type === 'done' || e.type === 'error') {
      off();
      resolveEnd(e);
    }
  });
  jobId = crypto.randomUUID();
  host.submit(name, input, jobId, options);
  return { jobId, events, end };
}

const tmp = useTempDataDir('scheduler');
const MODEL = defaultModelDir();

describe('engine scheduler', () => {
  let host: EngineHost;
  // The worker reads PULLBACK_DATA_DIR when it starts: create the host after the temp folder is set.
  beforeAll(() => {
    host = new EngineHost();
  });
  afterAll(() => host.close());

  it('a preview submitted during a basis runs between its Jacobian products and finishes first; the basis is unchanged', async () => {
    const basisInput = { modelDir: MODEL, seed: 7, t: 0.6, steps: 20, k: 4, provider: 'cpu' };
    const alone = await submit(host, 'basis', basisInput).end;
    expect(alone.type).toBe('done');
    const ref = (alone as { output: JobOutput<'basis'> }).output;
    expect(ref.cacheHit).toBe(false);
    // Forget the cached basis (keep the derived graphs) so the second run computes it again.
    await rm(join(tmp.root, 'data', 'basis'), { recursive: true, force: true });

    const order: string[] = [];
    let preview: Run | null = null;
    const basis = submit(host, 'basis', basisInput, {}, (e) => {
      // After the first Krylov iteration: the basis is in the middle of its Jacobian products.
      if (!preview && e.type === 'progress' && /iteration 1:/.test(e.message)) {
        preview = submit(host, 'sample', { modelDir: MODEL, seed: 3, t: 0.5, steps: 20, provider: 'cpu' }, { priority: 'preview' });
        void preview.end.then((p) => order.push(`sample:${p.type}`));
      }
    });
    const basisEnd = await basis.end;
    order.push(`basis:${basisEnd.type}`);
    expect(preview).not.toBeNull();
    await preview!.end;
    expect(order).toEqual(['sample:done', 'basis:done']);
    // The basis said it was paused while the preview ran, then ran again.
    const states = basis.events.flatMap((e) => (e.type === 'progress' && e.state ? [e.state] : []));
    const pausedAt = states.indexOf('paused');
    expect(pausedAt).toBeGreaterThan(0);
    expect(states.slice(pausedAt)).toContain('running');
    // Nothing lost or redone: the same products and the same bytes as alone.
    const out = (basisEnd as { output: JobOutput<'basis'> }).output;
    expect(out.cacheHit).toBe(false);
    expect(out.jacobianProducts).toEqual(ref.jacobianProducts);
    expect(out.iterations).toBe(ref.iterations);
    for (const key of ['V', 'S', 'U'] as const) expect(Buffer.from(out[key].data).equals(Buffer.from(ref[key].data))).toBe(true);
  });

  it('a job with the same coalescing key replaces a running one, which ends as superseded', async () => {
    const long = { modelDir: ANALYTIC_INT64, seed: 1, steps: 1000, batch: 16, provider: 'cpu' };
    let second: Run | null = null;
    const first = submit(host, 'generate', long, { coalesceKey: 'entry-1' }, (e) => {
      if (!second && e.type === 'progress' && e.message.startsWith('step')) {
        second = submit(host, 'generate', { ...long, steps: 5, batch: 1 }, { coalesceKey: 'entry-1' });
      }
    });
    expect(await first.end).toMatchObject({ type: 'error', error: { code: 'superseded' } });
    expect((await second!.end).type).toBe('done');
  });
});
