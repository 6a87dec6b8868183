/**
 * Data-movement ops: Reshape/Squeeze/Unsqueeze/Flatten (a Reshape of the tangent to [K, ...S_out]),
 * Transpose, Expand, Slice, Split, Concat, Pad (constant), Tile, and the Reduce ops ReduceMean/ReduceSum.
 * All parameters are static (constant-folded), so every emitted shape/pad/axis is a constant.
 */
import { padPads, reduceAxes, sliceParams, splitSizes } from '../shapes';
import { DT, attrInt, attrInts, attrString } from '../proto';
import type { Rule, RuleCtx } from './types';
import { normAxis, padTan, unbroadcast, unsupportedAttr, withK } from './types';

const reshapeLike: Rule = {
  diff: () => [0],
  jvp: (c, [t]) => [t === undefined ? undefined : c.b.reshape(t, withK(c.K, c.outShape(0)))],
  vjp: (c, [g]) => [g === undefined ? undefined : c.b.reshape(g, withK(c.K, c.inShape(0)))],
};

const transpose: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const r = c.inShape(0).length;
    const perm = attrInts(c.node, 'perm') ?? [...Array(r).keys()].reverse();
    return [c.b.transpose(t, [0, ...perm.map((p) => p + 1)])];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const r = c.inShape(0).length;
    const perm = attrInts(c.node, 'perm') ?? [...Array(r).keys()].reverse();
    const inv = new Array<number>(r);
    perm.forEach((p, i) => (inv[p] = i));
    return [c.b.transpose(g, [0, ...inv.map((p) => p + 1)])];
  },
};

const expand: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const r = c.outShape(0).length;
    return [c.b.expand(padTan(c, t, c.inShape(0), r), withK(c.K, c.outShape(0)))];
  },
  vjp: (c, [g]) => [g === undefined ? undefined : unbroadcast(c, g, c.outShape(0), c.inShape(0))],
};

function sliceNodeParams(c: RuleCtx) {
  return sliceParams(
    c.inShape(0),
    c.needValue(1, 'starts'),
    c.needValue(2, 'ends'),
    c.node.input[3] ? c.needValue(3, 'axes') : undefined,
    c.node.input[4] ? c.needValue(4, 'steps') : undefined,
  );
}

/** Slice a [K, ...S] tensor with normalised per-axis parameters (only axes that change). */
function emitSlice(c: RuleCtx, t: string, s: readonly number[], per: { start: number; step: number; len: number }[]): string {
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  per.forEach((p, a) => {
    if (p.start === 0 && p.step === 1 && p.len === s[a]) return;
    const end = p.start + p.len * p.step;
    starts.push(p.start);
    // a negative end would wrap around: use "before the first element" explicitly
    ends.push(end < 0 ? -s[a] - 1 : end);
    axes.push(a + 1);
    steps.push(p.step);
  });
  if (!axes.length) return t;
  return c.b.slice(t, starts, ends, axes, steps.every((x) => x === 1) ? undefined : steps);
}

/**
 * Adjoint of a slice: scatter g [K, ...S_out] back into zeros [K, ...S_in]. Unit steps are a zero
 * Pad; other steps gather from g extended by one zero slot along the axis.
 */
function unslice(c: RuleCtx, g: string, sIn: readonly number[], per: { start: number; step: number; len: number }[]): string {
  const r = sIn.length;
  const pads = new Array<number>(2 * (r + 1)).fill(0);
  let cur = g;
  const curShape = per.map((p) => p.len);
  per.forEach((p, a) => {
    if (p.step === 1) {
      pads[a + 1] = p.start;
      pads[a + 1 + r + 1] = sIn[a] - p.start - p.len;
      return;
    }
    const zshape = withK(c.K, curShape.map((d, i) => (i === a ? 1 : d)));
    const ext = c.b.concat([cur, c.b.zeros(zshape)], a + 1);
    const idx = Array.from({ length: sIn[a] }, (_, i) => {
      const j = (i - p.start) / p.step;
      return Number.isInteger(j) && j >= 0 && j < p.len ? j : p.len;
    });
    cur = c.b.op('Gather', [ext, c.b.constant(DT.INT64, [idx.length], idx)], { axis: a + 1 });
    curShape[a] = sIn[a];
  });
  return c.b.padZeros(cur, pads);
}

const slice: Rule = {
  diff: () => [0],
  jvp: (c, [t]) => [t === undefined ? undefined : emitSlice(c, t, c.inShape(0), sliceNodeParams(c))],
  vjp: (c, [g]) => [g === undefined ? undefined : unslice(c, g, c.inShape(0), sliceNodeParams(c))],
};

function splitParts(c: RuleCtx): { axis: number; starts: number[]; sizes: number[] } {
  const s = c.inShape(0);
  const axis = normAxis(attrInt(c.node, 'axis', 0), s.length);
  const sizes = splitSizes(c.node, c.opset, c.value(1), s[axis]);
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return { axis, starts, sizes };
}

