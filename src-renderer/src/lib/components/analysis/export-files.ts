/**
 * The Analysis view's exports, made in the page from the same pure code `pullback analyze` uses (shared/analysis-view):
 * CSV tables, analysis.json, report.html, and each plot as SVG or PNG (the SVG drawn on a canvas at 2× for print).
 */
import { analysisCsvFiles, analysisFigures, renderReportHtml, standaloneSvg, type AnalysisResult } from '../../../../../src-main/shared/analysis-view';

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
  mime: string;
}

const text = (name: string, body: string, mime: string): ExportFile => ({ name, bytes: new TextEncoder().encode(body), mime });

export function csvExports(result: AnalysisResult): ExportFile[] {
  return Object.entries(analysisCsvFiles(result)).map(([name, body]) => text(name, body, 'text/csv'));
}

export function jsonExport(result: AnalysisResult): ExportFile {
  return text('analysis.json', `${JSON.stringify(result, null, 1)}\n`, 'application/json');
}

export function reportExport(result: AnalysisResult, doc: Document, modelName: string): ExportFile {
  const figures = analysisFigures(result, { document: doc });
  return text('report.html', renderReportHtml(result, figures, { title: `Geometry analysis — ${modelName}`, generatedAt: new Date().toISOString() }), 'text/html');
}

export function svgExport(id: string, bareMarkup: string): ExportFile {
  return text(`${id}.svg`, standaloneSvg(bareMarkup), 'image/svg+xml');
}

/** Rasterises a standalone SVG on a white background (plots are transparent) at `scale` × its size. */
export async function pngExport(id: string, bareMarkup: string, scale = 2): Promise<ExportFile> {
  const svg = standaloneSvg(bareMarkup);
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
    return { name: `${id}.png`, bytes: new Uint8Array(await blob.arrayBuffer()), mime: 'image/png' };
  } finally {
    URL.revokeObjectURL(url);
  }
}
