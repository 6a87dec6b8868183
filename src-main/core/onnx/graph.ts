/**
 * An indexed view of a ModelProto's main graph: topologically sorted nodes, producers, consumers,
 * initializers by name, the ai.onnx opset. Validation that must happen before any derivation
 * (contrib ops, opset range) lives here so every entry point gets it.
 */
import { ContribOpError, OnnxDeriveError } from './errors';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from './proto';

export interface Graph {
  readonly model: ModelProto;
  /** ai.onnx opset version of the model. */
  readonly opset: number;
  /** Topologically sorted nodes; every node has a non-empty name. */
  readonly nodes: NodeProto[];
  readonly inits: Map<string, TensorProto>;
  /** Graph inputs that are not initializers (the inputs a caller feeds). */
  readonly inputs: ValueInfoProto[];
  readonly producer: Map<string, number>;
  readonly consumers: Map<string, number[]>;
}

export const MIN_OPSET = 13;
export const MAX_OPSET = 22;

export function indexGraph(model: ModelProto): Graph {
  const g = model.graph;
  if (!g) throw new OnnxDeriveError('bad-onnx', 'ONNX model has no graph');
  const opsetEntry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = opsetEntry ? Number(opsetEntry.version) : 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new OnnxDeriveError(
      'unsupported-opset',
      `model uses ai.onnx opset ${opset}; supported: ${MIN_OPSET}–${MAX_OPSET} (re-export with opset ≥ 13, e.g. 14 or 17)`,
    );
  }
  for (const [i, n] of g.node.entries()) {
    if (!n.name) n.name = `${n.opType}_${i}`;
    if (n.domain !== '' && n.domain !== 'ai.onnx') throw new ContribOpError(n.opType, n.domain, n.name);
  }
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const inputs = g.input.filter((vi) => !inits.has(vi.name));

  // Kahn topological sort (exporters emit sorted graphs, but the format does not require it).
  const available = new Set<string>(['', ...inits.keys(), ...inputs.map((i) => i.name)]);
  const waiting = new Map<string, number[]>();
  const missing = g.node.map((n) => n.input.filter((x) => !available.has(x)).length);
  g.node.forEach((n, i) => {
    for (const x of n.input) if (!available.has(x)) waiting.set(x, [...(waiting.get(x) ?? []), i]);
  });
  const queue = g.node.map((_, i) => i).filter((i) => missing[i] === 0);
  const order: number[] = [];
  const countedOnce = g.node.map((n) => new Map<string, number>(n.input.filter((x) => !available.has(x)).map((x) => [x, 0])));
  while (queue.length) {
    const i = queue.shift()!;
    order.push(i);
    for (const out of g.node[i].output) {
      if (!out) continue;
      for (const j of waiting.get(out) ?? []) {
        const c = countedOnce[j];
        if (c.get(out) === 0) {
          c.set(out, 1);
          // one decrement per occurrence of this name among the node's inputs
          missing[j] -= g.node[j].input.filter((x) => x === out).length;
          if (missing[j] === 0) queue.push(j);
        }
      }
    }
  }
  if (order.length !== g.node.length) throw new OnnxDeriveError('bad-onnx', 'graph has a cycle or an undefined input');
  const nodes = order.map((i) => g.node[i]);
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.output) if (o) producer.set(o, i);
    for (const x of n.input) if (x) consumers.set(x, [...(consumers.get(x) ?? []), i]);
  });
  return { model, opset, nodes, inits, inputs, producer, consumers };
}
