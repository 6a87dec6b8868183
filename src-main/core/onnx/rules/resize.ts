/**
 * Resize (mode nearest) with integer up-sampling factors. Whatever coordinate_transformation_mode /
 * nearest_mode the exporter chose, the rule first checks (per axis, in JS) that output index o reads
 * input index ⌊o/s⌋; then the tangent is a block Expand and the adjoint a block ReduceSum.
 * Anything else (linear/cubic, down-sampling, other index maps) is refused, never approximated.
 */
import { attrString } from '../proto';
import type { Rule, RuleCtx } from './types';
import { unsupportedAttr, withK } from './types';

function sourceIndex(o: number, inLen: number, outLen: number, scale: number, ctm: string, nm: string): number {
  let x: number;
  switch (ctm) {
    case 'half_pixel':
      x = (o + 0.5) / scale - 0.5;
      break;
    case 'pytorch_half_pixel':
      x = outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
      break;
    case 'align_corners':
      x = outLen > 1 ? (o * (inLen - 1)) / (outLen - 1) : 0;
      break;
    case 'asymmetric':
      x = o / scale;
      break;
    case 'tf_half_pixel_for_nn':
      x = (o + 0.5) / scale;
      break;
    default:
      return NaN;
  }
  let i: number;
  const f = Math.floor(x);
  switch (nm) {
    case 'round_prefer_floor':
      i = x - f === 0.5 ? f : Math.round(x);
      break;
    case 'round_prefer_ceil':
      i = x - f === 0.5 ? f + 1 : Math.round(x);
      break;
    case 'floor':
      i = f;
      break;
    case 'ceil':
      i = Math.ceil(x);
      break;
    default:
      return NaN;
  }
  return Math.min(Math.max(i, 0), inLen - 1);
}

/** Integer factor per axis after checking the nearest-neighbour index map is block replication. */
function factors(c: RuleCtx): number[] {
  if (attrString(c.node, 'mode', 'nearest') !== 'nearest') unsupportedAttr(c, `mode=${attrString(c.node, 'mode', '')} (only nearest)`);
  const ctm = attrString(c.node, 'coordinate_transformation_mode', 'half_pixel');
  const nm = attrString(c.node, 'nearest_mode', 'round_prefer_floor');
  const sx = c.inShape(0);
  const sy = c.outShape(0);
  const scales = c.value(2);
  return sx.map((inLen, a) => {
    const outLen = sy[a];
    const s = outLen / inLen;
    if (!Number.isInteger(s) || s < 1) unsupportedAttr(c, `non-integer or down-sampling factor ${inLen}→${outLen} on axis ${a}`);
    const scale = scales && scales.length === sx.length ? scales[a] : s;
    for (let o = 0; o < outLen; o++) {
      if (sourceIndex(o, inLen, outLen, scale, ctm, nm) !== Math.floor(o / s)) {
        unsupportedAttr(c, `nearest index map (${ctm}, ${nm}) is not block replication on axis ${a}`);
      }
    }
    return s;
  });
}

const resize: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const sx = c.inShape(0);
    const f = factors(c);
    const blocked = sx.flatMap((d, a) => (f[a] > 1 ? [d, 1] : [d]));
    const expanded = sx.flatMap((d, a) => (f[a] > 1 ? [d, f[a]] : [d]));
    const e = c.b.expand(c.b.reshape(t, withK(c.K, blocked)), withK(c.K, expanded));
    return [c.b.reshape(e, withK(c.K, c.outShape(0)))];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const sx = c.inShape(0);
    const f = factors(c);
    const expanded = sx.flatMap((d, a) => (f[a] > 1 ? [d, f[a]] : [d]));
    const axes: number[] = [];
    let k = 1;
    sx.forEach((_, a) => {
      k += f[a] > 1 ? 2 : 1;
      if (f[a] > 1) axes.push(k - 1);
    });
    return [c.b.reduceSum(c.b.reshape(g, withK(c.K, expanded)), axes, false)];
  },
};

export const resizeRules: Record<string, Rule> = { Resize: resize };
