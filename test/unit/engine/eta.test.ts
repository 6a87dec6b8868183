/**
 * The host's ETA (engine/host/eta.ts) with a fake clock, fed by the jobs' own WorkMeter (engine/jobs/support/
 * work-meter.ts) wrapped around a fake U-Net whose calls advance the clock by their cost: the units are counted
 * where the model runs, as in the engine, and the time is the clock's, as the host measures running time.
 */
import { describe, expect, it } from 'vitest';
import { fractionEta, JobEta, UnitCostBook } from '../../../src-main/engine/host/eta';
import { WorkMeter } from '../../../src-main/engine/jobs/support/work-meter';
import type { NoisePredictor } from '../../../src-main/core/diffusion/generate';
import type { Progress } from '../../../src-main/core/progress';

class FakeClock {
  t = 0;
}

/** A U-Net whose call takes `cost(call)` ms of the fake clock per sample of the batch. */
function fakeUnet(clock: FakeClock, cost: (call: number) => number): NoisePredictor {
  let call = 0;
  return {
    sampleDims: [1, 2, 2],
    predictEps: async (x) => {
      clock.t += cost(call++) * x.dims[0];
      return { dims: [...x.dims], data: new Float32Array(x.data.length) };
    },
  };
}

const x1 = { dims: [1, 1, 2, 2], data: new Float32Array(4) };

/** A job reporting through a WorkMeter to a JobEta, recording (time, eta) after each report. */
function harness(book = new UnitCostBook(), scope = 'model|cpu') {
  const clock = new FakeClock();
  const eta = new JobEta(book, scope);
  const reports: Progress[] = [];
  const meter = new WorkMeter((p) => {
    reports.push(p);
    eta.observe(clock.t, p.fraction, p.work);
  });
  return { clock, eta, meter, reports };
}

/** Deterministic ±10 % jitter, so a step is never exactly the mean. */
const jitter = (i: number) => 1 + 0.1 * Math.sin(i * 2.3);

