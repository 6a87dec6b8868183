/**
 * ApiService and the scheduler: a client has one job per priority level in the engine (so its preview reaches the
 * engine while its own analysis runs), priority hints reach the host, and coalescing keys (scoped per client)
 * replace a waiting job at once and an in-engine one through the engine's cancel, both ending as 'superseded'.
 */
import { describe, expect, it } from 'vitest';
import { ApiService, type JobHost } from '../../../src-main/app/api-service';
import { ApiError } from '../../../src-main/shared/errors';
import { JOBS, type JobEvent, type JobName, type StartJobOptions } from '../../../src-main/shared/api';

/** Records what reaches the engine; jobs end only when the test says so. */
class RecordingHost implements JobHost {
  readonly submitted: { jobId: string; name: JobName; options: StartJobOptions }[] = [];
  readonly cancelled: string[] = [];
  private readonly listeners = new Set<(e: JobEvent) => void>();
  submit(name: JobName, input: unknown, jobId = 'x', options: StartJobOptions = {}): string {
    if (!JOBS[name].input.safeParse(input).success) throw new ApiError({ code: 'invalid-input', message: 'bad' });
    this.submitted.push({ jobId, name, options });
    this.emit({ type: 'queued', jobId, name });
    return jobId;
  }
  cancel(jobId: string): void {
    this.cancelled.push(jobId);
  }
  onEvent(l: (e: JobEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async availableProviders() {
    return ['cpu' as const];
  }
  end(jobId: string, error?: 'cancelled'): void {
    const j = this.submitted.find((s) => s.jobId === jobId)!;
    if (error) this.emit({ type: 'error', jobId, error: { code: error, message: error } });
    else this.emit({ type: 'done', jobId, name: j.name, output: {} as never });
  }
  private emit(e: JobEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

const model = '/models/x';
const analyze = { modelDir: model, samples: [{ kind: 'seed', seed: 1 }], t: [0.5] };
const edit = { modelDir: model, seed: 1, t: 0.5, edits: [] };

function setup() {
  const host = new RecordingHost();
  const service = new ApiService(host, { mode: 'web', modelsDir: '/none', maxOpenJobsPerClient: 8 });
  const client = service.connect();
  const events: JobEvent[] = [];
  client.onJobEvent((e) => events.push(e));
  return { host, service, client, events };
}

describe('ApiService scheduling', () => {
  it("a client's preview enters the engine while its own analysis is there; a second preview waits for the first", async () => {
    const { host, client } = setup();
    const a = (await client.startJob('analyze', analyze)).jobId;
    const p1 = (await client.startJob('edit', edit, { priority: 'preview' })).jobId;
    const p2 = (await client.startJob('edit', edit, { priority: 'preview' })).jobId;
    expect(host.submitted.map((s) => [s.jobId, s.options.priority])).toEqual([
      [a, 'analysis'],
      [p1, 'preview'],
    ]);
    host.end(p1);
    expect(host.submitted.at(-1)).toMatchObject({ jobId: p2, options: { priority: 'preview' } });
  });

  it('a new job with the same key replaces a waiting one at once: superseded, never submitted', async () => {
    const { host, client, events } = setup();
    const first = (await client.startJob('edit', edit, { priority: 'preview' })).jobId;
    const waiting = (await client.startJob('edit', edit, { priority: 'preview', coalesceKey: 'entry-2' })).jobId;
    const newer = (await client.startJob('edit', edit, { priority: 'preview', coalesceKey: 'entry-2' })).jobId;
    expect(events.find((e) => e.jobId === waiting && e.type === 'error')).toMatchObject({ error: { code: 'superseded' } });
    host.end(first);
    expect(host.submitted.map((s) => s.jobId)).toEqual([first, newer]);
  });

  it('a new job with the same key cancels the in-engine one, which ends as superseded, and takes its place', async () => {
    const { host, client, events } = setup();
    const old = (await client.startJob('edit', edit, { coalesceKey: 'entry-1' })).jobId;
    const newer = (await client.startJob('edit', edit, { coalesceKey: 'entry-1' })).jobId;
    expect(host.cancelled).toEqual([old]);
    // The successor does not wait for the old one's last step here: the engine orders them.
    expect(host.submitted.map((s) => s.jobId)).toEqual([old, newer]);
    host.end(old, 'cancelled');
    expect(events.find((e) => e.jobId === old && e.type === 'error')).toMatchObject({ error: { code: 'superseded' } });
  });

  it('keys are per client, and a refused request replaces nothing', async () => {
    const { host, service, client } = setup();
    const other = service.connect();
    await client.startJob('edit', edit, { coalesceKey: 'entry-1' });
    await other.startJob('edit', edit, { coalesceKey: 'entry-1' });
    expect(host.cancelled).toEqual([]);
    const bad = await client.startJob('edit', { ...edit, seed: -1 }, { coalesceKey: 'entry-1' }).catch((e: unknown) => e);
    expect((bad as ApiError).code).toBe('invalid-input');
    const badOptions = await client.startJob('edit', edit, { priority: 'urgent' as never }).catch((e: unknown) => e);
    expect((badOptions as ApiError).code).toBe('invalid-input');
    expect(host.cancelled).toEqual([]);
  });
});
