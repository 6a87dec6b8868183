/**
 * Exporter patterns of §1.1 of the autodiff note, built as small ONNX graphs in TS (random weights):
 * GroupNorm-as-InstanceNorm with Shape plumbing, SiLU, timestep embedding branch (primal only),
 * Pad+Conv and strided/grouped/dilated Conv, torch-1 attention with batch merged into heads, SDPA
 * with a Shape-derived scale and cross-attention keys/values, Einsum attention, GEGLU via Slice
 * and via Split with Erf-GELU, LayerNorm decomposed (opset 14) and fused (17), Resize + skip Concat,
 * AveragePool, Where/Expand/Cast, operands that are both active. Every graph passes the dot-product,
 * central-difference, pullback, batch-consistency, linearity and JᵀJ-symmetry checks at both levels.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DT } from '../../src-main/core/onnx/proto';
import { deriveGraphs } from '../../src-main/core/onnx';
import { LEVELS, expectDerivativesPass, TestGraph, checkDerivatives, randn, run, session, type Arr, Worst } from './onnx-harness';

interface Pattern {
  model: Uint8Array;
  x: Arr & { data: Float32Array };
  feeds: Record<string, Arr>;
  seq?: number;
}

const C = 8;
const H = 8;
const W = 8;
const sampleIn = [{ name: 'sample', dims: ['batch', C, 'height', 'width'] as (number | string)[] }];
const xOf = (c = C, h = H, w = W): Arr & { data: Float32Array } => ({ dims: [1, c, h, w], data: randn(c * h * w, 42) });

/** GroupNorm as exported by torch: Reshape [0,G,-1] → IN(ones, zeros) → Reshape(Shape(x)) → Mul γ → Add β. */
function groupNorm(g: TestGraph, x: string, ch: number, groups: number, rank = 4): string {
  const r = g.op('Reshape', [x, g.constI64([0, groups, -1])]);
  const n = g.op('InstanceNormalization', [r, g.floats([groups], new Array(groups).fill(1)), g.floats([groups], new Array(groups).fill(0))], {
    epsilon: { float: 1e-6 },
  });
  const back = g.op('Reshape', [n, g.op('Shape', [x])]);
  const gamma = g.weight([ch, ...new Array(rank - 2).fill(1)], 0.5);
  const beta = g.weight([ch, ...new Array(rank - 2).fill(1)], 0.5);
  return g.op('Add', [g.op('Mul', [back, gamma]), beta]);
}
const silu = (g: TestGraph, x: string): string => g.op('Mul', [x, g.op('Sigmoid', [x])]);
const conv = (g: TestGraph, x: string, cin: number, cout: number, attrs: Record<string, number[] | number> = {}, k = 3): string =>
  g.op('Conv', [x, g.weight([cout, cin / ((attrs.group as number) ?? 1), k, k], 0.2), g.weight([cout], 0.1)], {
    kernel_shape: [k, k],
    pads: [1, 1, 1, 1],
    ...attrs,
  });

/** Timestep embedding as diffusers exports it: Cast → Mul(freqs) → Sin/Cos → Concat → Gemm → SiLU → Gemm. */
function timeEmbedding(g: TestGraph, t: string, out: number): string {
  const tf = g.op('Cast', [t], { to: DT.FLOAT });
  const freqs = g.floats([1, 4], [1, 0.5, 0.25, 0.125]);
  const arg = g.op('Mul', [g.op('Unsqueeze', [tf, g.constI64([1])]), freqs]);
  const emb = g.op('Concat', [g.op('Sin', [arg]), g.op('Cos', [arg])], { axis: 1 });
  const h1 = silu(g, g.op('Gemm', [emb, g.weight([16, 8]), g.weight([16])], { transB: 1 }));
  const h2 = g.op('Gemm', [h1, g.weight([16, out]), g.weight([out])], { transB: 0 });
  return g.op('Unsqueeze', [h2, g.constI64([2, 3])]);
}

