/**
 * A fake engine for the renderer's state tests: a PullbackApi that answers jobs with schema-valid outputs (images are
 * real 1×1 PNGs whose pixel encodes the seed or the edit strengths) and records every job and project request.
 */
import { deflateSync } from 'node:zlib';
import type { JobEvent, PullbackApi, StartJobOptions } from '../../src-main/shared/api';
import type { ProjectRequest } from '../../src-main/shared/project-api';
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';

/** A real (tiny) PNG whose one pixel encodes `v`, so different renders have different bytes. */
export function png(v: number): Uint8Array {
  const crcT = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcT[(c ^ x) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.from([0, v & 255, (v >> 8) & 255, 7]);
  return new Uint8Array(
    Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]),
  );
}

const img = (v: number) => ({ mime: 'image/png' as const, width: 1, height: 1, bytes: png(v) });

/** A folder under /sd is a text-conditioned (Stable Diffusion) model, as `model.info` reports one. */
export const FAKE_TEXT_MODEL_DIR = '/sd';
const isTextModel = (dir: unknown) => String(dir).startsWith(FAKE_TEXT_MODEL_DIR);
/** The fake tokenizer: one token per word, 75 read (77 with BOS/EOS), as CLIP. */
const FAKE_MAX_TOKENS = 75;

/** What a job's prompt parameters change in its fake image: 0 without them, else a number that differs per prompt. */
function promptCode(i: Record<string, unknown>): number {
  if (i.prompt === undefined && i.negativePrompt === undefined && i.guidanceScale === undefined) return 0;
  const text = `${String(i.prompt ?? '')}|${String(i.negativePrompt ?? '')}|${String(i.guidanceScale ?? 7.5)}`;
  let h = 7;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 20_000;
  return 2000 + h;
}

/** The PromptInfo a text model's job reports (shared/api.ts PromptInfoSchema). */
function promptInfo(i: Record<string, unknown>) {
  const prompt = String(i.prompt ?? '');
  const tokens = prompt.split(/\s+/).filter(Boolean).length;
  return { prompt, tokens, maxTokens: FAKE_MAX_TOKENS, truncated: tokens > FAKE_MAX_TOKENS, guidanceScale: Number(i.guidanceScale ?? 7.5), negativePrompt: String(i.negativePrompt ?? '') };
}

