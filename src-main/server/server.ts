/**
 * Web mode: the built renderer and the API on 127.0.0.1, same origin, protected by a random token.
 * The printed URL carries ?token=…; the first page load swaps it for an HttpOnly SameSite=Strict cookie and
 * redirects to strip it. Every request and the WebSocket upgrade check Host and Origin, then the token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiService } from '../app/api-service';
import { decodeFrame, encodeFrame } from '../shared/frame';
import { ApiError } from '../shared/errors';
import { TOKEN_COOKIE, WS_MAX_REQUEST_BYTES, WS_PATH, WsRequestSchema, type WsReply } from '../shared/ws';
import { toApiError } from '../engine/errors';
import { bearer, cookieValue, hostAllowed, newToken, originAllowed, tokensEqual } from './security';
import { CSP, mimeOf, resolveStaticPath } from '../app/static-files';
import type { JobName } from '../shared/api';
import type { ProjectRequest } from '../shared/project-api';

export interface WebServerOptions {
  service: ApiService;
  /** Built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (e.g. from a 0600 file); random when absent. */
  token?: string;
  /** Most simultaneous WebSocket clients. */
  maxClients?: number;
  /** Ping interval; a client missing one pong is dropped. */
  heartbeatMs?: number;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const BIND = '127.0.0.1';

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  let port = opts.port ?? 0;
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_REQUEST_BYTES });

  const authorized = (req: IncomingMessage, url: URL): boolean =>
    tokensEqual(url.searchParams.get('token'), token) ||
    tokensEqual(cookieValue(req.headers.cookie, TOKEN_COOKIE), token) ||
    tokensEqual(bearer(req.headers.authorization), token);

  const server = createServer((req, res) => void handleHttp(req, res));

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const baseHeaders = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP };
    const host = req.headers.host;
    if (!hostAllowed(host, port) || !originAllowed(req.headers.origin, host, port, false)) {
      res.writeHead(403, baseHeaders).end('forbidden');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, baseHeaders).end();
      return;
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (!authorized(req, url)) {
      res.writeHead(401, { ...baseHeaders, 'Content-Type': 'text/plain' }).end('missing or wrong token: open the URL printed by `npm run web`');
      return;
    }
    if (url.searchParams.has('token')) {
      // Swap the URL token for a cookie so it does not linger in history or Referer headers.
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...baseHeaders,
        'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname + url.search,
      });
      res.end();
      return;
    }
    const file = resolveStaticPath(opts.rendererDir, url.pathname);
    try {
      if (!file || !(await stat(file)).isFile()) throw new Error('not found');
      const body = await readFile(file);
      res.writeHead(200, { ...baseHeaders, 'Content-Type': mimeOf(file), 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, baseHeaders).end('not found');
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = req.headers.host;
    // Browsers always send Origin on WebSocket handshakes; a missing one is a non-browser client we do not serve.
    if (!hostAllowed(host, port) || !originAllowed(req.headers.origin, host, port, true)) return reject(socket, 403, 'Forbidden');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    if (!authorized(req, url)) return reject(socket, 401, 'Unauthorized');
    if (wss.clients.size >= (opts.maxClients ?? 8)) return reject(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws));
  });

  // Heartbeat: a client that stops answering pings (sleeping laptop, killed tab) is dropped and its jobs cancelled.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const c of wss.clients) {
      if (alive.get(c) === false) {
        c.terminate();
        continue;
      }
      alive.set(c, false);
      c.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  function serveClient(ws: WebSocket): void {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const session = opts.service.connect();
    const send = (msg: WsReply) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeFrame(msg), { binary: true });
    };
    const unsubscribe = session.onJobEvent((event) => send({ event }));
    ws.on('message', async (data, isBinary) => {
      let id = 0;
      try {
        // JSON text, or a binary frame (frame.ts) when the request carries bytes (images, latents).
        const raw: unknown = isBinary ? decodeFrame(toBytes(data)) : JSON.parse(String(data));
        const parsed = WsRequestSchema.safeParse(raw);
        if (!parsed.success) throw new ApiError({ code: 'bad-message', message: 'malformed request' });
        id = parsed.data.id;
        const [a0] = parsed.data.args;
        let result: unknown;
        switch (parsed.data.method) {
          case 'getAppInfo':
            result = await session.getAppInfo();
            break;
          case 'pickModelFolder':
            result = await session.pickModelFolder();
            break;
          case 'startJob':
            result = await session.startJob(a0 as JobName, parsed.data.args[1]);
            break;
          case 'cancelJob':
            result = await session.cancelJob(String(a0));
            break;
          case 'project':
            result = await session.project(a0 as ProjectRequest);
            break;
        }
        send({ id, ok: true, result: result ?? null });
      } catch (err) {
        send({ id, ok: false, error: err instanceof ApiError ? err.toPayload() : toApiError(err) });
      }
    });
    ws.on('close', () => {
      unsubscribe();
      session.close();
    });
  }

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, BIND, () => resolve());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port,
    token,
    url: `http://${BIND}:${port}/?token=${token}`,
    close: async () => {
      clearInterval(heartbeat);
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
