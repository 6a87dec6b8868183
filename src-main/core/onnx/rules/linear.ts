/**
 * Bilinear and windowed linear ops: MatMul, Gemm, Einsum, Conv (adjoint = a Conv with flipped, transposed weights
 * for stride 1, else ConvTranspose with the same weight + output_padding), ConvTranspose (adjoint = Conv), AveragePool (adjoint = depthwise
 * ConvTranspose of the per-window weights), GlobalAveragePool.
 */
import { adjointPads, windowGeom, windowOutSize } from '../convgeom';
import { OnnxDeriveError } from '../errors';
import { DT, attrFloat, attrInt, attrInts, attrString } from '../proto';
import type { Maybe, Rule, RuleCtx } from './types';
import { fitTo, mergeK, ones, padTan, splitK, unbroadcast, unsupportedAttr, withK } from './types';

const swapLast = (r: number): number[] => [...Array(r).keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));

// ---- MatMul -------------------------------------------------------------------------------------

const matmul: Rule = {
  diff: () => [0, 1],
  jvp(c, t) {
    if (c.inShape(0).length < 2 || c.inShape(1).length < 2) unsupportedAttr(c, 'active MatMul with a 1-D operand');
    const r = c.outShape(0).length;
    const terms: string[] = [];
    if (t[0] !== undefined) terms.push(c.b.op('MatMul', [padTan(c, t[0], c.inShape(0), r), c.primal(1)]));
    if (t[1] !== undefined) terms.push(c.b.op('MatMul', [c.primal(0), padTan(c, t[1], c.inShape(1), r)]));
    return [terms.length ? c.b.sum(terms) : undefined];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const sa = c.inShape(0);
    const sb = c.inShape(1);
    const sy = c.outShape(0);
    const res: Maybe[] = [undefined, undefined];
    if (c.active[0]) {
      const bt = c.memo('bT', () => c.b.transpose(c.primal(1), swapLast(sb.length)));
      const full = [...sy.slice(0, -2), sa[sa.length - 2], sa[sa.length - 1]];
      res[0] = unbroadcast(c, c.b.op('MatMul', [g, bt]), full, sa);
    }
    if (c.active[1]) {
      const at = c.memo('aT', () => c.b.transpose(c.primal(0), swapLast(sa.length)));
      const full = [...sy.slice(0, -2), sb[sb.length - 2], sb[sb.length - 1]];
      res[1] = unbroadcast(c, c.b.op('MatMul', [at, g]), full, sb);
    }
    return res;
  },
};

// ---- Gemm: Y = α·op(A)·op(B) + β·C, A and B 2-D ----------------------------------------------------

const T3 = [0, 2, 1];
const gemm: Rule = {
  diff: () => [0, 1, 2],
  jvp(c, t) {
    const alpha = attrFloat(c.node, 'alpha', 1);
    const beta = attrFloat(c.node, 'beta', 1);
    const tA = attrInt(c.node, 'transA', 0) === 1;
    const tB = attrInt(c.node, 'transB', 0) === 1;
    const opA = c.memo('opA', () => (tA ? c.b.transpose(c.primal(0), [1, 0]) : c.primal(0)));
    const opB = c.memo('opB', () => (tB ? c.b.transpose(c.primal(1), [1, 0]) : c.primal(1)));
    const terms: string[] = [];
    if (t[0] !== undefined) terms.push(c.b.op('MatMul', [tA ? c.b.transpose(t[0], T3) : t[0], opB]));
    if (t[1] !== undefined) terms.push(c.b.op('MatMul', [opA, tB ? c.b.transpose(t[1], T3) : t[1]]));
    let y = terms.length ? c.b.sum(terms) : undefined;
    if (y !== undefined && alpha !== 1) y = c.b.mul(y, c.b.scalar(alpha));
    if (t[2] !== undefined) {
      const sc = c.inShape(2);
      let tc = padTan(c, t[2], sc, 2);
      if (beta !== 1) tc = c.b.mul(tc, c.b.scalar(beta));
      tc = fitTo(c, tc, withK(c.K, [...ones(2 - sc.length), ...sc]), withK(c.K, c.outShape(0)));
      y = y === undefined ? tc : c.b.add(y, tc);
    }
    return [y];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const alpha = attrFloat(c.node, 'alpha', 1);
    const beta = attrFloat(c.node, 'beta', 1);
    const tA = attrInt(c.node, 'transA', 0) === 1;
    const tB = attrInt(c.node, 'transB', 0) === 1;
    const ga = alpha === 1 ? g : c.b.mul(g, c.b.scalar(alpha));
    const res: Maybe[] = [undefined, undefined, undefined];
    if (c.active[0]) {
      // d op(A) = g·op(B)ᵀ
      const opBT = c.memo('opBT', () => (tB ? c.primal(1) : c.b.transpose(c.primal(1), [1, 0])));
      const d = c.b.op('MatMul', [ga, opBT]);
      res[0] = tA ? c.b.transpose(d, T3) : d;
    }
    if (c.active[1]) {
      const opAT = c.memo('opAT', () => (tA ? c.primal(0) : c.b.transpose(c.primal(0), [1, 0])));
      const d = c.b.op('MatMul', [opAT, ga]);
      res[1] = tB ? c.b.transpose(d, T3) : d;
    }
    if (c.active[2]) res[2] = unbroadcast(c, beta === 1 ? g : c.b.mul(g, c.b.scalar(beta)), c.outShape(0), c.inShape(2));
    return res;
  },
};

