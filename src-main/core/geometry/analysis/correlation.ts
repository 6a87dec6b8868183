/** Correlation of two samples, shared by the analysis summary (rank correlation over t) and the prompt analysis. */
import { GeometryError } from '../errors';

/** Pearson r; null when fewer than two points or either variable is constant (r is undefined there, not 0). */
export function pearsonOrNull(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new GeometryError('bad-shape', `pearson needs equal lengths, got ${x.length} and ${y.length}`);
  if (x.length < 2) return null;
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  // Relative tests: equal prompts' cosines can differ in the last bits, which is no spread to correlate.
  const tiny = (ss: number, m: number) => ss <= 1e-24 * Math.max(1, m * m) * x.length;
  if (tiny(sxx, mx) || tiny(syy, my)) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}
