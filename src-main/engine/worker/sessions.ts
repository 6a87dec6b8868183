/**
 * The one place an onnxruntime InferenceSession is created, so every session (the U-Net forward, the derived
 * Jacobian graphs) gets the same options: full graph optimisation and, for graphs written outside their model's
 * folder, the folder their external weights are read from (ORT loads those itself; weights never enter JS), and
 * every run goes through the compute lane (compute-lane.ts).
 */
import * as ort from 'onnxruntime-node';
import { externalDataSessionOptions } from '../../core/onnx';
import { PROBE_DIMS, PROBE_INPUT, providerProbeModel } from '../../core/onnx/probe-model';
import { runOnLane } from './scheduling';
import { intraOpThreads } from './cpu-threads';

// ORT's own log goes to stderr: at its default level every start printed a native error for each provider the build
// lists but this machine cannot load (providerWorks below). Errors reach us as exceptions anyway, with their message;
// PULLBACK_ORT_LOG_LEVEL (verbose|info|warning|error|fatal) brings the log back for debugging.
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
const requestedLevel = process.env.PULLBACK_ORT_LOG_LEVEL as (typeof ORT_LOG_LEVELS)[number] | undefined;
ort.env.logLevel = requestedLevel && ORT_LOG_LEVELS.includes(requestedLevel) ? requestedLevel : 'fatal';

export interface SessionOptions {
  /** ORT's provider name ('cpu', 'cuda', 'webgpu', 'dml', 'coreml'). */
  executionProvider: string;
  /** Folder of the external-data files the graph references, when the graph file lives elsewhere. */
  externalDataFolder?: string;
}

// Read once per process: the machine's cores do not change while it runs.
let threads: number | undefined | null = null;
function sessionThreads(): number | undefined {
  if (threads === null) threads = intraOpThreads();
  return threads;
}

export async function createSession(file: string, o: SessionOptions): Promise<ort.InferenceSession> {
  const intraOpNumThreads = sessionThreads();
  const session = await ort.InferenceSession.create(file, {
    executionProviders: [o.executionProvider],
    graphOptimizationLevel: 'all',
    ...(intraOpNumThreads !== undefined ? { intraOpNumThreads } : {}),
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

/**
 * Whether ORT's provider `ortProvider` creates a session and runs correctly on this machine, tried on the probe graph
 * (core/onnx/probe-model.ts) with ORT's logging for that session at 'fatal': a build lists CUDA and WebGPU on Linux
 * whether or not their libraries or an adapter exist, and a failing provider must not print native errors at every
 * start. (A native library may still write to stderr itself, e.g. Dawn looking for Vulkan; that is outside ORT.)
 */
export async function providerWorks(ortProvider: string): Promise<boolean> {
  let session: ort.InferenceSession | null = null;
  try {
    session = await ort.InferenceSession.create(providerProbeModel(), { executionProviders: [ortProvider], logSeverityLevel: 4 });
    const size = PROBE_DIMS.reduce<number>((a, b) => a * b, 1);
    const out = await session.run({ [PROBE_INPUT]: new ort.Tensor('float32', new Float32Array(size).fill(1), [...PROBE_DIMS]) });
    const y = out.y?.data;
    return y instanceof Float32Array && y.length === size && y.every((v) => v === 2);
  } catch {
    return false;
  } finally {
    await session?.release().catch(() => undefined);
  }
}
