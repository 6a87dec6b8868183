/**
 * Composite rules for exporter patterns whose derivative is much cheaper as a whole than op by op.
 * SiLU, exported as y = Mul(a, Sigmoid(a)): op by op, the tangent costs a Sigmoid factor, two Muls
 * and an Add on K-column tensors (and the same again in reverse); as one function it is a single
 * Mul by the primal factor D = s·(1 + a·(1 − s)), s = σ(a). GELU, exported as
 * Div(x, √2) → Erf → Add(1) → Mul(x) → Mul(0.5): one Mul by Φ(x) + x·φ(x) (the Gelu-20 rule) instead
 * of about nine passes over the transformer's widest tensors. A pattern is fused only when its
 * intermediate tensors have no consumer outside it and none of them is h, so no tangent of them
 * can be needed elsewhere.
 */
import type { Activity } from './activity';
import type { Graph } from './graph';
import { makeNode, type NodeProto } from './proto';
import type { Rule } from './rules';

export interface Fused {
  /** node index → rule replacing the node's own rule (input positions as in the node) */
  rules: Map<number, Rule>;
  /** node index → a standard-op node it stands for (e.g. Gelu for the erf pattern's last Mul) */
  replace: Map<number, NodeProto>;
  /** node indices absorbed into a fused node: no tangent/cotangent is emitted for them */
  absorbed: Set<number>;
}

function siluRule(aPos: number, sigmoidOut: string): Rule {
  const factor = (c: Parameters<Rule['jvp']>[0]): string =>
    c.memo('dsilu', () => {
      const a = c.primal(aPos);
      const oneMinusS = c.b.sub(c.b.scalar(1), sigmoidOut);
      return c.b.mul(sigmoidOut, c.b.add(c.b.scalar(1), c.b.mul(a, oneMinusS)));
    });
  return {
    diff: () => [0, 1],
    jvp(c, t) {
      const ta = t[aPos];
      return [ta === undefined ? undefined : c.b.mul(ta, factor(c))];
    },
    vjp(c, [g]) {
      const res: (string | undefined)[] = [undefined, undefined];
      if (g !== undefined) res[aPos] = c.b.mul(g, factor(c));
      return res;
    },
  };
}

const near = (v: number[] | undefined, want: number): boolean => !!v && v.length === 1 && Math.abs(v[0] - want) < 1e-4 * Math.abs(want);

/** Erf-GELU: y = Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5), or with Mul(x, 1/√2) / 0.5 applied to x first. */
function findGelu(g: Graph, values: (t: string) => number[] | undefined, h: string, erfIdx: number): { final: number; x: string; absorbed: number[] } | undefined {
  const only = (t: string): number | undefined => {
    const c = g.consumers.get(t) ?? [];
    return c.length === 1 && t !== h ? c[0] : undefined;
  };
  const other = (n: NodeProto, t: string): string | undefined => (n.input.length === 2 ? (n.input[0] === t ? n.input[1] : n.input[1] === t ? n.input[0] : undefined) : undefined);
  const erf = g.nodes[erfIdx];
  const dIdx = g.producer.get(erf.input[0]);
  if (dIdx === undefined || only(erf.input[0]) !== erfIdx) return undefined;
  const d = g.nodes[dIdx];
  let x: string | undefined;
  if (d.opType === 'Div' && near(values(d.input[1]), Math.SQRT2)) x = d.input[0];
  else if (d.opType === 'Mul') {
    for (const [i, j] of [[0, 1], [1, 0]]) if (near(values(d.input[j]), Math.SQRT1_2)) x = d.input[i];
  }
  if (!x) return undefined;
  const addIdx = only(erf.output[0]);
  if (addIdx === undefined) return undefined;
  const add = g.nodes[addIdx];
  const one = other(add, erf.output[0]);
  if (add.opType !== 'Add' || !one || !near(values(one), 1)) return undefined;
  const m1Idx = only(add.output[0]);
  if (m1Idx === undefined || g.nodes[m1Idx].opType !== 'Mul') return undefined;
  const m1 = g.nodes[m1Idx];
  const f = other(m1, add.output[0]);
  if (!f) return undefined;
  if (f === x) {
    // 0.5 applied last
    const m2Idx = only(m1.output[0]);
    if (m2Idx === undefined || g.nodes[m2Idx].opType !== 'Mul' || !near(values(other(g.nodes[m2Idx], m1.output[0]) ?? ''), 0.5)) return undefined;
    return { final: m2Idx, x, absorbed: [dIdx, erfIdx, addIdx, m1Idx] };
  }
  // 0.5 applied to x first: f = Mul(x, 0.5)
  const hIdx = g.producer.get(f);
  if (hIdx === undefined || only(f) !== m1Idx || g.nodes[hIdx].opType !== 'Mul') return undefined;
  if (other(g.nodes[hIdx], x) === undefined || !near(values(other(g.nodes[hIdx], x)!), 0.5)) return undefined;
  return { final: m1Idx, x, absorbed: [dIdx, erfIdx, addIdx, hIdx] };
}

export function findFusions(g: Graph, act: Activity, h: string, values: (t: string) => number[] | undefined = () => undefined): Fused {
  const rules = new Map<number, Rule>();
  const replace = new Map<number, NodeProto>();
  const absorbed = new Set<number>();
  const activeNodes = new Set(act.nodes);
  for (const k of act.nodes) {
    if (g.nodes[k].opType !== 'Erf' || absorbed.has(k)) continue;
    const m = findGelu(g, values, h, k);
    if (!m || !m.absorbed.every((i) => activeNodes.has(i)) || !activeNodes.has(m.final)) continue;
    const fin = g.nodes[m.final];
    replace.set(m.final, makeNode('Gelu', [m.x], [fin.output[0]], `${fin.name}#gelu`));
    for (const i of m.absorbed) absorbed.add(i);
  }
  for (const k of act.nodes) {
    const n = g.nodes[k];
    if (n.opType !== 'Mul' || n.input.length !== 2) continue;
    for (const sPos of [0, 1]) {
      const s = n.input[sPos];
      const a = n.input[1 - sPos];
      const p = g.producer.get(s);
      // s must not be needed by itself: not h, not read by any other node
      if (p === undefined || a === s || s === h) continue;
      const sig = g.nodes[p];
      if (sig.opType !== 'Sigmoid' || sig.input[0] !== a) continue;
      if ((g.consumers.get(s) ?? []).length !== 1) continue;
      rules.set(k, siluRule(1 - sPos, s));
      absorbed.add(p);
      break;
    }
  }
  return { rules, replace, absorbed };
}
