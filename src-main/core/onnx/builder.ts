/**
 * Emission helper: appends nodes and small constant initializers to a graph under construction,
 * with fresh names and opset-aware spellings of the ops whose signature changed between opsets
 * (ReduceMean axes attribute <18 vs input ≥18; Squeeze/Unsqueeze/ReduceSum axes as inputs ≥13).
 * Constants are deduplicated by content so repeated shapes cost one initializer.
 */
import { DT, makeNode, makeTensor, type AttrValue, type NodeProto, type TensorProto } from './proto';

export class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();
  private readonly memoCache = new Map<string, unknown>();
  /** Static dims of builder tensors where known (graph inputs, batch-merged op outputs, Reshape outputs). */
  private readonly dims = new Map<string, number[]>();
  /** Reshape output → the tensor it reshapes (never itself a Reshape output). */
  private readonly reshapeSrc = new Map<string, string>();

  constructor(
    readonly opset: number,
    readonly prefix: string,
  ) {}

  /** Node-name scope: the sweep and source node a rule is emitting for (profiles read like the model). */
  scope = '';

  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  /** Append a node; returns its output names. */
  opN(type: string, inputs: string[], nOut: number, attrs: Record<string, AttrValue | undefined> = {}, hint = type): string[] {
    const outs = Array.from({ length: nOut }, () => this.fresh(hint));
    this.nodes.push(makeNode(type, inputs, outs, this.fresh(`${this.scope}${hint}`), attrs));
    return outs;
  }
  op(type: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, hint = type): string {
    return this.opN(type, inputs, 1, attrs, hint)[0];
  }

  /** Compute once per key (primal helper tensors shared by the JVP and VJP sweeps of one graph). */
  memo<T>(key: string, f: () => T): T {
    if (!this.memoCache.has(key)) this.memoCache.set(key, f());
    return this.memoCache.get(key) as T;
  }

  constant(dtype: number, dims: readonly number[], values: ArrayLike<number>): string {
    const key = `${dtype}|${dims.join(',')}|${Array.from(values).join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh('c');
    this.inits.push(makeTensor(name, dtype, dims, values));
    this.constCache.set(key, name);
    return name;
  }
  i64(values: readonly number[]): string {
    return this.constant(DT.INT64, [values.length], values);
  }
  scalar(v: number, dtype: number = DT.FLOAT): string {
    return this.constant(dtype, [], [v]);
  }

  // --- arithmetic -----------------------------------------------------------------------------
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  neg(a: string): string {
    return this.op('Neg', [a]);
  }
  sum(xs: string[]): string {
    if (xs.length === 1) return xs[0];
    if (xs.length === 2) return this.add(xs[0], xs[1]);
    return this.op('Sum', xs);
  }

  // --- shape ops (all targets static) ------------------------------------------------------------
  noteDims(name: string, dims: readonly number[]): void {
    this.dims.set(name, [...dims]);
  }
  /**
   * Reshape with two peepholes that matter for per-node overhead: a Reshape of a Reshape reads the
   * original tensor (row-major reshapes compose), and a Reshape to the dims a tensor already has is
   * dropped — e.g. the split-K of one Conv followed by the merge-K of the next.
   */
  reshape(x: string, dims: readonly number[]): string {
    const src = this.reshapeSrc.get(x) ?? x;
    const known = this.dims.get(src);
    if (known && known.length === dims.length && known.every((d, i) => d === dims[i])) return src;
    const out = this.op('Reshape', [src, this.i64(dims)]);
    this.dims.set(out, [...dims]);
    this.reshapeSrc.set(out, src);
    return out;
  }
  transpose(x: string, perm: readonly number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm: [...perm] });
  }
  expand(x: string, dims: readonly number[]): string {
    return this.op('Expand', [x, this.i64(dims)]);
  }
  concat(xs: string[], axis: number): string {
    if (xs.length === 1) return xs[0];
    return this.op('Concat', xs, { axis });
  }
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps) ins.push(this.i64(steps));
    return this.op('Slice', ins);
  }
  /** Zero padding with non-negative pads [begin..., end...] over all axes. */
  padZeros(x: string, pads: readonly number[]): string {
    if (pads.every((p) => p === 0)) return x;
    return this.op('Pad', [x, this.i64(pads)], { mode: 'constant' });
  }
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    return this.op('ReduceSum', [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op('ReduceMean', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }
  /** A float zero tensor of static shape (Expand of a scalar: no large initializer). */
  zeros(dims: readonly number[]): string {
    return this.expand(this.scalar(0), dims);
  }
}
