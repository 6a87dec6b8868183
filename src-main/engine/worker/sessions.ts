/**
 * The one place an onnxruntime InferenceSession is created, so every session (the U-Net forward, the derived
 * Jacobian graphs) gets the same options: full graph optimisation and, for graphs written outside their model's
 * folder, the folder their external weights are read from (ORT loads those itself; weights never enter JS), and
 * every run goes through the compute lane (compute-lane.ts).
 */
import * as ort from 'onnxruntime-node';
import { externalDataSessionOptions } from '../../core/onnx';
import { runOnLane } from './scheduling';

export interface SessionOptions {
  /** ORT's provider name ('cpu', 'cuda', 'webgpu', 'dml', 'coreml'). */
  executionProvider: string;
  /** Folder of the external-data files the graph references, when the graph file lives elsewhere. */
  externalDataFolder?: string;
}

export async function createSession(file: string, o: SessionOptions): Promise<ort.InferenceSession> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: [o.executionProvider],
    graphOptimizationLevel: 'all',
    ...(o.externalDataFolder ? externalDataSessionOptions(o.externalDataFolder) : {}),
  });
  // Every run of every session goes through the worker's compute lane (priorities, preemption between runs).
  // Patched on the instance so callers keep ORT's own type and call session.run as before.
  const direct = session.run.bind(session) as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>;
  session.run = ((...args: unknown[]) => runOnLane(() => direct(...args))) as typeof session.run;
  return session;
}

/** ORT's own list of backends this build can load (probed in the worker, never on the main thread). */
export function supportedBackends(): readonly { name: string }[] {
  return ort.listSupportedBackends();
}
