/**
 * Plots of an analysis with Observable Plot. Every function takes the `document` to build in, so the same code
 * renders in the renderer (window.document) and in Node (a linkedom document) for report.html and .svg files.
 *
 * Hovering a point or cell in a browser shows its value (the `title` channel); the same text is in the SVG as
 * <title> elements. Timestep axes run from large t to small t (left to right): generation order, in which the
 * paper's trends (coarse-to-fine, diverging samples) read left to right.
 */
import * as Plot from '@observablehq/plot';
import type { AnalysisResult } from './result';
import type { SubspaceSpace } from './similarity';
import {
  frequencySummary,
  lowFrequencyShareSummary,
  sampleDistanceMatrix,
  sampleDistanceSummary,
  sigmaSummary,
  timestepDistanceMatrix,
} from './summary';
import type { ModelOverlay } from './summary';

/** The DOM Document Plot builds in (typed through Plot so core needs no DOM lib). */
export type PlotDocument = NonNullable<Plot.PlotOptions['document']>;
export type PlotElement = ReturnType<typeof Plot.plot>;

export interface PlotRenderOptions {
  document: PlotDocument;
  width?: number;
  height?: number;
  /** A plain <svg> without title, caption or legends (a standalone .svg file); default false: a <figure>. */
  bare?: boolean;
}

export interface AnalysisFigure {
  /** File-name-safe id, e.g. "sigma" or "sample-distance-matrix-t100-x". */
  id: string;
  title: string;
  /** outerHTML of the figure (or bare <svg>). */
  markup: string;
}

const SPACE_NAMES: Record<SubspaceSpace, string> = { x: 'x_t (latent)', h: 'h (U-Net h-space)' };
const TIMESTEP_LABEL = 'timestep t (U-Net input; generation runs →)';
const DISTANCE_LABEL = 'geodesic distance ‖θ‖₂ (radians)';

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '–';
}

function meanText(mean: number, std: number, count: number, of: string): string {
  return count > 1 ? `${formatValue(mean)} ± ${formatValue(std)} (mean ± std over ${count} ${of})` : formatValue(mean);
}

/**
 * Plot draws continuous colour legends on a <canvas>, which a DOM without canvas support (linkedom) cannot
 * do; there the legend (and the colours) fall back to nine quantized steps, which are drawn as rects.
 */
function sequentialColor(document: PlotDocument, label: string, type: 'linear' | 'sqrt'): Plot.ScaleOptions {
  // Structural view: core is compiled without the DOM lib, where Document has no createElement('canvas').
  const probe = document as unknown as { createElement(tag: string): { getContext?: (kind: string) => unknown } };
  let canvas2d = false;
  try {
    canvas2d = Boolean(probe.createElement('canvas').getContext?.('2d'));
  } catch {
    canvas2d = false;
  }
  return canvas2d ? { type, scheme: 'viridis', legend: true, label } : { type: 'quantize', n: 9, scheme: 'viridis', legend: true, label };
}

function render(options: Plot.PlotOptions, frame: { title: string; caption?: string }, opts: PlotRenderOptions): PlotElement {
  const { document, width = 640, height, bare = false } = opts;
  return Plot.plot({
    width,
    ...(height !== undefined ? { height } : {}),
    marginLeft: 60,
    ...options,
    ...(options.color ? { color: { ...options.color, ...(bare ? { legend: false } : {}) } } : {}),
    ...(bare ? {} : { title: frame.title, caption: frame.caption }),
    document,
  });
}

/** (a) Mean σ_i over samples against t, log scale, one line per direction index. */
export function plotSigma(result: AnalysisResult, opts: PlotRenderOptions): PlotElement {
  const data = sigmaSummary(result).filter((p) => p.mean > 0);
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { type: 'log', label: 'σ_i = ‖J v_i‖ (h units per unit of x_t; log scale)', grid: true },
      color: { type: 'ordinal', legend: true, label: 'direction index i' },
      marks: [
        Plot.line(data, { x: 'timestep', y: 'mean', stroke: 'index', z: 'index' }),
        Plot.dot(data, {
          x: 'timestep',
          y: 'mean',
          fill: 'index',
          r: 2.5,
          title: (p: (typeof data)[number]) => `σ_${p.index} at t = ${p.timestep}: ${meanText(p.mean, p.std, p.count, 'samples')}`,
        }),
      ],
    },
    { title: 'Singular values σ_i of ∂h/∂x_t over t', caption: `Mean over samples; k = ${result.settings.k}, ${result.settings.method}.` },
    opts,
  );
}

function radiusTicks(bins: number): number[] {
  const step = Math.max(1, Math.ceil(bins / 12));
  return Array.from({ length: bins }, (_, r) => r).filter((r) => r % step === 0);
}

