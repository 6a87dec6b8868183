/**
 * Activity analysis: a tensor is active when it depends on x through differentiable edges AND h
 * depends on it. Only active tensors get tangents/cotangents; everything else (timestep embedding,
 * cross-attention keys/values, shape arithmetic) stays primal, computed once at batch 1.
 */
import { OnnxDeriveError, UnsupportedOpError } from './errors';
import type { Graph } from './graph';
import { isFloatType } from './proto';
import { RULES } from './rules';
import type { ShapeInfo } from './shapes';

/** Ops whose float outputs have zero derivative or carry no data dependence on the input values. */
const STOP_OPS = new Set(['Shape', 'Size', 'Floor', 'Ceil', 'Round', 'Sign', 'ArgMax', 'ArgMin', 'NonZero',
  'ConstantOfShape', 'EyeLike', 'RandomNormalLike', 'RandomUniformLike']);

export interface Activity {
  active: Set<string>;
  /** Indices into g.nodes, topological order, of nodes with at least one active output. */
  nodes: number[];
}

export function analyzeActivity(g: Graph, shapes: ShapeInfo, x: string, h: string): Activity {
  const isFloatTensor = (t: string): boolean => {
    // a tensor whose inference failed counts as float: the op is then reported by name below
    // (unsupported op / unknown shape), instead of the path silently ending there
    const info = shapes.infos.get(t);
    return info === undefined || isFloatType(info.dtype);
  };
  const fwd = new Set<string>([x]);
  for (const n of g.nodes) {
    if (STOP_OPS.has(n.opType)) continue;
    if (n.input.some((i) => i && fwd.has(i))) for (const o of n.output) if (o && isFloatTensor(o)) fwd.add(o);
  }
  if (!fwd.has(h)) throw new OnnxDeriveError('h-not-found', `tensor "${h}" does not depend on input "${x}"`, { tensor: h });
  const bwd = new Set<string>([h]);
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (n.output.some((o) => bwd.has(o))) for (const i of n.input) if (i) bwd.add(i);
  }
  const active = new Set([...fwd].filter((t) => bwd.has(t)));
  const nodes: number[] = [];
  g.nodes.forEach((n, k) => {
    if (!n.output.some((o) => active.has(o))) return;
    nodes.push(k);
    const rule = RULES[n.opType];
    if (!rule) throw new UnsupportedOpError(n.opType, n.name);
    const diff = new Set(rule.diff(n));
    n.input.forEach((i, pos) => {
      if (i && active.has(i) && !diff.has(pos)) {
        throw new OnnxDeriveError(
          'active-nondiff-input',
          `input ${pos} ("${i}") of ${n.opType} node "${n.name}" depends on x, but derivatives through that input are not supported`,
          { op: n.opType, node: n.name, tensor: i },
        );
      }
    });
  });
  return { active, nodes };
}