/** `mode`: what getAppInfo reports (the page takes native dialogs in 'electron'). */
export function fakeApi(mode: 'web' | 'electron' = 'web') {
  const listeners = new Set<(e: JobEvent) => void>();
  const calls: { name: string; input: Record<string, unknown>; options?: StartJobOptions }[] = [];
  const projectCalls: ProjectRequest[] = [];
  /** What `save` received, by id, so `open` can hand it back as the service would. */
  const savedProjects = new Map<string, { manifest: unknown; blobs: Record<string, unknown> }>();
  let n = 0;
  const api: PullbackApi = {
    getAppInfo: async () => ({ version: '0.1.0', mode, bundledModels: [{ name: 'm', dir: '/m' }], canPickFolder: mode === 'electron', providers: ['cpu'] }),
    pickModelFolder: async () => null,
    cancelJob: async () => undefined,
    onJobEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    project: async (req) => {
      projectCalls.push(req);
      switch (req.op) {
        case 'recovery.list':
          return [];
        case 'list':
          return { recent: [], projects: [], canPick: mode === 'electron' };
        case 'autosave':
          return { when: 'now' };
        case 'save': {
          const id = req.id ?? `id-${req.name}`;
          savedProjects.set(id, { manifest: req.manifest, blobs: req.blobs });
          return { id, name: req.name ?? 'saved', when: 'now' };
        }
        case 'open': {
          const p = savedProjects.get(req.id);
          return p ? { id: req.id, name: req.id, manifest: p.manifest, blobs: p.blobs, readOnly: false, fromVersion: 3 } : null;
        }
        default:
          return null;
      }
    },
    startJob: async (name, input, options) => {
      const jobId = `j${++n}`;
      calls.push({ name, input: input as Record<string, unknown>, ...(options ? { options } : {}) });
      const i = input as Record<string, unknown>;
      let output: unknown;
      const text = isTextModel(i.modelDir);
      // As the engine: prompt parameters on an unconditional model are an invalid-argument error, never ignored.
      const refused = !text && name !== 'model.info' && promptCode(i) !== 0 ? `${name}: prompt parameters need a text-conditioned model` : null;
      if (refused) output = undefined;
      else if (name === 'model.info')
        // The folder is the model's dir, so opening another folder switches the model.
        output = {
          dir: i.modelDir,
          name: text ? 'sd' : 'm',
          scheduler: { numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0, betaEnd: 0, predictionType: 'epsilon' },
          unet: { file: 'u', inputs: [], outputs: [], sampleDims: [3, 1, 1], timestep: { type: 'int64', rank: 1 }, weightsBytes: 1 },
          ...(text ? { text: { layout: 'diffusers-onnx', pipelineClass: 'OnnxStableDiffusionPipeline', maxLength: FAKE_MAX_TOKENS + 2, imageDims: [3, 8, 8], dtype: 'float32', scalingFactor: 0.18215, canEncode: true } } : {}),
        };
      else if (name === 'generate') output = { images: [img(Number(i.seed) + promptCode(i))], provider: 'cpu', timesteps: [], elapsedMs: 1, ...(text ? { prompt: promptInfo(i) } : {}) };
      else if (name === 'edit') {
        const s = (i.edits as { strength: number }[]).reduce((a, e) => a + e.strength * 10, 0);
        // Strip frames: frame m's pixel encodes m and the strengths, so a test can tell the frames apart.
        const frames = (i.frames as number[] | undefined)?.map((m) => ({ guidanceSteps: m, image: img(20000 + m * 100 + Math.round(s)) }));
        output = {
          image: img(1000 + Math.round(s) + promptCode(i)),
          timestep: i.timestep,
          xEdited: { dims: [1], data: new Uint8Array(4) },
          elapsedMs: 1,
          ...(text ? { prompt: promptInfo(i) } : {}),
          ...(frames ? { frames } : {}),
        };
      } else if (name === 'gallery') {
        const k = Number(i.k ?? 8);
        const basis = { timestep: Number(i.timestep), method: i.method ?? 'krylov', iterations: 1, converged: true, jacobianProducts: { jvp: 1, vjp: 1, total: 2 }, residuals: [0], seconds: 0, tol: 1e-3, seed: 0, hTensor: 'h', modelHash: 'mh', cacheHit: false, cacheId: `c${jobId}` };
        // The previews' pixels encode the strength (in quarters) too, so a test sees a new strength re-render them.
        const quarters = Math.round(Number(i.strength ?? 1) * 4);
        const items = Array.from({ length: k }, (_, index) => ({ index, sigma: k - index, minus: img(10000 + 100 * quarters + index), plus: img(15000 + 100 * quarters + index), heat: img(5000 + index) }));
        output = { timestep: Number(i.timestep), basis, center: img(6000 + promptCode(i)), items, elapsedMs: 1 };
      } else if (name === 'invert') {
        const xT = { dims: [1, 3, 1, 1], data: new Uint8Array(12) };
        output = { xT, timestep: 999, input: img(7000), recon: img(7001), psnr: 30, poor: false, elapsedMs: 1 };
      } else throw new Error(`unexpected job ${name}`);
      queueMicrotask(() => {
        if (refused) {
          for (const l of listeners) l({ type: 'error', jobId, error: { code: 'invalid-argument', message: refused } });
          return;
        }
        for (const l of listeners) l({ type: 'progress', jobId, fraction: 0.5, message: 'half' });
        for (const l of listeners) l({ type: 'done', jobId, name, output });
      });
      return { jobId };
    },
  };
  return { api, calls, projectCalls };
}

/**
 * An editor on `api` holding the document most state tests start from: seed 42 rendered with 10 steps, and a k = 2
 * basis at t = 555 as an opened project leaves it (σ only; the gallery job itself is tested in integration).
 */
export async function seededEditor(api: PullbackApi, options?: ConstructorParameters<typeof EditorState>[1]): Promise<EditorState> {
  const ed = new EditorState(api, options);
  await ed.load();
  ed.source.seed = 42;
  ed.source.steps = 10;
  await ed.newFromSeed();
  ed.galleries.restore([{ key: 't555-krylov-k2', t: 555, k: 2, method: 'krylov', sigmas: [3, 2] }]);
  return ed;
}
