/**
 * A fake engine for the renderer's state tests: a PullbackApi that answers jobs with schema-valid outputs (images are
 * real 1×1 PNGs whose pixel encodes the seed or the edit strengths) and records every job and project request.
 */
import { deflateSync } from 'node:zlib';
import type { JobEvent, PullbackApi } from '../../src-main/shared/api';
import type { ProjectRequest } from '../../src-main/shared/project-api';

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

/** `mode`: what getAppInfo reports (the page takes native dialogs in 'electron'). */
export function fakeApi(mode: 'web' | 'electron' = 'web') {
  const listeners = new Set<(e: JobEvent) => void>();
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const projectCalls: ProjectRequest[] = [];
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
        case 'save':
          return { id: req.id ?? `id-${req.name}`, name: req.name ?? 'saved', when: 'now' };
        default:
          return null;
      }
    },
    startJob: async (name, input) => {
      const jobId = `j${++n}`;
      calls.push({ name, input: input as Record<string, unknown> });
      const i = input as Record<string, unknown>;
      let output: unknown;
      if (name === 'model.info')
        // The folder is the model's dir, so opening another folder switches the model.
        output = {
          dir: i.modelDir,
          name: 'm',
          scheduler: { numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0, betaEnd: 0, predictionType: 'epsilon' },
          unet: { file: 'u', inputs: [], outputs: [], sampleDims: [3, 1, 1], timestep: { type: 'int64', rank: 1 }, weightsBytes: 1 },
        };
      else if (name === 'generate') output = { images: [img(Number(i.seed))], provider: 'cpu', timesteps: [], elapsedMs: 1 };
      else if (name === 'edit') {
        const s = (i.edits as { strength: number }[]).reduce((a, e) => a + e.strength * 10, 0);
        output = { image: img(1000 + Math.round(s)), timestep: i.timestep, xEdited: { dims: [1], data: new Uint8Array(4) }, elapsedMs: 1 };
      } else throw new Error(`unexpected job ${name}`);
      queueMicrotask(() => {
        for (const l of listeners) l({ type: 'progress', jobId, fraction: 0.5, message: 'half' });
        for (const l of listeners) l({ type: 'done', jobId, name, output });
      });
      return { jobId };
    },
  };
  return { api, calls, projectCalls };
}
