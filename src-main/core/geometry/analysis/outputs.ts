/**
 * Everything an analysis writes, as file name → text, so the CLI, the engine job and tests share one list
 * (write-outputs.ts puts it on disk). Works on partial results too: rewriting the files after each basis
 * gives a report that fills in while the analysis runs.
 */
import { analysisCsvFiles } from './csv';
import { analysisFigures, overlayFigures, standaloneSvg } from './plots';
import type { AnalysisFigure, PlotDocument } from './plots';
import { renderReportHtml } from './report';
import type { ReportOptions } from './report';
import type { AnalysisResult } from './result';
import { overlayModels } from './summary';
import type { ModelResult } from './summary';

export interface AnalysisOutputOptions extends ReportOptions {
  document: PlotDocument;
  /** Run facts that travel in analysis.json beside the result (the engine's timing, cache hits, h tensor). */
  run?: Record<string, unknown>;
}

function svgFiles(figures: readonly AnalysisFigure[]): Record<string, string> {
  return Object.fromEntries(figures.map((f) => [`plots/${f.id}.svg`, standaloneSvg(f.markup)]));
}

/** spectrum.csv, frequency.csv, similarity.csv, similarity_t.csv, analysis.json, report.html, plots/<id>.svg. */
export function analysisOutputFiles(result: AnalysisResult, options: AnalysisOutputOptions): Record<string, string> {
  const { document, run, ...report } = options;
  return {
    ...analysisCsvFiles(result),
    'analysis.json': `${JSON.stringify(run ? { ...result, run } : result, null, 1)}\n`,
    'report.html': renderReportHtml(result, analysisFigures(result, { document }), report),
    ...svgFiles(analysisFigures(result, { document, bare: true })),
  };
}

/** The across-models report (overlay figures (g)) with its SVGs and every model's result.json. */
export function overlayOutputFiles(models: readonly ModelResult[], options: AnalysisOutputOptions): Record<string, string> {
  const { document, run: _run, ...report } = options;
  const overlay = overlayModels(models);
  return {
    'report.html': renderReportHtml(models, overlayFigures(overlay, { document }), report),
    ...svgFiles(overlayFigures(overlay, { document, bare: true })),
    ...Object.fromEntries(models.map((m, i) => [`results/${i}.json`, `${JSON.stringify({ label: m.label, result: m.result }, null, 1)}\n`])),
  };
}
