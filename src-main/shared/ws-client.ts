/**
 * PullbackApi over a WebSocket (web mode). Works with the browser's WebSocket and with `ws` in Node tests: it only
 * needs the small structural interface below. Replies and events arrive as binary frames (see frame.ts).
 *
 * Given one socket it lives and dies with it. Given a function that opens sockets, it heals: when the socket closes it
 * opens another after a backoff (0.5 s, doubling to 8 s; back to 0.5 s once one opens), so a restarted server or a
 * dropped network does not leave the page dead until a reload. While it is down, calls fail at once with
 * 'disconnected' (callers such as autosave fall back instead of waiting), and `onConnection` tells the page.
 */
import type { AppInfo, JobEvent, JobName, PullbackApi, StartJobOptions, Unsubscribe } from './api';
import { ApiError } from './errors';
import type { ProjectRequest } from './project-api';
import { decodeFrame, encodeFrame } from './frame';
import { WS_MAX_REQUEST_BYTES, WsReplySchema, type WsRequest } from './ws';

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

/** Where the connection stands: `reconnecting` while it waits (or tries) to open another socket. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Reconnect attempts since the connection was lost (0 while open). */
  attempt: number;
  /** While reconnecting: when the next attempt starts (ms since the epoch, the timers' clock). */
  retryAt?: number;
}

/** Reconnect backoff: the first wait and its cap (each failed attempt doubles the wait). */
export const RECONNECT_FIRST_MS = 500;
export const RECONNECT_MAX_MS = 8_000;

/** The wait before reconnect attempt `attempt` (1-based): 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s, … */
export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.max(0, attempt - 1));
}

/** Timers the reconnect loop uses (tests pass fake ones). */
export interface ReconnectTimers {
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  now(): number;
}

const REAL_TIMERS: ReconnectTimers = {
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

export class WsClient implements PullbackApi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  /** Jobs started on this connection that have not ended: failed with 'disconnected' if the socket closes. */
  private readonly openJobs = new Set<string>();
  private readonly connectionListeners = new Set<(s: ConnectionStatus) => void>();
  /** The first socket's open (or refusal): `ready()`. */
  private readonly opened: Promise<void>;
  private ws: WebSocketLike;
  /** The current socket is open. */
  private isOpen = false;
  /** close() was called: no more reconnects. */
  private stopped = false;
  private status: ConnectionStatus = { state: 'connecting', attempt: 0 };
  private retryTimer: unknown;
  private readonly open: (() => WebSocketLike) | null;
  private readonly timers: ReconnectTimers;

  /**
   * `socket`: one socket (no reconnect), or a function opening a new one each time (reconnects with backoff).
   */
  constructor(socket: WebSocketLike | (() => WebSocketLike), timers: ReconnectTimers = REAL_TIMERS) {
    this.open = typeof socket === 'function' ? socket : null;
    this.timers = timers;
    this.ws = typeof socket === 'function' ? socket() : socket;
    // First: browsers run microtasks between an event's listeners, so `isOpen` must be set before `opened` resolves.
    this.attach(this.ws);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve());
      this.ws.addEventListener('error', () => reject(new ApiError({ code: 'disconnected', message: 'cannot connect to the engine' })));
    });
    this.opened.catch(() => undefined);
  }

  private attach(ws: WebSocketLike): void {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => {
      if (ws !== this.ws) return;
      this.isOpen = true;
      this.setStatus({ state: 'open', attempt: 0 });
    });
    ws.addEventListener('message', (e) => {
      if (ws === this.ws) void this.onMessage(e.data);
    });
    // A socket that never opened fires 'error' then 'close': the close alone drives the retry.
    ws.addEventListener('close', () => {
      if (ws === this.ws) this.onClose();
    });
  }

  /** Resolves once connected; rejects with ApiError 'disconnected' if the server refused. */
  ready(): Promise<void> {
    return this.opened;
  }

  /** Where the connection stands now. */
  get connection(): ConnectionStatus {
    return this.status;
  }

  /** Follow the connection (open, lost, each reconnect attempt). */
  onConnection(listener: (s: ConnectionStatus) => void): Unsubscribe {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Reconnect now instead of waiting out the backoff (the banner's Retry). */
  retryNow(): void {
    if (this.stopped || this.isOpen || !this.open || this.status.state !== 'reconnecting') return;
    this.timers.clearTimeout(this.retryTimer);
    this.reconnect();
  }

  close(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
    this.ws.close();
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const l of [...this.connectionListeners]) l(s);
  }

  private reconnect(): void {
    const attempt = this.status.attempt;
    this.setStatus({ state: 'reconnecting', attempt });
    this.ws = this.open!();
    this.attach(this.ws);
  }

  /** Wait out the backoff of the next attempt, then open a new socket. */
  private scheduleReconnect(): void {
    const attempt = this.status.attempt + 1;
    const wait = reconnectDelay(attempt);
    this.setStatus({ state: 'reconnecting', attempt, retryAt: this.timers.now() + wait });
    this.retryTimer = this.timers.setTimeout(() => this.reconnect(), wait);
  }

  private onClose(): void {
    this.isOpen = false;
    this.failPending();
    if (this.open && !this.stopped) this.scheduleReconnect();
  }

  private failPending(): void {
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
    if (!this.isOpen) throw new ApiError({ code: 'disconnected', message: 'not connected to the engine' });
    const id = this.nextId++;
    const req: WsRequest = { id, method, args };
    // Requests carrying bytes (an image to invert, a latent) go as a binary frame; the rest as JSON text.
    const data = hasBytes(args) ? encodeFrame(req) : JSON.stringify(req);
    // The server closes a connection that sends more than its limit (and with it every job of this window), so an
    // oversized request fails here, typed, and the connection lives on.
    const size = typeof data === 'string' ? (data.length * 3 <= WS_MAX_REQUEST_BYTES ? data.length : new TextEncoder().encode(data).length) : data.byteLength;
    if (size > WS_MAX_REQUEST_BYTES) {
      const mib = (n: number) => Math.ceil(n / (1024 * 1024));
      throw new ApiError({ code: 'invalid-input', message: `the request is ${mib(size)} MiB; web mode takes at most ${mib(WS_MAX_REQUEST_BYTES)} MiB at once (use a smaller image)` });
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(data);
    });
  }

  getAppInfo(): Promise<AppInfo> {
    return this.call('getAppInfo', []) as Promise<AppInfo>;
  }
  pickModelFolder(): Promise<string | null> {
    return this.call('pickModelFolder', []) as Promise<string | null>;
  }
  async startJob(name: JobName, input: unknown, options?: StartJobOptions): Promise<{ jobId: string }> {
    const r = (await this.call('startJob', options ? [name, input, options] : [name, input])) as { jobId: string };
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
