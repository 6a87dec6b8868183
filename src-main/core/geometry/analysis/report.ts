/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with the settings,
 * the per-basis statistics, the figures and a few sentences computed from the data that say whether the
 * paper's trends (method.md §6.2–6.3) show up: low-frequency share falling and inter-sample distance growing
 * as t → 0.
 */
import type { AnalysisFigure } from './plots';
import type { AnalysisResult, AnalysisSample } from './result';
import { isComplete } from './result';
import type { SubspaceSpace } from './similarity';
import { promptCorrelations } from './prompts';
import { lowFrequencyShareSummary, sampleDistanceSummary, sigmaSummary, trendTowardZero } from './summary';
import type { ModelResult, TrendTowardZero } from './summary';

export interface ReportOptions {
  /** Page heading; default "Geometry analysis". */
  title?: string;
  /** Path of the model card, shown as a link (not loaded). */
  modelCardPath?: string;
  /** Shown under the heading; passed in (not read from the clock) so a report is reproducible byte for byte. */
  generatedAt?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '–';
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1d1d1f; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.5em; }
.meta { color: #666; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f6; } td.text, th.text { text-align: left; }
.figures section { margin: 1.5em 0; } .findings li { margin: 0.3em 0; }
.partial { background: #fff4d6; border: 1px solid #e8c45c; padding: 0.5em 0.8em; }
`;

function table(header: readonly string[], rows: readonly (readonly string[])[], textColumns: readonly number[] = []): string {
  const cell = (tag: 'th' | 'td', value: string, i: number) =>
    `<${tag}${textColumns.includes(i) ? ' class="text"' : ''}>${escapeHtml(value)}</${tag}>`;
  const head = `<tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

function describeSource(sample: AnalysisSample): string {
  const s = sample.source;
  return s.kind === 'seed' ? `seed ${s.seed}` : `${s.kind} ${s.file}`;
}

function settingsTable(result: AnalysisResult): string {
  const s = result.settings;
  const rows: string[][] = [
    ['model hash', s.modelHash],
    ['k (directions)', String(s.k)],
    ['method', s.method],
    ['tol', String(s.tol)],
    ['schedule steps', String(s.steps)],
    ['timesteps', s.timesteps.join(', ')],
    ['samples', String(s.samples.length)],
  ];
  if (s.h !== undefined) rows.push(['h tensor', s.h]);
  if (s.basisSeed !== undefined) rows.push(['basis seed', String(s.basisSeed)]);
  if (s.prompts) {
    rows.push(['prompts', s.prompts.map((p, i) => `${i}: "${p}"`).join('; ')]);
    if (s.negativePrompt !== undefined) rows.push(['negative prompt', `"${s.negativePrompt}"`]);
    if (s.guidanceScale !== undefined) rows.push(['guidance scale', String(s.guidanceScale)]);
  }
  return table(['setting', 'value'], rows, [0, 1]);
}

function samplesTable(result: AnalysisResult): string {
  return table(
    ['sample', 'label', 'source', 'prompt'],
    result.settings.samples.map((s, i) => [String(i), s.label, describeSource(s), s.prompt ?? '']),
    [1, 2, 3],
  );
}

function basesTable(result: AnalysisResult): string {
  const k = result.settings.k;
  return table(
    ['sample', 'timestep', 'σ_0', `σ_${k - 1}`, 'low-freq share (mean)', 'iterations', 'converged', 'Jacobian products', 'max residual', 'seconds', 'cache hit', 'warm start'],
    result.bases.map((b) => [
      String(b.sample),
      String(b.timestep),
      num(b.sigma[0]),
      num(b.sigma[b.sigma.length - 1]),
      num(b.lowFrequencyShare.reduce((a, v) => a + v, 0) / Math.max(1, b.lowFrequencyShare.length)),
      String(b.iterations),
      b.converged ? 'yes' : 'no',
      String(b.jacobianProducts.total),
      num(b.residualMax),
      num(b.seconds),
      b.cacheHit ? 'yes' : 'no',
      b.warmStarted ? 'yes' : 'no',
    ]),
  );
}

function change(trend: TrendTowardZero, quantity: string): string {
  return `${quantity} goes from ${num(trend.atLargest)} at t = ${trend.largestTimestep} to ${num(trend.atSmallest)} at t = ${trend.smallestTimestep} (Spearman ρ with t = ${num(trend.rankCorrelation)})`;
}

/** Sentences on the paper's trends, each computed from this result. Exported for tests and the UI. */
export function findings(result: AnalysisResult): string[] {
  const out: string[] = [];
  const { samples, timesteps } = result.settings;
  if (!isComplete(result)) out.push(`Partial result: ${result.bases.length} of ${samples.length * timesteps.length} bases so far.`);

  const lowFrequency = trendTowardZero(lowFrequencyShareSummary(result));
  if (!lowFrequency) {
    out.push('Frequency content: a trend over t needs bases at two or more timesteps.');
  } else {
    const falls = lowFrequency.atSmallest < lowFrequency.atLargest && lowFrequency.rankCorrelation > 0;
    out.push(
      `${change(lowFrequency, 'The low-frequency share (radius ≤ W/8)')}: it ${falls ? 'falls' : 'does not fall'} as t → 0` +
        (falls
          ? ', i.e. the directions get finer as generation proceeds (coarse-to-fine), as Park et al. report.'
          : ', unlike the coarse-to-fine trend Park et al. report.'),
    );
  }

  const distances = sampleDistanceSummary(result);
  for (const space of ['x', 'h'] as const satisfies readonly SubspaceSpace[]) {
    const trend = trendTowardZero(distances.filter((d) => d.space === space));
    const name = space === 'x' ? 'x_t' : 'h';
    if (!trend) {
      if (space === 'x') out.push('Distance between samples: a trend over t needs two or more samples at two or more timesteps.');
      continue;
    }
    const grows = trend.atSmallest > trend.atLargest && trend.rankCorrelation < 0;
    out.push(
      `${change(trend, `The mean geodesic distance between samples in ${name} (radians)`)}: it ${grows ? 'grows' : 'does not grow'} as t → 0` +
        (grows ? ', i.e. tangent spaces of different samples diverge during generation, as Park et al. report.' : ', unlike the divergence Park et al. report.'),
    );
  }

  if (result.promptSimilarities) out.push(promptFinding(result));

  const sigma0 = trendTowardZero(sigmaSummary(result).filter((p) => p.index === 0));
  if (sigma0) out.push(`${change(sigma0, 'The mean largest singular value σ_0')}.`);

  const unconverged = result.bases.filter((b) => !b.converged).length;
  const hits = result.bases.filter((b) => b.cacheHit).length;
  const products = result.bases.reduce((a, b) => a + b.jacobianProducts.total, 0);
  const seconds = result.bases.reduce((a, b) => a + b.seconds, 0);
  out.push(
    `${result.bases.length} bases (${hits} from the cache), ${products} Jacobian products, ${num(seconds)} s in total; ` +
      (unconverged ? `${unconverged} did not converge to tol ${result.settings.tol}.` : `all converged to tol ${result.settings.tol}.`),
  );
  return out;
}

/** The across-prompts line: r(embedding cosine, geodesic) in x at the largest and smallest t, or why there is none. */
function promptFinding(result: AnalysisResult): string {
  const P = result.settings.prompts?.length ?? 0;
  const x = (result.promptCorrelations ?? promptCorrelations(result)).filter((c) => c.space === 'x');
  const defined = x.filter((c): c is typeof c & { pearson: number } => c.pearson !== null);
  const head = `Across ${P} prompts: Pearson r between the cosine of the prompts' flattened text embeddings and the geodesic distance in x_t over same-input pairs`;
  if (defined.length === 0) {
    return `${head} is undefined here (${x[0]?.pairs ?? 0} pair(s) per timestep${P < 3 ? '; it needs three or more prompts, so that the embedding similarity varies' : ''}).`;
  }
  const hi = defined[defined.length - 1];
  const lo = defined[0];
  const at = (c: (typeof defined)[number]) => `${num(c.pearson)} at t = ${c.timestep} (${c.pairs} pairs)`;
  return `${head}: ${hi === lo ? at(hi) : `${at(hi)}, ${at(lo)}`}; r < 0 means more similar prompts give closer tangent spaces.`;
}

function modelSection(result: AnalysisResult, heading: string | undefined): string {
  return [
    heading ? `<h2>${escapeHtml(heading)}</h2>` : '',
    '<h3>Findings</h3>',
    `<ul class="findings">${findings(result).map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`,
    isComplete(result) ? '' : '<p class="partial">This report was written while the analysis was still running.</p>',
    '<h3>Settings</h3>',
    settingsTable(result),
    '<h3>Samples</h3>',
    samplesTable(result),
    '<h3>Bases</h3>',
    basesTable(result),
  ].join('\n');
}

/**
 * The report of one analysis, or of several models' analyses side by side (then `figures` would hold the
 * overlay figures too). Figures' markup is inserted as it is: it must come from plots.ts, not from user input.
 */
export function renderReportHtml(results: AnalysisResult | readonly ModelResult[], figures: readonly AnalysisFigure[], options: ReportOptions = {}): string {
  const models: readonly ModelResult[] = 'format' in results ? [{ label: '', result: results }] : results;
  const title = options.title ?? 'Geometry analysis';
  const meta: string[] = [];
  if (options.generatedAt) meta.push(`Generated ${escapeHtml(options.generatedAt)}.`);
  if (options.modelCardPath) {
    meta.push(`Model card: <a href="${escapeHtml(options.modelCardPath)}">${escapeHtml(options.modelCardPath)}</a>`);
  }
  const sections = models.map((m) => modelSection(m.result, models.length > 1 ? m.label : undefined));
  const figureSections = figures.map((f) => `<section id="${escapeHtml(f.id)}">\n${f.markup}\n</section>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    meta.length ? `<p class="meta">${meta.join(' ')}</p>` : '',
    '<p>Local bases of ∂h/∂x_t (Park et al., NeurIPS 2023): singular values σ_i, frequency content of the latent directions v_i, and geodesic distances ‖θ‖₂ on the Grassmannian between tangent spaces.</p>',
    ...sections,
    figures.length ? `<h2>Figures</h2>\n<div class="figures">\n${figureSections.join('\n')}\n</div>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
