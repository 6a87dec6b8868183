/**
 * Fuzzing web mode over loopback (issue 14): HTTP request lines, headers and cookies; WebSocket frames; API
 * messages. The server runs in a child process; every case must end in an answer or a closed connection within
 * its deadline, and the process must stay alive and serving. Bounded: a few thousand cases in a few seconds.
 * A failure prints fast-check's seed and the shrunk case; rerun with FUZZ_SEED=<seed>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../../src-main/shared/frame';
import { ERROR_CODES } from '../../src-main/shared/errors';
import { COMMANDS, JOB_NAMES } from '../../src-main/shared/api';
import { rawExchange, serving, startChildServer, statusOf, upgradeRequest, wsFrame, withDeadline, type ChildServer } from './raw-net';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

let s: ChildServer;
/**
 * The first input after which the server process was gone. Once it died every later case fails, so fast-check's
 * shrunk counterexample is meaningless; the assertion messages carry this one instead (or the case just after it: an
 * unhandled rejection ends the process a moment later).
 */
let killer: string | null = null;
function noteIfDead(input: unknown): void {
  if (s.exited() && killer === null) killer = JSON.stringify(input);
  expect(s.exited(), `the server process died; first after: ${killer}\n${s.stderr().slice(-2000)}`).toBe(false);
}
beforeAll(async () => {
  s = await startChildServer({ maxClients: 64 });
});
afterAll(async () => {
  await s?.stop();
});

/** Text with the characters that broke parsers before: %, [, /, \, ;, =, quotes, controls, non-ASCII. */
const nasty = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('%', '[', ']', '/', '\\', ';', '=', '"', "'", '?', '#', '.', '@', ':', ' ', '\t', '\x00', '\x7f', 'é', '\u202e', '\ud800', 'A', 'z', '0') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 40,
});

describe('HTTP requests', () => {
  const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'CONNECT', 'TRACE', 'PRI'), fc.stringMatching(/^[A-Z]{1,8}$/));
  const target = fc.oneof(
    nasty.map((t) => `/${t}`),
    nasty.map((t) => `//${t}`),
    fc.tuple(fc.constantFrom('//[', '*', 'http://evil.example/', '/%', '/%E0%A4%A', '/..%2f', '/\\evil', '/.//evil.com/', '/api'), nasty).map(([a, b]) => a + b),
    fc.constant('/'),
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTX/1.1', '');
  const header = fc.oneof(
    fc.tuple(fc.constantFrom('Cookie', 'Origin', 'Authorization', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Range', 'If-None-Match', 'X-Forwarded-For'), nasty),
    fc.tuple(fc.constant('Cookie'), nasty.map((v) => `pullback_token=${v}`)),
    fc.tuple(fc.constantFrom('Content-Length', 'Transfer-Encoding'), fc.constantFrom('0', '-1', '99999999999999999999', 'chunked', 'gzip, chunked', 'x')),
    fc.tuple(nasty, nasty),
  );

  it('every request is answered or closed, and the server stays up (1200 cases)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(method, target, version, fc.array(header, { maxLength: 6 }), fc.boolean(), fc.boolean(), async (m, t, v, headers, withHost, withToken) => {
        const auth = withToken ? (Math.random() < 0.5 ? `Authorization: Bearer ${s.token}\r\n` : '') : '';
        const query = withToken && !auth ? `${t.includes('?') ? '&' : '?'}token=${s.token}` : '';
        const head =
          `${m} ${t}${query} ${v}\r\n` +
          (withHost ? `Host: 127.0.0.1:${s.port}\r\n` : '') +
          auth +
          headers.map(([k, val]) => `${k}: ${val}\r\n`).join('') +
          '\r\n';
        // 500 ms: a request that promises a body legitimately gets no answer until the body comes; that is not a hang.
        const response = await rawExchange(s.port, Buffer.from(head, 'latin1'), 500, true);
        noteIfDead(head);
        // An answer (any status) or a closed connection; never a dead server.
        const status = statusOf(response);
        expect(status === 0 || (status >= 200 && status < 600)).toBe(true);
        expect(status).not.toBe(500);
        if (++n % 200 === 0) expect(await serving(s)).toBe(true);
      }),
      params(1200),
    );
    expect(await serving(s)).toBe(true);
  });
});

