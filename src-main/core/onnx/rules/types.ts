/**
 * The contract of a differentiation rule and the helpers every rule family shares.
 *
 * Layout convention (the "vmap" layout): the tangent or cotangent of a primal tensor of shape S
 * is a tensor of shape [K, ...S] — one extra leading axis for the K columns. The primal is
 * computed once at batch 1 and broadcasts against [K, ...S] by plain numpy rules, whatever the
 * primal layout is (including torch-1 attention that merges batch with heads: [B·heads, L, d]
 * becomes [K, heads, L, d], so no Tile is ever needed). Ops with a fixed batch axis (Conv, pools,
 * Resize) fold K into that axis with a free Reshape.
 */
import type { Builder } from '../builder';
import { OnnxDeriveError } from '../errors';
import type { NodeProto } from '../proto';

export interface RuleCtx {
  readonly b: Builder;
  readonly K: number;
  readonly node: NodeProto;
  readonly opset: number;
  /** Which inputs carry a tangent / need a cotangent. */
  readonly active: readonly boolean[];
  inShape(i: number): number[];
  inDtype(i: number): number;
  outShape(k: number): number[];
  /** Folded value of input i, if known. */
  value(i: number): number[] | undefined;
  needValue(i: number, what: string): number[];
  /** Name of the primal tensor at input i / output k (batch 1). */
  primal(i: number): string;
  out(k: number): string;
  /** Primal helper computed once per node (shared by the tangent and cotangent sweeps). */
  memo(key: string, f: () => string): string;
}

export type Maybe = string | undefined;

export interface Rule {
  /** Input positions derivatives flow through; any other active input is an error. */
  diff(node: NodeProto): number[];
  /** Tangents of the outputs ([K, ...S_out]) from tangents of the inputs (undefined = zero). */
  jvp(c: RuleCtx, t: Maybe[]): Maybe[];
  /** Cotangents of the inputs ([K, ...S_in]) from cotangents of the outputs (undefined = zero). */
  vjp(c: RuleCtx, g: Maybe[]): Maybe[];
}

export const withK = (K: number, s: readonly number[]): number[] => [K, ...s];
export const ones = (n: number): number[] => new Array<number>(Math.max(0, n)).fill(1);
export const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

export function unsupportedAttr(c: RuleCtx, what: string): never {
  throw new OnnxDeriveError('unsupported-attr', `${c.node.opType} node "${c.node.name}": ${what}`, {
    op: c.node.opType,
    node: c.node.name,
  });
}

/** Tangent [K, ...S] → [K, 1..., ...S] of rank r+1 so it broadcasts like an operand of rank r. */
export function padTan(c: RuleCtx, t: string, s: readonly number[], r: number): string {
  if (s.length >= r) return t;
  return c.b.reshape(t, [c.K, ...ones(r - s.length), ...s]);
}

/** Sum a [K, ...Sy] cotangent down to an operand of shape Sa that was broadcast to Sy. */
export function unbroadcast(c: RuleCtx, g: string, sy: readonly number[], sa: readonly number[]): string {
  const r = sy.length;
  const pa = [...ones(r - sa.length), ...sa];
  const axes: number[] = [];
  for (let i = 0; i < r; i++) if (pa[i] === 1 && sy[i] !== 1) axes.push(i + 1);
  let out = c.b.reduceSum(g, axes, true);
  if (sa.length !== r) out = c.b.reshape(out, withK(c.K, sa));
  return out;
}

/** Broadcast a tangent whose static shape is `have` (K axis included) to `want`. */
export function fitTo(c: RuleCtx, t: string, have: readonly number[], want: readonly number[]): string {
  if (have.length === want.length && have.every((d, i) => d === want[i])) return t;
  return c.b.expand(t, want);
}

/** numpy broadcast shape (no checks: the shape pass validated the primal). */
export function bshape(...shapes: (readonly number[])[]): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  const out = ones(r);
  for (const s of shapes) for (let i = 0; i < s.length; i++) if (s[i] !== 1) out[r - s.length + i] = s[i];
  return out;
}

/** [K, N, ...rest] → [K·N, ...rest] for ops with a fixed batch axis. */
export function mergeK(c: RuleCtx, t: string, s: readonly number[]): string {
  return c.b.reshape(t, [c.K * s[0], ...s.slice(1)]);
}
export function splitK(c: RuleCtx, t: string, s: readonly number[]): string {
  c.b.noteDims(t, [c.K * s[0], ...s.slice(1)]);
  return c.b.reshape(t, withK(c.K, s));
}
