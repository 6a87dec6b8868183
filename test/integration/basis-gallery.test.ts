/**
 * Through the real engine (host + worker thread): the gallery streams each −/+ thumbnail as a progress `partial`
 * before the job is done, and a running basis computation is cancellable between Jacobian calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src-main/engine/host/engine-host';
import { GalleryPartialSchema, type JobEvent, type JobInput, type JobName } from '../../src-main/shared/api';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const tmp = useTempDataDir('gallery');
let modelDir: string;
let host: EngineHost;

beforeAll(async () => {
  modelDir = await wrapUnet('ddpm_unet2d_op14', tmp.root);
  host = new EngineHost();
});

afterAll(async () => {
  await host.close();
});

function run<N extends JobName>(name: N, input: JobInput<N>): Promise<JobEvent[]> {
  return new Promise((resolve) => {
    const events: JobEvent[] = [];
    let id = '';
    const off = host.onEvent((e) => {
      if (e.type === 'queued' && !id) id = e.jobId;
      if (e.jobId !== id) return;
      events.push(e);
      if (e.type === 'done' || e.type === 'error') {
        off();
        resolve(events);
      }
    });
    host.submit(name, input);
  });
}

describe('gallery job (engine worker)', () => {
  it('streams each direction\'s |v| heat map, then 2 thumbnails per direction, as partials before done', async () => {
    const events = await run('gallery', { modelDir, seed: 1, t: 0.8, steps: 20, k: 2, previewSteps: 5, guidanceSteps: 2, scale: 1, provider: 'cpu' });
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    const partials = events.filter((e) => e.type === 'progress' && e.partial !== undefined).map((e) => (e as { partial: unknown }).partial);
    expect(partials).toHaveLength(6);
    const parsed = partials.map((p) => GalleryPartialSchema.parse(p));
    // Heat maps come first: they need only the basis, not a render.
    expect(parsed.slice(0, 2).map((p) => [p.kind, p.index])).toEqual([
      ['gallery-heat', 0],
      ['gallery-heat', 1],
    ]);
    const thumbs = parsed.flatMap((p) => (p.kind === 'gallery-thumb' ? [p] : []));
    expect(thumbs.map((t) => [t.index, t.sign])).toEqual([
      [0, -1],
      [0, 1],
      [1, -1],
      [1, 1],
    ]);
    for (const t of thumbs) expect(Buffer.from(t.image.bytes.subarray(1, 4)).toString('latin1')).toBe('PNG');
    const out = (done as { output: { items: { minus: { bytes: Uint8Array }; plus: { bytes: Uint8Array }; heat: { bytes: Uint8Array } }[] } }).output;
    expect(out.items).toHaveLength(2);
    expect(Buffer.from(out.items[1].heat.bytes).equals(Buffer.from(parsed[1].image.bytes))).toBe(true);
    expect(Buffer.from(out.items[1].plus.bytes).equals(Buffer.from(thumbs[3].image.bytes))).toBe(true);
    expect(Buffer.from(out.items[0].minus.bytes).equals(Buffer.from(out.items[0].plus.bytes))).toBe(false);
  });
});

describe('gallery previews are the edit job at preview settings', () => {
  // Issue 16: the centre is the canvas image (the document's schedule, η = 0) and ± = centre + (preview(edited) −
  // preview(unedited)). Without the η = 1 tail and with previewSteps = steps both renders are that same schedule, so
  // each preview is exactly the edit job's image and the centre exactly the unedited one (= generate's).
  it('centre = no edit = generate, + thumbnail = edit +1 (no tail, preview steps = steps)', async () => {
    const common = { modelDir, seed: 3, t: 0.8, steps: 5, guidanceSteps: 2, scale: 1, boostFraction: null, provider: 'cpu' as const };
    const g = await runJobInProcess('gallery', { ...common, k: 2, directions: [1], previewSteps: 5, strength: 1 }, { quiet: true });
    const plus = await runJobInProcess('edit', { ...common, basis: { k: 2 }, edits: [{ index: 1, strength: 1 }] }, { quiet: true });
    const none = await runJobInProcess('edit', { ...common, edits: [] }, { quiet: true });
    const canvas = await runJobInProcess('generate', { modelDir, seed: 3, steps: 5, provider: 'cpu' }, { quiet: true });
    expect(Buffer.from(g.items[0].plus.bytes).equals(Buffer.from(plus.image.bytes))).toBe(true);
    expect(Buffer.from(g.center.bytes).equals(Buffer.from(none.image.bytes))).toBe(true);
    expect(Buffer.from(g.center.bytes).equals(Buffer.from(canvas.images[0].bytes))).toBe(true);
  });
});

describe('basis cancel', () => {
  it('a basis computation stops with cancelled within one iteration of the cancel', async () => {
    const controller = new AbortController();
    const iterationsReported: number[] = [];
    await expect(
      runJobInProcess('basis', { modelDir, seed: 5, t: 0.5, steps: 20, k: 8, method: 'subspace', tol: 1e-9, provider: 'cpu' }, {
        quiet: true,
        signal: controller.signal,
        onProgress: (p) => {
          const m = /iteration (\d+):/.exec(p.message);
          if (m) iterationsReported.push(Number(m[1]));
          if (m?.[1] === '1') controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'cancelled' });
    // tol 1e-9 never converges: without the cancel, subspace iteration would report up to 50 iterations.
    expect(iterationsReported[0]).toBe(1);
    expect(Math.max(...iterationsReported)).toBeLessThanOrEqual(2);
    // Wall time belongs in `npm run bench`, not here.
  });
});