// ---- Einsum ---------------------------------------------------------------------------------------

interface Eq {
  terms: string[];
  out: string;
}
/** Parse an equation, replacing "..." by explicit letters (ranks are static). */
function parseEinsum(c: RuleCtx): Eq {
  const eq = attrString(c.node, 'equation', '').replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->');
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const free = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((ch) => !used.has(ch));
  let maxEll = 0;
  const raw = lhs.split(',');
  raw.forEach((term, k) => {
    if (term.includes('...')) maxEll = Math.max(maxEll, c.inShape(k).length - (term.length - 3));
  });
  const ellLetters = free.splice(0, maxEll).join('');
  const expand = (term: string, rank: number): string => {
    if (!term.includes('...')) return term;
    const n = rank - (term.length - 3);
    return term.replace('...', ellLetters.slice(maxEll - n));
  };
  const terms = raw.map((t, k) => expand(t, c.inShape(k).length));
  let out: string;
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const ch of terms.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    out = ellLetters + [...counts].filter(([ch, n]) => n === 1 && !ellLetters.includes(ch)).map(([ch]) => ch).sort().join('');
  } else out = rhs.includes('...') ? rhs.replace('...', ellLetters) : rhs;
  // Broadcasting of size-1 dims inside einsum would need unbroadcasting per letter; refuse it.
  const sizes = new Map<string, number>();
  terms.forEach((term, k) =>
    [...term].forEach((ch, i) => {
      const d = c.inShape(k)[i];
      if (sizes.has(ch) && sizes.get(ch) !== d) unsupportedAttr(c, `einsum letter ${ch} broadcasts (${sizes.get(ch)} vs ${d})`);
      sizes.set(ch, d);
    }),
  );
  for (const t of terms) if (new Set(t).size !== t.length) unsupportedAttr(c, `repeated index in einsum term "${t}" (diagonal)`);
  return { terms, out };
}
function freeLetter(eq: Eq): string {
  const used = new Set([...eq.terms.join(''), ...eq.out]);
  const ch = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].find((x) => !used.has(x));
  if (!ch) throw new OnnxDeriveError('unsupported-attr', 'einsum uses every letter');
  return ch;
}
const einsum: Rule = {
  diff: (n) => n.input.map((_, i) => i),
  jvp(c, t) {
    const eq = parseEinsum(c);
    const k = freeLetter(eq);
    const terms: string[] = [];
    t.forEach((ti, i) => {
      if (ti === undefined) return;
      const lhs = eq.terms.map((term, j) => (j === i ? k + term : term)).join(',');
      const ins = eq.terms.map((_, j) => (j === i ? ti : c.primal(j)));
      terms.push(c.b.op('Einsum', ins, { equation: `${lhs}->${k}${eq.out}` }));
    });
    return [terms.length ? c.b.sum(terms) : undefined];
  },
  vjp(c, [g]) {
    if (g === undefined) return [];
    const eq = parseEinsum(c);
    const k = freeLetter(eq);
    return eq.terms.map((term, i) => {
      if (!c.active[i]) return undefined;
      const others = eq.terms.filter((_, j) => j !== i);
      const avail = new Set([...eq.out, ...others.join('')]);
      // letters only in this operand were summed out: the adjoint is constant along them (broadcast back)
      const kept = [...term].filter((ch) => avail.has(ch)).join('');
      const lhs = [k + eq.out, ...others].join(',');
      const ins = [g, ...eq.terms.map((_, j) => j).filter((j) => j !== i).map((j) => c.primal(j))];
      let r = c.b.op('Einsum', ins, { equation: `${lhs}->${k}${kept}` });
      if (kept.length !== term.length) {
        const shape = c.inShape(i);
        const keptShape = [...term].map((ch, a) => (avail.has(ch) ? shape[a] : 1));
        r = c.b.expand(c.b.reshape(r, withK(c.K, keptShape)), withK(c.K, shape));
      }
      return r;
    });
  },
};

