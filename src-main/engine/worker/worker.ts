/**
 * The engine worker thread: owns every ORT session (through EngineResources) and runs jobs from the registry.
 * One long-lived worker, never one per job: ORT in workers has a history of crashes on re-creation.
 *
 * Several jobs may be in progress at once (the host decides which, and how many): each runs as its own async task
 * inside its job scope, and their session runs take turns on the compute lane by priority (scheduling.ts).
 */
import { parentPort } from 'node:worker_threads';
import { ENGINE_JOBS } from '../jobs';
import type { JobContext } from '../jobs';
import { JOBS, type Provider } from '../../shared/api';
import { EngineResources } from './resources';
import { probeProvidersHere } from './model-cache';
import { toApiError } from '../errors';
import type { HostToWorker, WorkerToHost } from '../messages';
import { computeLane, jobScope, onLaneStateChange } from './scheduling';

const port = parentPort;
if (!port) throw new Error('engine worker must run in a worker thread');

const resources = new EngineResources();
const running = new Map<string, AbortController>();

function post(msg: WorkerToHost): void {
  // Hand image buffers over without copying.
  const transfer: ArrayBuffer[] = [];
  if (msg.type === 'result') collectBuffers(msg.result, transfer);
  else if (msg.type === 'progress' && msg.partial !== undefined) collectBuffers(msg.partial, transfer);
  port!.postMessage(msg, transfer);
}

function collectBuffers(v: unknown, out: ArrayBuffer[]): void {
  if (v instanceof Uint8Array) {
    if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer && !out.includes(v.buffer)) out.push(v.buffer);
  } else if (Array.isArray(v)) v.forEach((x) => collectBuffers(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => collectBuffers(x, out));
}

async function run(jobId: string, name: keyof typeof ENGINE_JOBS, rawInput: unknown, rank: number): Promise<void> {
  const controller = new AbortController();
  running.set(jobId, controller);
  let settle = () => {};
  settling.set(jobId, new Promise<void>((resolve) => (settle = resolve)));
  const scope = { id: jobId, rank, signal: controller.signal };
  computeLane.enter(scope);
  try {
    await jobScope.run(scope, () => runJob(jobId, name, rawInput, controller.signal));
  } finally {
    running.delete(jobId);
    computeLane.leave(jobId);
    await resources.jobEnded(jobId);
    settling.delete(jobId);
    settle();
  }
}

/** Every started job's end, so a shutdown can wait for them to leave their native calls. */
const settling = new Map<string, Promise<void>>();

/**
 * The host is closing the engine: cancel every job, wait until the provider probe and every job have left ORT's
 * native code (a job notices the cancel between two runs), then end this thread. Terminating the thread in the middle
 * of a native call instead can abort the whole process ("terminate called after throwing an instance of
 * Napi::Error"), which would take the app down on quit; the host still terminates after a deadline.
 */
async function shutdown(): Promise<void> {
  for (const controller of running.values()) controller.abort();
  await probing;
  await Promise.allSettled([...settling.values()]);
  process.exit(0);
}

async function runJob(jobId: string, name: keyof typeof ENGINE_JOBS, rawInput: unknown, signal: AbortSignal): Promise<void> {
  try {
    const job = ENGINE_JOBS[name];
    if (!job) throw Object.assign(new Error(`unknown job "${name}"`), { code: 'unknown-job' });
    // The host validated already; parse again so defaults are filled and a bad message cannot reach a job.
    const input = JOBS[name].input.parse(rawInput);
    let lastPost = 0;
    const ctx: JobContext = resources.jobContext(signal, (p) => {
        // Throttle: per-step progress of a fast model could flood the port.
        const now = performance.now();
        if (p.partial !== undefined) {
          // Partial results carry data the client needs: never throttled.
          lastPost = now;
          post({ type: 'progress', jobId, fraction: p.fraction, message: p.message, partial: p.partial, ...(p.work ? { work: p.work } : {}) });
        } else if (p.fraction >= 1 || p.fraction === 0 || now - lastPost > 30) {
          lastPost = now;
          // A dropped event's work is in the next one: the counts are cumulative.
          post({ type: 'progress', jobId, fraction: p.fraction, message: p.message, ...(p.work ? { work: p.work } : {}) });
        }
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- input matches the job by construction
    const result = await job.run(input as any, ctx);
    post({ type: 'result', jobId, result });
  } catch (err) {
    post({ type: 'error', jobId, error: toApiError(err) });
  }
}

port.on('message', (msg: HostToWorker) => {
  if (msg.type === 'run') void run(msg.jobId, msg.name, msg.input, msg.rank);
  else if (msg.type === 'cancel') running.get(msg.jobId)?.abort();
  else if (msg.type === 'shutdown') void shutdown();
});

onLaneStateChange((jobId, state) => {
  if (running.has(jobId)) post({ type: 'state', jobId, state });
});

// Providers are probed here so the main thread never loads onnxruntime-node itself.
// Only providers that really run here are offered (a CUDA or WebGPU build without its runtime is dropped quietly).
const probing: Promise<void> = probeProvidersHere()
  .catch((): Provider[] => ['cpu'])
  .then((providers) => post({ type: 'ready', providers }));
