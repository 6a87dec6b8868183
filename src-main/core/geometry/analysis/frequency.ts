/**
 * Frequency content of latent directions (method.md §6.2: low frequencies dominate at large t, high ones at
 * small t). Each direction v ∈ [C, H, W] gets a 2-D DFT per channel; |F|² is summed over channels and binned by
 * the rounded radius r = round(√(kx² + ky²)) of its integer frequencies (cycles per image, in [−n/2, n/2)).
 *
 * Everything runs in float64 (a latent is at most a few thousand values per channel, so this is cheap) so the
 * binned spectrum matches a direct DFT to ~1e-12 and Parseval holds to rounding.
 */
import FFT from 'fft.js';
import type { Tensor } from '../../tensor';
import { sizeOf } from '../../tensor';
import { GeometryError } from '../errors';

/** In-place complex DFT of one line (rows or columns of a channel). */
type LineTransform = (re: Float64Array, im: Float64Array) => void;

/** Integer frequency (cycles per image) of FFT output index j on an axis of n samples, in [−n/2, n/2). */
export function fftFrequency(j: number, n: number): number {
  return j < n / 2 ? j : j - n;
}

/** Radius bin of integer frequencies (kx, ky). */
export function frequencyRadius(kx: number, ky: number): number {
  return Math.round(Math.hypot(kx, ky));
}

/** Number of radius bins of an H × W grid: the largest radius (the corner (−W/2, −H/2)) plus one. */
export function radiusBinCount(height: number, width: number): number {
  return frequencyRadius(Math.floor(width / 2), Math.floor(height / 2)) + 1;
}

/** Bins at radius ≤ W/8 cycles per image: the "coarse" band whose share the analysis tracks over t. */
export function lowFrequencyShare(power: readonly number[], width: number): number {
  const cutoff = Math.floor(width / 8);
  let share = 0;
  for (let r = 0; r <= cutoff && r < power.length; r++) share += power[r];
  return share;
}

function isPowerOfTwo(n: number): boolean {
  return n > 1 && (n & (n - 1)) === 0;
}

function fftLineTransform(n: number): LineTransform {
  const fft = new FFT(n);
  const input = fft.createComplexArray() as number[];
  const output = fft.createComplexArray() as number[];
  return (re, im) => {
    for (let j = 0; j < n; j++) {
      input[2 * j] = re[j];
      input[2 * j + 1] = im[j];
    }
    fft.transform(output, input);
    for (let j = 0; j < n; j++) {
      re[j] = output[2 * j];
      im[j] = output[2 * j + 1];
    }
  };
}

/**
 * Direct O(n²) DFT for axes fft.js cannot take (not a power of two, or length 1). Latent sides are powers of
 * two for every model we ship, so this only has to be correct, not fast.
 */
function directLineTransform(n: number): LineTransform {
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / n);
    sin[j] = Math.sin((2 * Math.PI * j) / n);
  }
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  return (re, im) => {
    for (let f = 0; f < n; f++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        // e^{−2πi f j / n}; (f·j) mod n keeps the twiddle index exact.
        const w = (f * j) % n;
        sr += re[j] * cos[w] + im[j] * sin[w];
        si += im[j] * cos[w] - re[j] * sin[w];
      }
      outRe[f] = sr;
      outIm[f] = si;
    }
    re.set(outRe);
    im.set(outIm);
  };
}

function lineTransform(n: number): LineTransform {
  return isPowerOfTwo(n) ? fftLineTransform(n) : directLineTransform(n);
}

function gridOf(dims: readonly number[]): { channels: number; height: number; width: number } {
  if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new GeometryError('bad-shape', `a direction needs dims [..., H, W] of positive integers, got [${dims.join(', ')}]`);
  }
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  return { channels: sizeOf(dims.slice(0, -2)), height, width };
}

/**
 * |F|² of the 2-D DFT of each H × W channel, summed over channels; index ky·W + kx in FFT order (unshifted).
 * `dims` are the direction's own dims ([C, H, W], or any leading dims that all count as channels).
 */
export function powerSpectrum2d(values: ArrayLike<number>, dims: readonly number[]): Float64Array {
  const { channels, height, width } = gridOf(dims);
  const plane = height * width;
  if (values.length !== channels * plane) {
    throw new GeometryError('bad-shape', `direction has ${values.length} values but dims [${dims.join(', ')}] need ${channels * plane}`);
  }
  const alongRows = lineTransform(width);
  const alongColumns = lineTransform(height);
  const re = new Float64Array(plane);
  const im = new Float64Array(plane);
  const rowRe = new Float64Array(width);
  const rowIm = new Float64Array(width);
  const colRe = new Float64Array(height);
  const colIm = new Float64Array(height);
  const power = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) {
      re[i] = values[c * plane + i];
      im[i] = 0;
    }
    for (let y = 0; y < height; y++) {
      rowRe.set(re.subarray(y * width, (y + 1) * width));
      rowIm.set(im.subarray(y * width, (y + 1) * width));
      alongRows(rowRe, rowIm);
      re.set(rowRe, y * width);
      im.set(rowIm, y * width);
    }
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        colRe[y] = re[y * width + x];
        colIm[y] = im[y * width + x];
      }
      alongColumns(colRe, colIm);
      for (let y = 0; y < height; y++) power[y * width + x] += colRe[y] * colRe[y] + colIm[y] * colIm[y];
    }
  }
  return power;
}

export interface RadialSpectrum {
  /** Share of the direction's power per radius bin (index = radius, cycles per image); sums to 1. */
  power: number[];
  /** Σ|F|² before normalisation; equals H·W·‖v‖² (Parseval). */
  totalPower: number;
}

/** Radially binned, normalised power spectrum of one direction with dims [..., H, W]. */
export function radialPowerSpectrum(values: ArrayLike<number>, dims: readonly number[]): RadialSpectrum {
  const { height, width } = gridOf(dims);
  const power2d = powerSpectrum2d(values, dims);
  const bins = new Array<number>(radiusBinCount(height, width)).fill(0);
  let totalPower = 0;
  for (let y = 0; y < height; y++) {
    const ky = fftFrequency(y, height);
    for (let x = 0; x < width; x++) {
      const p = power2d[y * width + x];
      bins[frequencyRadius(fftFrequency(x, width), ky)] += p;
      totalPower += p;
    }
  }
  // A zero direction has no spectrum; all-zero bins say so without NaNs in CSVs and plots.
  const power = totalPower > 0 ? bins.map((p) => p / totalPower) : bins;
  return { power, totalPower };
}

/** One radial spectrum per row of V [k, ...x]. */
export function directionSpectra(V: Tensor): RadialSpectrum[] {
  const [k, ...itemDims] = V.dims;
  const n = sizeOf(itemDims);
  const spectra: RadialSpectrum[] = [];
  for (let i = 0; i < k; i++) spectra.push(radialPowerSpectrum(V.data.subarray(i * n, (i + 1) * n), itemDims));
  return spectra;
}
