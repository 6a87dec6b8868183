/**
 * The compute lane with a fake clock and a fake synchronous "model": each step is one lane run that blocks (advances
 * the clock by its cost, like a session run blocks the thread) and updates a power iteration's state, so a paused
 * job's result shows whether anything was lost or redone. Jobs are async loops awaiting the lane between steps,
 * like the engine's jobs between U-Net calls and Jacobian products.
 */
import { describe, expect, it } from 'vitest';
import { ComputeLane, type LaneJob, type LaneState } from '../../../src-main/engine/worker/compute-lane';
import { isCancelled } from '../../../src-main/core/progress';

/** A manual clock: time moves only when a fake step runs or the test advances it; due timers fire on the way. */
class FakeClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): (() => void) => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

const STEP_MS = 100;

interface Log {
  job: string;
  step: number;
  start: number;
}

/** A deterministic 4×4 map; each step is x ← normalise(A·x) (a power iteration, like a Krylov step's state). */
function fakeStep(x: Float64Array): Float64Array {
  const y = new Float64Array(4);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) y[i] += (1 + ((i * 7 + j * 3) % 5)) * x[j] * (i === j ? 2 : 0.5);
  const n = Math.hypot(...y);
  return y.map((v) => v / n);
}

/** A job of `steps` lane runs; its state lives in JS between runs, as a paused basis keeps its Krylov vectors. */
async function fakeJob(lane: ComputeLane, clock: FakeClock, job: LaneJob, steps: number, log: Log[], duringStep?: (i: number) => void): Promise<{ x: Float64Array; steps: number }> {
  lane.enter(job);
  try {
    let x: Float64Array = new Float64Array([1, 0.5, 0.25, 0.125]);
    let done = 0;
    for (let i = 0; i < steps; i++) {
      x = await lane.run(() => {
        log.push({ job: job.id, step: i, start: clock.t });
        duringStep?.(i);
        clock.advance(STEP_MS); // the session run blocks: time passes, timers due meanwhile fire
        done++;
        return fakeStep(x);
      }, job);
      await Promise.resolve(); // JS between steps (DDIM update, orthogonalisation)
    }
    return { x, steps: done };
  } finally {
    lane.leave(job.id);
  }
}

function setup(reserveMs = 150) {
  const clock = new FakeClock();
  const states: [string, LaneState, number][] = [];
  const lane = new ComputeLane({ reserveMs, now: clock.now, setTimer: clock.setTimer, onStateChange: (id, s) => states.push([id, s, clock.t]) });
  return { clock, lane, states, log: [] as Log[] };
}

const ANALYSIS = 0;
const PREVIEW = 4;