describe('WebSocket frames', () => {
  const frame = fc.record({
    opcode: fc.oneof(fc.constantFrom(0, 1, 2, 8, 9, 10), fc.integer({ min: 0, max: 15 })),
    fin: fc.boolean(),
    rsv: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 7 })),
    payload: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((j) => new TextEncoder().encode(j))),
    lie: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 125, 126, 65535, 65536, 2 ** 31, 2 ** 40) }),
    masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  });

  function encode(f: { opcode: number; fin: boolean; rsv: number; payload: Uint8Array; lie?: number; masked: boolean }): Buffer {
    const b = wsFrame(f.opcode, Buffer.from(f.payload), { fin: f.fin, rsv: f.rsv, declaredLength: f.lie });
    if (f.masked) return b;
    // Clear the mask bit and drop the 4 mask bytes (payload stays masked: garbage either way).
    const lenByte = b[1] & 0x7f;
    const headerLen = lenByte === 127 ? 10 : lenByte === 126 ? 4 : 2;
    const out = Buffer.concat([b.subarray(0, headerLen), b.subarray(headerLen + 4)]);
    out[1] &= 0x7f;
    return out;
  }

  it('random frame sequences end in a reply or a close of that connection only (400 connections)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(frame, { minLength: 1, maxLength: 4 }), { minLength: 16, maxLength: 16 }), async (batch) => {
        // 16 connections at once, each with its own frames.
        const responses = await Promise.all(batch.map((frames) => rawExchange(s.port, [Buffer.from(upgradeRequest(s)), ...frames.map(encode)], 150)));
        noteIfDead(batch.map((frames) => frames.map((f) => ({ ...f, payload: Buffer.from(f.payload).toString('hex') }))));
        for (const r of responses) expect([101, 503]).toContain(statusOf(r));
      }),
      params(25),
    );
    expect(await serving(s)).toBe(true);
  });
});

describe('API messages', () => {
  let ws: WebSocket;
  const replies: { id?: number; ok?: boolean; error?: { code: string } }[] = [];
  let wake: (() => void) | null = null;
  beforeAll(async () => {
    ws = new WebSocket(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { headers: { Origin: `http://127.0.0.1:${s.port}` } });
    await new Promise<void>((r, j) => (ws.on('open', () => r()), ws.on('error', j)));
    ws.on('message', (d: Buffer) => {
      const msg = decodeFrame(new Uint8Array(d)) as { id?: number; event?: unknown };
      if ('event' in msg) return; // job events of jobs the fuzzer managed to start
      replies.push(msg);
      wake?.();
    });
  });
  afterAll(() => ws?.close());

  const anyValue = fc.oneof(fc.anything({ maxDepth: 3 }), fc.string(), fc.integer(), fc.constant(null));
  const jobInput = fc.oneof(
    anyValue,
    fc.record({ modelDir: fc.oneof(nasty, fc.constant('/dev/zero'), fc.constant('/proc/self')), seed: fc.integer(), steps: fc.integer({ min: -5, max: 2000 }) }, { requiredKeys: [] }),
  );
  const projectReq = fc.record(
    {
      op: fc.oneof(fc.constantFrom('list', 'open', 'save', 'autosave', 'recovery.list', 'recovery.open', 'recovery.discard', 'pickOpen', 'pickSave'), nasty),
      id: fc.oneof(nasty.map((x) => `w:${x}`), nasty.map((x) => `p:${x}`), nasty),
      name: nasty,
      session: fc.oneof(nasty, fc.stringMatching(/^[a-z0-9-]{1,64}$/)),
      manifest: anyValue,
      blobs: fc.dictionary(fc.stringMatching(/^[0-9a-f]{64}$/), fc.base64String({ maxLength: 40 }), { maxKeys: 2 }),
    },
    { requiredKeys: ['op'] },
  );
  const args = fc.oneof(
    fc.tuple(fc.oneof(fc.constantFrom(...JOB_NAMES), nasty), jobInput),
    fc.tuple(projectReq),
    fc.tuple(nasty),
    fc.array(anyValue, { maxLength: 5 }),
  );
  const request = fc.record({ id: fc.nat(), method: fc.oneof(fc.constantFrom(...COMMANDS), nasty), args });
  const message = fc.oneof(
    { weight: 6, arbitrary: request.map((r) => ({ text: JSON.stringify(r) })) },
    { weight: 1, arbitrary: fc.json().map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.string().map((text) => ({ text })) },
    { weight: 1, arbitrary: request.map((r) => ({ binary: Buffer.from(encodeFrame({ ...r, args: [...r.args, new Uint8Array(8)] })) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ binary: Buffer.from(b) })) },
  );

  it('each message gets exactly one reply: a result or a typed error (1000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const before = replies.length;
        if ('text' in m) ws.send(m.text);
        else ws.send(m.binary, { binary: true });
        await withDeadline('reply', 5000, async () => {
          while (replies.length === before) await new Promise<void>((r) => (wake = r));
        });
        const reply = replies[before];
        expect(typeof reply.id).toBe('number');
        if (reply.ok === false) expect(ERROR_CODES as readonly string[]).toContain(reply.error?.code);
        else expect(reply.ok).toBe(true);
        // 'internal' is what an unanticipated exception becomes: hostile input must be refused by a typed check.
        expect(reply.error?.code).not.toBe('internal');
      }),
      params(1000),
    );
    expect(ws.readyState).toBe(ws.OPEN);
    expect(await serving(s)).toBe(true);
  });
});
