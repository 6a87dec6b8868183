/**
 * Composite rules for exporter patterns whose derivative is much cheaper as a whole than op by op.
 * SiLU, exported as y = Mul(a, Sigmoid(a)): op by op, the tangent costs a Sigmoid factor, two Muls
 * and an Add on K-column tensors (and the same again in reverse); as one function it is a single
 * Mul by the primal factor D = s·(1 + a·(1 − s)), s = σ(a). Only applied when the Sigmoid output has
 * no other consumer, so no tangent of it can be needed elsewhere.
 */
import type { Activity } from './activity';
import type { Graph } from './graph';
import type { Rule } from './rules';

export interface Fused {
  /** node index → rule replacing the node's own rule (input positions as in the node) */
  rules: Map<number, Rule>;
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

export function findFusions(g: Graph, act: Activity, h: string): Fused {
  const rules = new Map<number, Rule>();
  const absorbed = new Set<number>();
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
  return { rules, absorbed };
}
