/**
 * Emission of the derived graphs. Layout (see rules/types.ts): primal at batch 1, tangents and
 * cotangents [K, ...S]. Graph = primal nodes needed for h (folded shape plumbing replaced by
 * constants) + tangent sweep (jvp, pullback) + reverse sweep (vjp, pullback; the pullback seeds
 * it with the tangent sweep's J·V). Original initializers are referenced as they are, external
 * data entries included, so the weights are never copied.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import type { Activity } from './activity';
import type { Fused } from './fusion';
import { Builder } from './builder';
import { OnnxDeriveError } from './errors';
import type { Graph } from './graph';
import { DT, makeNode, makeTensor, makeValueInfo, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { RULES, type RuleCtx } from './rules';
import type { ShapeInfo } from './shapes';

export type GraphKind = 'forward' | 'jvp' | 'vjp' | 'pullback';

export interface Plan {
  g: Graph;
  shapes: ShapeInfo;
  /** Concrete shapes of every model input (batch 1). */
  inputShapes: Map<string, { dtype: number; dims: number[] }>;
  x: string;
  h: string;
  K: number;
  activity: Activity;
  fused: Fused;
}

/** Names of the derived graphs' extra inputs/outputs (the engine contract). */
export const IO = { tangent: 'tangent', cotangent: 'cotangent', h: 'h', hDot: 'h_dot', xBar: 'x_bar' } as const;

const FOLDABLE = new Set<number>([DT.FLOAT, DT.INT64, DT.INT32, DT.BOOL, DT.DOUBLE, DT.UINT8]);

/** Shape without the leading batch-1 axis (the per-column shape of x and h). */
export const unbatched = (s: readonly number[]): number[] => (s.length > 0 && s[0] === 1 ? s.slice(1) : s.slice());

function primalNodes(plan: Plan): NodeProto[] {
  const { g, shapes } = plan;
  const include = new Set<number>();
  const seen = new Set<string>();
  const stack = [plan.h];
  const isInput = new Set(g.inputs.map((i) => i.name));
  while (stack.length) {
    const t = stack.pop()!;
    if (!t || seen.has(t)) continue;
    seen.add(t);
    if (isInput.has(t) || g.inits.has(t)) continue;
    const info = shapes.infos.get(t);
    if (info?.value && FOLDABLE.has(info.dtype)) continue; // becomes a constant
    const p = g.producer.get(t);
    if (p === undefined) throw new OnnxDeriveError('bad-onnx', `tensor "${t}" has no producer`, { tensor: t });
    if (!include.has(p)) {
      include.add(p);
      stack.push(...g.nodes[p].input);
    }
  }
  return [...include].sort((a, b) => a - b).map((i) => g.nodes[i]);
}

/** The node a sweep differentiates at index k: the model's, or the standard op a fused pattern stands for. */
const nodeAt = (plan: Plan, k: number): NodeProto => plan.fused.replace.get(k) ?? plan.g.nodes[k];
const ruleOf = (plan: Plan, k: number) => plan.fused.rules.get(k) ?? RULES[nodeAt(plan, k).opType];

function ctxFor(plan: Plan, b: Builder, node: NodeProto): RuleCtx {
  const { shapes } = plan;
  const value = (i: number): number[] | undefined => (node.input[i] ? shapes.value(node.input[i]) : undefined);
  return {
    b,
    K: plan.K,
    node,
    opset: plan.g.opset,
    active: node.input.map((i) => !!i && plan.activity.active.has(i)),
    inShape: (i) => shapes.shape(node.input[i]),
    inDtype: (i) => shapes.need(node.input[i]).dtype,
    outShape: (k) => shapes.shape(node.output[k]),
    value,
    needValue: (i, what) => {
      const v = value(i);
      if (!v) {
        throw new OnnxDeriveError('shape-inference', `${what} of ${node.opType} "${node.name}" is not a constant`, {
          op: node.opType,
          node: node.name,
        });
      }
      return v;
    },
    primal: (i) => node.input[i],
    out: (k) => node.output[k],
    memo: (key, f) => b.memo(`${node.name}|${key}`, f),
  };
}

function missingTangent(node: NodeProto, tensor: string, side: 'output' | 'input' = 'output'): never {
  throw new OnnxDeriveError(
    'unsupported-op',
    `${side} "${tensor}" of ${node.opType} node "${node.name}" is on the path from x to h but its rule gives it no ` +
      (side === 'output' ? 'tangent' : 'cotangent'),
    { op: node.opType, node: node.name, tensor },
  );
}

/** Tangent sweep: returns the tangent of h ([K, ...S_h]). */
function tangentSweep(plan: Plan, b: Builder, tangentX: string): string {
  const tan = new Map<string, string>([[plan.x, tangentX]]);
  for (const k of plan.activity.nodes) {
    if (plan.fused.absorbed.has(k)) continue;
    const node = nodeAt(plan, k);
    b.scope = `jvp${node.name.startsWith('/') ? '' : '/'}${node.name}/`;
    const c = ctxFor(plan, b, node);
    const outs = ruleOf(plan, k).jvp(c, node.input.map((i) => (i ? tan.get(i) : undefined)));
    node.output.forEach((o, j) => {
      if (!plan.activity.active.has(o)) return;
      const t = outs[j];
      if (t === undefined) missingTangent(node, o);
      tan.set(o, t);
    });
  }
  const th = tan.get(plan.h);
  if (!th) throw new OnnxDeriveError('h-not-found', `no tangent reached "${plan.h}"`);
  return th;
}