// ---- Conv / ConvTranspose ---------------------------------------------------------------------------

function convAttrs(c: RuleCtx, spatial: number[], kernel: number[]) {
  const g = windowGeom(c.node, spatial, kernel);
  return { g, group: attrInt(c.node, 'group', 1) };
}

const conv: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const sx = c.inShape(0);
    const kernel = c.inShape(1).slice(2);
    const { g, group } = convAttrs(c, sx.slice(2), kernel);
    const y = c.b.op('Conv', [mergeK(c, t, sx), c.primal(1)], {
      strides: g.strides, dilations: g.dilations, pads: g.pads, group, kernel_shape: kernel,
    });
    return [splitK(c, y, c.outShape(0))];
  },
  vjp(c, [gy]) {
    if (gy === undefined) return [];
    const sx = c.inShape(0);
    const sy = c.outShape(0);
    const kernel = c.inShape(1).slice(2);
    const { g, group } = convAttrs(c, sx.slice(2), kernel);
    const r = kernel.length;
    // Stride 1 (every 3×3 and 1×1 conv of a U-Net block): the adjoint is itself a Conv, with the kernel flipped in
    // space, input and output channels swapped per group, and pads d·(k−1) − p. ORT's Conv runs ≈ 1.8× faster than
    // its ConvTranspose on CPU (shared/notes/performance-profile.md: ConvTranspose was 43.5 % of a pullback), and
    // the weight transform is a Transpose/Slice of an initializer that ORT folds once when the session is created.
    const flippedPads = g.pads.map((p, i) => g.dilations[i % r] * (kernel[i % r] - 1) - p);
    if (c.opset >= 10 && g.strides.every((st) => st === 1) && flippedPads.every((p) => p >= 0)) {
      const weights = c.memo('adjointConvWeights', () => adjointConvWeights(c, group));
      const x = c.b.op('Conv', [mergeK(c, gy, sy), weights], {
        strides: ones(r), dilations: g.dilations, pads: flippedPads, group, kernel_shape: kernel,
      });
      return [splitK(c, x, sx)];
    }
    const adj = adjointPads(g, sx.slice(2), sy.slice(2));
    const x = c.b.op('ConvTranspose', [mergeK(c, gy, sy), c.primal(1)], {
      strides: g.strides, dilations: g.dilations, pads: adj.pads, group, kernel_shape: kernel, output_padding: adj.outputPadding,
    });
    return [splitK(c, x, sx)];
  },
};

/**
 * Weights of the Conv that is the adjoint of a stride-1 Conv with weights W [C_out, C_in/g, k…]: per group the
 * in/out channel axes swapped ([C_in, C_out/g, k…]) and every spatial axis reversed.
 */
function adjointConvWeights(c: RuleCtx, group: number): string {
  const sw = c.inShape(1);
  const [cOut, cInPerGroup, ...kernel] = sw;
  const spatialAxes = kernel.map((_, i) => i + 2);
  let swapped: string;
  if (group === 1) swapped = c.b.transpose(c.primal(1), [1, 0, ...spatialAxes]);
  else {
    const grouped = c.b.reshape(c.primal(1), [group, cOut / group, cInPerGroup, ...kernel]);
    const perm = [0, 2, 1, ...spatialAxes.map((a) => a + 1)];
    swapped = c.b.reshape(c.b.transpose(grouped, perm), [cInPerGroup * group, cOut / group, ...kernel]);
  }
  // Negative steps walk each spatial axis backwards; the end −(k+1) normalises to "before index 0".
  return c.b.slice(swapped, kernel.map((k) => k - 1), kernel.map((k) => -(k + 1)), spatialAxes, kernel.map(() => -1));
}

