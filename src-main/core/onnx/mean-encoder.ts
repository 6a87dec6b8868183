/**
 * The posterior mean from a VAE encoder that exports a posterior *draw*.
 *
 * diffusers' ONNX converter exports vae_encoder as `vae.encode(x).latent_dist.sample()`: DiagonalGaussianDistribution
 * computes mean + std · ε with ε from torch.randn, which torch.onnx writes as RandomNormalLike (dynamic shape, via
 * ConstantOfShape(Shape(mean))) or RandomNormal (static shape), possibly followed by a Cast. Image import must invert
 * the mean (issue 11): inverting a draw makes two imports of one photo differ.
 *
 * The copy made here rewires the draw's Add(mean, Mul(std, ε)) to Identity(mean), keeping its output name, and drops
 * what only fed the noise term (the random op, the std branch). Chosen over zeroing ε (ConstantOfShape of ε's shape):
 * - exact whatever std is: mean + std·0 is the mean only while std is finite, and a graph without diffusers' logvar
 *   clamp gives exp(0.5·logvar) = inf for a large logvar, inf·0 = NaN;
 * - no dtype or shape to reconstruct: zeros must match ε's dtype (fp16 exports draw in float16, RandomNormalLike's
 *   dtype attribute is optional) and its shape; Identity(mean) keeps both by construction;
 * - the result is checked, not assumed: after the rewiring no random op may remain on the way to any output.
 * Everything downstream of the Add (a Cast, a trailing Identity) stays as exported.
 *
 * Pure protobuf surgery (no onnxruntime): the engine writes the bytes to its cache and opens a session on them, with
 * external weights still read by ORT from the source folder (their locations are relative and left untouched).
 */
import { OnnxDeriveError } from './errors';
import { attrFloat, makeNode, readModel, writeModel, type NodeProto } from './proto';