/** (b) t × radius heat map of the mean normalised power of the directions. */
export function plotFrequencyHeatmap(result: AnalysisResult, opts: PlotRenderOptions): PlotElement {
  const data = frequencySummary(result);
  const bins = Math.max(0, ...data.map((c) => c.radius + 1));
  const width = result.bases[0]?.width;
  const cutoffNote = width ? ` The low-frequency band is radius ≤ W/8 = ${Math.floor(width / 8)} (W = ${width}).` : '';
  return render(
    {
      // A fixed height: one band per radius bin would make a 64×64 latent's 46 bins a tall strip.
      height: 360,
      x: { type: 'band', label: TIMESTEP_LABEL, reverse: true, padding: 0 },
      y: { type: 'band', label: 'radius (cycles per image)', reverse: true, ticks: radiusTicks(bins), padding: 0 },
      color: sequentialColor(opts.document, 'mean share of power per radius bin (fraction)', 'sqrt'),
      marks: [
        Plot.cell(data, {
          x: 'timestep',
          y: 'radius',
          fill: 'mean',
          inset: 0,
          title: (c: (typeof data)[number]) => `t = ${c.timestep}, radius ${c.radius}: ${meanText(c.mean, c.std, c.count, 'directions')}`,
        }),
      ],
    },
    {
      title: 'Frequency content of the directions v_i over t',
      caption: `Radially binned power spectra, each direction normalised to sum 1, averaged over samples and directions.${cutoffNote}`,
    },
    opts,
  );
}

/** (c) Mean low-frequency share (radius ≤ W/8) against t, with a ±std band. */
export function plotLowFrequencyShare(result: AnalysisResult, opts: PlotRenderOptions): PlotElement {
  const data = lowFrequencyShareSummary(result);
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { domain: [0, 1], label: 'low-frequency share (power at radius ≤ W/8, fraction)', grid: true },
      marks: [
        Plot.areaY(data, { x: 'timestep', y1: (p: (typeof data)[number]) => Math.max(0, p.mean - p.std), y2: (p: (typeof data)[number]) => Math.min(1, p.mean + p.std), fillOpacity: 0.15 }),
        Plot.line(data, { x: 'timestep', y: 'mean' }),
        Plot.dot(data, {
          x: 'timestep',
          y: 'mean',
          fill: 'currentColor',
          r: 2.5,
          title: (p: (typeof data)[number]) => `t = ${p.timestep}: ${meanText(p.mean, p.std, p.count, 'directions')}`,
        }),
      ],
    },
    { title: 'Low-frequency share of the directions over t', caption: 'Mean ± std over samples and directions; coarse-to-fine generation shows as a share that falls towards t = 0.' },
    opts,
  );
}

/** (d) Mean ± std of the geodesic distance between samples against t, for x and h. */
export function plotSampleDistance(result: AnalysisResult, opts: PlotRenderOptions): PlotElement {
  const data = sampleDistanceSummary(result);
  const ceiling = (Math.sqrt(result.settings.k) * Math.PI) / 2;
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { domain: [0, ceiling], label: DISTANCE_LABEL, grid: true },
      color: { domain: ['x', 'h'], legend: true, label: 'space', tickFormat: (s: SubspaceSpace) => SPACE_NAMES[s] },
      marks: [
        Plot.ruleY([ceiling], { strokeDasharray: '4,3', strokeOpacity: 0.5 }),
        Plot.areaY(data, { x: 'timestep', y1: (p: (typeof data)[number]) => Math.max(0, p.mean - p.std), y2: (p: (typeof data)[number]) => p.mean + p.std, fill: 'space', fillOpacity: 0.15 }),
        Plot.line(data, { x: 'timestep', y: 'mean', stroke: 'space' }),
        Plot.dot(data, {
          x: 'timestep',
          y: 'mean',
          fill: 'space',
          r: 2.5,
          title: (p: (typeof data)[number]) => `${SPACE_NAMES[p.space]}, t = ${p.timestep}: ${meanText(p.mean, p.std, p.count, 'sample pairs')}`,
        }),
      ],
    },
    {
      title: 'Distance between the tangent spaces of different samples over t',
      caption: `Mean ± std over sample pairs. Dashed: the largest possible distance √k·π/2 = ${formatValue(ceiling)} (k = ${result.settings.k}).`,
    },
    opts,
  );
}