describe('compute lane', () => {
  it('an interactive request that arrives during an analysis step starts right after that step', async () => {
    const { clock, lane, states, log } = setup();
    let preview: Promise<unknown> | null = null;
    let arrivedAt = -1;
    // The preview's request arrives in the middle of the analysis's 6th step (a message during a blocking run).
    const analysis = fakeJob(lane, clock, { id: 'analysis', rank: ANALYSIS }, 20, log, (i) => {
      if (i === 5)
        clock.setTimer(() => {
          arrivedAt = clock.t;
          preview = fakeJob(lane, clock, { id: 'preview', rank: PREVIEW }, 3, log);
        }, STEP_MS / 2);
    });
    await analysis;
    await preview;
    const firstPreview = log.find((l) => l.job === 'preview')!;
    expect(arrivedAt).toBe(550);
    // It waited only for the rest of the step in progress (50 ms of a 100 ms step).
    expect(firstPreview.start - arrivedAt).toBeLessThanOrEqual(STEP_MS);
    expect(log.map((l) => `${l.job}:${l.step}`)).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `analysis:${i}`),
      'preview:0',
      'preview:1',
      'preview:2',
      ...Array.from({ length: 14 }, (_, i) => `analysis:${i + 6}`),
    ]);
    // The analysis was reported paused while the preview ran (from its next request for the lane), and running
    // again when the preview's 3 steps (600–900) were done.
    expect(states.map(([id, s]) => `${id}:${s}`)).toEqual(['analysis:paused', 'analysis:running']);
    expect(states[0][2]).toBeGreaterThanOrEqual(600);
    expect(states[0][2]).toBeLessThan(900);
    expect(states[1][2]).toBe(900);
  });

  it('a paused job resumes with its state intact: same result and step count as alone', async () => {
    const alone = setup();
    const ref = await fakeJob(alone.lane, alone.clock, { id: 'analysis', rank: ANALYSIS }, 12, alone.log);

    const { clock, lane, log } = setup();
    const previews: Promise<unknown>[] = [];
    const interrupted = await fakeJob(lane, clock, { id: 'analysis', rank: ANALYSIS }, 12, log, (i) => {
      // Two separate previews interrupt it, one of them twice as long.
      if (i === 2 || i === 7) previews.push(fakeJob(lane, clock, { id: `preview${i}`, rank: PREVIEW }, i === 2 ? 2 : 4, log));
    });
    await Promise.all(previews);
    expect(interrupted.steps).toBe(12);
    expect(log.filter((l) => l.job === 'analysis').map((l) => l.step)).toEqual([...Array(12).keys()]);
    expect(Array.from(interrupted.x)).toEqual(Array.from(ref.x));
    expect(log.filter((l) => l.job.startsWith('preview'))).toHaveLength(6);
  });

  it('grants in FIFO order within a priority, higher priorities first', async () => {
    const { clock, lane, log } = setup();
    const jobs: Promise<unknown>[] = [];
    // While a holder runs, jobs of two levels ask in this order.
    await fakeJob(lane, clock, { id: 'holder', rank: 5 }, 1, log, () => {
      for (const [id, rank] of [['b1', 1], ['a1', 2], ['b2', 1], ['a2', 2], ['b3', 1]] as const) {
        jobs.push(lane.run(() => log.push({ job: id, step: 0, start: clock.t }), { id, rank }));
      }
    });
    await Promise.all(jobs);
    expect(log.map((l) => l.job)).toEqual(['holder', 'a1', 'a2', 'b1', 'b2', 'b3']);
  });

  it('cancelling a paused job ends its wait at once; the running job is not disturbed', async () => {
    const { clock, lane, states, log } = setup();
    const controller = new AbortController();
    const analysisJob = { id: 'analysis', rank: ANALYSIS, signal: controller.signal };
    let analysis: Promise<unknown> | null = null;
    const preview = fakeJob(lane, clock, { id: 'preview', rank: PREVIEW }, 5, log, (i) => {
      if (i === 0) analysis = fakeJob(lane, clock, analysisJob, 10, log).catch((e: unknown) => e);
      if (i === 2) controller.abort();
    });
    const res = await preview;
    const err = await analysis;
    expect(res.steps).toBe(5);
    expect(isCancelled(err)).toBe(true);
    expect(log.filter((l) => l.job === 'analysis')).toHaveLength(0);
    expect(states.filter(([id]) => id === 'analysis').map(([, s]) => s)).toEqual(['paused', 'running']);
    expect(lane.pausedJobs()).toEqual([]);
  });

  it('a higher job keeps the idle lane between its steps, but only for reserveMs', async () => {
    const { clock, lane, log } = setup(150);
    const preview: LaneJob = { id: 'preview', rank: PREVIEW };
    lane.enter(preview);
    // The preview is registered but busy elsewhere (I/O): the analysis waits…
    const analysis = fakeJob(lane, clock, { id: 'analysis', rank: ANALYSIS }, 1, log);
    await Promise.resolve();
    clock.advance(149);
    await Promise.resolve();
    expect(log).toHaveLength(0);
    // …until the reservation expires: no deadlock when the high job waits on something else.
    clock.advance(1);
    await analysis;
    expect(log.map((l) => l.job)).toEqual(['analysis']);
    expect(log[0].start).toBe(150);
    lane.leave(preview.id);
  });

  it("a step of a lower job that blocks the thread does not use up a higher job's reservation", async () => {
    const { clock, lane, log } = setup(150);
    const preview: LaneJob = { id: 'preview', rank: PREVIEW };
    // The preview enters during the analysis's first (1000 ms) step and then reads files: it has not asked yet.
    const analysis = fakeJob(lane, clock, { id: 'analysis', rank: ANALYSIS }, 2, log, (i) => {
      if (i === 0) lane.enter(preview);
      if (i === 0) clock.advance(1000 - STEP_MS);
    });
    await new Promise((r) => setImmediate(r));
    // The window counts from the end of that step (1000), not from the preview's entry (0).
    expect(log).toHaveLength(1);
    clock.advance(149);
    await new Promise((r) => setImmediate(r));
    expect(log).toHaveLength(1);
    clock.advance(1);
    await analysis;
    expect(log.map((l) => l.start)).toEqual([0, 1150]);
    lane.leave(preview.id);
  });

  it('runs outside any job (CLI) and rejects a failed run without blocking the lane', async () => {
    const lane = new ComputeLane();
    await expect(lane.run(() => { throw new Error('bad graph'); })).rejects.toThrow('bad graph');
    await expect(lane.run(async () => 42)).resolves.toBe(42);
  });
});
