/**
 * Choosing h. `auto`: for torch exports (node names carry module scopes) the last node scoped
 * /mid_block (diffusers) or /middle_block (ADM, guided-diffusion); otherwise the structural
 * bottleneck: the input of the first decoder skip concatenation that was produced last (the
 * running hidden state, as opposed to the stored skip). Candidates: the last output of each
 * top-level scope (down/mid/up blocks), with static shapes, for a user to pick from.
 */
import { OnnxDeriveError } from './errors';
import type { Graph } from './graph';
import { isFloatType } from './proto';
import type { ShapeInfo } from './shapes';

export interface HCandidate {
  tensor: string;
  /** Top-level module scope (e.g. "mid_block", "up_blocks.0") or "structural". */
  scope: string;
  node: string;
  shape: number[];
}

const MID = /^\/?(mid_block|middle_block)([./]|$)/;

function dependsOnX(g: Graph, x: string): Set<string> {
  const fwd = new Set([x]);
  for (const n of g.nodes) if (n.input.some((i) => fwd.has(i))) for (const o of n.output) if (o) fwd.add(o);
  return fwd;
}

const scopeOf = (name: string): string | undefined => {
  if (!name.startsWith('/')) return undefined;
  const seg = name.split('/')[1];
  return seg && name.split('/').length > 2 ? seg : undefined;
};

function structural(g: Graph, shapes: ShapeInfo, fwd: Set<string>): string | undefined {
  for (const n of g.nodes) {
    if (n.opType !== 'Concat') continue;
    const ins = n.input.filter((i) => fwd.has(i) && (shapes.infos.get(i)?.shape.length ?? 0) === 4);
    if (ins.length < 2) continue;
    return ins.reduce((best, i) => ((g.producer.get(i) ?? -1) > (g.producer.get(best) ?? -1) ? i : best));
  }
  return undefined;
}

export function autoH(g: Graph, shapes: ShapeInfo, x: string): { tensor: string; how: 'scope' | 'structural' } {
  const fwd = dependsOnX(g, x);
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (MID.test(n.name) && fwd.has(n.output[0]) && isFloatType(shapes.infos.get(n.output[0])?.dtype ?? 0)) {
      return { tensor: n.output[0], how: 'scope' };
    }
  }
  const s = structural(g, shapes, fwd);
  if (s) return { tensor: s, how: 'structural' };
  throw new OnnxDeriveError('h-not-found', 'no /mid_block or /middle_block scope and no decoder skip concatenation; pass --h <tensor>');
}

export function listCandidates(g: Graph, shapes: ShapeInfo, x: string): HCandidate[] {
  const fwd = dependsOnX(g, x);
  const last = new Map<string, number>();
  g.nodes.forEach((n, k) => {
    const s = scopeOf(n.name);
    const o = n.output[0];
    const info = shapes.infos.get(o);
    if (s && fwd.has(o) && info && isFloatType(info.dtype) && info.shape.length >= 3) last.set(s, k);
  });
  const out: HCandidate[] = [...last.entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([scope, k]) => ({ tensor: g.nodes[k].output[0], scope, node: g.nodes[k].name, shape: shapes.shape(g.nodes[k].output[0]) }));
  const st = structural(g, shapes, fwd);
  if (st && !out.some((c) => c.tensor === st)) {
    out.push({ tensor: st, scope: 'structural', node: g.nodes[g.producer.get(st)!]?.name ?? '', shape: shapes.shape(st) });
  }
  return out;
}
