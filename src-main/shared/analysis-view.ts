/**
 * What the Analysis view needs from the engine's own pure analysis code — summaries, Observable Plot figures, CSV
 * tables, the HTML report and the accumulator's canonical order — re-exported so the page shows and exports exactly
 * what `pullback analyze` writes, with no second copy. (core/geometry/analysis/index.ts is DOM- and Node-free.)
 */
export * from '../core/geometry/analysis/index';