/** ONNX ops that draw random numbers: any of them left on the way to an output makes the output nondeterministic. */
const RANDOM_OPS = new Set(['RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);
/** Ops a draw's noise may pass through unchanged in value between the random op, the Mul and the Add. */
const VALUE_PRESERVING = new Set(['Cast', 'Identity']);

export type MeanEncoderResult =
  /** The output does not depend on any random op: it is already deterministic (use the original graph). */
  | { kind: 'deterministic' }
  | {
      kind: 'rewired';
      /** The serialized copy; external initializers keep their (relative) locations. */
      model: Uint8Array;
      /** The tensor the draw's Add now passes through: the posterior mean. */
      meanTensor: string;
      /** Name of the Add node that was replaced by Identity(mean). */
      drawNode: string;
      /** Nodes dropped because they only fed the noise term (random op, std branch). */
      removedNodes: number;
    };

function drawError(output: string, node: NodeProto | null, why: string): OnnxDeriveError {
  const where = node ? `${node.opType} node "${node.name}"` : 'the graph';
  return new OnnxDeriveError(
    'unsupported-op',
    `output "${output}" depends on ${where}, which ${why}; expected the posterior draw of diffusers' export, ` +
      `mean + std · ε with ε from one RandomNormal/RandomNormalLike (mean 0) through Mul then Add. Re-export the VAE ` +
      `encoder so it returns the posterior's parameters (Optimum's "latent_parameters", mean ‖ logvar) or its mean`,
    node ? { op: node.opType, node: node.name } : {},
  );
}

function hasSubgraph(n: NodeProto): boolean {
  return n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0);
}

/**
 * The posterior-mean copy of a VAE encoder whose `output` is a draw mean + std · ε. Throws OnnxDeriveError
 * ('bad-onnx' for a model that does not parse or lacks `output`, 'unsupported-op' for randomness this cannot remove).
 */
export function posteriorMeanModel(modelBytes: Uint8Array, output: string): MeanEncoderResult {
  const model = readModel(modelBytes);
  const g = model.graph!;
  if (!g.output.some((o) => o.name === output)) {
    throw new OnnxDeriveError('bad-onnx', `graph has no output "${output}" (it has ${g.output.map((o) => `"${o.name}"`).join(', ') || 'none'})`);
  }
  g.node.forEach((n, i) => {
    if (!n.name) n.name = `${n.opType}_${i}`;
  });
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node) {
    for (const o of n.output) if (o) producer.set(o, n);
    for (const x of n.input) if (x) consumers.set(x, [...(consumers.get(x) ?? []), n]);
  }
  const outputNames = new Set(g.output.map((o) => o.name));

  /** Nodes the graph outputs depend on (backwards from every output), in no particular order. */
  const live = (): Set<NodeProto> => {
    const seen = new Set<NodeProto>();
    const stack = [...outputNames].map((o) => producer.get(o)).filter((n): n is NodeProto => n !== undefined);
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const x of n.input) {
        const p = x ? producer.get(x) : undefined;
        if (p && !seen.has(p)) stack.push(p);
      }
    }
    return seen;
  };

  const needed = live();
  for (const n of needed) {
    // Control flow could hide a random op from the walk below; diffusers' export has none.
    if (hasSubgraph(n)) throw drawError(output, n, 'has a subgraph (control flow) that this cannot look into');
  }
  const randoms = [...needed].filter((n) => RANDOM_OPS.has(n.opType));
  if (randoms.length === 0) return { kind: 'deterministic' };

  /** The single consumer of `t`, skipping value-preserving ops; null when `t` has several consumers or is an output. */
  const nextOf = (t: string): { node: NodeProto; via: string } | null => {
    let cur = t;
    for (;;) {
      const cs = consumers.get(cur) ?? [];
      if (cs.length !== 1 || outputNames.has(cur)) return null;
      if (!VALUE_PRESERVING.has(cs[0].opType)) return { node: cs[0], via: cur };
      cur = cs[0].output[0];
    }
  };

  const rewired: { add: NodeProto; mean: string }[] = [];
  for (const r of randoms) {
    if (r.opType !== 'RandomNormal' && r.opType !== 'RandomNormalLike') throw drawError(output, r, 'is not a normal draw');
    // ε must be centred: the mean of mean + std · (μ_ε + σ_ε·z) would be mean + std·μ_ε, not the Add's other operand.
    if (attrFloat(r, 'mean', 0) !== 0) throw drawError(output, r, `draws with mean ${attrFloat(r, 'mean', 0)}, not 0`);
    const mul = nextOf(r.output[0]);
    if (!mul || mul.node.opType !== 'Mul') throw drawError(output, r, 'does not feed exactly one Mul (the std · ε term)');
    const add = nextOf(mul.node.output[0]);
    if (!add || add.node.opType !== 'Add') throw drawError(output, mul.node, 'does not feed exactly one Add (mean + std · ε)');
    const at = add.node.input.indexOf(add.via);
    const others = add.node.input.filter((_, i) => i !== at);
    if (others.length !== 1 || !others[0]) throw drawError(output, add.node, 'does not add the noise term to one other tensor');
    rewired.push({ add: add.node, mean: others[0] });
  }

  // Replace each draw's Add by Identity(mean): same output name, so whatever consumes the draw now gets the mean.
  for (const { add, mean } of rewired) {
    const identity = makeNode('Identity', [mean], [add.output[0]], `${add.name}/posterior_mean`);
    g.node[g.node.indexOf(add)] = identity;
    producer.set(add.output[0], identity);
  }
  const keep = live();
  const left = [...keep].filter((n) => RANDOM_OPS.has(n.opType));
  if (left.length > 0) throw drawError(output, left[0], 'still reaches an output when the draw is replaced by its mean (the noise is used elsewhere too)');
  const before = g.node.length;
  g.node = g.node.filter((n) => keep.has(n));
  // Initializers and value infos only the dropped nodes used go too (ORT would warn about unused initializers).
  const used = new Set(g.node.flatMap((n) => n.input));
  for (const o of outputNames) used.add(o);
  g.initializer = g.initializer.filter((t) => used.has(t.name) || g.input.some((i) => i.name === t.name));
  const produced = new Set(g.node.flatMap((n) => n.output));
  g.valueInfo = g.valueInfo.filter((vi) => produced.has(vi.name));
  return {
    kind: 'rewired',
    model: writeModel(model),
    meanTensor: rewired[0].mean,
    drawNode: rewired[0].add.name,
    removedNodes: before - g.node.length,
  };
}
