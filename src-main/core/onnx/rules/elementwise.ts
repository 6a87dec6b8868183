/**
 * Elementwise ops with numpy broadcasting (Add/Sub/Mul/Div/Pow/Sum/Where), unary ops whose
 * derivative is a primal factor D(x, y) (ẏ = D·ẋ, x̄ = D·g), Cast and Softmax.
 */
import { DT, attrFloat, attrInt, attrString } from '../proto';
import type { Maybe, Rule, RuleCtx } from './types';
import { bshape, fitTo, normAxis, padTan, unbroadcast, unsupportedAttr, withK } from './types';

/** Tangent of operand i padded to the output rank, or undefined. */
function tanPadded(c: RuleCtx, t: Maybe[], i: number): Maybe {
  const ti = t[i];
  return ti === undefined ? undefined : padTan(c, ti, c.inShape(i), c.outShape(0).length);
}
function tanShape(c: RuleCtx, i: number): number[] {
  const r = c.outShape(0).length;
  const s = c.inShape(i);
  return [c.K, ...new Array(r - s.length).fill(1), ...s];
}

const linearCombination = (sign: 1 | -1): Rule => ({
  diff: (n) => n.input.map((_, i) => i),
  jvp(c, t) {
    const terms: string[] = [];
    const shapes: number[][] = [];
    t.forEach((_, i) => {
      const ti = tanPadded(c, t, i);
      if (ti === undefined) return;
      terms.push(i > 0 && sign < 0 ? c.b.neg(ti) : ti);
      shapes.push(tanShape(c, i));
    });
    if (!terms.length) return [undefined];
    return [fitTo(c, c.b.sum(terms), bshape(...shapes), withK(c.K, c.outShape(0)))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    return c.active.map((a, i) => {
      if (!a) return undefined;
      const gi = unbroadcast(c, g, c.outShape(0), c.inShape(i));
      return i > 0 && sign < 0 ? c.b.neg(gi) : gi;
    });
  },
});

/**
 * The exporters divide/multiply by constant 1 (diffusers output_scale_factor, rescale_output_factor):
 * when the primal operand j is all ones and does not broadcast operand i, the derivative is identity.
 */
function unitOperand(c: RuleCtx, i: number, j: number): boolean {
  const v = c.value(j);
  const si = c.inShape(i);
  const sy = c.outShape(0);
  return !!v && !c.active[j] && v.every((x) => x === 1) && si.length === sy.length && si.every((d, k) => d === sy[k]);
}

const mul: Rule = {
  diff: () => [0, 1],
  jvp(c, t) {
    for (const i of [0, 1]) if (unitOperand(c, i, 1 - i)) return [t[i]];
    const terms: string[] = [];
    const shapes: number[][] = [];
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const ti = tanPadded(c, t, i);
      if (ti === undefined) continue;
      terms.push(c.b.mul(ti, c.primal(j)));
      shapes.push(bshape(tanShape(c, i), c.inShape(j)));
    }
    if (!terms.length) return [undefined];
    return [fitTo(c, c.b.sum(terms), bshape(...shapes), withK(c.K, c.outShape(0)))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    return [0, 1].map((i) => {
      if (!c.active[i]) return undefined;
      if (unitOperand(c, i, 1 - i)) return g;
      return unbroadcast(c, c.b.mul(g, c.primal(1 - i)), c.outShape(0), c.inShape(i));
    });
  },
};

/** y = a / b: ẏ = ȧ/b − ḃ·(y/b); ā = g/b; b̄ = −g·(y/b). */
const div: Rule = {
  diff: () => [0, 1],
  jvp(c, t) {
    if (unitOperand(c, 0, 1)) return [t[0]];
    const terms: string[] = [];
    const shapes: number[][] = [];
    const ta = tanPadded(c, t, 0);
    if (ta !== undefined) {
      terms.push(c.b.div(ta, c.primal(1)));
      shapes.push(bshape(tanShape(c, 0), c.inShape(1)));
    }
    const tb = tanPadded(c, t, 1);
    if (tb !== undefined) {
      const q = c.memo('y_over_b', () => c.b.neg(c.b.div(c.out(0), c.primal(1))));
      terms.push(c.b.mul(tb, q));
      shapes.push(bshape(tanShape(c, 1), c.outShape(0)));
    }
    if (!terms.length) return [undefined];
    return [fitTo(c, c.b.sum(terms), bshape(...shapes), withK(c.K, c.outShape(0)))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const sy = c.outShape(0);
    if (unitOperand(c, 0, 1)) return [g, undefined];
    return [
      c.active[0] ? unbroadcast(c, c.b.div(g, c.primal(1)), sy, c.inShape(0)) : undefined,
      c.active[1]
        ? unbroadcast(c, c.b.mul(g, c.memo('y_over_b', () => c.b.neg(c.b.div(c.out(0), c.primal(1))))), sy, c.inShape(1))
        : undefined,
    ];
  },
};

/** A rule ẏ = D ⊙ ẋ for a unary op (or a binary op with a constant second operand, Pow). */
function factorRule(key: string, factor: (c: RuleCtx) => string, diff: number[] = [0]): Rule {
  return {
    diff: () => diff,
    jvp(c, [t]) {
      if (t === undefined) return [undefined];
      const d = c.memo(key, () => factor(c));
      const r = c.outShape(0).length;
      const tp = padTan(c, t, c.inShape(0), r);
      return [fitTo(c, c.b.mul(tp, d), bshape(withK(c.K, [...new Array(r - c.inShape(0).length).fill(1), ...c.inShape(0)]), c.outShape(0)), withK(c.K, c.outShape(0)))];
    },
    vjp(c, [g]) {
      if (g === undefined) return [];
      const d = c.memo(key, () => factor(c));
      return [unbroadcast(c, c.b.mul(g, d), c.outShape(0), c.inShape(0))];
    },
  };
}

const identity: Rule = {
  diff: () => [0],
  jvp: (_c, [t]) => [t],
  vjp: (_c, [g]) => [g],
};

const where: Rule = {
  diff: () => [1, 2],
  jvp(c, t) {
    const zero = c.b.scalar(0);
    const a = tanPadded(c, t, 1);
    const b = tanPadded(c, t, 2);
    if (a === undefined && b === undefined) return [undefined];
    const y = c.b.op('Where', [c.primal(0), a ?? zero, b ?? zero]);
    const shapes = [c.inShape(0), a !== undefined ? tanShape(c, 1) : [], b !== undefined ? tanShape(c, 2) : []];
    return [fitTo(c, y, bshape(...shapes), withK(c.K, c.outShape(0)))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const zero = c.b.scalar(0);
    return [
      undefined,
      c.active[1] ? unbroadcast(c, c.b.op('Where', [c.primal(0), g, zero]), c.outShape(0), c.inShape(1)) : undefined,
      c.active[2] ? unbroadcast(c, c.b.op('Where', [c.primal(0), zero, g]), c.outShape(0), c.inShape(2)) : undefined,
    ];
  },
};

/** Cast between float types: tangents follow the primal dtype of each tensor (mixed-precision segments). */
const cast: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const to = attrInt(c.node, 'to', DT.FLOAT);
    return [to === c.inDtype(0) ? t : c.b.op('Cast', [t], { to })];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const from = c.inDtype(0);
    return [from === attrInt(c.node, 'to', DT.FLOAT) ? g : c.b.op('Cast', [g], { to: from })];
  },
};

/** Softmax (opset ≥ 13, one axis): ẏ = y ⊙ (ẋ − Σ_axis y⊙ẋ); the same map for g (symmetric). */
function softmaxMap(c: RuleCtx, v: string): string {
  const axis = normAxis(attrInt(c.node, 'axis', -1), c.inShape(0).length) + 1;
  const y = c.out(0);
  const s = c.b.reduceSum(c.b.mul(y, v), [axis], true);
  return c.b.mul(y, c.b.sub(v, s));
}
const softmax: Rule = {
  diff: () => [0],
  jvp: (c, [t]) => [t === undefined ? undefined : softmaxMap(c, t)],
  vjp: (c, [g]) => [g === undefined ? undefined : softmaxMap(c, g)],
};

/** LogSoftmax: ẏ = ẋ − Σ_axis p⊙ẋ, x̄ = g − p·Σ_axis g, p = exp(y) (not symmetric, unlike Softmax). */
const logSoftmax: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const axis = normAxis(attrInt(c.node, 'axis', -1), c.inShape(0).length) + 1;
    const p = c.memo('p', () => c.b.op('Exp', [c.out(0)]));
    return [c.b.sub(t, c.b.reduceSum(c.b.mul(p, t), [axis], true))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const axis = normAxis(attrInt(c.node, 'axis', -1), c.inShape(0).length) + 1;
    const p = c.memo('p', () => c.b.op('Exp', [c.out(0)]));
    return [c.b.sub(g, c.b.mul(p, c.b.reduceSum(g, [axis], true)))];
  },
};