function distanceMatrixMarks<T extends { geodesic: number; maxAngle: number }>(
  data: T[],
  x: (c: T) => string | number,
  y: (c: T) => string | number,
  describe: (c: T) => string,
): Plot.Markish[] {
  const marks: Plot.Markish[] = [
    Plot.cell(data, { x, y, fill: 'geodesic', inset: 0.5, title: (c: T) => `${describe(c)}: ‖θ‖₂ = ${formatValue(c.geodesic)}, max angle ${formatValue(c.maxAngle)} rad` }),
  ];
  // Printed values make a small matrix readable in a static report; a large one would only be clutter.
  if (data.length <= 144) {
    marks.push(
      Plot.text(data, { x, y, text: (c: T) => c.geodesic.toFixed(2), fill: 'black', stroke: 'white', strokeWidth: 3, paintOrder: 'stroke', fontSize: 9 }),
    );
  }
  return marks;
}

/** Matrices read best with roughly square cells: as tall as the plot area is wide. */
function matrixHeight(opts: PlotRenderOptions): number {
  return opts.height ?? Math.round((opts.width ?? 640) * 0.85);
}

/** (e) t × t geodesic distances of one sample's tangent spaces. */
export function plotTimestepDistanceMatrix(result: AnalysisResult, sample: number, space: SubspaceSpace, opts: PlotRenderOptions): PlotElement {
  const data = timestepDistanceMatrix(result, sample, space);
  const label = result.settings.samples[sample]?.label ?? `sample ${sample}`;
  return render(
    {
      x: { type: 'band', label: 'timestep t_a', reverse: true },
      y: { type: 'band', label: 'timestep t_b', reverse: true },
      height: matrixHeight(opts),
      color: sequentialColor(opts.document, DISTANCE_LABEL, 'linear'),
      marks: distanceMatrixMarks(data, (c) => c.a, (c) => c.b, (c) => `t = ${c.a} vs ${c.b}`),
    },
    { title: `Distance between timesteps of sample ${sample} (${label}) in ${SPACE_NAMES[space]}` },
    opts,
  );
}

/** (f) sample × sample geodesic distances at one timestep. */
export function plotSampleDistanceMatrix(result: AnalysisResult, timestep: number, space: SubspaceSpace, opts: PlotRenderOptions): PlotElement {
  const data = sampleDistanceMatrix(result, timestep, space);
  const name = (s: number) => `${s}: ${result.settings.samples[s]?.label ?? ''}`;
  const domain = result.settings.samples.map((_, s) => name(s));
  return render(
    {
      x: { type: 'band', domain, label: 'sample', tickRotate: domain.length > 6 ? -30 : 0 },
      y: { type: 'band', domain, label: 'sample' },
      marginBottom: domain.length > 6 ? 60 : undefined,
      height: matrixHeight(opts),
      marginLeft: 90,
      color: sequentialColor(opts.document, DISTANCE_LABEL, 'linear'),
      marks: distanceMatrixMarks(data, (c) => name(c.a), (c) => name(c.b), (c) => `samples ${c.a} vs ${c.b}`),
    },
    { title: `Distance between samples at t = ${timestep} in ${SPACE_NAMES[space]}` },
    opts,
  );
}

/**
 * Across prompts: Pearson r between the prompts' embedding cosine and the tangent-space distance, per t and space
 * (prompts.ts). Timesteps where r is undefined (one pair, or two prompts only) are left out of the lines.
 */
export function plotPromptCorrelation(result: AnalysisResult, opts: PlotRenderOptions): PlotElement {
  const data = (result.promptCorrelations ?? []).filter((c): c is typeof c & { pearson: number } => c.pearson !== null);
  const P = result.settings.prompts?.length ?? 0;
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { domain: [-1, 1], label: 'Pearson r (embedding cosine, geodesic distance)', grid: true },
      color: { domain: ['x', 'h'], legend: true, label: 'space', tickFormat: (s: SubspaceSpace) => SPACE_NAMES[s] },
      marks: [
        Plot.ruleY([0], { strokeOpacity: 0.4 }),
        Plot.line(data, { x: 'timestep', y: 'pearson', stroke: 'space' }),
        Plot.dot(data, {
          x: 'timestep',
          y: 'pearson',
          fill: 'space',
          r: 2.5,
          title: (c: (typeof data)[number]) => `${SPACE_NAMES[c.space]}, t = ${c.timestep}: r = ${formatValue(c.pearson)} over ${c.pairs} same-input prompt pairs`,
        }),
      ],
    },
    {
      title: 'Text-embedding similarity against tangent-space distance, across prompts',
      caption:
        `Per t: Pearson r over all pairs of samples with the same input and different prompts (${P} prompts) between the cosine of ` +
        'the flattened text embeddings and the geodesic distance ‖θ‖₂. r < 0: more similar prompts, closer tangent spaces.',
    },
    opts,
  );
}

