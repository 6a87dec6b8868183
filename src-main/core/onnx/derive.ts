/**
 * The public entry points the engine and the CLI call: derive the jvp / vjp / pullback graphs, build
 * the plain forward-to-h graph, list h candidates. Inputs are model bytes or a path; outputs are
 * serialized ModelProtos that reference the original weights (external data by relative location).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { analyzeActivity } from './activity';
import { findFusions } from './fusion';
import { emitGraph, unbatched, type GraphKind, type Plan } from './emit';
import { OnnxDeriveError } from './errors';
import { indexGraph, type Graph } from './graph';
import { autoH, listCandidates, type HCandidate } from './hselect';
import { pickX, resolveInputShapes, type InputSizeOptions } from './inputs';
import { DT, isExternal, readModel, writeModel } from './proto';
import { inferShapes, type ShapeInfo } from './shapes';

export interface DeriveOptions extends InputSizeOptions {
  /** 'auto' (default) or a tensor name of the model. */
  h?: string;
  /** Number of tangent columns K (default 1). */
  tangents?: number;
  /** Input to differentiate with respect to (default `sample`). */
  x?: string;
}

export interface DeriveInfo {
  x: string;
  h: string;
  hSelectedBy: 'scope' | 'structural' | 'explicit';
  K: number;
  opset: number;
  inputs: { name: string; dtype: number; dims: number[] }[];
  /** Full primal shapes (batch 1) of x and h; tangents are [K, ...xDims.slice(1)] etc. */
  xShape: number[];
  hShape: number[];
  tangentShape: number[];
  cotangentShape: number[];
  /** Op histogram of the active path (x → h) of the source model. */
  activeOps: Record<string, number>;
  /** Node counts of the emitted graphs. */
  nodeCounts: Partial<Record<GraphKind, number>>;
  /**
   * Per tangent column: elements of the largest active tensor and of all active tensors together —
   * what an engine needs to choose K chunks (attention scores dominate: [heads, L, L] per column).
   */
  activeElementsPerColumn: { largest: number; largestTensor: string; total: number };
  /** Relative locations of external weight files referenced (empty when weights are inline). */
  externalData: string[];
  /** Directory to pass as session.model_external_initializers_file_folder_path (when loaded from a path). */
  modelDir?: string;
}

export interface DerivedGraphs {
  jvp: Uint8Array;
  vjp: Uint8Array;
  pullback: Uint8Array;
  info: DeriveInfo;
}

interface Loaded {
  g: Graph;
  shapes: ShapeInfo;
  inputShapes: ReturnType<typeof resolveInputShapes>;
  x: string;
  modelDir?: string;
}

async function load(model: Uint8Array | string, opts: DeriveOptions): Promise<Loaded> {
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  return loadSync(bytes, opts, typeof model === 'string' ? path.dirname(path.resolve(model)) : undefined);
}

function loadSync(bytes: Uint8Array, opts: DeriveOptions, modelDir?: string): Loaded {
  const g = indexGraph(readModel(bytes));
  const x = pickX(g, opts.x);
  const inputShapes = resolveInputShapes(g, opts);
  if (inputShapes.get(x)!.dtype !== DT.FLOAT) {
    throw new OnnxDeriveError('unsupported-dtype', `input "${x}" is not float32 (derive an fp32 export)`);
  }
  return { g, shapes: inferShapes(g, inputShapes), inputShapes, x, modelDir };
}

function plan(l: Loaded, opts: DeriveOptions): { plan: Plan; how: DeriveInfo['hSelectedBy'] } {
  const K = opts.tangents ?? 1;
  if (!Number.isInteger(K) || K < 1) throw new OnnxDeriveError('bad-option', `tangents must be a positive integer, got ${K}`);
  let h: string;
  let how: DeriveInfo['hSelectedBy'];
  if (!opts.h || opts.h === 'auto') ({ tensor: h, how } = autoH(l.g, l.shapes, l.x));
  else {
    h = opts.h;
    how = 'explicit';
    if (!l.g.producer.has(h)) {
      // users often copy a node name from Netron ("/mid_block/resnets.1/Add"): take its first output
      const node = l.g.nodes.find((n) => n.name === h);
      if (!node) throw new OnnxDeriveError('h-not-found', `model has no tensor or node "${h}"`, { tensor: h });
      h = node.output[0];
    }
  }
  for (const reserved of ['h', 'h_dot', 'x_bar', 'tangent', 'cotangent']) {
    if (l.g.producer.has(reserved) || l.g.inputs.some((i) => i.name === reserved)) {
      throw new OnnxDeriveError('bad-onnx', `model already uses the tensor name "${reserved}" reserved for derived graphs`);
    }
  }
  const activity = analyzeActivity(l.g, l.shapes, l.x, h);
  l.shapes.need(h);
  const fused = findFusions(l.g, activity, h, (t) => l.shapes.value(t));
  return { plan: { g: l.g, shapes: l.shapes, inputShapes: l.inputShapes, x: l.x, h, K, activity, fused }, how };
}

