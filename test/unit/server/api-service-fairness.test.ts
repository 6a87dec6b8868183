/**
 * Fair sharing in ApiService against a fake engine host that runs one job at a time in submission order, like
 * EngineHost: per-client 'busy' limit, turns between clients, cancel of a waiting job, disconnect.
 */
import { describe, expect, it } from 'vitest';
import { ApiService, type JobHost } from '../../../src-main/app/api-service';
import { ApiError } from '../../../src-main/shared/errors';
import { JOBS, type JobEvent, type JobName } from '../../../src-main/shared/api';

class FakeHost implements JobHost {
  readonly queue: { jobId: string; name: JobName }[] = [];
  current: { jobId: string; name: JobName } | null = null;
  readonly ran: string[] = [];
  private readonly listeners = new Set<(e: JobEvent) => void>();
  submit(name: JobName, input: unknown, jobId = 'x'): string {
    if (!JOBS[name].input.safeParse(input).success) throw new ApiError({ code: 'invalid-input', message: 'bad' });
    this.queue.push({ jobId, name });
    this.emit({ type: 'queued', jobId, name });
    this.pump();
    return jobId;
  }
  cancel(jobId: string): void {
    const i = this.queue.findIndex((j) => j.jobId === jobId);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.emit({ type: 'error', jobId, error: { code: 'cancelled', message: 'cancelled' } });
    } else if (this.current?.jobId === jobId) this.finish('cancelled');
  }
  onEvent(l: (e: JobEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async availableProviders() {
    return ['cpu' as const];
  }
  /** End the running job (done, or an error code) and start the next. */
  finish(error?: 'cancelled'): void {
    const j = this.current!;
    this.current = null;
    if (error) this.emit({ type: 'error', jobId: j.jobId, error: { code: error, message: error } });
    else this.emit({ type: 'done', jobId: j.jobId, name: j.name, output: {} as never });
    this.pump();
  }
  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    this.current = this.queue.shift()!;
    this.ran.push(this.current.jobId);
  }
  private emit(e: JobEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

const info = { modelDir: '/models/x' };

function setup(max = 4) {
  const host = new FakeHost();
  const service = new ApiService(host, { mode: 'web', modelsDir: '/none', maxOpenJobsPerClient: max });
  return { host, service };
}

describe('ApiService fair sharing', () => {
  it("refuses a client's job beyond its limit with 'busy' and a sentence, and accepts again once one ends", async () => {
    const { host, service } = setup(4);
    const a = service.connect();
    for (let i = 0; i < 4; i++) await a.startJob('model.info', info);
    const err = await a.startJob('model.info', info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('busy');
    expect((err as ApiError).message).toMatch(/already has 4 jobs queued or running/);
    // Another client is not affected by a's limit.
    const b = service.connect();
    await expect(b.startJob('model.info', info)).resolves.toHaveProperty('jobId');
    host.finish();
    await expect(a.startJob('model.info', info)).resolves.toHaveProperty('jobId');
  });

  it('clients take turns: a client with many queued jobs delays another by at most one of its own', async () => {
    const { host, service } = setup(32);
    const a = service.connect();
    const b = service.connect();
    const aIds: string[] = [];
    for (let i = 0; i < 10; i++) aIds.push((await a.startJob('model.info', info)).jobId);
    const bId = (await b.startJob('model.info', info)).jobId;
    // a's first job is running; only one more job of a's may be ahead of b's.
    expect(host.queue.map((j) => j.jobId)).toEqual([bId]);
    host.finish();
    expect(host.current?.jobId).toBe(bId);
    host.finish();
    for (let i = 1; i < 10; i++) {
      expect(host.current?.jobId).toBe(aIds[i]);
      host.finish();
    }
    expect(host.ran).toEqual([aIds[0], bId, ...aIds.slice(1)]);
  });

  it("a client's events: one 'queued' per job, in order, then its end; waiting jobs validate their input at once", async () => {
    const { host, service } = setup(8);
    const a = service.connect();
    const events: string[] = [];
    a.onJobEvent((e) => events.push(`${e.type}:${e.jobId.slice(0, 4)}`));
    const j1 = (await a.startJob('model.info', info)).jobId;
    const j2 = (await a.startJob('model.info', info)).jobId;
    const bad = await a.startJob('model.info', { modelDir: 42 }).catch((e: unknown) => e);
    expect((bad as ApiError).code).toBe('invalid-input');
    host.finish();
    host.finish();
    const s = (id: string) => id.slice(0, 4);
    expect(events).toEqual([`queued:${s(j1)}`, `queued:${s(j2)}`, `done:${s(j1)}`, `done:${s(j2)}`]);
  });

  it('cancelling a job waiting in the service ends it as cancelled without the engine seeing it', async () => {
    const { host, service } = setup(8);
    const a = service.connect();
    const events: JobEvent[] = [];
    a.onJobEvent((e) => events.push(e));
    await a.startJob('model.info', info);
    const waiting = (await a.startJob('model.info', info)).jobId;
    await a.cancelJob(waiting);
    expect(events.at(-1)).toMatchObject({ type: 'error', jobId: waiting, error: { code: 'cancelled' } });
    host.finish();
    expect(host.ran).not.toContain(waiting);
  });

  it("a disconnecting client's running job is cancelled and its waiting jobs never run", async () => {
    const { host, service } = setup(8);
    const a = service.connect();
    const first = (await a.startJob('model.info', info)).jobId;
    for (let i = 0; i < 3; i++) await a.startJob('model.info', info);
    a.close();
    expect(host.current).toBeNull();
    expect(host.ran).toEqual([first]);
  });
});
