/**
 * Geometry analyses (method.md §6): subspace distances against closed forms, direction spectra against planted
 * frequencies, Parseval and a naive DFT, the accumulator's order independence, the exact CSV layouts, and that
 * plots and the report render in Node (linkedom) with findings computed from the data.
 *
 * Over 400 lines on purpose: the suites share one set of synthetic-basis builders (planted frequencies, known
 * angles, a small fake analysis), and the cases follow the analysis modules one describe block each.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import { GeometryError } from '../../src-main/core/geometry/errors';
import type { Tensor } from '../../src-main/core/tensor';
import {
  AnalysisAccumulator,
  FREQUENCY_HEADER,
  SIMILARITY_HEADER,
  SIMILARITY_T_HEADER,
  SPECTRUM_HEADER,
  analysisFigures,
  analysisOutputFiles,
  compareSubspaces,
  findings,
  formatFloat32,
  frequencyCsv,
  lowFrequencyShare,
  overlayFigures,
  overlayModels,
  plotFrequencyHeatmap,
  plotLowFrequencyShare,
  plotLowFrequencyShareOverlay,
  plotSampleDistance,
  plotSampleDistanceMatrix,
  plotSampleDistanceOverlay,
  plotSigma,
  plotTimestepDistanceMatrix,
  powerSpectrum2d,
  radialPowerSpectrum,
  radiusBinCount,
  renderReportHtml,
  sampleDistanceSummary,
  sampleSimilarities,
  similarityCsv,
  similarityTimestepCsv,
  spectrumCsv,
  standaloneSvg,
  svgMarkup,
  timestepSimilarities,
} from '../../src-main/core/geometry/analysis';
import type { AnalysisResult, AnalysisSettings, FinishedBasis, PlotDocument } from '../../src-main/core/geometry/analysis';
import { writeAnalysisOutputs } from '../../src-main/core/geometry/analysis/write-outputs';

function rowsTensor(rows: readonly (readonly number[])[], itemDims?: readonly number[]): Tensor {
  const n = rows[0].length;
  const data = new Float32Array(rows.length * n);
  rows.forEach((r, i) => data.set(r, i * n));
  return { dims: [rows.length, ...(itemDims ?? [n])], data };
}

function unit(n: number, i: number): number[] {
  const v = new Array<number>(n).fill(0);
  v[i] = 1;
  return v;
}

function gaussianRows(k: number, itemDims: readonly number[], rng: GaussianRng): Tensor {
  const n = itemDims.reduce((a, b) => a * b, 1);
  return { dims: [k, ...itemDims], data: rng.fillNormal(new Float32Array(k * n)) };
}

function rowsOf(t: Tensor): number[][] {
  const k = t.dims[0];
  const n = t.data.length / k;
  return Array.from({ length: k }, (_, i) => Array.from(t.data.subarray(i * n, (i + 1) * n)));
}

describe('subspace similarity', () => {
  const rng = new GaussianRng(11);

  it('identical subspaces are at distance 0', () => {
    const a = gaussianRows(4, [3, 8, 8], rng);
    const c = compareSubspaces(a, a);
    expect(c.geodesic).toBeLessThan(1e-7);
    expect(c.maxAngle).toBeLessThan(1e-7);
    expect(c.angles).toHaveLength(4);
  });

  it('mutually orthogonal k-dim subspaces are at √k·π/2, max angle π/2', () => {
    for (const k of [1, 3, 5]) {
      const n = 40;
      const a = rowsTensor(Array.from({ length: k }, (_, i) => unit(n, i)));
      const b = rowsTensor(Array.from({ length: k }, (_, i) => unit(n, 20 + i)));
      const c = compareSubspaces(a, b);
      expect(c.geodesic).toBeCloseTo((Math.sqrt(k) * Math.PI) / 2, 12);
      expect(c.maxAngle).toBeCloseTo(Math.PI / 2, 12);
    }
  });

  it('sign flips, reordering and mixing of rows change nothing', () => {
    const a = gaussianRows(4, [2, 4, 4], rng);
    const b = gaussianRows(4, [2, 4, 4], rng);
    const base = compareSubspaces(a, b);
    const [r0, r1, r2, r3] = rowsOf(a);
    const flippedReordered = rowsTensor([r2, r0.map((v) => -v), r3, r1.map((v) => -v)], [2, 4, 4]);
    // Linearly independent but not orthonormal: the same span.
    const mixed = rowsTensor([r0.map((v, i) => v + 2 * r1[i]), r1, r2.map((v, i) => v - r3[i]), r3.map((v) => 3 * v)], [2, 4, 4]);
    for (const other of [flippedReordered, mixed]) {
      const c = compareSubspaces(other, b);
      expect(Math.abs(c.geodesic - base.geodesic)).toBeLessThan(1e-6);
      c.angles.forEach((angle, i) => expect(Math.abs(angle - base.angles[i])).toBeLessThan(1e-6));
    }
    // Symmetric in its arguments.
    expect(compareSubspaces(b, a).geodesic).toBeCloseTo(base.geodesic, 10);
    // A subspace is at distance 0 from its own flipped and reordered rows.
    expect(compareSubspaces(flippedReordered, a).geodesic).toBeLessThan(1e-6);
  });

  it('a 1-D pair at angle θ is at distance θ; a 2-D pair at (θ1, θ2) at hypot(θ1, θ2)', () => {
    const n = 10;
    for (const theta of [1e-3, 0.3, 1.2, Math.PI / 2 - 1e-3]) {
      const a = rowsTensor([unit(n, 0)]);
      const b = rowsTensor([[Math.cos(theta), Math.sin(theta), ...new Array<number>(n - 2).fill(0)]]);
      // The tensors are float32: the exact answer is the angle of the rounded vector.
      const exact = Math.atan2(Math.fround(Math.sin(theta)), Math.fround(Math.cos(theta)));
      const c = compareSubspaces(a, b);
      expect(c.geodesic).toBeCloseTo(exact, 12);
      expect(c.maxAngle).toBeCloseTo(exact, 12);
    }
    const [t1, t2] = [0.25, 0.9];
    const a = rowsTensor([unit(6, 0), unit(6, 1)]);
    const b = rowsTensor([
      [Math.cos(t1), 0, Math.sin(t1), 0, 0, 0],
      [0, Math.cos(t2), 0, Math.sin(t2), 0, 0],
    ]);
    const c = compareSubspaces(a, b);
    expect(c.angles[0]).toBeCloseTo(t1, 6);
    expect(c.angles[1]).toBeCloseTo(t2, 6);
    expect(c.geodesic).toBeCloseTo(Math.hypot(t1, t2), 6);
  });

  it('pairs every sample a < b once and orders timestep pairs numerically', () => {
    const subspaces = Array.from({ length: 4 }, () => gaussianRows(2, [16], rng));
    const pairs = sampleSimilarities(700, 'x', subspaces);
    expect(pairs.map((p) => [p.sampleA, p.sampleB])).toEqual([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
    expect(pairs.every((p) => p.timestep === 700 && p.space === 'x')).toBe(true);
    const byT = timestepSimilarities(2, 'h', [
      { key: 900, rows: subspaces[0] },
      { key: 100, rows: subspaces[1] },
      { key: 500, rows: subspaces[2] },
    ]);
    expect(byT.map((p) => [p.timestepA, p.timestepB])).toEqual([[100, 500], [100, 900], [500, 900]]);
    // Orientation-independent: (t=100 rows, t=900 rows) is the same comparison whichever was listed first.
    expect(byT[1].geodesic).toBe(compareSubspaces(subspaces[1], subspaces[0]).geodesic);
  });
});

/** v[c, y, x] = f(x, y) for every channel, as a [C, H, W] direction. */
function pattern(channels: number, height: number, width: number, f: (x: number, y: number, c: number) => number): Float64Array {
  const v = new Float64Array(channels * height * width);
  for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) v[(c * height + y) * width + x] = f(x, y, c);
  return v;
}

