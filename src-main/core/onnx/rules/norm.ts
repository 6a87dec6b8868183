/**
 * Normalisations (§2.3 of the autodiff note). With x̂ = (x−μ)·inv over the normalised axes,
 * N(v) = (v − mean(v) − x̂·mean(x̂·v))·inv is the (symmetric) Jacobian of x ↦ x̂.
 * InstanceNormalization: γ is constant per normalisation group, so ẏ = γ·N(ẋ) and x̄ = γ·N(g).
 * LayerNormalization: γ varies inside the group, so ẏ = γ·N(ẋ) but x̄ = N(γ·g).
 * The primal statistics are recomputed in standard ops (once, batch 1, shared by both sweeps).
 */
import { attrFloat, attrInt } from '../proto';
import type { Rule, RuleCtx } from './types';
import { normAxis, ones } from './types';

interface Stats {
  xhat: string;
  inv: string;
}

function stats(c: RuleCtx, axes: number[], input?: () => string): Stats {
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  const xhat = c.memo('xhat', () => {
    const x = input ? input() : c.primal(0);
    const mu = c.b.reduceMean(x, axes, true);
    const d = c.b.sub(x, mu);
    const v = c.b.reduceMean(c.b.mul(d, d), axes, true);
    const inv = c.b.op('Reciprocal', [c.b.op('Sqrt', [c.b.add(v, c.b.scalar(eps))])]);
    c.memo('inv', () => inv);
    return c.b.mul(d, inv);
  });
  return { xhat, inv: c.memo('inv', () => '') };
}

/**
 * scale·N(v) for v of shape [K, ...S]; `axes` are primal axes (the K axis shifts them by one).
 * Written as (v − mean v)·A − B·mean(x̂·v) with primal A = scale·inv (per group) and B = A·x̂, so
 * the K-column work is five elementwise passes and two reductions.
 */
function normJac(c: RuleCtx, s: Stats, v: string, axes: number[], scale: string | undefined): string {
  const ax = axes.map((a) => a + 1);
  const A = c.memo(`A${scale ?? ''}`, () => (scale ? c.b.mul(scale, s.inv) : s.inv));
  const B = c.memo(`B${scale ?? ''}`, () => c.b.mul(A, s.xhat));
  const m1 = c.b.reduceMean(v, ax, true);
  const m2 = c.b.reduceMean(c.b.mul(s.xhat, v), ax, true);
  return c.b.sub(c.b.mul(c.b.sub(v, m1), A), c.b.mul(B, m2));
}

function instanceAxes(c: RuleCtx): number[] {
  return [...Array(c.inShape(0).length).keys()].slice(2);
}
/** γ of InstanceNormalization reshaped to [C, 1, ...] so it broadcasts over the spatial axes. */
function instanceGamma(c: RuleCtx): string {
  return c.memo('gamma', () => c.b.reshape(c.primal(1), [c.inShape(0)[1], ...ones(c.inShape(0).length - 2)]));
}

const instanceNorm: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const axes = instanceAxes(c);
    return [normJac(c, stats(c, axes), t, axes, instanceGamma(c))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const axes = instanceAxes(c);
    return [normJac(c, stats(c, axes), g, axes, instanceGamma(c))];
  },
};

function layerAxes(c: RuleCtx): number[] {
  const r = c.inShape(0).length;
  const a = normAxis(attrInt(c.node, 'axis', -1), r);
  return [...Array(r).keys()].slice(a);
}

const layerNorm: Rule = {
  diff: () => [0],
  jvp(c, t) {
    if (t[0] === undefined) return [undefined];
    const axes = layerAxes(c);
    // Mean / InvStdDev outputs (1, 2) get no tangent: if they are used on the path, emit fails loudly.
    // γ varies inside the group: it multiplies after N (tangent) ...
    return [c.b.mul(c.primal(1), normJac(c, stats(c, axes), t[0], axes, undefined))];
  },
  vjp(c, g) {
    if (g[0] === undefined) return [];
    const axes = layerAxes(c);
    // ... and before N (cotangent), N being symmetric
    return [normJac(c, stats(c, axes), c.b.mul(g[0], c.primal(1)), axes, undefined)];
  },
};

/**
 * GroupNormalization (18: scale/bias per group; 21: per channel): statistics over [N, G, C/G·spatial],
 * then a per-channel scale that varies inside a group (21), hence LayerNorm's ordering.
 */
function groupView(c: RuleCtx): { g: number; dims: number[] } {
  const sx = c.inShape(0);
  const g = attrInt(c.node, 'num_groups', 1);
  return { g, dims: [sx[0], g, sx.slice(1).reduce((a, b) => a * b, 1) / g] };
}
function channelScale(c: RuleCtx): string {
  return c.memo('gamma_c', () => {
    const sx = c.inShape(0);
    const ch = sx[1];
    const { g } = groupView(c);
    const tail = ones(sx.length - 2);
    if (c.opset >= 21) return c.b.reshape(c.primal(1), [ch, ...tail]);
    return c.b.reshape(c.b.expand(c.b.reshape(c.primal(1), [g, 1]), [g, ch / g]), [ch, ...tail]);
  });
}
const groupNorm: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const { dims } = groupView(c);
    const s = stats(c, [2], () => c.b.reshape(c.primal(0), dims));
    const n = normJac(c, s, c.b.reshape(t, [c.K, ...dims]), [2], undefined);
    return [c.b.mul(c.b.reshape(n, [c.K, ...c.inShape(0)]), channelScale(c))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const { dims } = groupView(c);
    const s = stats(c, [2], () => c.b.reshape(c.primal(0), dims));
    const n = normJac(c, s, c.b.reshape(c.b.mul(g, channelScale(c)), [c.K, ...dims]), [2], undefined);
    return [c.b.reshape(n, [c.K, ...c.inShape(0)])];
  },
};

export const normRules: Record<string, Rule> = {
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNorm,
  GroupNormalization: groupNorm,
};