/** Reverse sweep from a cotangent of h ([K, ...S_h]); returns the cotangent of x ([K, ...S_x]). */
function reverseSweep(plan: Plan, b: Builder, cotH: string): string {
  const parts = new Map<string, string[]>([[plan.h, [cotH]]]);
  const total = (t: string): string | undefined => {
    const p = parts.get(t);
    if (!p || !p.length) return undefined;
    const s = b.sum(p);
    parts.set(t, [s]);
    return s;
  };
  const nodes = plan.activity.nodes;
  for (let n = nodes.length - 1; n >= 0; n--) {
    if (plan.fused.absorbed.has(nodes[n])) continue;
    const node = nodeAt(plan, nodes[n]);
    b.scope = `vjp${node.name.startsWith('/') ? '' : '/'}${node.name}/`;
    const gs = node.output.map((o) => (plan.activity.active.has(o) ? total(o) : undefined));
    if (gs.every((x) => x === undefined)) continue;
    const c = ctxFor(plan, b, node);
    const res = ruleOf(plan, nodes[n]).vjp(c, gs);
    node.input.forEach((i, pos) => {
      if (!c.active[pos]) return;
      const r = res[pos];
      // an input produced by an absorbed node gets its cotangent through the fused rule's other input
      if (r === undefined && plan.fused.absorbed.has(plan.g.producer.get(i) ?? -1)) return;
      if (r === undefined) missingTangent(node, i, 'input');
      parts.set(i, [...(parts.get(i) ?? []), r]);
    });
  }
  const gx = total(plan.x);
  if (!gx) throw new OnnxDeriveError('h-not-found', `no cotangent reached "${plan.x}"`);
  return gx;
}

/** Keep only nodes that contribute to the outputs (peepholes leave bypassed Reshapes behind). */
function deadCodeElimination(nodes: NodeProto[], outputs: string[]): NodeProto[] {
  const needed = new Set(outputs);
  const keep = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!nodes[i].output.some((o) => needed.has(o))) continue;
    keep[i] = true;
    for (const x of nodes[i].input) if (x) needed.add(x);
  }
  return nodes.filter((_, i) => keep[i]);
}

export function emitGraph(plan: Plan, kind: GraphKind): ModelProto {
  const { g, shapes, K } = plan;
  const b = new Builder(g.opset, '__pb/');
  const sx = shapes.shape(plan.x);
  const sh = shapes.shape(plan.h);
  const hStar = unbatched(sh);
  const xStar = unbatched(sx);
  const prim = primalNodes(plan);
  b.noteDims(IO.tangent, [K, ...xStar]);
  b.noteDims(IO.cotangent, [K, ...hStar]);
  const tail: NodeProto[] = [makeNode('Identity', [plan.h], [IO.h], '__pb/out_h')];
  const inputs = g.inputs.map((vi) => {
    const s = plan.inputShapes.get(vi.name)!;
    return makeValueInfo(vi.name, s.dtype, s.dims);
  });
  const outputs = [makeValueInfo(IO.h, shapes.need(plan.h).dtype, sh)];

  if (kind === 'jvp' || kind === 'pullback') {
    inputs.push(makeValueInfo(IO.tangent, DT.FLOAT, [K, ...xStar]));
    const th = tangentSweep(plan, b, b.reshape(IO.tangent, [K, ...sx]));
    tail.push(makeNode('Reshape', [th, b.i64([K, ...hStar])], [IO.hDot], '__pb/out_h_dot'));
    outputs.push(makeValueInfo(IO.hDot, DT.FLOAT, [K, ...hStar]));
    if (kind === 'pullback') {
      const gx = reverseSweep(plan, b, th);
      tail.push(makeNode('Reshape', [gx, b.i64([K, ...xStar])], [IO.xBar], '__pb/out_x_bar'));
      outputs.push(makeValueInfo(IO.xBar, DT.FLOAT, [K, ...xStar]));
    }
  } else if (kind === 'vjp') {
    inputs.push(makeValueInfo(IO.cotangent, DT.FLOAT, [K, ...hStar]));
    const gx = reverseSweep(plan, b, b.reshape(IO.cotangent, [K, ...sh]));
    tail.push(makeNode('Reshape', [gx, b.i64([K, ...xStar])], [IO.xBar], '__pb/out_x_bar'));
    outputs.push(makeValueInfo(IO.xBar, DT.FLOAT, [K, ...xStar]));
  }

  const nodes = deadCodeElimination([...prim, ...b.nodes, ...tail], outputs.map((o) => o.name));
  // Resolve every referenced name that no emitted node produces: model input, original
  // initializer (kept verbatim, external data included), folded constant, or generated constant.
  const produced = new Set(nodes.flatMap((n) => n.output));
  const inputNames = new Set(inputs.map((i) => i.name));
  const generated = new Map(b.inits.map((t) => [t.name, t]));
  const inits: TensorProto[] = [];
  const done = new Set<string>();
  for (const n of nodes) {
    for (const name of n.input) {
      if (!name || produced.has(name) || inputNames.has(name) || done.has(name)) continue;
      done.add(name);
      const t = generated.get(name) ?? g.inits.get(name);
      if (t) {
        inits.push(t);
        continue;
      }
      const info = shapes.infos.get(name);
      if (!info?.value) throw new OnnxDeriveError('bad-onnx', `emitted graph references unknown tensor "${name}"`, { tensor: name });
      inits.push(makeTensor(name, info.dtype, info.shape, info.value));
    }
  }
  const graph = create(GraphProtoSchema, { name: `pullback_${kind}`, node: nodes, initializer: inits, input: inputs, output: outputs });
  return create(ModelProtoSchema, {
    irVersion: plan.g.model.irVersion < 8n ? 8n : plan.g.model.irVersion,
    opsetImport: plan.g.model.opsetImport,
    producerName: 'pullback-studio derive',
    graph,
  });
}
