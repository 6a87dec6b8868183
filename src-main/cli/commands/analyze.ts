/**
 * `pullback analyze [model-dir] (--seeds 0,1,2 | --xt a.npy [--xt b.npy …]) (--t 0.2,0.6,1.0 | --timesteps 200,600)
 * --k K [--tol E] [--method krylov|subspace] [--steps N] [--no-warm-start] [--prompt TEXT …] [--negative-prompt TEXT]
 * [--guidance-scale G] [--compare other/analysis.json] --out DIR`
 *
 * Runs the `analyze` job in this process and writes DIR/spectrum.csv, frequency.csv, similarity.csv,
 * similarity_t.csv, analysis.json, report.html and plots/*.svg + plots/*.png. `sample` in every file is the 0-based
 * position of the input in the order given; `timestep` the exact value fed to the U-Net. With --xt, the given x_t
 * is used as is at every timestep (the authors' fixed-x_t setting); with --seeds, each seed's x_t at that t.
 * --compare adds an across-models report (DIR/compare/) overlaying another analysis.json with the same settings.
 * --prompt (text models; repeatable): every input at every prompt, samples input-major (sample = input · P + prompt),
 * plus prompt_similarity.csv, prompt_correlation.csv and plots/prompt-correlation.svg when there are ≥ 2 prompts.
 * A cancelled or crashed run resumes from the basis cache when run again with the same arguments.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { parseHTML } from 'linkedom';
import { analysisOutputFiles, overlayOutputFiles, type AnalysisResult, type PlotDocument } from '../../core/geometry/analysis';
import { writeAnalysisOutputs } from '../../core/geometry/analysis/write-outputs';
import { AnalysisResultSchema, type AnalysisSampleInput } from '../../shared/analysis-api';
import { runCliJob } from '../run-job';
import { resolveModelDir } from '../default-model';
import { int, num, readNpy, textArgs, writeJsonLine } from '../pullback-args';
import { UsageError, type CliCommand } from '../types';
import { checkOutDir } from '../out-check';

function list(name: string, v: string | undefined, parse: (name: string, v: string) => number | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`--${name} takes a comma-separated list, got "${v}"`);
  return items.map((x) => parse(name, x)!);
}

/** Plot needs a DOM to build SVG; linkedom gives Node one without a browser. */
function nodeDocument(): PlotDocument {
  return parseHTML('<!doctype html><html><body></body></html>').document as unknown as PlotDocument;
}

async function readComparison(file: string): Promise<AnalysisResult> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--compare: cannot read ${file} as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = AnalysisResultSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`--compare: ${file} is not an analysis.json of pullback analyze`);
  return parsed.data;
}

export const analyzeCommand: CliCommand = {
  name: 'analyze',
  summary:
    'analyze [model-dir] (--seeds 0,1,2 | --xt a.npy [--xt b.npy …]) (--t 0.2,0.6,1.0 | --timesteps 200,600) --k K [--tol E] [--method krylov|subspace] [--steps N] [--no-warm-start] [--prompt TEXT …] [--negative-prompt TEXT] [--guidance-scale G] [--compare analysis.json] --out DIR' +
    '  geometry analyses: spectrum, frequency, similarity CSVs, plots, report.html',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        seeds: { type: 'string' },
        xt: { type: 'string', multiple: true },
        t: { type: 'string' },
        timesteps: { type: 'string' },
        k: { type: 'string' },
        tol: { type: 'string' },
        method: { type: 'string' },
        steps: { type: 'string' },
        'basis-seed': { type: 'string' },
        h: { type: 'string' },
        'no-warm-start': { type: 'boolean' },
        compare: { type: 'string' },
        prompt: { type: 'string', multiple: true },
        'negative-prompt': { type: 'string' },
        'guidance-scale': { type: 'string' },
        provider: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
    });
    if (!values.out) throw new UsageError('--out DIR is required');
    await checkOutDir(values.out);
    if (values.k === undefined) throw new UsageError('--k K is required');
    if ((values.seeds === undefined) === (values.xt === undefined)) throw new UsageError('give exactly one of --seeds 0,1,2 or --xt a.npy [--xt b.npy …]');
    if ((values.t === undefined) === (values.timesteps === undefined)) throw new UsageError('give exactly one of --t 0.2,0.6 or --timesteps 200,600');
    if (values.method !== undefined && values.method !== 'krylov' && values.method !== 'subspace') {
      throw new UsageError(`--method must be krylov or subspace, got "${values.method}"`);
    }
    const comparison = values.compare ? await readComparison(values.compare) : undefined;
    const samples: AnalysisSampleInput[] = values.seeds
      ? list('seeds', values.seeds, int)!.map((seed) => ({ kind: 'seed', seed }))
      : await Promise.all(
          values.xt!.map(async (file) => {
            const t = await readNpy(file, '--xt');
            return { kind: 'xt' as const, xt: { dims: [...t.dims], data: new Uint8Array(t.data.slice().buffer) }, label: basename(file) };
          }),
        );
    const method = values.method as 'krylov' | 'subspace' | undefined;
    const out = await runCliJob(
      'analyze',
      {
        modelDir: resolveModelDir(positionals, 'analyze'),
        samples,
        t: list('t', values.t, num),
        timesteps: list('timesteps', values.timesteps, int),
        k: int('k', values.k),
        tol: num('tol', values.tol),
        method,
        steps: int('steps', values.steps),
        basisSeed: int('basis-seed', values['basis-seed']),
        h: values.h,
        // Warm starts are a Krylov feature: subspace runs without them unless asked (and then the job says no).
        warmStart: !values['no-warm-start'] && method !== 'subspace',
        // An unconditional model refuses these in the job (invalid-argument), as generate, sample and basis do.
        ...(values.prompt ? { prompts: values.prompt } : {}),
        ...textArgs({ 'negative-prompt': values['negative-prompt'], 'guidance-scale': values['guidance-scale'] }),
        ...(values.provider ? { provider: values.provider as 'auto' } : {}),
      },
      { quiet: values.quiet },
    );
    const document = nodeDocument();
    const options = { document, modelCardPath: join(resolveModelDir(positionals, 'analyze'), 'README.md'), run: { ...out.run, hTensor: out.hTensor } };
    const files = analysisOutputFiles(out.result, options);
    if (comparison) {
      const overlay = overlayOutputFiles(
        [
          { label: basename(resolveModelDir(positionals, 'analyze')), result: out.result },
          { label: basename(join(values.compare!, '..')) || 'compared', result: comparison },
        ],
        { document, title: 'Geometry across models' },
      );
      for (const [name, text] of Object.entries(overlay)) files[`compare/${name}`] = text;
    }
    const written = await writeAnalysisOutputs(values.out, files);
    // Each SVG plot also as PNG (librsvg through sharp, on white: plots have transparent backgrounds) for documents that cannot take SVG.
    for (const svg of written.filter((f) => f.endsWith('.svg'))) {
      await sharp(Buffer.from(await readFile(svg))).flatten({ background: '#ffffff' }).png().toFile(svg.replace(/\.svg$/, '.png'));
    }
    if (!values.quiet) {
      writeJsonLine({ out: values.out, bases: out.run.bases, cache_hits: out.run.cacheHits, seconds: Number(out.run.seconds.toFixed(1)), jacobian_products: out.run.jacobianProducts, h_tensor: out.hTensor });
    }
    return 0;
  },
};
