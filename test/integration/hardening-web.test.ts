/**
 * Issue 14, web mode: nothing a client sends takes the server down or wedges it. The server runs in its own process
 * (test/fuzz/web-child.ts) so a crash shows as a dead process, and every hostile request goes over a raw TCP
 * socket to 127.0.0.1; after each one the process must be alive and serving. Also: auth (one-time launch code,
 * session cookie, same-origin redirects, token checks), per-client connection and job limits, clients taking turns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { decodeFrame } from '../../src-main/shared/frame';
import { WS_MAX_REQUEST_BYTES } from '../../src-main/shared/ws';
import { WsClient, type WebSocketLike } from '../../src-main/shared/ws-client';
import { tokenFromSettings } from '../../src-main/server/main';
import { startWebServer } from '../../src-main/server/server';
import type { ApiService } from '../../src-main/app/api-service';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { rawExchange, serving, startChildServer, statusOf, upgradeRequest, wsFrame, type ChildServer } from '../fuzz/raw-net';

let s: ChildServer;
beforeAll(async () => {
  s = await startChildServer();
});
afterAll(async () => {
  await s?.stop();
});

const hostHeader = () => `Host: 127.0.0.1:${s.port}\r\n`;

function openClient(headers: Record<string, string> = {}, path = `/api?token=${s.token}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}${path}`, { headers: { Origin: `http://127.0.0.1:${s.port}`, ...headers } });
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** A browser session: swap the current one-time launch code for its cookie (`name=secret`). */
async function newSession(): Promise<string> {
  const code = new URL(s.url).searchParams.get('token')!;
  const swap = await rawExchange(s.port, `GET /?token=${code} HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, 3000, true);
  const cookie = /\r\nSet-Cookie: ([^;\r]*)/i.exec(swap)?.[1];
  if (!cookie) throw new Error(`no session from the launch code: ${swap.split('\r\n')[0]}`);
  // The child prints the next launch URL; wait until it arrived so the next session can use it.
  for (let i = 0; i < 100 && new URL(s.url).searchParams.get('token') === code; i++) await new Promise((r) => setTimeout(r, 20));
  return cookie;
}

/** A PullbackApi client on a new connection (WsClient must see the socket before it opens); a session's, or the token's. */
async function apiClient(cookie?: string): Promise<WsClient> {
  const origin = { Origin: `http://127.0.0.1:${s.port}` };
  const ws = cookie
    ? new WebSocket(`ws://127.0.0.1:${s.port}/api`, { headers: { ...origin, Cookie: cookie } })
    : new WebSocket(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { headers: origin });
  const client = new WsClient(ws as unknown as WebSocketLike);
  await client.ready();
  return client;
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve(-1);
    ws.on('close', (code) => resolve(code));
  });
}

