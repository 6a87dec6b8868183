/**
 * The smallest graph that exercises an execution provider the way the U-Net will (a Conv with an initializer
 * weight, float32 NCHW): creating a session from it and running it once tells whether a provider really works on
 * this machine, which listSupportedBackends() does not (it lists what the build contains, e.g. CUDA without its
 * libraries, or WebGPU without an adapter).
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import { DT, makeNode, makeTensor, makeValueInfo, writeModel } from './proto';

export const PROBE_INPUT = 'x';
export const PROBE_DIMS = [1, 1, 4, 4] as const;

/** y = 2·x by a 1×1 Conv, so a run's output can also be checked. */
export function providerProbeModel(): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'pullback_provider_probe',
    node: [makeNode('Conv', [PROBE_INPUT, 'w'], ['y'], 'conv', { kernel_shape: [1, 1] })],
    initializer: [makeTensor('w', DT.FLOAT, [1, 1, 1, 1], [2])],
    input: [makeValueInfo(PROBE_INPUT, DT.FLOAT, [...PROBE_DIMS])],
    output: [makeValueInfo('y', DT.FLOAT, [...PROBE_DIMS])],
  });
  return writeModel(
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })],
      producerName: 'pullback-studio provider probe',
      graph,
    }),
  );
}
