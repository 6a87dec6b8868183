/**
 * The one place an onnxruntime InferenceSession is created, so every session (the U-Net forward, the derived
 * Jacobian graphs) gets the same options: full graph optimisation and, for graphs written outside their model's
 * folder, the folder their external weights are read from (ORT loads those itself; weights never enter JS).
 */
import * as ort from 'onnxruntime-node';
import { externalDataSessionOptions } from '../../core/onnx';

export interface SessionOptions {
  /** ORT's provider name ('cpu', 'cuda', 'webgpu', 'dml', 'coreml'). */
  executionProvider: string;
  /** Folder of the external-data files the graph references, when the graph file lives elsewhere. */
  externalDataFolder?: string;
}

export function createSession(file: string, o: SessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: [o.executionProvider],
    graphOptimizationLevel: 'all',
    ...(o.externalDataFolder ? externalDataSessionOptions(o.externalDataFolder) : {}),
  });
}

/** ORT's own list of backends this build can load (probed in the worker, never on the main thread). */
export function supportedBackends(): readonly { name: string }[] {
  return ort.listSupportedBackends();
}