describe('ETA from measured unit costs', () => {
  it('beats the fraction rule by far when the fractions are skewed (fast first half, slow second)', async () => {
    const { clock, eta, meter } = harness();
    const steps = 20;
    const costs = Array.from({ length: steps }, (_, i) => 100 * jitter(i));
    const unet = meter.predictor(fakeUnet(clock, (i) => costs[i]));
    meter.expect({ unet: steps });
    // The job maps its first 4 steps onto 0..0.5 and the other 16 onto 0.5..1, as jobs map phases by hand.
    const fractionAt = (k: number) => (k <= 4 ? (0.5 * k) / 4 : 0.5 + (0.5 * (k - 4)) / (steps - 4));
    meter.onProgress({ fraction: 0, message: 'step 0' });
    let fractionError = 0;
    let unitError = 0;
    let worstFraction = 0;
    for (let k = 1; k <= steps; k++) {
      await unet.predictEps(x1, 999 - k);
      meter.onProgress({ fraction: fractionAt(k), message: `step ${k}` });
      if (k === steps) break;
      const truth = costs.slice(k).reduce((a, b) => a + b, 0);
      const byFraction = fractionEta(clock.t, fractionAt(k))!;
      const byUnits = eta.etaMs(clock.t)!;
      expect(eta.measured()).toBe(true);
      fractionError += Math.abs(byFraction - truth) / truth;
      unitError += Math.abs(byUnits - truth) / truth;
      worstFraction = Math.max(worstFraction, Math.abs(byFraction - truth) / truth);
    }
    fractionError /= steps - 1;
    unitError /= steps - 1;
    // The fraction rule is off by half of the truth and more on average (3× too low right after the fast half)...
    expect(fractionError).toBeGreaterThan(0.5);
    expect(worstFraction).toBeGreaterThan(0.7);
    // ...the measured ETA by a few per cent (the jitter), at least ten times less.
    expect(unitError).toBeLessThan(0.06);
    expect(unitError).toBeLessThan(fractionError / 10);
    expect(eta.etaMs(clock.t)).toBe(0);
  });

  it('falls back to the fraction rule before any measurement and without a work report', async () => {
    const { clock, eta, meter } = harness();
    meter.onProgress({ fraction: 0.25, message: 'loading' }); // no plan yet: no work report
    clock.t = 1000;
    expect(eta.measured()).toBe(false);
    expect(eta.etaMs(clock.t)).toBe(fractionEta(1000, 0.25));
    meter.expect({ unet: 4 });
    meter.onProgress({ fraction: 0.25, message: 'step 0' }); // a plan, but no unit measured yet
    expect(eta.etaMs(clock.t)).toBe(3000);
    expect(fractionEta(0, 0)).toBeUndefined();
  });

  it('never charges a phase without a plan (a basis) to the units after it', async () => {
    const { clock, eta, meter } = harness();
    const unet = meter.predictor(fakeUnet(clock, () => 100));
    meter.expect({ unet: 10 });
    meter.onProgress({ fraction: 0, message: 'x_t' });
    await unet.predictEps(x1, 900);
    meter.onProgress({ fraction: 0.05, message: 'x_t' });
    meter.unknown(); // the basis: its length is unknown
    meter.onProgress({ fraction: 0.1, message: 'krylov' });
    clock.t += 5000;
    meter.onProgress({ fraction: 0.4, message: 'krylov' });
    meter.expect({ unet: 9 });
    meter.onProgress({ fraction: 0.4, message: 'render' });
    await unet.predictEps(x1, 800);
    meter.onProgress({ fraction: 0.5, message: 'render' });
    expect(eta.cost('unet')).toBeCloseTo(100, 6);
    expect(eta.etaMs(clock.t)).toBeCloseTo(800, 6);
  });

  it('does not restart a stretch at a report where nothing advanced (a message, an x̂₀ preview after its step)', async () => {
    const { clock, eta, meter } = harness();
    const unet = meter.predictor(fakeUnet(clock, () => 100));
    meter.expect({ unet: 4 });
    meter.onProgress({ fraction: 0, message: 'step 0' });
    await unet.predictEps(x1, 900);
    meter.onProgress({ fraction: 0.3, message: 'step 1' });
    clock.t += 50; // work between the calls (a DDIM update, a PNG encode), part of the next unit's cost
    meter.onProgress({ fraction: 0.3, message: 'step 1', partial: { kind: 'x0-preview' } });
    await unet.predictEps(x1, 800);
    meter.onProgress({ fraction: 0.6, message: 'step 2' });
    // 100 ms and 150 ms: the second stretch runs from the first unit's report, not from the preview's.
    expect(eta.cost('unet')).toBeCloseTo(125, 6);
    expect(eta.etaMs(clock.t)).toBeCloseTo(250, 6);
  });

  it('counts a batch as one unit per sample', async () => {
    const { clock, eta, meter } = harness();
    const unet = meter.predictor(fakeUnet(clock, () => 50));
    meter.expect({ unet: 8 });
    meter.onProgress({ fraction: 0, message: '' });
    await unet.predictEps({ dims: [3, 1, 2, 2], data: new Float32Array(12) }, 500);
    meter.onProgress({ fraction: 0.1, message: '' });
    expect(meter.report()).toEqual({ done: { unet: 3 }, remaining: { unet: 5 } });
    expect(eta.cost('unet')).toBeCloseTo(50, 6);
    expect(eta.etaMs(clock.t)).toBeCloseTo(250, 6);
  });

  it('gives a later job on the same model the measured cost from its first report, and only that model', async () => {
    const book = new UnitCostBook();
    const first = harness(book, 'a|cpu');
    const unet = first.meter.predictor(fakeUnet(first.clock, () => 120));
    first.meter.expect({ unet: 3 });
    first.meter.onProgress({ fraction: 0, message: '' });
    for (let k = 1; k <= 3; k++) {
      await unet.predictEps(x1, 900 - k);
      first.meter.onProgress({ fraction: k / 3, message: '' });
    }
    const second = harness(book, 'a|cpu');
    second.meter.expect({ unet: 50 });
    second.meter.onProgress({ fraction: 0, message: 'step 0' });
    expect(second.eta.etaMs(0)).toBeCloseTo(6000, 6);
    const other = harness(book, 'b|cpu');
    other.meter.expect({ unet: 50 });
    other.meter.onProgress({ fraction: 0, message: 'step 0' });
    expect(other.eta.etaMs(0)).toBeUndefined();
  });

  it('uses the fraction rule while a remaining kind was never measured, and splits a mixed stretch by known costs', () => {
    const book = new UnitCostBook();
    book.add('m', 'unet', { ms: 100, units: 1 });
    const eta = new JobEta(book, 'm');
    eta.observe(0, 0, { done: {}, remaining: { unet: 4, decode: 1 } });
    eta.observe(200, 0.2, { done: { unet: 2 }, remaining: { unet: 2, decode: 1 } });
    expect(eta.etaMs(200)).toBe(fractionEta(200, 0.2));
    // Two unet units and the decode in one stretch of 700 ms: unet's known 100 ms each, so the decode took 500.
    eta.observe(200, 0.2, { done: { unet: 2 }, remaining: { unet: 2, decode: 1 } });
    eta.observe(900, 0.9, { done: { unet: 4, decode: 1 }, remaining: { unet: 0, decode: 0 } });
    expect(eta.cost('decode')).toBeCloseTo(500, 6);
    expect(eta.etaMs(900)).toBe(0);
  });
});