function resnetBlock(g: TestGraph, x: string, temb: string | undefined): string {
  let h = conv(g, silu(g, groupNorm(g, x, C, 4)), C, C);
  if (temb) h = g.op('Add', [h, temb]);
  h = conv(g, silu(g, groupNorm(g, h, C, 4)), C, C);
  return g.op('Div', [g.op('Add', [x, h]), g.floats([], [1])]);
}

/** Attention over [1, C, H, W] → [1, C, H, W]; torch-1 style (batch merged with heads) or SDPA style (4-D). */
function attention(g: TestGraph, x: string, style: 'torch1' | 'sdpa' | 'einsum', heads: number, ctx?: { name: string; dim: number }): string {
  const L = H * W;
  const d = C / heads;
  const seqShape = g.op('Transpose', [g.op('Reshape', [x, g.constI64([1, C, L])])], { perm: [0, 2, 1] });
  const q = g.op('MatMul', [seqShape, g.weight([C, C])]);
  const kvSrc = ctx ? ctx.name : seqShape;
  const kvDim = ctx ? ctx.dim : C;
  const k = g.op('MatMul', [kvSrc, g.weight([kvDim, C])]);
  const v = g.op('MatMul', [kvSrc, g.weight([kvDim, C])]);
  // key length from the Shape of k (exporter plumbing)
  const lk = g.op('Gather', [g.op('Shape', [k]), g.constI64([1], [])], { axis: 0 });
  const toHeads4 = (t: string): string =>
    g.op('Transpose', [g.op('Reshape', [t, g.op('Concat', [g.constI64([1]), g.constI64([-1]), g.constI64([heads]), g.constI64([d])], { axis: 0 })])], {
      perm: [0, 2, 1, 3],
    });
  let o: string;
  if (style === 'torch1') {
    const merged = (t: string): string => g.op('Reshape', [toHeads4(t), g.op('Concat', [g.constI64([heads]), g.op('Unsqueeze', [lk, g.constI64([0])]), g.constI64([d])], { axis: 0 })]);
    const qm = g.op('Reshape', [toHeads4(q), g.constI64([heads, L, d])]);
    const s = g.op('Mul', [g.op('MatMul', [qm, g.op('Transpose', [merged(k)], { perm: [0, 2, 1] })]), g.floats([], [1 / Math.sqrt(d)])]);
    const p = g.op('Softmax', [s], { axis: -1 });
    const om = g.op('MatMul', [p, merged(v)]);
    o = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [om, g.constI64([1, heads, L, d])])], { perm: [0, 2, 1, 3] }), g.constI64([1, L, C])]);
  } else if (style === 'sdpa') {
    // scale = Sqrt(1/Sqrt(d)) applied to both Q and Kᵀ, d from Shape(Q) → Slice → Cast → Sqrt → Div → Sqrt
    const q4 = toHeads4(q);
    const dq = g.op('Cast', [g.op('Slice', [g.op('Shape', [q4]), g.constI64([-1]), g.constI64([2 ** 63])])], { to: DT.FLOAT });
    const sc = g.op('Sqrt', [g.op('Div', [g.floats([], [1]), g.op('Sqrt', [dq])])]);
    const kT = g.op('Transpose', [toHeads4(k)], { perm: [0, 1, 3, 2] });
    const s = g.op('MatMul', [g.op('Mul', [q4, sc]), g.op('Mul', [kT, sc])]);
    const p = g.op('Softmax', [s], { axis: -1 });
    const o4 = g.op('MatMul', [p, toHeads4(v)]);
    o = g.op('Reshape', [g.op('Transpose', [o4], { perm: [0, 2, 1, 3] }), g.constI64([1, L, C])]);
  } else {
    const s = g.op('Einsum', [q, k], { equation: 'bid,bjd->bij' });
    const p = g.op('Softmax', [g.op('Mul', [s, g.floats([], [1 / Math.sqrt(C)])])], { axis: -1 });
    o = g.op('Einsum', [p, v], { equation: 'bij,bjd->bid' });
  }
  const proj = g.op('Add', [g.op('MatMul', [o, g.weight([C, C])]), g.weight([C])]);
  const back = g.op('Reshape', [g.op('Transpose', [proj], { perm: [0, 2, 1] }), g.op('Shape', [x])]);
  return g.op('Add', [back, x]);
}

