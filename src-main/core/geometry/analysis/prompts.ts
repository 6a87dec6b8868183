/**
 * Prompts in the analyses (issue 11 item 5): with P prompts, the samples are inputs × prompts, input-major
 * (sample = input · P + prompt), and two samples of the same input at different prompts show how the prompt moves
 * the tangent space. Here: the text-embedding similarity of every prompt pair, and at each timestep and space the
 * Pearson correlation, over all such same-input pairs, between that similarity and the pair's geodesic distance.
 *
 * The similarity is the cosine of the *flattened* embeddings (last_hidden_state, [L·D]), not of CLIP's pooled
 * vector: the flattened tensor is exactly what the U-Net's cross-attention (and so J) reads, whereas SD 1.x/2.x
 * U-Nets never see the pooled one. Its cosine has a high floor (every prompt shares the BOS, padding and position
 * content), but a Pearson correlation is invariant to an affine change of one variable, so the floor does not bias r.
 *
 * Pure maths on plain arrays: the engine supplies the embeddings.
 */
import { GeometryError } from '../errors';
import { pearsonOrNull } from './correlation';
import type { AnalysisResult } from './result';
import type { SubspaceSpace } from './similarity';
import { SUBSPACE_SPACES } from './similarity';

/** Cosine of the text embeddings of prompts a < b (indices into settings.prompts). */
export interface PromptSimilarity {
  promptA: number;
  promptB: number;
  cosine: number;
}

/** At one timestep and space: Pearson r between embedding cosine and geodesic distance over same-input pairs. */
export interface PromptCorrelation {
  timestep: number;
  space: SubspaceSpace;
  /** Same-input, different-prompt sample pairs whose two bases exist. */
  pairs: number;
  /** null when it is undefined: fewer than 2 pairs, or no spread in either variable (e.g. only two prompts). */
  pearson: number | null;
}

/** cos(a, b) in float64; 0-length or zero vectors are refused (a cosine of nothing is no similarity). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new GeometryError('bad-shape', `cosine needs two vectors of one non-zero length, got ${a.length} and ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) throw new GeometryError('bad-option', 'cosine of a zero vector is undefined');
  // Rounding can push |cos| of (nearly) parallel vectors just past 1.
  return Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
}

/** Every pair a < b of the prompts' flattened embeddings. */
export function promptSimilarities(embeddings: readonly ArrayLike<number>[]): PromptSimilarity[] {
  const out: PromptSimilarity[] = [];
  for (let a = 0; a < embeddings.length; a++) {
    for (let b = a + 1; b < embeddings.length; b++) out.push({ promptA: a, promptB: b, cosine: cosineSimilarity(embeddings[a], embeddings[b]) });
  }
  return out;
}

/** The same-input, different-prompt pairs of one timestep and space, with both variables; for tests and plots. */
export interface PromptPair {
  timestep: number;
  space: SubspaceSpace;
  sampleA: number;
  sampleB: number;
  input: number;
  promptA: number;
  promptB: number;
  cosine: number;
  geodesic: number;
}

/** Pairs of samples with the same input and different prompts, from the result's sample similarities. */
export function promptPairs(result: AnalysisResult): PromptPair[] {
  const samples = result.settings.samples;
  const cosines = new Map((result.promptSimilarities ?? []).map((p) => [`${p.promptA}/${p.promptB}`, p.cosine]));
  const out: PromptPair[] = [];
  for (const s of result.sampleSimilarities) {
    const a = samples[s.sampleA];
    const b = samples[s.sampleB];
    if (a?.input === undefined || b?.input === undefined || a.promptIndex === undefined || b.promptIndex === undefined) continue;
    if (a.input !== b.input || a.promptIndex === b.promptIndex) continue;
    const [pa, pb] = a.promptIndex < b.promptIndex ? [a.promptIndex, b.promptIndex] : [b.promptIndex, a.promptIndex];
    const cosine = cosines.get(`${pa}/${pb}`);
    if (cosine === undefined) continue;
    out.push({ timestep: s.timestep, space: s.space, sampleA: s.sampleA, sampleB: s.sampleB, input: a.input, promptA: pa, promptB: pb, cosine, geodesic: s.geodesic });
  }
  return out;
}

/**
 * At each timestep and space with at least one same-input pair: r(cosine, geodesic) over those pairs. A negative r
 * means prompts with more similar embeddings give closer tangent spaces. Works on partial results.
 */
export function promptCorrelations(result: AnalysisResult): PromptCorrelation[] {
  const pairs = promptPairs(result);
  const out: PromptCorrelation[] = [];
  for (const timestep of result.settings.timesteps) {
    for (const space of SUBSPACE_SPACES) {
      const here = pairs.filter((p) => p.timestep === timestep && p.space === space);
      if (here.length === 0) continue;
      out.push({ timestep, space, pairs: here.length, pearson: pearsonOrNull(here.map((p) => p.cosine), here.map((p) => p.geodesic)) });
    }
  }
  return out;
}