describe('containment: hostile HTTP requests answer 4xx and leave the server serving', () => {
  const cases: [string, () => string, number[]][] = [
    ['Cookie: pullback_token=% (bad percent-encoding, no token)', () => `GET / HTTP/1.1\r\n${hostHeader()}Cookie: pullback_token=%\r\n\r\n`, [401]],
    ['Cookie with a broken UTF-8 escape', () => `GET / HTTP/1.1\r\n${hostHeader()}Cookie: a=b; pullback_token=%E0%A4%A\r\n\r\n`, [401]],
    ['request target //[ (invalid URL)', () => `GET //[ HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, [400, 401]],
    ['request target //[ with the token', () => `GET //[ HTTP/1.1\r\n${hostHeader()}Authorization: Bearer ${s.token}\r\n\r\n`, [400, 404]],
    ['absolute-form target http://evil.example/', () => `GET http://evil.example/ HTTP/1.1\r\n${hostHeader()}Authorization: Bearer ${s.token}\r\n\r\n`, [400]],
    ['asterisk-form target', () => `GET * HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, [400]],
    ['binary garbage as a request line', () => '\x00\xff\xfe GARBAGE\r\n\r\n', [400]],
    ['header line without a colon', () => `GET / HTTP/1.1\r\n${hostHeader()}NoColonHere\r\n\r\n`, [400]],
    ['headers over 16 KiB', () => `GET / HTTP/1.1\r\n${hostHeader()}X-Big: ${'a'.repeat(20000)}\r\n\r\n`, [431]],
    ['Content-Length and Transfer-Encoding together (smuggling)', () => `GET / HTTP/1.1\r\n${hostHeader()}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400]],
    ['upgrade with Cookie: pullback_token=%', () => upgradeRequest(s, '/api', 'Cookie: pullback_token=%\r\n'), [401]],
    ['upgrade to //[', () => upgradeRequest(s, '//['), [400, 404]],
    ['upgrade with a malformed Sec-WebSocket-Key', () => upgradeRequest(s).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'), [400]],
    ['upgrade with Sec-WebSocket-Version 99', () => upgradeRequest(s).replace('Version: 13', 'Version: 99'), [400, 426]],
    ['upgrade without Origin', () => upgradeRequest(s).replace(/Origin: [^\r]*\r\n/, ''), [403]],
  ];
  it.each(cases)('%s', async (_name, request, statuses) => {
    const response = await rawExchange(s.port, request(), 3000, true);
    expect(statuses).toContain(statusOf(response));
    expect(await serving(s)).toBe(true);
  });
});

describe('containment: a WebSocket protocol violation closes that connection only', () => {
  let bystander: WsClient;
  beforeAll(async () => {
    bystander = await apiClient();
  });
  afterAll(() => bystander.close());

  const violations: [string, () => Buffer][] = [
    ['a text frame that is not UTF-8', () => wsFrame(1, Buffer.from([0xff, 0xfe, 0xfd, 0x80]))],
    ['a message declared over WS_MAX_REQUEST_BYTES', () => wsFrame(2, Buffer.alloc(0), { declaredLength: WS_MAX_REQUEST_BYTES + 1 })],
    ['a 2^63-byte length', () => Buffer.concat([Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(4)])],
    ['a reserved opcode (3)', () => wsFrame(3, Buffer.from('x'))],
    ['RSV bits without an extension', () => wsFrame(1, Buffer.from('{}'), { rsv: 7 })],
    ['a fragmented ping', () => wsFrame(9, Buffer.from('p'), { fin: false })],
    ['a continuation frame with nothing to continue', () => wsFrame(0, Buffer.from('x'))],
    ['an unmasked client frame', () => Buffer.from([0x81, 0x02, 0x7b, 0x7d])],
    ['a close frame with an invalid code', () => wsFrame(8, Buffer.from([0x03, 0xe7]))],
  ];
  it.each(violations)('%s', async (_name, frame) => {
    const response = await rawExchange(s.port, [Buffer.from(upgradeRequest(s)), frame()], 2000);
    expect(statusOf(response)).toBe(101);
    // The server closed the connection (a close frame 0x88 follows the handshake) instead of crashing.
    expect(response.slice(response.indexOf('\r\n\r\n') + 4).charCodeAt(0)).toBe(0x88);
    expect(await serving(s)).toBe(true);
    expect((await bystander.getAppInfo()).mode).toBe('web');
  });

  it('a request that is valid JSON but not a request, or a broken binary frame, is answered bad-message', async () => {
    const ws = await openClient();
    const replies: unknown[] = [];
    ws.on('message', (d: Buffer) => replies.push(decodeFrame(new Uint8Array(d))));
    ws.send('{"hello": "world"}');
    ws.send('not json at all');
    ws.send(Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), { binary: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(replies).toHaveLength(3);
    for (const r of replies) expect(r).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });
    ws.close();
  });
});

