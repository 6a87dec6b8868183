/** Raw loopback clients for hostile-input tests: bytes over TCP, masked WebSocket frames, a child-process server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface ChildServer {
  child: ChildProcess;
  port: number;
  /** The connection token. */
  token: string;
  /** The current (unused) one-time launch URL. */
  readonly url: string;
  rendererDir: string;
  dataDir: string;
  exited(): boolean;
  stderr(): string;
  stop(): Promise<void>;
}

/** Start test/fuzz/web-child.ts in a child process (tsx) and wait for its ready line. */
export async function startChildServer(opts: { modelsDir?: string; maxClients?: number } = {}): Promise<ChildServer> {
  const rendererDir = mkdtempSync(join(tmpdir(), 'pb-hard-r-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  const dataDir = mkdtempSync(join(tmpdir(), 'pb-hard-d-'));
  const args = ['--import', 'tsx', join(ROOT, 'test', 'fuzz', 'web-child.ts'), rendererDir, dataDir, ...(opts.modelsDir ? [opts.modelsDir] : [])];
  const env = { ...process.env, ...(opts.maxClients ? { PB_TEST_MAX_CLIENTS: String(opts.maxClients) } : {}) };
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let exited = false;
  let err = '';
  child.on('exit', () => (exited = true));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  // Line 1: {port, token, url}; later lines: {url} of the next one-time launch URL.
  let url = '';
  const info = await new Promise<{ port: number; token: string; url: string }>((res, rej) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { port?: number; token?: string; url: string };
        buf = buf.slice(nl + 1);
        url = msg.url;
        if (msg.port) res(msg as { port: number; token: string; url: string });
      }
    });
    child.on('exit', (code) => rej(new Error(`server exited (${code}): ${err}`)));
  });
  return {
    child,
    port: info.port,
    token: info.token,
    get url() {
      return url;
    },
    rendererDir,
    dataDir,
    exited: () => exited,
    stderr: () => err,
    stop: async () => {
      if (exited) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await done;
    },
  };
}

/**
 * Send bytes on a fresh connection; resolves with everything received until close or `waitMs`. With `headOnly`,
 * resolves as soon as a response head (status line and headers) has arrived, for HTTP exchanges on a connection the
 * server keeps alive; a WebSocket test waits instead, for the frames after the handshake.
 */
export function rawExchange(port: number, data: string | Buffer | Buffer[], waitMs = 1500, headOnly = false): Promise<string> {
  return new Promise((res) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      res(out);
    };
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (c: Buffer) => {
      out += c.toString('latin1');
      if (headOnly && out.includes('\r\n\r\n')) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
    for (const d of Array.isArray(data) ? data : [data]) sock.write(d);
  });
}

/** Status code of the first response line, or 0 when none came. */
export function statusOf(response: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return m ? Number(m[1]) : 0;
}

/** A client-to-server WebSocket frame (masked), with an optionally false declared length. */
export function wsFrame(opcode: number, payload: Buffer, o: { fin?: boolean; declaredLength?: number; rsv?: number } = {}): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const len = o.declaredLength ?? payload.length;
  const first = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f);
  let hdr: Buffer;
  if (len < 126) hdr = Buffer.from([first, 0x80 | len]);
  else if (len < 65536) {
    hdr = Buffer.alloc(4);
    hdr[0] = first;
    hdr[1] = 0x80 | 126;
    hdr.writeUInt16BE(len, 2);
  } else {
    hdr = Buffer.alloc(10);
    hdr[0] = first;
    hdr[1] = 0x80 | 127;
    hdr.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([hdr, mask, body]);
}

/** An upgrade request to /api (or `path`) with our Origin and the connection token in the query. */
export function upgradeRequest(s: { port: number; token: string }, path = `/api?token=${s.token}`, extraHeaders = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nOrigin: http://127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`
  );
}

/** The server is alive and serving: the process runs and an authorised GET of / answers 200. */
export async function serving(s: ChildServer): Promise<boolean> {
  if (s.exited()) return false;
  const r = await rawExchange(s.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${s.token}\r\nConnection: close\r\n\r\n`, 5000, true);
  return statusOf(r) === 200 && !s.exited();
}

/** Run `fn` with a deadline; rejects with a message naming `what` when it does not settle in time. */
export async function withDeadline<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<T>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms (hang)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