function infoOf(l: Loaded, p: Plan, how: DeriveInfo['hSelectedBy']): DeriveInfo {
  const activeOps: Record<string, number> = {};
  for (const k of p.activity.nodes) activeOps[l.g.nodes[k].opType] = (activeOps[l.g.nodes[k].opType] ?? 0) + 1;
  const ext = new Set<string>();
  for (const t of l.g.inits.values()) {
    if (isExternal(t)) ext.add(t.externalData.find((e) => e.key === 'location')?.value ?? '');
  }
  const xShape = l.shapes.shape(p.x);
  const hShape = l.shapes.shape(p.h);
  const mem = { largest: 0, largestTensor: '', total: 0 };
  for (const t of p.activity.active) {
    const n = l.shapes.shape(t).reduce((a, b) => a * b, 1);
    mem.total += n;
    if (n > mem.largest) Object.assign(mem, { largest: n, largestTensor: t });
  }
  return {
    x: p.x,
    h: p.h,
    hSelectedBy: how,
    K: p.K,
    opset: l.g.opset,
    inputs: [...l.inputShapes].map(([name, s]) => ({ name, dtype: s.dtype, dims: s.dims })),
    xShape,
    hShape,
    tangentShape: [p.K, ...unbatched(xShape)],
    cotangentShape: [p.K, ...unbatched(hShape)],
    activeOps,
    activeElementsPerColumn: mem,
    nodeCounts: {},
    externalData: [...ext],
    modelDir: l.modelDir,
  };
}

/** Derive the three graphs for K tangent columns. */
export async function deriveGraphs(model: Uint8Array | string, opts: DeriveOptions = {}): Promise<DerivedGraphs> {
  const l = await load(model, opts);
  const { plan: p, how } = plan(l, opts);
  const info = infoOf(l, p, how);
  const out: Partial<Record<'jvp' | 'vjp' | 'pullback', Uint8Array>> = {};
  for (const kind of ['jvp', 'vjp', 'pullback'] as const) {
    const m = emitGraph(p, kind);
    info.nodeCounts[kind] = m.graph!.node.length;
    out[kind] = writeModel(m);
  }
  return { jvp: out.jvp!, vjp: out.vjp!, pullback: out.pullback!, info };
}

/** One graph of the given kind (also `forward`: model inputs → h only, for benchmarks and the engine). */
export async function deriveGraph(
  model: Uint8Array | string,
  kind: GraphKind,
  opts: DeriveOptions = {},
): Promise<{ bytes: Uint8Array; info: DeriveInfo }> {
  const l = await load(model, opts);
  const { plan: p, how } = plan(l, opts);
  const info = infoOf(l, p, how);
  const m = emitGraph(p, kind);
  info.nodeCounts[kind] = m.graph!.node.length;
  return { bytes: writeModel(m), info };
}

/** Plain forward graph: the model's inputs at batch 1 → `h`. */
export function buildForwardGraph(model: Uint8Array | string, opts: DeriveOptions = {}): Promise<{ bytes: Uint8Array; info: DeriveInfo }> {
  return deriveGraph(model, 'forward', opts);
}

/** Candidate h tensors (last output of each top-level module scope, plus the structural bottleneck). */
export async function listHCandidates(
  model: Uint8Array | string,
  opts: DeriveOptions = {},
): Promise<{ candidates: HCandidate[]; auto: string | undefined }> {
  const l = await load(model, opts);
  let auto: string | undefined;
  try {
    auto = autoH(l.g, l.shapes, l.x).tensor;
  } catch {
    auto = undefined;
  }
  return { candidates: listCandidates(l.g, l.shapes, l.x), auto };
}

/**
 * ORT session options for a derived graph whose initializers live in external files: ORT resolves
 * the relative `location` entries against this folder (the source model's directory).
 */
export function externalDataSessionOptions(modelDir: string): { extra: { session: Record<string, string> } } {
  return { extra: { session: { model_external_initializers_file_folder_path: modelDir } } };
}