/** GEGLU feed-forward on [1, L, C]: MatMul → chunk(2) (Slices from Shape arithmetic, or Split) → x·GELU(gate). */
function geglu(g: TestGraph, x: string, viaSplit: boolean): string {
  const hdn = g.op('Add', [g.op('MatMul', [x, g.weight([C, 4 * C])]), g.weight([4 * C])]);
  let a: string;
  let gate: string;
  if (viaSplit) [a, gate] = g.opN('Split', [hdn, g.i64([2 * C, 2 * C])], { axis: -1 }, 'Split', 2);
  else {
    const last = g.op('Gather', [g.op('Shape', [hdn]), g.constI64([-1], [])], { axis: 0 });
    const half = g.op('Div', [g.op('Add', [last, g.constI64([0], [])]), g.constI64([2], [])]);
    const halfU = g.op('Unsqueeze', [half, g.constI64([0])]);
    a = g.op('Slice', [hdn, g.constI64([0]), halfU, g.constI64([-1])]);
    gate = g.op('Slice', [hdn, halfU, g.op('Mul', [halfU, g.constI64([2])]), g.constI64([-1])]);
  }
  const erf = g.op('Erf', [g.op('Div', [gate, g.floats([], [Math.SQRT2])])]);
  const gelu = g.op('Mul', [g.op('Mul', [gate, g.op('Add', [erf, g.floats([], [1])])]), g.floats([], [0.5])]);
  return g.op('MatMul', [g.op('Mul', [a, gelu]), g.weight([2 * C, C])]);
}

function layerNorm(g: TestGraph, x: string, fused: boolean): string {
  const gamma = g.weight([C], 0.5);
  const beta = g.weight([C], 0.5);
  if (fused) return g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: 1e-5 } });
  const mean = g.op('ReduceMean', [x], { axes: [-1] });
  const dlt = g.op('Sub', [x, mean]);
  const vr = g.op('ReduceMean', [g.op('Pow', [dlt, g.floats([], [2])])], { axes: [-1] });
  const nrm = g.op('Div', [dlt, g.op('Sqrt', [g.op('Add', [vr, g.floats([], [1e-5])])])]);
  return g.op('Add', [g.op('Mul', [nrm, gamma]), beta]);
}

const toSeq = (g: TestGraph, x: string): string => g.op('Transpose', [g.op('Reshape', [x, g.constI64([1, C, H * W])])], { perm: [0, 2, 1] });
const fromSeq = (g: TestGraph, x: string): string => g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.constI64([1, C, H, W])]);

