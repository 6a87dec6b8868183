/**
 * CSV tables of an analysis, for scripts that re-plot or test the numbers. `sample` is the 0-based input
 * position, `timestep` the exact integer fed to the U-Net; rows follow the result's canonical order. Every row
 * ends in "\n", with no quoting (all fields are numbers or x/h; prompts are indices into analysis.json's
 * settings.prompts, whose text may hold commas).
 */
import type { AnalysisResult } from './result';

/**
 * The shortest decimal that reads back as the same float32: values come from float32 tensors or are
 * float32-accurate at best, so more digits would only print noise, and fewer would not round-trip.
 */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const target = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return String(candidate);
  }
  return String(Number(target.toPrecision(9)));
}

/** Integer columns print as themselves; the callers format real-valued ones with formatFloat32. */
function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => `${row.join(',')}\n`).join('');
}

export const SPECTRUM_HEADER = ['sample', 'timestep', 'index', 'sigma'] as const;
export const FREQUENCY_HEADER = ['sample', 'timestep', 'index', 'radius', 'power'] as const;
export const SIMILARITY_HEADER = ['timestep', 'space', 'sample_a', 'sample_b', 'geodesic', 'max_angle'] as const;
export const SIMILARITY_T_HEADER = ['sample', 'timestep_a', 'timestep_b', 'space', 'geodesic', 'max_angle'] as const;

/** spectrum.csv: σ_i of every basis. */
export function spectrumCsv(result: AnalysisResult): string {
  return table(
    SPECTRUM_HEADER,
    result.bases.flatMap((b) => b.sigma.map((sigma, index) => [b.sample, b.timestep, index, formatFloat32(sigma)])),
  );
}

/** frequency.csv: every radius bin of every direction of every basis. */
export function frequencyCsv(result: AnalysisResult): string {
  return table(
    FREQUENCY_HEADER,
    result.bases.flatMap((b) =>
      b.power.flatMap((bins, index) => bins.map((power, radius) => [b.sample, b.timestep, index, radius, formatFloat32(power)])),
    ),
  );
}

/** similarity.csv: every sample pair a < b at every timestep, x then h. */
export function similarityCsv(result: AnalysisResult): string {
  return table(
    SIMILARITY_HEADER,
    result.sampleSimilarities.map((s) => [s.timestep, s.space, s.sampleA, s.sampleB, formatFloat32(s.geodesic), formatFloat32(s.maxAngle)]),
  );
}

/** similarity_t.csv: every timestep pair t_a < t_b of every sample, x then h. */
export function similarityTimestepCsv(result: AnalysisResult): string {
  return table(
    SIMILARITY_T_HEADER,
    result.timestepSimilarities.map((s) => [s.sample, s.timestepA, s.timestepB, s.space, formatFloat32(s.geodesic), formatFloat32(s.maxAngle)]),
  );
}

export const PROMPT_SIMILARITY_HEADER = ['prompt_a', 'prompt_b', 'embedding_cosine'] as const;
export const PROMPT_CORRELATION_HEADER = ['timestep', 'space', 'pairs', 'pearson'] as const;

/** prompt_similarity.csv: cosine of the flattened text embeddings of prompts a < b (indices into settings.prompts). */
export function promptSimilarityCsv(result: AnalysisResult): string {
  return table(PROMPT_SIMILARITY_HEADER, (result.promptSimilarities ?? []).map((p) => [p.promptA, p.promptB, formatFloat32(p.cosine)]));
}

/**
 * prompt_correlation.csv: per timestep and space, Pearson r between embedding cosine and geodesic distance over the
 * same-input pairs; `pearson` is empty where r is undefined (one pair, or only two prompts).
 */
export function promptCorrelationCsv(result: AnalysisResult): string {
  return table(
    PROMPT_CORRELATION_HEADER,
    (result.promptCorrelations ?? []).map((c) => [c.timestep, c.space, c.pairs, c.pearson === null ? '' : formatFloat32(c.pearson)]),
  );
}

/** The four tables by file name, and the two prompt tables when the analysis has ≥ 2 prompts. */
export function analysisCsvFiles(result: AnalysisResult): Record<string, string> {
  return {
    'spectrum.csv': spectrumCsv(result),
    'frequency.csv': frequencyCsv(result),
    'similarity.csv': similarityCsv(result),
    'similarity_t.csv': similarityTimestepCsv(result),
    ...(result.promptSimilarities
      ? { 'prompt_similarity.csv': promptSimilarityCsv(result), 'prompt_correlation.csv': promptCorrelationCsv(result) }
      : {}),
  };
}
