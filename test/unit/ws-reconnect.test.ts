/**
 * WsClient's reconnect state machine against fake sockets and fake timers: a lost socket is replaced after 0.5 s,
 * failed attempts double the wait up to 8 s, an open socket resets it; calls while down fail at once with
 * 'disconnected' (and pending ones when the socket drops); a client given one socket, or closed on purpose, never
 * reconnects; the status listeners see each step.
 */
import { describe, expect, it } from 'vitest';
import { reconnectDelay, WsClient, type ConnectionStatus, type ReconnectTimers, type WebSocketLike } from '../../src-main/shared/ws-client';
import { encodeFrame } from '../../src-main/shared/frame';

type Listener = (e: { data: unknown }) => void;

class FakeSocket implements WebSocketLike {
  binaryType = 'blob';
  readyState = 0;
  readonly sent: string[] = [];
  closedByClient = false;
  readonly #l = new Map<string, Listener[]>();
  addEventListener(type: string, l: Listener): void {
    this.#l.set(type, [...(this.#l.get(type) ?? []), l]);
  }
  send(data: string | Uint8Array): void {
    this.sent.push(typeof data === 'string' ? data : 'binary');
  }
  close(): void {
    this.closedByClient = true;
    void this.drop();
  }
  /** Like a browser: pending microtasks (awaits on earlier listeners' work) run between one listener and the next. */
  async #fire(type: string, e?: { data: unknown }): Promise<void> {
    for (const l of this.#l.get(type) ?? []) {
      l(e ?? { data: undefined });
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  async accept(): Promise<void> {
    this.readyState = 1;
    await this.#fire('open');
  }
  /** The server is not there: error, then close (what browsers do). */
  async refuse(): Promise<void> {
    this.readyState = 3;
    await this.#fire('error');
    await this.#fire('close');
  }
  async drop(): Promise<void> {
    this.readyState = 3;
    await this.#fire('close');
  }
  async reply(id: number, result: unknown): Promise<void> {
    await this.#fire('message', { data: encodeFrame({ id, ok: true, result }) });
  }
}

/** Timers under the test's control: `advance(ms)` runs what comes due. */
function fakeTimers(): ReconnectTimers & { advance(ms: number): void; pending(): number[] } {
  let now = 1_000;
  let next = 1;
  const due = new Map<number, { at: number; f: () => void }>();
  return {
    now: () => now,
    setTimeout(f, ms) {
      const h = next++;
      due.set(h, { at: now + ms, f });
      return h;
    },
    clearTimeout(h) {
      due.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const first = [...due.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!first || first[1].at > end) break;
        due.delete(first[0]);
        now = first[1].at;
        first[1].f();
      }
      now = end;
    },
    pending: () => [...due.values()].map((d) => d.at - now),
  };
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers = fakeTimers();
  const client = new WsClient(() => {
    const s = new FakeSocket();
    sockets.push(s);
    return s;
  }, timers);
  const seen: ConnectionStatus[] = [];
  client.onConnection((s) => seen.push(s));
  return { client, sockets, timers, seen, last: () => sockets[sockets.length - 1] };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('WsClient reconnect', () => {
  it('backs off 0.5 s, 1 s, 2 s, 4 s, 8 s, then stays at 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map(reconnectDelay)).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('reconnects after a drop, doubling the wait while the server is away and resetting it once back', async () => {
    const { client, sockets, timers, seen, last } = setup();
    await last().accept();
    await client.ready();
    expect(client.connection.state).toBe('open');

    await last().drop();
    expect(client.connection).toMatchObject({ state: 'reconnecting', attempt: 1 });
    expect(timers.pending()).toEqual([500]);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2);

    // The server is still down: each refused attempt waits twice as long as the one before, capped at 8 s.
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      await last().refuse();
      waits.push(timers.pending()[0]);
      timers.advance(waits.at(-1)!);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(sockets).toHaveLength(8);

    await last().accept();
    expect(client.connection).toEqual({ state: 'open', attempt: 0 });
    expect(seen.filter((s) => s.state === 'open')).toHaveLength(2);

    // The next drop starts again from 0.5 s.
    await last().drop();
    expect(timers.pending()).toEqual([500]);
  });

  it('fails pending calls on a drop and calls made while down at once; calls work again after reconnecting', async () => {
    const { client, timers, last } = setup();
    await last().accept();
    await client.ready();
    const pending = expect(client.getAppInfo()).rejects.toMatchObject({ code: 'disconnected' });
    await flush();
    expect(last().sent).toHaveLength(1);
    await last().drop();
    await pending;
    await expect(client.pickModelFolder()).rejects.toMatchObject({ code: 'disconnected' });

    timers.advance(500);
    await last().accept();
    const again = client.pickModelFolder();
    await flush();
    const req = JSON.parse(last().sent[0]) as { id: number; method: string };
    expect(req.method).toBe('pickModelFolder');
    await last().reply(req.id, '/models/x');
    await expect(again).resolves.toBe('/models/x');
  });

  it('a job running when the socket drops ends with a disconnected error event', async () => {
    const { client, last } = setup();
    await last().accept();
    await client.ready();
    const events: unknown[] = [];
    client.onJobEvent((e) => events.push(e));
    const started = client.startJob('generate', {});
    await flush();
    const req = JSON.parse(last().sent[0]) as { id: number };
    await last().reply(req.id, { jobId: 'j1' });
    await started;
    await last().drop();
    expect(events).toEqual([expect.objectContaining({ type: 'error', jobId: 'j1', error: expect.objectContaining({ code: 'disconnected' }) })]);
  });

  it('retryNow skips the wait; close() stops reconnecting', async () => {
    const { client, sockets, timers, last } = setup();
    await last().accept();
    await client.ready();
    await last().drop();
    timers.advance(500);
    await last().refuse();
    expect(timers.pending()).toEqual([1000]);
    client.retryNow();
    expect(sockets).toHaveLength(3);
    expect(timers.pending()).toEqual([]);

    await last().accept();
    client.close();
    expect(last().closedByClient).toBe(true);
    timers.advance(60_000);
    expect(sockets).toHaveLength(3);
  });

  it('a call made as soon as ready() resolves goes out (browsers run microtasks between open listeners)', async () => {
    const { client, last } = setup();
    const first = client.ready().then(() => client.getAppInfo());
    await last().accept();
    await flush();
    const req = JSON.parse(last().sent[0]) as { id: number; method: string };
    expect(req.method).toBe('getAppInfo');
    await last().reply(req.id, { version: '1' });
    await expect(first).resolves.toEqual({ version: '1' });
  });

  it('given a single socket it does not reconnect', async () => {
    const timers = fakeTimers();
    const s = new FakeSocket();
    const client = new WsClient(s, timers);
    await s.accept();
    await client.ready();
    await s.drop();
    expect(timers.pending()).toEqual([]);
    await expect(client.getAppInfo()).rejects.toMatchObject({ code: 'disconnected' });
  });
});