/** 1 where `cond` holds, else 0, as float. */
const indicator = (c: RuleCtx, cond: string): string => c.b.op('Cast', [cond], { to: DT.FLOAT });

const FRAC_2_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const elementwiseRules: Record<string, Rule> = {
  Add: linearCombination(1),
  Sum: linearCombination(1),
  Sub: linearCombination(-1),
  Mul: mul,
  Div: div,
  Where: where,
  Cast: cast,
  Identity: identity,
  Dropout: identity, // inference mode: y = x (the mask output is boolean, never active)
  Softmax: softmax,
  Neg: factorRule('neg', (c) => c.b.scalar(-1)),
  Sigmoid: factorRule('dsig', (c) => c.b.mul(c.out(0), c.b.sub(c.b.scalar(1), c.out(0)))),
  Tanh: factorRule('dtanh', (c) => c.b.sub(c.b.scalar(1), c.b.mul(c.out(0), c.out(0)))),
  Erf: factorRule('derf', (c) =>
    c.b.mul(c.b.scalar(FRAC_2_SQRT_PI), c.b.op('Exp', [c.b.neg(c.b.mul(c.primal(0), c.primal(0)))])),
  ),
  Sqrt: factorRule('dsqrt', (c) => c.b.div(c.b.scalar(0.5), c.out(0))),
  Reciprocal: factorRule('drecip', (c) => c.b.neg(c.b.mul(c.out(0), c.out(0)))),
  Exp: factorRule('dexp', (c) => c.out(0)),
  Log: factorRule('dlog', (c) => c.b.op('Reciprocal', [c.primal(0)])),
  Sin: factorRule('dsin', (c) => c.b.op('Cos', [c.primal(0)])),
  Cos: factorRule('dcos', (c) => c.b.neg(c.b.op('Sin', [c.primal(0)]))),
  Relu: factorRule('drelu', (c) => c.b.op('Cast', [c.b.op('Greater', [c.primal(0), c.b.scalar(0)])], { to: DT.FLOAT })),
  Softplus: factorRule('dsoftplus', (c) => c.b.op('Sigmoid', [c.primal(0)])),
  LogSoftmax: logSoftmax,
  Abs: factorRule('dabs', (c) => c.b.op('Sign', [c.primal(0)])),
  LeakyRelu: factorRule('dleaky', (c) => {
    const alpha = attrFloat(c.node, 'alpha', 0.01);
    return c.b.op('Where', [c.b.op('Greater', [c.primal(0), c.b.scalar(0)]), c.b.scalar(1), c.b.scalar(alpha)]);
  }),
  /** Elu: 1 for x > 0, y + α below. */
  Elu: factorRule('delu', (c) => {
    const alpha = attrFloat(c.node, 'alpha', 1);
    return c.b.op('Where', [c.b.op('Greater', [c.primal(0), c.b.scalar(0)]), c.b.scalar(1), c.b.add(c.out(0), c.b.scalar(alpha))]);
  }),
  /** Clip (opset ≥ 11, bounds as optional inputs that must not depend on x): 1 strictly inside the bounds. */
  Clip: factorRule('dclip', (c) => {
    const conds: string[] = [];
    if (c.node.input[1]) conds.push(c.b.op('Greater', [c.primal(0), c.primal(1)]));
    if (c.node.input[2]) conds.push(c.b.op('Less', [c.primal(0), c.primal(2)]));
    if (!conds.length) return c.b.scalar(1);
    return indicator(c, conds.length === 1 ? conds[0] : c.b.op('And', conds));
  }),
  /** Gelu-20: exact Φ(x) + x·φ(x); approximate='tanh': derivative of 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
  Gelu: factorRule('dgelu', (c) => {
    const b = c.b;
    const x = c.primal(0);
    const x2 = b.mul(x, x);
    if (attrString(c.node, 'approximate', 'none') === 'tanh') {
      const k = Math.sqrt(2 / Math.PI);
      const th = b.op('Tanh', [b.mul(b.scalar(k), b.add(x, b.mul(b.scalar(0.044715), b.mul(x2, x))))]);
      const dth = b.sub(b.scalar(1), b.mul(th, th));
      const du = b.mul(b.scalar(k), b.add(b.scalar(1), b.mul(b.scalar(3 * 0.044715), x2)));
      return b.add(b.mul(b.scalar(0.5), b.add(b.scalar(1), th)), b.mul(b.mul(b.scalar(0.5), x), b.mul(dth, du)));
    }
    const cdf = b.mul(b.scalar(0.5), b.add(b.scalar(1), b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2))])));
    const pdf = b.mul(b.scalar(1 / Math.sqrt(2 * Math.PI)), b.op('Exp', [b.mul(b.scalar(-0.5), x2)]));
    return b.add(cdf, b.mul(x, pdf));
  }),
  /** Pow(x, p) with p not depending on x: ẏ = p·x^(p−1)·ẋ (p = 2: 2x, the LayerNorm variance). */
  Pow: factorRule('dpow', (c) => {
    const p = c.value(1);
    if (p && p.length === 1 && p[0] === 2) return c.b.mul(c.b.scalar(2), c.primal(0));
    if (p && p.length === 1) return c.b.mul(c.b.scalar(p[0]), c.b.op('Pow', [c.primal(0), c.b.scalar(p[0] - 1)]));
    if (c.inDtype(1) !== DT.FLOAT) unsupportedAttr(c, 'non-float exponent of unknown value');
    return c.b.mul(c.primal(1), c.b.op('Pow', [c.primal(0), c.b.sub(c.primal(1), c.b.scalar(1))]));
  }),
};
