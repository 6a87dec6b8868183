/**
 * PullbackApi over a WebSocket (web mode). Works with the browser's WebSocket and with `ws` in Node tests: it only
 * needs the small structural interface below. Replies and events arrive as binary frames (see frame.ts).
 */
import type { AppInfo, JobEvent, JobName, PullbackApi, Unsubscribe } from './api';
import { ApiError } from './errors';
import type { ProjectRequest } from './project-api';
import { decodeFrame, encodeFrame } from './frame';
import { WsReplySchema, type WsRequest } from './ws';

export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', l: () => void): void;
  addEventListener(type: 'message', l: (e: { data: unknown }) => void): void;
}

async function toBytes(data: unknown): Promise<Uint8Array | null> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  return null;
}

function hasBytes(v: unknown): boolean {
  if (v instanceof Uint8Array) return true;
  if (Array.isArray(v)) return v.some(hasBytes);
  if (v && typeof v === 'object') return Object.values(v).some(hasBytes);
  return false;
}

export class WsClient implements PullbackApi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  /** Jobs started on this connection that have not ended: failed with 'disconnected' if the socket closes. */
  private readonly openJobs = new Set<string>();
  private readonly opened: Promise<void>;
  private closed = false;

  constructor(private readonly ws: WebSocketLike) {
    ws.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new ApiError({ code: 'disconnected', message: 'cannot connect to the engine' })));
    });
    this.opened.catch(() => undefined);
    ws.addEventListener('message', (e) => void this.onMessage(e.data));
    ws.addEventListener('close', () => this.onClose());
  }

  /** Resolves once connected; rejects with ApiError 'disconnected' if the server refused. */
  ready(): Promise<void> {
    return this.opened;
  }

  close(): void {
    this.ws.close();
  }

  private onClose(): void {
    this.closed = true;
    const err = new ApiError({ code: 'disconnected', message: 'lost the connection to the engine' });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    // Without this, a UI waiting for a job's end would wait forever once the server is gone.
    for (const jobId of this.openJobs) this.emit({ type: 'error', jobId, error: err.toPayload() });
    this.openJobs.clear();
  }

  private emit(e: JobEvent): void {
    if (e.type === 'done' || e.type === 'error') this.openJobs.delete(e.jobId);
    for (const l of [...this.listeners]) l(e);
  }

  private async onMessage(data: unknown): Promise<void> {
    const bytes = await toBytes(data);
    if (!bytes) return;
    let msg;
    try {
      msg = WsReplySchema.parse(decodeFrame(bytes));
    } catch {
      return; // a malformed frame is dropped; the request it belonged to will fail on close
    }
    if ('event' in msg) {
      this.emit(msg.event as JobEvent);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new ApiError(msg.error));
  }

  private async call(method: WsRequest['method'], args: unknown[]): Promise<unknown> {
    await this.opened;
    if (this.closed) throw new ApiError({ code: 'disconnected', message: 'not connected to the engine' });
    const id = this.nextId++;
    const req: WsRequest = { id, method, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Requests carrying bytes (an image to invert, a latent) go as a binary frame; the rest as JSON text.
      this.ws.send(hasBytes(args) ? encodeFrame(req) : JSON.stringify(req));
    });
  }

  getAppInfo(): Promise<AppInfo> {
    return this.call('getAppInfo', []) as Promise<AppInfo>;
  }
  pickModelFolder(): Promise<string | null> {
    return this.call('pickModelFolder', []) as Promise<string | null>;
  }
  async startJob(name: JobName, input: unknown): Promise<{ jobId: string }> {
    const r = (await this.call('startJob', [name, input])) as { jobId: string };
    this.openJobs.add(r.jobId);
    return r;
  }
  async cancelJob(jobId: string): Promise<void> {
    await this.call('cancelJob', [jobId]);
  }
  project(req: ProjectRequest): Promise<unknown> {
    return this.call('project', [req]);
  }
  onJobEvent(listener: (e: JobEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
