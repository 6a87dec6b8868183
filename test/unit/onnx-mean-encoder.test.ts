/**
 * core/onnx/mean-encoder.ts on small hand-built encoders: the draw mean + std · ε is rewired to the mean in the
 * spellings torch.onnx writes (RandomNormalLike or RandomNormal, a Cast after the draw, either operand order), what
 * only fed the noise is dropped, and randomness it cannot remove is refused with a message saying what was expected.
 * The fixture exports run through ORT in test/integration/text-mean-encoder.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { posteriorMeanModel } from '../../src-main/core/onnx/mean-encoder';
import { OnnxDeriveError } from '../../src-main/core/onnx/errors';
import { DT, readModel, writeModel } from '../../src-main/core/onnx/proto';
import { buildModel, type NodeSpec } from './onnx-testgraph';

/** sample [1, 2, 2, 2] → moments = sample·w (mean ‖ logvar, 1 channel each) → mean + exp(0.5·logvar) · ε. */
function drawModel(o: { noise?: NodeSpec[]; noiseOut?: string; addOrder?: 'mean-first' | 'noise-first'; mulOrder?: 'std-first' | 'noise-first'; extraOutput?: string } = {}): Uint8Array {
  const noise = o.noise ?? [{ op: 'RandomNormalLike', inputs: ['mean'], outputs: ['eps'], attrs: { dtype: DT.FLOAT } }];
  const eps = o.noiseOut ?? 'eps';
  const mul = o.mulOrder === 'noise-first' ? [eps, 'std'] : ['std', eps];
  const add = o.addOrder === 'noise-first' ? ['scaled', 'mean'] : ['mean', 'scaled'];
  return buildModel({
    opset: 14,
    inputs: [{ name: 'sample', dims: [1, 2, 2, 2] }],
    outputs: [{ name: 'latent_sample', dims: [1, 1, 2, 2] }, ...(o.extraOutput ? [{ name: o.extraOutput, dims: [1, 1, 2, 2] }] : [])],
    inits: [
      { name: 'w', dims: [1, 2, 1, 1], values: [0.5, -1.5] },
      { name: 'half', dims: [], values: [0.5] },
      { name: 'split', dims: [2], values: [1, 1], dtype: DT.INT64 },
    ],
    nodes: [
      { op: 'Mul', inputs: ['sample', 'w'], outputs: ['moments'] },
      { op: 'Split', inputs: ['moments', 'split'], outputs: ['mean', 'logvar'], attrs: { axis: 1 } },
      { op: 'Mul', inputs: ['logvar', 'half'], outputs: ['halflog'] },
      { op: 'Exp', inputs: ['halflog'], outputs: ['std'] },
      ...noise,
      { op: 'Mul', inputs: mul, outputs: ['scaled'] },
      { op: 'Add', inputs: add, outputs: ['latent_sample'] },
    ],
  });
}

function rewired(bytes: Uint8Array) {
  const r = posteriorMeanModel(bytes, 'latent_sample');
  if (r.kind !== 'rewired') throw new Error(`expected a rewired graph, got ${r.kind}`);
  return { r, graph: readModel(r.model).graph! };
}

function refusal(bytes: Uint8Array): OnnxDeriveError {
  try {
    posteriorMeanModel(bytes, 'latent_sample');
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxDeriveError);
    return e as OnnxDeriveError;
  }
  throw new Error('expected a refusal');
}

describe('posteriorMeanModel', () => {
  it('rewires diffusers\' draw to Identity(mean) and drops the noise branch', () => {
    const { r, graph } = rewired(drawModel());
    expect(r.meanTensor).toBe('mean');
    const out = graph.node.find((n) => n.output.includes('latent_sample'))!;
    expect(out.opType).toBe('Identity');
    expect(out.input).toEqual(['mean']);
    // RandomNormalLike, the std branch (Mul·0.5, Exp), std·ε and the Add are gone; the mean's path stays.
    expect(graph.node.map((n) => n.opType).sort()).toEqual(['Identity', 'Mul', 'Split']);
    expect(r.removedNodes).toBe(4);
    expect(graph.initializer.map((t) => t.name).sort()).toEqual(['split', 'w']); // `half` only fed the std branch
    expect(graph.output.map((o) => o.name)).toEqual(['latent_sample']);
  });

  it.each([
    ['ε · std', { mulOrder: 'noise-first' as const }],
    ['std·ε + mean', { addOrder: 'noise-first' as const }],
  ])('accepts either operand order (%s)', (_what, o) => {
    expect(rewired(drawModel(o)).r.meanTensor).toBe('mean');
  });

  it('accepts a static-shape RandomNormal in float16 with a Cast to float32 (an fp16 draw in an fp32 graph)', () => {
    const noise: NodeSpec[] = [
      { op: 'RandomNormal', inputs: [], outputs: ['eps16'], attrs: { dtype: DT.FLOAT16, shape: [1, 1, 2, 2] } },
      { op: 'Cast', inputs: ['eps16'], outputs: ['eps'], attrs: { to: DT.FLOAT } },
    ];
    const { graph } = rewired(drawModel({ noise }));
    expect(graph.node.some((n) => n.opType === 'RandomNormal' || n.opType === 'Cast')).toBe(false);
  });

  it('leaves a graph without randomness alone (its output is already deterministic)', () => {
    const bytes = buildModel({
      inputs: [{ name: 'sample', dims: [1, 2, 2, 2] }],
      outputs: [{ name: 'latent_sample', dims: [1, 2, 2, 2] }],
      nodes: [{ op: 'Relu', inputs: ['sample'], outputs: ['latent_sample'] }],
    });
    expect(posteriorMeanModel(bytes, 'latent_sample')).toEqual({ kind: 'deterministic' });
  });

  it('refuses a draw that is not mean + std · ε, naming the node and what was expected', () => {
    const noise: NodeSpec[] = [{ op: 'RandomNormalLike', inputs: ['mean'], outputs: ['eps'], name: '/RandomNormalLike' }];
    const bytes = drawModel({ noise });
    // std − ε instead of std · ε
    const model = readModel(bytes);
    model.graph!.node.find((n) => n.opType === 'Mul' && n.input.includes('eps'))!.opType = 'Sub';
    const e = refusal(writeModel(model));
    expect(e.code).toBe('unsupported-op');
    expect(e.detail.node).toBe('/RandomNormalLike');
    expect(e.message).toMatch(/mean \+ std · ε/);
    expect(e.message).toMatch(/latent_parameters/);
  });

  it('refuses uniform noise, a non-centred draw, and noise that also reaches an output', () => {
    expect(refusal(drawModel({ noise: [{ op: 'RandomUniformLike', inputs: ['mean'], outputs: ['eps'] }] })).message).toMatch(/not a normal draw/);
    expect(refusal(drawModel({ noise: [{ op: 'RandomNormalLike', inputs: ['mean'], outputs: ['eps'], attrs: { mean: { float: 0.5 } } }] })).message).toMatch(/mean 0\.5/);
    // ε is also a graph output: zeroing the draw's use would leave a random output
    expect(refusal(drawModel({ extraOutput: 'eps' })).message).toMatch(/does not feed exactly one Mul/);
  });

  it('refuses a model without the named output', () => {
    const e = (() => {
      try {
        posteriorMeanModel(drawModel(), 'latent_parameters');
      } catch (err) {
        return err as OnnxDeriveError;
      }
      return null;
    })();
    expect(e?.code).toBe('bad-onnx');
    expect(e?.message).toMatch(/no output "latent_parameters"/);
  });
});