const split: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return c.node.output.map(() => undefined);
    const { axis, starts, sizes } = splitParts(c);
    return sizes.map((n, i) => c.b.slice(t, [starts[i]], [starts[i] + n], [axis + 1]));
  },
  vjp(c, g) {
    if (g.every((x) => x === undefined)) return [];
    const { axis } = splitParts(c);
    return [c.b.concat(g.map((gi, i) => gi ?? c.b.zeros(withK(c.K, c.outShape(i)))), axis + 1)];
  },
};

const concat: Rule = {
  diff: (n) => n.input.map((_, i) => i),
  jvp(c, t) {
    if (t.every((x) => x === undefined)) return [undefined];
    const axis = normAxis(attrInt(c.node, 'axis', 0), c.outShape(0).length);
    return [c.b.concat(t.map((ti, i) => ti ?? c.b.zeros(withK(c.K, c.inShape(i)))), axis + 1)];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const axis = normAxis(attrInt(c.node, 'axis', 0), c.outShape(0).length);
    let start = 0;
    return c.node.input.map((_, i) => {
      const n = c.inShape(i)[axis];
      const s0 = start;
      start += n;
      return c.active[i] ? c.b.slice(g, [s0], [s0 + n], [axis + 1]) : undefined;
    });
  },
};

/** Constant Pad with possibly negative pads (crop): crop first, then zero-pad. */
function padGeneral(c: RuleCtx, t: string, s: readonly number[], pads: readonly number[]): string {
  const r = s.length;
  const per = s.map((d, a) => {
    const b = Math.max(0, -pads[a]);
    const e = Math.max(0, -pads[a + r]);
    return { start: b, step: 1, len: d - b - e };
  });
  const cropped = emitSlice(c, t, s, per);
  const pos = [0, ...pads.slice(0, r).map((p) => Math.max(0, p)), 0, ...pads.slice(r).map((p) => Math.max(0, p))];
  return c.b.padZeros(cropped, pos);
}
function padOfNode(c: RuleCtx): number[] {
  if (attrString(c.node, 'mode', 'constant') !== 'constant') unsupportedAttr(c, `mode=${attrString(c.node, 'mode', '')} (only constant padding is differentiated)`);
  return padPads(c.node, c.inShape(0).length, c.value(1), c.node.input[3] ? c.needValue(3, 'axes') : undefined);
}
const pad: Rule = {
  diff: () => [0],
  jvp: (c, [t]) => [t === undefined ? undefined : padGeneral(c, t, c.inShape(0), padOfNode(c))],
  vjp(c, [g]) {
    if (g === undefined) return [];
    return [padGeneral(c, g, c.outShape(0), padOfNode(c).map((p) => -p))];
  },
};

function reduceRule(mean: boolean): Rule {
  return {
    diff: () => [0],
    jvp(c, [t]) {
      if (t === undefined) return [undefined];
      const sx = c.inShape(0);
      const axes = reduceAxes(c.node, c.opset, c.value(1), sx.length);
      if (!axes.length) return [t];
      const keep = attrInt(c.node, 'keepdims', 1) === 1;
      const ax = axes.map((a) => a + 1);
      return [mean ? c.b.reduceMean(t, ax, keep) : c.b.reduceSum(t, ax, keep)];
    },
    vjp(c, [g]) {
      if (g === undefined) return [];
      const sx = c.inShape(0);
      const axes = reduceAxes(c.node, c.opset, c.value(1), sx.length);
      if (!axes.length) return [g];
      const kept = sx.map((d, i) => (axes.includes(i) ? 1 : d));
      let out = c.b.expand(c.b.reshape(g, withK(c.K, kept)), withK(c.K, sx));
      if (mean) out = c.b.mul(out, c.b.scalar(1 / axes.reduce((a, i) => a * sx[i], 1)));
      return [out];
    },
  };
}

/** Tile: the tangent tiles the same way; the cotangent sums the copies ([K, r0, d0, r1, d1, ...] → sum over r). */
const tile: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    return [c.b.op('Tile', [t, c.b.i64([1, ...c.needValue(1, 'repeats')])])];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const sx = c.inShape(0);
    const reps = c.needValue(1, 'repeats');
    const blocked = sx.flatMap((d, a) => [reps[a], d]);
    const axes = sx.map((_, a) => 1 + 2 * a).filter((_, a) => reps[a] > 1);
    return [c.b.reshape(c.b.reduceSum(c.b.reshape(g, withK(c.K, blocked)), axes, true), withK(c.K, sx))];
  },
};

export const shapeRules: Record<string, Rule> = {
  Tile: tile,
  Reshape: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
  Flatten: reshapeLike,
  Transpose: transpose,
  Expand: expand,
  Slice: slice,
  Split: split,
  Concat: concat,
  Pad: pad,
  ReduceMean: reduceRule(true),
  ReduceSum: reduceRule(false),
};