const PATTERNS: Record<string, () => Pattern> = {
  'resnet block: GN-as-IN, SiLU, conv, timestep branch (int64 t)': () => {
    const g = new TestGraph(14);
    const out = resnetBlock(g, 'sample', timeEmbedding(g, 'timestep', C));
    return {
      model: g.model([...sampleIn, { name: 'timestep', dims: ['batch'], dtype: DT.INT64 }], out, [1, C, H, W]),
      x: xOf(),
      feeds: { timestep: { dims: [1], data: BigInt64Array.from([500n]) } },
    };
  },
  'downsample: Pad(0,1,0,1)+Conv s2 p0, Conv s2 p1, grouped dilated conv, AveragePool': () => {
    const g = new TestGraph(14);
    const p = g.op('Pad', ['sample', g.i64([0, 0, 0, 0, 0, 0, 1, 1])], { mode: 'constant' });
    const d1 = conv(g, p, C, C, { strides: [2, 2], pads: [0, 0, 0, 0] });
    const d2 = conv(g, 'sample', C, C, { strides: [2, 2] });
    const gd = conv(g, 'sample', C, C, { group: 2, dilations: [2, 2], pads: [2, 2, 2, 2], strides: [2, 2] });
    const ap = g.op('AveragePool', ['sample'], { kernel_shape: [2, 2], strides: [2, 2] });
    const s = g.op('Sum', [d1, d2, gd, ap]);
    return { model: g.model(sampleIn, s, [1, C, H / 2, W / 2]), x: xOf(), feeds: {} };
  },
  // Stride-1 convs take the Conv-with-flipped-weights adjoint: square and non-square kernels, asymmetric pads,
  // groups, dilation, and a 1×1; their sum keeps every one of them on the derivative's path.
  'stride-1 convs: 3×3 p1, 1×1, grouped, dilated, asymmetric pads, 3×1 kernel': () => {
    const g = new TestGraph(14);
    const plain = conv(g, 'sample', C, C);
    const pointwise = conv(g, 'sample', C, C, { pads: [0, 0, 0, 0] }, 1);
    const grouped = conv(g, 'sample', C, C, { group: 2 });
    const dilated = conv(g, 'sample', C, C, { dilations: [2, 2], pads: [2, 2, 2, 2] });
    const asymmetric = conv(g, 'sample', C, C, { pads: [0, 2, 2, 0] });
    const tall = g.op('Conv', ['sample', g.weight([C, C, 3, 1], 0.2)], { kernel_shape: [3, 1], pads: [1, 0, 1, 0] });
    const s = g.op('Sum', [plain, pointwise, grouped, dilated, asymmetric, tall]);
    return { model: g.model(sampleIn, s, [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'self-attention, torch-1 layout (batch merged with heads)': () => {
    const g = new TestGraph(14);
    return { model: g.model(sampleIn, attention(g, groupNorm(g, 'sample', C, 4), 'torch1', 2), [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'self-attention, SDPA layout with Shape-derived scale': () => {
    const g = new TestGraph(17);
    return { model: g.model(sampleIn, attention(g, 'sample', 'sdpa', 2), [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'cross-attention: keys/values from encoder_hidden_states (primal only)': () => {
    const g = new TestGraph(14);
    const out = attention(g, 'sample', 'sdpa', 2, { name: 'encoder_hidden_states', dim: 6 });
    return {
      model: g.model([...sampleIn, { name: 'encoder_hidden_states', dims: ['batch', 'seq', 6] }], out, [1, C, H, W]),
      x: xOf(),
      feeds: { encoder_hidden_states: { dims: [1, 5, 6], data: randn(30, 5) } },
      seq: 5,
    };
  },
  'einsum attention': () => {
    const g = new TestGraph(14);
    return { model: g.model(sampleIn, attention(g, 'sample', 'einsum', 1), [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'transformer block: decomposed LayerNorm (opset 14) + GEGLU via Slice': () => {
    const g = new TestGraph(14);
    const s = toSeq(g, 'sample');
    const out = g.op('Add', [geglu(g, layerNorm(g, s, false), false), s]);
    return { model: g.model(sampleIn, fromSeq(g, out), [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'transformer block: LayerNormalization (opset 17) + GEGLU via Split': () => {
    const g = new TestGraph(17);
    const s = toSeq(g, 'sample');
    const out = g.op('Add', [geglu(g, layerNorm(g, s, true), true), s]);
    return { model: g.model(sampleIn, fromSeq(g, out), [1, C, H, W]), x: xOf(), feeds: {} };
  },
  'decoder: Resize nearest ×2 + skip Concat, ConvTranspose up-sampler': () => {
    const g = new TestGraph(14);
    const down = conv(g, 'sample', C, C, { strides: [2, 2] });
    const up = g.op('Resize', [down, '', g.floats([4], [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    const cat = g.op('Concat', [up, 'sample'], { axis: 1 });
    const ct = g.op('ConvTranspose', [down, g.weight([C, 2, 4, 4], 0.2)], { strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [4, 4] });
    const out = g.op('Concat', [conv(g, cat, 2 * C, C), ct], { axis: 1 });
    return { model: g.model(sampleIn, out, [1, C + 2, H, W]), x: xOf(), feeds: {} };
  },
  'both operands active: Mul(x,x), Div, MatMul, Where, Expand, Cast round trip, ReduceSum, Sub': () => {
    const g = new TestGraph(14);
    const sq = g.op('Mul', ['sample', 'sample']);
    const dv = g.op('Div', [sq, g.op('Add', [g.op('Mul', ['sample', 'sample']), g.floats([], [1])])]);
    const m = g.op('MatMul', [dv, g.op('Transpose', ['sample'], { perm: [0, 1, 3, 2] })]);
    const cond = g.op('Greater', [g.weight([1, 1, H, W]), g.floats([], [0])]);
    const wh = g.op('Where', [cond, m, g.op('Expand', [g.op('ReduceSum', ['sample', g.i64([1])], { keepdims: 1 }), g.i64([1, C, H, W])])]);
    const cst = g.op('Cast', [g.op('Cast', [wh], { to: DT.DOUBLE })], { to: DT.FLOAT });
    return { model: g.model(sampleIn, g.op('Sub', [cst, dv]), [1, C, H, W]), x: xOf(), feeds: {} };
  },
};

const worst = new Worst();

describe('exporter patterns', () => {
  afterAll(() => worst.print('onnx-patterns'));
  it.each(Object.keys(PATTERNS))('%s', async (name) => {
    const p = PATTERNS[name]();
    for (const level of LEVELS) {
      const r = await checkDerivatives(p.model, p.x, p.feeds, { h: 'out', height: H, width: W, seq: p.seq, tangents: 3 }, level, 3);
      worst.add(`${name} ${level}`, r);
      expectDerivativesPass(r, level);
    }
  });
});

describe('dense Jacobian of a tiny model built here', () => {
  it('J from jvp columns equals J from vjp rows (both optimisation levels)', async () => {
    const g = new TestGraph(14);
    const c = 4;
    const h0 = g.op('Conv', ['sample', g.weight([c, 2, 3, 3], 0.3), g.weight([c])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const h1 = g.op('Mul', [h0, g.op('Sigmoid', [groupNorm(g, h0, c, 2)])]);
    const h2 = g.op('Conv', [h1, g.weight([c, c, 3, 3], 0.3)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
    const model = g.model([{ name: 'sample', dims: [1, 2, 4, 4] }], h2, [1, c, 2, 2]);
    const nx = 32;
    const nh = 16;
    const x = { dims: [1, 2, 4, 4], data: randn(nx, 8) };
    const eye = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0));
    const byCols = await deriveGraphs(model, { h: 'out', tangents: nx });
    const byRows = await deriveGraphs(model, { h: 'out', tangents: nh });
    for (const level of LEVELS) {
      const cols = (await run(await session(byCols.jvp, level), { sample: x, tangent: { dims: [nx, 2, 4, 4], data: eye(nx) } })).h_dot.data;
      const rows = (await run(await session(byRows.vjp, level), { sample: x, cotangent: { dims: [nh, c, 2, 2], data: eye(nh) } })).x_bar.data;
      let diff = 0;
      let ref = 0;
      for (let i = 0; i < nh; i++) {
        for (let j = 0; j < nx; j++) {
          diff = Math.max(diff, Math.abs(cols[j * nh + i] - rows[i * nx + j]));
          ref = Math.max(ref, Math.abs(rows[i * nx + j]));
        }
      }
      expect(ref).toBeGreaterThan(0.01);
      expect(diff / ref, level).toBeLessThan(1e-5);
    }
  });
});
