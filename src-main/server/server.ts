/**
 * Web mode: the built renderer and the API on 127.0.0.1, same origin.
 *
 * Auth (as Jupyter's and VS Code's servers): a connection token (PULLBACK_TOKEN, --token-file, or random) guards
 * everything; scripts send it as `Authorization: Bearer` or `?token=` on the upgrade. The printed URL carries a
 * one-time launch code instead, so the link left in a terminal's scrollback stops working once used; the first page
 * load swaps it (or the connection token) for an HttpOnly SameSite=Strict cookie holding a separate session secret
 * and redirects to strip it. Every request and upgrade checks Host and Origin, then the secret.
 *
 * Containment: no request, header, cookie or frame can throw out of a handler. HTTP handlers answer 400/500;
 * every socket has an error handler, so a WebSocket protocol violation (invalid UTF-8, an over-long message, a bad
 * opcode) closes that one connection. Fair sharing: at most `maxClients` connections, at most
 * `maxClientsPerIdentity` for one session or the token, and a few project requests in progress per connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiService } from '../app/api-service';
import { decodeFrame, encodeFrame } from '../shared/frame';
import { ApiError } from '../shared/errors';
import { TOKEN_COOKIE, WS_MAX_PROJECT_REQUESTS, WS_MAX_REQUEST_BYTES, WS_PATH, WsRequestSchema, type WsReply } from '../shared/ws';
import { toApiError } from '../engine/errors';
import { SESSION_LIFETIME_MS, type SessionFile } from './session-file';
import { SecretSet, bearer, cookieValue, hostAllowed, newToken, originAllowed, parseRequestTarget, sameOriginPath, tokenProblem, tokensEqual } from './security';
import { CSP, readStaticFile } from '../app/static-files';
import type { JobName, StartJobOptions } from '../shared/api';
import type { ProjectRequest } from '../shared/project-api';

export interface WebServerOptions {
  service: ApiService;
  /** Built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed connection token (PULLBACK_TOKEN, --token-file); random when absent. Refused when weak (tokenProblem). */
  token?: string;
  /** Most simultaneous WebSocket clients. */
  maxClients?: number;
  /** Most simultaneous WebSocket clients of one browser session (or of the connection token); default half. */
  maxClientsPerIdentity?: number;
  /** Ping interval; a client missing one pong is dropped. */
  heartbeatMs?: number;
  /** Called with a fresh one-time URL once the current one has been used (the CLI prints it for another browser). */
  onLaunchUrlUsed?: (nextUrl: string) => void;
  /** Where browser sessions are remembered across restarts (web mode: the data folder); absent: this run only. */
  sessionFile?: SessionFile;
  /** A sentence for the terminal about something the user may need to act on (e.g. sessions not remembered). */
  onNotice?: (text: string) => void;
}

export interface WebServer {
  /** A one-time launch URL (`/?token=<code>`); read after the last one was used, it holds a fresh code. */
  readonly url: string;
  port: number;
  /** The connection token (permanent for this run; for scripts and tests, never printed). */
  token: string;
  close(): Promise<void>;
}

const BIND = '127.0.0.1';
/** A client that stops reading its replies is dropped before the server buffers more than this for it. */
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
/** Browser sessions remembered at once (each URL/token exchange makes one; the oldest is forgotten first). */
const MAX_SESSIONS = 64;
/** Launch codes outstanding at once. */
const MAX_LAUNCH_CODES = 4;
/** Static files larger than this are not served (the renderer's biggest asset is a few hundred KiB). */
const MAX_STATIC_BYTES = 64 * 1024 * 1024;

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function reject(socket: Duplex, status: number, text: string): void {
  try {
    if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  } finally {
    socket.destroy();
  }
}