/** (g) Low-frequency share against t, one line per model. */
export function plotLowFrequencyShareOverlay(overlay: ModelOverlay, opts: PlotRenderOptions): PlotElement {
  const data = overlay.lowFrequencyShare;
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { domain: [0, 1], label: 'low-frequency share (power at radius ≤ W/8, fraction)', grid: true },
      color: { domain: overlay.models, legend: true, label: 'model' },
      marks: [
        Plot.line(data, { x: 'timestep', y: 'mean', stroke: 'model' }),
        Plot.dot(data, {
          x: 'timestep',
          y: 'mean',
          fill: 'model',
          r: 2.5,
          title: (p: (typeof data)[number]) => `${p.model}, t = ${p.timestep}: ${meanText(p.mean, p.std, p.count, 'directions')}`,
        }),
      ],
    },
    { title: 'Low-frequency share over t, across models' },
    opts,
  );
}

/** (g) Mean ± std distance between samples against t, one panel per space, one line per model. */
export function plotSampleDistanceOverlay(overlay: ModelOverlay, opts: PlotRenderOptions): PlotElement {
  const data = overlay.sampleDistance;
  return render(
    {
      x: { label: TIMESTEP_LABEL, reverse: true },
      y: { label: DISTANCE_LABEL, grid: true, zero: true },
      fx: { domain: ['x', 'h'], label: null, tickFormat: (s: SubspaceSpace) => SPACE_NAMES[s] },
      color: { domain: overlay.models, legend: true, label: 'model' },
      marks: [
        Plot.areaY(data, { fx: 'space', x: 'timestep', y1: (p: (typeof data)[number]) => Math.max(0, p.mean - p.std), y2: (p: (typeof data)[number]) => p.mean + p.std, fill: 'model', fillOpacity: 0.15 }),
        Plot.line(data, { fx: 'space', x: 'timestep', y: 'mean', stroke: 'model' }),
        Plot.dot(data, {
          fx: 'space',
          x: 'timestep',
          y: 'mean',
          fill: 'model',
          r: 2.5,
          title: (p: (typeof data)[number]) => `${p.model}, ${SPACE_NAMES[p.space]}, t = ${p.timestep}: ${meanText(p.mean, p.std, p.count, 'sample pairs')}`,
        }),
      ],
    },
    { title: 'Distance between samples over t, across models', caption: 'Mean ± std over sample pairs.' },
    opts,
  );
}

export function svgMarkup(element: PlotElement): string {
  return element.outerHTML;
}

/** A bare plot's markup as a standalone .svg file (inline SVG in HTML needs no namespace; a file does). */
export function standaloneSvg(markup: string): string {
  if (!markup.startsWith('<svg')) throw new RangeError('standaloneSvg needs a plot rendered with bare: true');
  return markup.includes('xmlns="http://www.w3.org/2000/svg"') ? markup : markup.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"');
}

function figure(id: string, title: string, element: PlotElement): AnalysisFigure {
  return { id, title, markup: svgMarkup(element) };
}

/**
 * The standard figure set of one analysis: (a)–(d), the t × t matrix of sample 0 in x, and sample matrices at
 * the largest and smallest timestep in x (early and late in generation). Matrices need ≥ 2 entries to say anything.
 */
export function analysisFigures(result: AnalysisResult, opts: PlotRenderOptions): AnalysisFigure[] {
  const { timesteps, samples } = result.settings;
  const figures = [
    figure('sigma', 'Singular values over t', plotSigma(result, opts)),
    figure('frequency', 'Frequency content over t', plotFrequencyHeatmap(result, opts)),
    figure('low-frequency-share', 'Low-frequency share over t', plotLowFrequencyShare(result, opts)),
    figure('sample-distance', 'Distance between samples over t', plotSampleDistance(result, opts)),
  ];
  if (timesteps.length > 1) figures.push(figure('timestep-distance-matrix-s0-x', 'Distance between timesteps, sample 0', plotTimestepDistanceMatrix(result, 0, 'x', opts)));
  if (samples.length > 1) {
    const ends = [...new Set([timesteps[timesteps.length - 1], timesteps[0]])];
    for (const t of ends) figures.push(figure(`sample-distance-matrix-t${t}-x`, `Distance between samples at t = ${t}`, plotSampleDistanceMatrix(result, t, 'x', opts)));
  }
  // Drawn whenever there are prompts to compare (an undefined r leaves the plot empty, which the caption explains).
  if (result.promptSimilarities) figures.push(figure('prompt-correlation', 'Embedding similarity against tangent-space distance', plotPromptCorrelation(result, opts)));
  return figures;
}

/** The across-models figures (g). */
export function overlayFigures(overlay: ModelOverlay, opts: PlotRenderOptions): AnalysisFigure[] {
  return [
    figure('overlay-low-frequency-share', 'Low-frequency share over t, across models', plotLowFrequencyShareOverlay(overlay, opts)),
    figure('overlay-sample-distance', 'Distance between samples over t, across models', plotSampleDistanceOverlay(overlay, opts)),
  ];
}