const convTranspose: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    if (attrInts(c.node, 'output_shape') || attrString(c.node, 'auto_pad', 'NOTSET') !== 'NOTSET') {
      unsupportedAttr(c, 'output_shape/auto_pad (re-export with explicit pads)');
    }
    const sx = c.inShape(0);
    const attrs = Object.fromEntries(
      c.node.attribute.map((a) => [a.name, a.ints.length ? a.ints.map(Number) : Number(a.i)]),
    ) as Record<string, number | number[]>;
    return [splitK(c, c.b.op('ConvTranspose', [mergeK(c, t, sx), c.primal(1)], attrs), c.outShape(0))];
  },
  vjp(c, [gy]) {
    if (gy === undefined) return [];
    const sx = c.inShape(0);
    const sy = c.outShape(0);
    const r = sx.length - 2;
    const y = c.b.op('Conv', [mergeK(c, gy, sy), c.primal(1)], {
      strides: attrInts(c.node, 'strides') ?? ones(r),
      dilations: attrInts(c.node, 'dilations') ?? ones(r),
      pads: attrInts(c.node, 'pads') ?? new Array(2 * r).fill(0),
      group: attrInt(c.node, 'group', 1),
      kernel_shape: c.inShape(1).slice(2),
    });
    return [splitK(c, y, sx)];
  },
};

// ---- AveragePool ------------------------------------------------------------------------------------

/** 1 / (number of elements ORT divides by) per output position, as a [1,1,...out] constant. */
function poolInvCounts(c: RuleCtx): { inv: number[]; uniform: boolean } {
  const sx = c.inShape(0).slice(2);
  const kernel = attrInts(c.node, 'kernel_shape')!;
  const g = windowGeom(c.node, sx, kernel);
  const out = windowOutSize(g, sx);
  const includePad = attrInt(c.node, 'count_include_pad', 0) === 1;
  const r = sx.length;
  const perAxis = out.map((o, a) =>
    Array.from({ length: o }, (_, i) => {
      const start = i * g.strides[a] - g.pads[a];
      let n = 0;
      for (let j = 0; j < kernel[a]; j++) {
        const p = start + j * g.dilations[a];
        const lo = includePad ? -g.pads[a] : 0;
        const hi = includePad ? sx[a] + g.pads[a + r] : sx[a];
        if (p >= lo && p < hi) n++;
      }
      return n;
    }),
  );
  const total = out.reduce((a, b) => a * b, 1);
  const inv: number[] = new Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i;
    let n = 1;
    for (let a = r - 1; a >= 0; a--) {
      n *= perAxis[a][rem % out[a]];
      rem = Math.floor(rem / out[a]);
    }
    inv[i] = 1 / n;
  }
  return { inv, uniform: inv.every((v) => v === inv[0]) };
}

const averagePool: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    const sx = c.inShape(0);
    const attrs = Object.fromEntries(
      c.node.attribute.map((a) => [a.name, a.type === 3 ? new TextDecoder().decode(a.s) : a.ints.length ? a.ints.map(Number) : Number(a.i)]),
    ) as Record<string, number | number[] | string>;
    return [splitK(c, c.b.op('AveragePool', [mergeK(c, t, sx)], attrs), c.outShape(0))];
  },
  vjp(c, [gy]) {
    if (gy === undefined) return [];
    const sx = c.inShape(0);
    const sy = c.outShape(0);
    const kernel = attrInts(c.node, 'kernel_shape')!;
    const g = windowGeom(c.node, sx.slice(2), kernel);
    const adj = adjointPads(g, sx.slice(2), sy.slice(2));
    const { inv, uniform } = poolInvCounts(c);
    const ch = sx[1];
    const weights = c.b.constant(DT.FLOAT, [ch, 1, ...kernel], new Array(ch * kernel.reduce((a, b) => a * b, 1)).fill(uniform ? inv[0] : 1));
    const scaled = uniform ? gy : c.b.mul(gy, c.b.constant(DT.FLOAT, [1, 1, ...sy.slice(2)], inv));
    const x = c.b.op('ConvTranspose', [mergeK(c, scaled, sy), weights], {
      strides: g.strides, dilations: g.dilations, pads: adj.pads, group: ch, kernel_shape: kernel, output_padding: adj.outputPadding,
    });
    return [splitK(c, x, sx)];
  },
};

const globalAveragePool: Rule = {
  diff: () => [0],
  jvp(c, [t]) {
    if (t === undefined) return [undefined];
    return [splitK(c, c.b.op('GlobalAveragePool', [mergeK(c, t, c.inShape(0))]), c.outShape(0))];
  },
  vjp(c, [gy]) {
    if (gy === undefined) return [];
    const sx = c.inShape(0);
    const n = sx.slice(2).reduce((a, b) => a * b, 1);
    return [c.b.expand(c.b.mul(gy, c.b.scalar(1 / n)), withK(c.K, sx))];
  },
};

export const linearRules: Record<string, Rule> = {
  MatMul: matmul,
  Gemm: gemm,
  Einsum: einsum,
  Conv: conv,
  ConvTranspose: convTranspose,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