/** Who a request authenticates as: 'token' (the connection token) or `s:<id>` (one browser session). */
type Identity = string;

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  if (opts.token !== undefined) {
    const problem = tokenProblem(opts.token);
    if (problem) throw new Error(problem);
  }
  const token = opts.token ?? newToken();
  const maxClients = opts.maxClients ?? 8;
  const maxPerIdentity = opts.maxClientsPerIdentity ?? Math.max(1, Math.ceil(maxClients / 2));
  let port = opts.port ?? 0;
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_REQUEST_BYTES });
  const sessions = new SecretSet(MAX_SESSIONS);
  const dropExpiredSessions = () => sessions.expire(Date.now() - SESSION_LIFETIME_MS);
  if (opts.sessionFile) {
    sessions.restore(opts.sessionFile.load());
    dropExpiredSessions();
  }
  const rememberSessions = () => {
    try {
      opts.sessionFile?.save(sessions.entries());
    } catch (err) {
      // The session still works until this server stops; only a restart will ask for the printed link again.
      opts.onNotice?.(`Could not remember the browser session in ${opts.sessionFile?.path} (${err instanceof Error ? err.message : String(err)}); after a restart, open the printed link again.`);
    }
  };
  const launchCodes = new SecretSet(MAX_LAUNCH_CODES);
  let launchCode = launchCodes.add();
  const connectionsOf = new Map<Identity, number>();

  const launchUrl = (): string => {
    if (launchCodes.match(launchCode) === null) launchCode = launchCodes.add();
    return `http://${BIND}:${port}/?token=${launchCode}`;
  };

  /** The identity of a request that carries a standing credential (cookie or bearer), or null. */
  const standingIdentity = (req: IncomingMessage): Identity | null => {
    const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
    dropExpiredSessions();
    const session = sessions.match(cookie);
    if (session !== null) return `s:${session}`;
    if (tokensEqual(cookie, token) || tokensEqual(bearer(req.headers.authorization), token)) return 'token';
    return null;
  };

  const server = createServer((req, res) => {
    handleHttp(req, res).catch(() => fail(res, 500, 'internal error'));
  });
  // Slow or stuck clients cannot hold sockets for long (Node's defaults are minutes).
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;
  server.maxConnections = 256;
  // Malformed HTTP (Node's parser refused it): answer as Node would, on this socket only.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    if (err.code === 'HPE_HEADER_OVERFLOW') return reject(socket, 431, 'Request Header Fields Too Large');
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return reject(socket, 408, 'Request Timeout');
    reject(socket, 400, 'Bad Request');
  });

  const baseHeaders = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP };

  function fail(res: ServerResponse, status: number, text: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { ...baseHeaders, 'Content-Type': 'text/plain' }).end(text);
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', () => res.destroy());
    const host = req.headers.host;
    if (!hostAllowed(host, port) || !originAllowed(req.headers.origin, host, port, false)) return fail(res, 403, 'forbidden');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, baseHeaders).end();
      return;
    }
    const url = parseRequestTarget(req.url);
    if (!url) return fail(res, 400, 'bad request target');
    if (url.searchParams.has('token')) {
      // The printed link (one-time code) or the connection token: swap it for a session cookie so it does not linger
      // in history or Referer headers, and so the cookie never holds the permanent secret.
      const given = url.searchParams.get('token');
      const usedCode = launchCodes.take(given) !== null;
      if (!usedCode && !tokensEqual(given, token)) return fail(res, 401, 'missing, used or wrong token: open the URL printed by `npm run web`');
      if (usedCode) opts.onLaunchUrlUsed?.(launchUrl());
      const secret = sessions.add();
      rememberSessions();
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...baseHeaders,
        'Set-Cookie': `${TOKEN_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/`,
        Location: sameOriginPath(url.pathname, url.search),
      });
      res.end();
      return;
    }
    if (standingIdentity(req) === null) return fail(res, 401, 'missing or wrong token: open the URL printed by `npm run web`');
    const file = await readStaticFile(opts.rendererDir, url.pathname, MAX_STATIC_BYTES);
    if (!file) return fail(res, 404, 'not found');
    res.writeHead(200, { ...baseHeaders, 'Content-Type': file.type, 'Content-Length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      handleUpgrade(req, socket, head);
    } catch {
      reject(socket, 500, 'Internal Server Error');
    }
  });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const host = req.headers.host;
    // Browsers always send Origin on WebSocket handshakes; a missing one is a non-browser client we do not serve.
    if (!hostAllowed(host, port) || !originAllowed(req.headers.origin, host, port, true)) return reject(socket, 403, 'Forbidden');
    const url = parseRequestTarget(req.url);
    if (!url) return reject(socket, 400, 'Bad Request');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    const identity = tokensEqual(url.searchParams.get('token'), token) ? 'token' : standingIdentity(req);
    if (identity === null) return reject(socket, 401, 'Unauthorized');
    if (wss.clients.size >= maxClients || (connectionsOf.get(identity) ?? 0) >= maxPerIdentity) return reject(socket, 503, 'Service Unavailable');
    connectionsOf.set(identity, (connectionsOf.get(identity) ?? 0) + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (connectionsOf.get(identity) ?? 1) - 1;
      if (n > 0) connectionsOf.set(identity, n);
      else connectionsOf.delete(identity);
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      serveClient(ws);
    });
  }

  wss.on('error', () => undefined);

  // Heartbeat: a client that stops answering pings (sleeping laptop, killed tab) is dropped and its jobs cancelled.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const c of wss.clients) {
      if (alive.get(c) === false) {
        c.terminate();
        continue;
      }
      alive.set(c, false);
      try {
        c.ping();
      } catch {
        c.terminate();
      }
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  function serveClient(ws: WebSocket): void {
    alive.set(ws, true);
    // The ws library emits 'error' for protocol violations (invalid UTF-8, over-long message, bad opcode) and then
    // closes the connection itself; without a listener the error would be thrown at the process.
    ws.on('error', () => ws.terminate());
    ws.on('pong', () => alive.set(ws, true));
    const session = opts.service.connect();
    const send = (msg: WsReply) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        return;
      }
      try {
        ws.send(encodeFrame(msg), { binary: true });
      } catch {
        ws.terminate();
      }
    };
    const unsubscribe = session.onJobEvent((event) => send({ event }));
    let projectRequests = 0;
    ws.on('message', (data, isBinary) => {
      void handleMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary);
    });

    async function handleMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
      let id = 0;
      let counted = false;
      try {
        // JSON text, or a binary frame (frame.ts) when the request carries bytes (images, latents).
        let raw: unknown;
        try {
          raw = isBinary ? decodeFrame(toBytes(data)) : JSON.parse(String(data));
        } catch {
          throw new ApiError({ code: 'bad-message', message: isBinary ? 'malformed binary frame' : 'request is not JSON' });
        }
        const parsed = WsRequestSchema.safeParse(raw);
        if (!parsed.success) throw new ApiError({ code: 'bad-message', message: 'malformed request' });
        id = parsed.data.id;
        if (parsed.data.method === 'project') {
          if (projectRequests >= WS_MAX_PROJECT_REQUESTS) {
            throw new ApiError({ code: 'busy', message: `${WS_MAX_PROJECT_REQUESTS} project requests of this window are still in progress; try again when they finish` });
          }
          projectRequests++;
          counted = true;
        }
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
            // The options (args[2]) are validated by ApiService (StartJobOptionsSchema) like the input.
            result = await session.startJob(a0 as JobName, parsed.data.args[1], parsed.data.args[2] as StartJobOptions | undefined);
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
      } finally {
        if (counted) projectRequests--;
      }
    }

    ws.on('close', () => {
      unsubscribe();
      session.close();
    });
  }

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, BIND, () => resolve());
  });
  server.on('error', () => undefined);
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : port;
  return {
    get url() {
      return launchUrl();
    },
    port,
    token,
    close: async () => {
      clearInterval(heartbeat);
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