/** O(H²W²) DFT straight from the definition, per channel, |F|² summed over channels. */
function naivePower(v: Float64Array, channels: number, height: number, width: number): Float64Array {
  const power = new Float64Array(height * width);
  for (let c = 0; c < channels; c++) {
    for (let ky = 0; ky < height; ky++) {
      for (let kx = 0; kx < width; kx++) {
        let re = 0;
        let im = 0;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const phase = -2 * Math.PI * ((kx * x) / width + (ky * y) / height);
            const value = v[(c * height + y) * width + x];
            re += value * Math.cos(phase);
            im += value * Math.sin(phase);
          }
        }
        power[ky * width + kx] += re * re + im * im;
      }
    }
  }
  return power;
}

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / scale;
}

describe('direction spectra', () => {
  const [C, H, W] = [3, 16, 16];
  const dims = [C, H, W];

  it('counts radius bins up to the corner frequency', () => {
    expect(radiusBinCount(16, 16)).toBe(Math.round(Math.hypot(8, 8)) + 1); // 12
    expect(radiusBinCount(64, 64)).toBe(46);
    expect(radiusBinCount(8, 32)).toBe(Math.round(Math.hypot(16, 4)) + 1);
  });

  it('puts a planted cos(2π·x/W) in radius bin 1 and a diagonal one (kx = ky = 1) in bin round(√2) = 1', () => {
    for (const f of [(x: number) => Math.cos((2 * Math.PI * x) / W), (x: number, y: number) => Math.cos((2 * Math.PI * (x + y)) / W)]) {
      const spectrum = radialPowerSpectrum(pattern(C, H, W, f), dims);
      expect(spectrum.power).toHaveLength(radiusBinCount(H, W));
      expect(spectrum.power[1]).toBeCloseTo(1, 12);
      expect(lowFrequencyShare(spectrum.power, W)).toBeCloseTo(1, 12);
    }
  });

  it('puts high frequencies in their bins: stripes (−1)^x at W/2, checkerboard at round(√2·W/2), (kx, ky) = (3, 4) at 5', () => {
    const cases: [(x: number, y: number) => number, number][] = [
      [(x) => (-1) ** x, W / 2],
      [(x, y) => (-1) ** (x + y), Math.round(Math.SQRT2 * (W / 2))],
      [(x, y) => Math.cos(2 * Math.PI * ((3 * x) / W + (4 * y) / H)), 5],
    ];
    for (const [f, radius] of cases) {
      const spectrum = radialPowerSpectrum(pattern(C, H, W, f), dims);
      expect(spectrum.power[radius]).toBeCloseTo(1, 12);
      expect(spectrum.power.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    const checker = radialPowerSpectrum(pattern(C, H, W, (x, y) => (-1) ** (x + y)), dims);
    expect(lowFrequencyShare(checker.power, W)).toBeLessThan(1e-20);
  });

  it('sums to 1 and satisfies Parseval: Σ|F|² = H·W·‖v‖²', () => {
    const rng = new GaussianRng(5);
    const v = rng.fillNormal(new Float64Array(C * H * W));
    const spectrum = radialPowerSpectrum(v, dims);
    expect(spectrum.power.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const normSquared = v.reduce((a, b) => a + b * b, 0);
    expect(Math.abs(spectrum.totalPower - H * W * normSquared) / (H * W * normSquared)).toBeLessThan(1e-12);
  });

  it('matches a naive DFT on a random 3×8×8 input (fft.js) and on 2×6×5 (direct fallback)', () => {
    const rng = new GaussianRng(6);
    for (const [c, h, w] of [
      [3, 8, 8],
      [2, 6, 5],
      [1, 1, 4],
    ]) {
      const v = rng.fillNormal(new Float64Array(c * h * w));
      const exact = naivePower(v, c, h, w);
      expect(maxRelativeError(powerSpectrum2d(v, [c, h, w]), exact)).toBeLessThan(1e-9);
      // Binned from the naive DFT with the stated convention: k in [−n/2, n/2), r = round(√(kx² + ky²)).
      const bins = new Array<number>(radiusBinCount(h, w)).fill(0);
      let total = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const kx = x < w / 2 ? x : x - w;
          const ky = y < h / 2 ? y : y - h;
          bins[Math.round(Math.sqrt(kx * kx + ky * ky))] += exact[y * w + x];
          total += exact[y * w + x];
        }
      }
      expect(maxRelativeError(radialPowerSpectrum(v, [c, h, w]).power, bins.map((p) => p / total))).toBeLessThan(1e-9);
    }
  });

  it('rejects a direction whose size does not match its dims', () => {
    expect(() => radialPowerSpectrum(new Float64Array(10), [3, 4, 4])).toThrow(GeometryError);
    expect(() => radialPowerSpectrum(new Float64Array(4), [4])).toThrow(GeometryError);
  });
});

const X_DIMS = [2, 8, 8];
const H_DIMS = [4, 2, 2];

function settingsFor(samples: number, timesteps: number[], k = 3): AnalysisSettings {
  return {
    modelHash: 'abc123',
    k,
    method: 'krylov',
    tol: 1e-3,
    steps: 100,
    timesteps,
    samples: Array.from({ length: samples }, (_, i) => ({ label: `seed ${i}`, source: { kind: 'seed' as const, seed: i } })),
  };
}

function randomBasis(sample: number, timestep: number, k = 3): FinishedBasis {
  const rng = new GaussianRng(sample * 1000 + timestep);
  return {
    V: gaussianRows(k, X_DIMS, rng),
    S: { dims: [k], data: Float32Array.from({ length: k }, (_, i) => (10 + sample) / (i + 1) / (1 + timestep / 100)) },
    U: gaussianRows(k, H_DIMS, rng),
    iterations: 5 + sample,
    converged: true,
    jacobianProducts: { jvp: 20, vjp: 20, total: 40 },
    residuals: [1e-4, 5e-4, 2e-4],
    seconds: 1.5,
    cacheHit: sample === 0,
    warmStarted: timestep !== 900,
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = new GaussianRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function lines(csv: string): string[] {
  expect(csv.endsWith('\n')).toBe(true);
  return csv.slice(0, -1).split('\n');
}

describe('AnalysisAccumulator', () => {
  const nSamples = 4;
  const timesteps = [900, 100, 500];
  const jobs = Array.from({ length: nSamples }, (_, s) => timesteps.map((t) => [s, t] as const)).flat();

  function run(order: readonly (readonly [number, number])[]) {
    const acc = new AnalysisAccumulator(settingsFor(nSamples, timesteps));
    const streamed = order.map(([s, t]) => acc.add(s, t, randomBasis(s, t)));
    return { acc, streamed, result: acc.result() };
  }

  it('gives the same result whatever order the bases arrive in', () => {
    const inOrder = run(jobs);
    expect(inOrder.acc.complete).toBe(true);
    for (const seed of [1, 2, 3]) {
      const other = run(shuffled(jobs, seed));
      expect(other.result).toEqual(inOrder.result);
    }
    expect(inOrder.result.settings.timesteps).toEqual([100, 500, 900]);
  });

  it('streams each similarity exactly once, as soon as both ends exist', () => {
    const order = shuffled(jobs, 9);
    const acc = new AnalysisAccumulator(settingsFor(nSamples, timesteps));
    const seen: string[] = [];
    order.forEach(([s, t], i) => {
      const added = acc.add(s, t, randomBasis(s, t));
      expect(added.record.sample).toBe(s);
      for (const p of added.sampleSimilarities) {
        expect(p.timestep).toBe(t);
        expect([p.sampleA, p.sampleB]).toContain(s);
        seen.push(`s${p.timestep}${p.space}${p.sampleA}-${p.sampleB}`);
      }
      for (const p of added.timestepSimilarities) {
        expect(p.sample).toBe(s);
        seen.push(`t${p.sample}${p.space}${p.timestepA}-${p.timestepB}`);
      }
      const partial = acc.result();
      expect(partial.bases).toHaveLength(i + 1);
      // Every pair whose both ends are present, and no other.
      const present = new Set(order.slice(0, i + 1).map(([a, b]) => `${a}@${b}`));
      for (const p of partial.sampleSimilarities) expect(present.has(`${p.sampleA}@${p.timestep}`) && present.has(`${p.sampleB}@${p.timestep}`)).toBe(true);
      const expectedPairs = timesteps.reduce((n, ts) => {
        const m = [...present].filter((k) => k.endsWith(`@${ts}`)).length;
        return n + (2 * m * (m - 1)) / 2;
      }, 0);
      expect(partial.sampleSimilarities).toHaveLength(expectedPairs);
    });
    expect(new Set(seen).size).toBe(seen.length);
    const final = acc.result();
    expect(seen.length).toBe(final.sampleSimilarities.length + final.timestepSimilarities.length);
  });

  it('records σ, spectra, low-frequency shares and stats per basis', () => {
    const { result } = run(jobs);
    const b = result.bases.find((r) => r.sample === 2 && r.timestep === 500)!;
    const basis = randomBasis(2, 500);
    expect(b.sigma).toEqual(Array.from(basis.S.data));
    expect(b.power).toHaveLength(3);
    expect(b.power[0]).toHaveLength(radiusBinCount(8, 8));
    expect(b.power[1].reduce((a, v) => a + v, 0)).toBeCloseTo(1, 10);
    expect(b.lowFrequencyShare[1]).toBeCloseTo(b.power[1][0] + b.power[1][1], 12); // W/8 = 1
    expect(b).toMatchObject({ height: 8, width: 8, iterations: 7, converged: true, residualMax: 5e-4, seconds: 1.5, cacheHit: false, warmStarted: true });
    expect(b.jacobianProducts).toEqual({ jvp: 20, vjp: 20, total: 40 });
  });

  it('refuses a duplicate basis, an unknown timestep, a sample out of range and bad settings', () => {
    const acc = new AnalysisAccumulator(settingsFor(2, [100, 200]));
    acc.add(0, 100, randomBasis(0, 100));
    expect(() => acc.add(0, 100, randomBasis(0, 100))).toThrow(GeometryError);
    expect(() => acc.add(0, 150, randomBasis(0, 150))).toThrow(GeometryError);
    expect(() => acc.add(2, 100, randomBasis(2, 100))).toThrow(GeometryError);
    expect(() => new AnalysisAccumulator(settingsFor(2, [100, 100]))).toThrow(GeometryError);
    expect(() => new AnalysisAccumulator(settingsFor(0, [100]))).toThrow(GeometryError);
  });

  it('summarises distances per timestep and space over n(n−1)/2 pairs', () => {
    const { result } = run(jobs);
    const summary = sampleDistanceSummary(result);
    expect(summary.map((p) => [p.timestep, p.space])).toEqual([[100, 'x'], [100, 'h'], [500, 'x'], [500, 'h'], [900, 'x'], [900, 'h']]);
    for (const p of summary) {
      const pairs = result.sampleSimilarities.filter((s) => s.timestep === p.timestep && s.space === p.space);
      expect(p.count).toBe(6);
      expect(p.mean).toBeCloseTo(pairs.reduce((a, s) => a + s.geodesic, 0) / pairs.length, 12);
    }
  });
});

describe('CSV tables', () => {
  const nSamples = 3;
  const timesteps = [100, 400, 700, 999];
  const k = 3;
  const acc = new AnalysisAccumulator(settingsFor(nSamples, timesteps, k));
  for (let s = 0; s < nSamples; s++) for (const t of timesteps) acc.add(s, t, randomBasis(s, t, k));
  const result = acc.result();

  it('spectrum.csv: sample,timestep,index,sigma; one row per σ', () => {
    const rows = lines(spectrumCsv(result));
    expect(rows[0]).toBe('sample,timestep,index,sigma');
    expect(rows[0]).toBe(SPECTRUM_HEADER.join(','));
    expect(rows).toHaveLength(1 + nSamples * timesteps.length * k);
    expect(rows[1]).toBe(`0,100,0,${formatFloat32(randomBasis(0, 100).S.data[0])}`);
    expect(rows.at(-1)!.startsWith('2,999,2,')).toBe(true);
    // Every σ reads back as its float32.
    rows.slice(1).forEach((r) => {
      const [s, t, i, sigma] = r.split(',');
      expect(Math.fround(Number(sigma))).toBe(randomBasis(Number(s), Number(t)).S.data[Number(i)]);
    });
  });

  it('frequency.csv: sample,timestep,index,radius,power; every radius bin of every direction', () => {
    const rows = lines(frequencyCsv(result));
    expect(rows[0]).toBe('sample,timestep,index,radius,power');
    expect(rows[0]).toBe(FREQUENCY_HEADER.join(','));
    const bins = radiusBinCount(8, 8);
    expect(rows).toHaveLength(1 + nSamples * timesteps.length * k * bins);
    expect(rows.slice(1, bins + 1).map((r) => r.split(',').slice(0, 4).join(','))).toEqual(Array.from({ length: bins }, (_, r) => `0,100,0,${r}`));
  });

  it('similarity.csv: timestep,space,sample_a,sample_b,geodesic,max_angle; n(n−1)/2 pairs per timestep per space', () => {
    const rows = lines(similarityCsv(result));
    expect(rows[0]).toBe('timestep,space,sample_a,sample_b,geodesic,max_angle');
    expect(rows[0]).toBe(SIMILARITY_HEADER.join(','));
    expect(rows).toHaveLength(1 + timesteps.length * 2 * ((nSamples * (nSamples - 1)) / 2));
    expect(rows.slice(1, 7).map((r) => r.split(',').slice(0, 4).join(','))).toEqual([
      '100,x,0,1',
      '100,x,0,2',
      '100,x,1,2',
      '100,h,0,1',
      '100,h,0,2',
      '100,h,1,2',
    ]);
    for (const r of rows.slice(1)) {
      const [, , a, b, geodesic, maxAngle] = r.split(',').map(Number);
      expect(a).toBeLessThan(b);
      expect(maxAngle).toBeLessThanOrEqual(geodesic + 1e-6);
      expect(geodesic).toBeLessThanOrEqual((Math.sqrt(k) * Math.PI) / 2 + 1e-6);
    }
  });

  it('similarity_t.csv: sample,timestep_a,timestep_b,space,geodesic,max_angle; T(T−1)/2 pairs per sample per space', () => {
    const rows = lines(similarityTimestepCsv(result));
    expect(rows[0]).toBe('sample,timestep_a,timestep_b,space,geodesic,max_angle');
    expect(rows[0]).toBe(SIMILARITY_T_HEADER.join(','));
    const T = timesteps.length;
    expect(rows).toHaveLength(1 + nSamples * 2 * ((T * (T - 1)) / 2));
    expect(rows.slice(1, 4).map((r) => r.split(',').slice(0, 4).join(','))).toEqual(['0,100,400,x', '0,100,400,h', '0,100,700,x']);
    for (const r of rows.slice(1)) {
      const [, ta, tb] = r.split(',').map(Number);
      expect(ta).toBeLessThan(tb);
    }
  });

  it('formatFloat32 prints the shortest decimal that reads back as the same float32', () => {
    const rng = new GaussianRng(3);
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround(rng.normal() * 10 ** Math.floor(rng.uniform() * 20 - 10));
      const s = formatFloat32(x);
      expect(Math.fround(Number(s))).toBe(x);
      const significantDigits = s.replace(/^-|e.*$|\./g, '').replace(/^0+|0+$/g, '');
      expect(significantDigits.length).toBeLessThanOrEqual(9);
    }
    expect(formatFloat32(0.1)).toBe('0.1');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(1.5)).toBe('1.5');
  });
});

/** Synthetic analysis with the paper's trends built in: smooth, shared directions at large t; white noise at small t. */
function trendingResult(paperTrends: boolean): AnalysisResult {
  const timesteps = [100, 500, 900];
  const k = 3;
  const acc = new AnalysisAccumulator({ ...settingsFor(3, timesteps, k), method: 'subspace' });
  const [C, H, W] = [2, 16, 16];
  for (let s = 0; s < 3; s++) {
    for (const t of timesteps) {
      const rng = new GaussianRng(100 * s + t);
      const smooth = paperTrends ? t === 900 : t === 100;
      const noisy = paperTrends ? t === 100 : t === 900;
      const noise = smooth ? 0.02 : noisy ? 10 : 1;
      const V = new Float32Array(k * C * H * W);
      for (let i = 0; i < k; i++) {
        const v = pattern(C, H, W, (x, y, c) => Math.cos((2 * Math.PI * ((i % 2) * x + (i >> 1 || c) * y)) / W + i) + noise * rng.normal());
        const norm = Math.hypot(...v);
        V.set(v.map((e) => e / norm), i * C * H * W);
      }
      const U = gaussianRows(k, [8], new GaussianRng(5 + (noisy ? 50 * s : 0)));
      acc.add(s, t, { ...randomBasis(s, t, k), V: { dims: [k, C, H, W], data: V }, U });
    }
  }
  return acc.result();
}

describe('plots and report in Node', () => {
  const document = parseHTML('<!doctype html><html><body></body></html>').document as unknown as PlotDocument;
  const result = trendingResult(true);

  it('renders every plot to SVG markup with hover titles', () => {
    const overlay = overlayModels([
      { label: 'model A', result },
      { label: 'model B', result: trendingResult(false) },
    ]);
    const elements = [
      plotSigma(result, { document }),
      plotFrequencyHeatmap(result, { document }),
      plotLowFrequencyShare(result, { document }),
      plotSampleDistance(result, { document }),
      plotTimestepDistanceMatrix(result, 1, 'x', { document }),
      plotSampleDistanceMatrix(result, 900, 'h', { document }),
      plotLowFrequencyShareOverlay(overlay, { document }),
      plotSampleDistanceOverlay(overlay, { document }),
    ];
    for (const element of elements) {
      const markup = svgMarkup(element);
      expect(markup).toContain('<svg');
      expect(markup).toContain('<title>');
      expect(markup).toMatch(/<figcaption|<h2/); // the titled figure, not a bare SVG
    }
    expect(svgMarkup(elements[0])).toContain('σ_0 at t = 900');
    expect(svgMarkup(elements[6])).toContain('model B');
    const bare = svgMarkup(plotSigma(result, { document, bare: true }));
    expect(bare.startsWith('<svg')).toBe(true);
    expect(standaloneSvg(bare)).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('also renders a partial result (one basis)', () => {
    const acc = new AnalysisAccumulator(settingsFor(2, [100, 900]));
    acc.add(1, 900, randomBasis(1, 900));
    const figures = analysisFigures(acc.result(), { document });
    expect(figures.map((f) => f.id)).toEqual([
      'sigma',
      'frequency',
      'low-frequency-share',
      'sample-distance',
      'timestep-distance-matrix-s0-x',
      'sample-distance-matrix-t900-x',
      'sample-distance-matrix-t100-x',
    ]);
    for (const f of figures) expect(f.markup).toContain('<svg');
    expect(findings(acc.result())[0]).toBe('Partial result: 1 of 4 bases so far.');
  });

  it('writes findings computed from the data: the paper trends, and their absence', () => {
    const withTrends = findings(result).join('\n');
    expect(withTrends).toMatch(/low-frequency share .* it falls as t → 0/);
    expect(withTrends).toMatch(/distance between samples in x_t .* it grows as t → 0/);
    expect(withTrends).toMatch(/distance between samples in h .* it grows as t → 0/);
    const without = findings(trendingResult(false)).join('\n');
    expect(without).toMatch(/it does not fall as t → 0/);
    expect(without).toMatch(/in x_t .* it does not grow as t → 0/);
  });

  it('renders a self-contained report with settings, bases, figures and the model card link', () => {
    const labelled: AnalysisResult = structuredClone(result);
    labelled.settings.samples[0].label = '<b>seed</b> & co';
    const html = renderReportHtml(labelled, analysisFigures(labelled, { document }), {
      modelCardPath: 'models/ddpm-cifar/MODEL_CARD.md',
      generatedAt: '2025-01-01T00:00:00Z',
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).toContain('<a href="models/ddpm-cifar/MODEL_CARD.md">models/ddpm-cifar/MODEL_CARD.md</a>');
    expect(html).toContain('&lt;b&gt;seed&lt;/b&gt; &amp; co');
    expect(html).not.toContain('<b>seed</b>');
    expect(html).toContain('abc123');
    expect(html).toContain('it falls as t → 0');
    // Nothing external and nothing executable.
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|url\(/i);
    expect((html.match(/<tr>/g) ?? []).length).toBeGreaterThan(9);
  });

  it('renders the across-models report, and refuses two models with one label', () => {
    const models = [
      { label: 'cifar', result },
      { label: 'celeba', result: trendingResult(false) },
    ];
    const html = renderReportHtml(models, overlayFigures(overlayModels(models), { document }));
    expect(html).toContain('<h2>cifar</h2>');
    expect(html).toContain('<h2>celeba</h2>');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(() => overlayModels([models[0], models[0]])).toThrow(RangeError);
  });

  it('writes every output file', async () => {
    const files = analysisOutputFiles(result, { document, modelCardPath: 'MODEL_CARD.md' });
    expect(Object.keys(files).sort()).toEqual(
      [
        'frequency.csv',
        'plots/frequency.svg',
        'plots/low-frequency-share.svg',
        'plots/sample-distance-matrix-t100-x.svg',
        'plots/sample-distance-matrix-t900-x.svg',
        'plots/sample-distance.svg',
        'plots/sigma.svg',
        'plots/timestep-distance-matrix-s0-x.svg',
        'report.html',
        'analysis.json',
        'similarity.csv',
        'similarity_t.csv',
        'spectrum.csv',
      ].sort(),
    );
    expect(JSON.parse(files['analysis.json'])).toEqual(result);
    const folder = await mkdtemp(join(tmpdir(), 'pullback-analysis-'));
    try {
      await writeAnalysisOutputs(folder, files);
      expect(await readFile(join(folder, 'plots', 'sigma.svg'), 'utf8')).toBe(files['plots/sigma.svg']);
      expect(await readFile(join(folder, 'similarity.csv'), 'utf8')).toBe(files['similarity.csv']);
      await expect(writeAnalysisOutputs(folder, { '../escape.txt': 'x' })).rejects.toThrow(RangeError);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