describe('auth like Jupyter and VS Code', () => {
  it('redirects only to same-origin paths after the token swap', async () => {
    for (const path of ['/.//evil.com/', '//evil.com/', '/\\evil.com/', '/%2F%2Fevil.com/', '/./\\/evil.com/']) {
      const r = await rawExchange(s.port, `GET ${path}?token=${s.token} HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, 3000, true);
      expect(statusOf(r), path).toBe(303);
      const location = /\r\nLocation: ([^\r]*)/i.exec(r)?.[1] ?? '';
      expect(location, path).toMatch(/^\/[^/\\]/);
      expect(new URL(location, 'http://127.0.0.1/').host, path).toBe('127.0.0.1');
    }
  });

  it('the launch code works once and gives a session cookie that is not the token; the session opens the API', async () => {
    const code = new URL(s.url).searchParams.get('token')!;
    const first = await rawExchange(s.port, `GET /?token=${code} HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, 3000, true);
    expect(statusOf(first)).toBe(303);
    const cookie = /\r\nSet-Cookie: ([^;\r]*)/i.exec(first)![1];
    expect(cookie).not.toContain(s.token);
    expect(cookie).not.toContain(code);
    expect(statusOf(await rawExchange(s.port, `GET /?token=${code} HTTP/1.1\r\n${hostHeader()}\r\n\r\n`, 3000, true))).toBe(401);
    expect(statusOf(await rawExchange(s.port, `GET / HTTP/1.1\r\n${hostHeader()}Cookie: ${cookie}\r\n\r\n`, 3000, true))).toBe(200);
    const ws = await openClient({ Cookie: cookie }, '/api');
    ws.close();
    // A launch code is for the page load only, never a standing credential for the API.
    await expect(openClient({}, `/api?token=${code}`)).rejects.toThrow(/401/);
  });

  it('refuses a weak PULLBACK_TOKEN and reads --token-file (only a small regular file)', async () => {
    expect(() => tokenFromSettings(undefined, 'short-token')).toThrow(/at least 32 characters/);
    expect(() => tokenFromSettings(undefined, 'a'.repeat(40))).toThrow(/too few characters/);
    expect(() => tokenFromSettings(undefined, `${'x'.repeat(20)} ${'y'.repeat(20)}`)).toThrow(/printable/);
    const good = 'Zq3v9YkP2mW8rT5nB1xC7dF4gH6jL0sA';
    expect(tokenFromSettings(undefined, good)).toBe(good);
    expect(tokenFromSettings(undefined, undefined)).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'pb-token-'));
    writeFileSync(join(dir, 'token'), `${good}\n`, { mode: 0o600 });
    expect(tokenFromSettings(join(dir, 'token'), 'ignored-when-a-file-is-given')).toBe(good);
    writeFileSync(join(dir, 'weak'), 'abc\n');
    expect(() => tokenFromSettings(join(dir, 'weak'), undefined)).toThrow(/--token-file .*at least 32/);
    expect(() => tokenFromSettings(join(dir, 'missing'), undefined)).toThrow(/--token-file/);
    if (process.platform !== 'win32') {
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      expect(() => tokenFromSettings(join(dir, 'fifo'), undefined)).toThrow(/not a regular file/);
    }
    const service = { connect: () => ({}) } as unknown as ApiService;
    await expect(startWebServer({ service, rendererDir: dir, token: 'too-short' })).rejects.toThrow(/at least 32/);
  });
});

describe('fair sharing between clients', () => {
  it('one credential cannot take every connection slot: a session gets half, another session still connects', async () => {
    const cookie = await newSession();
    const mine: WebSocket[] = [];
    let refused = '';
    for (let i = 0; i < 10 && !refused; i++) {
      try {
        mine.push(await openClient({ Cookie: cookie }, '/api'));
      } catch (e) {
        refused = (e as Error).message;
      }
    }
    expect(mine).toHaveLength(4);
    expect(refused).toMatch(/503/);
    const other = await openClient({ Cookie: await newSession() }, '/api');
    other.close();
    await Promise.all(mine.map((w) => (w.close(), closed(w))));
  });

  it("a client queueing hundreds of jobs gets 'busy' past its limit and delays another client by at most one job", async () => {
    const [a, b] = await Promise.all([apiClient(await newSession()), apiClient(await newSession())]);
    const order: string[] = [];
    const ended = new Map<string, () => void>();
    const onEnd = (who: string) => (e: { type: string; jobId: string }) => {
      if (e.type === 'done' || e.type === 'error') {
        order.push(`${who}:${e.jobId}`);
        ended.get(e.jobId)?.();
      }
    };
    a.onJobEvent(onEnd('a'));
    b.onJobEvent(onEnd('b'));
    const input = { modelDir: ANALYTIC_INT64, seed: 1, steps: 200, batch: 4, provider: 'cpu' };
    const results = await Promise.all(Array.from({ length: 200 }, () => a.startJob('generate', input).then((r) => r.jobId, (e: { code: string }) => e.code)));
    const accepted = results.filter((r) => r !== 'busy');
    expect(accepted.length).toBe(32);
    expect(results.filter((r) => r === 'busy')).toHaveLength(168);
    const bJob = (await b.startJob('model.info', { modelDir: ANALYTIC_INT64 })).jobId;
    await new Promise<void>((r) => ended.set(bJob, r));
    const bAt = order.indexOf(`b:${bJob}`);
    // Ahead of b's job: at most a's running job and one more of a's.
    expect(order.slice(0, bAt).length).toBeLessThanOrEqual(2);
    a.close();
    b.close();
  });

  it('the server is still serving after all of the above', async () => {
    expect(await serving(s)).toBe(true);
  });
});
