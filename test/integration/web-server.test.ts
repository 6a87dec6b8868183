/**
 * Web mode security and the WebSocket transport: wrong token, foreign Origin and foreign Host are refused on HTTP and
 * on the upgrade; the right token gets the page, a cookie, and a working API (jobs with binary PNG frames).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebMode } from '../../src-main/server/main';
import { WsClient, type WebSocketLike } from '../../src-main/shared/ws-client';
import { runJob } from '../../src-main/shared/client';
import { ApiError } from '../../src-main/shared/errors';
import { ANALYTIC_INT64 } from '../helpers/model-folders';

let web: Awaited<ReturnType<typeof startWebMode>>;
let rendererDir: string;
let port: number;
let token: string;

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Try a WebSocket upgrade; resolves to the HTTP status (101 on success). */
function upgrade(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

beforeAll(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'pullback-renderer-'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(tmpdir(), 'pullback-secret.txt'), 'secret');
  web = await startWebMode({ port: 0, rendererDir, modelsDir: join(rendererDir, 'no-models') });
  port = web.server.port;
  token = web.server.token;
});
afterAll(async () => {
  await web.close();
  await rm(rendererDir, { recursive: true, force: true });
});

describe('web mode HTTP', () => {
  it('binds 127.0.0.1 with a long random one-time code in the printed URL, not the connection token', async () => {
    const url = web.server.url;
    const code = new URL(url).searchParams.get('token')!;
    expect(url).toBe(`http://127.0.0.1:${port}/?token=${code}`);
    expect(code.length).toBeGreaterThanOrEqual(40);
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(code).not.toBe(token);
    // The code works once: the second use of the same link is refused, and the server offers a fresh link.
    expect((await get(`/?token=${code}`)).status).toBe(303);
    expect((await get(`/?token=${code}`)).status).toBe(401);
    expect(web.server.url).not.toBe(url);
  });
  it('refuses a missing or wrong token (401)', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { Cookie: 'pullback_token=nope' })).status).toBe(401);
  });
  it('refuses a foreign Host (DNS rebinding) and a foreign Origin, even with the token (403)', async () => {
    expect((await get(`/?token=${token}`, { Host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(`/?token=${token}`, { Host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(`/?token=${token}`, { Origin: 'http://evil.example' })).status).toBe(403);
  });
  it('swaps the URL token for an HttpOnly SameSite=Strict cookie, then serves with CSP', async () => {
    const first = await get(`/?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    // The cookie holds a session secret of its own, never the connection token.
    expect(cookie).not.toContain(token);
    const page = await get('/', { Cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>t</title>');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });
  it('does not serve files outside the renderer folder', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    expect((await get('/../pullback-secret.txt', auth)).status).toBe(404);
    expect((await get('/%2e%2e/pullback-secret.txt', auth)).status).toBe(404);
    expect((await get('/..%2fpullback-secret.txt', auth)).status).toBe(404);
  });
});

describe('web mode WebSocket upgrade', () => {
  const origin = () => `http://127.0.0.1:${port}`;
  it('accepts the right token with our Origin', async () => {
    expect(await upgrade(`/api?token=${token}`, { Origin: origin() })).toBe(101);
    expect(await upgrade('/api', { Origin: origin(), Cookie: `pullback_token=${token}` })).toBe(101);
  });
  it('refuses a wrong or missing token', async () => {
    expect(await upgrade('/api?token=wrong', { Origin: origin() })).toBe(401);
    expect(await upgrade('/api', { Origin: origin() })).toBe(401);
  });
  it('refuses a foreign or missing Origin (cross-site WebSocket hijacking)', async () => {
    expect(await upgrade(`/api?token=${token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(`/api?token=${token}`, { Origin: `http://localhost:${port + 1}` })).toBe(403);
    expect(await upgrade(`/api?token=${token}`, {})).toBe(403);
  });
  it('refuses a foreign Host', async () => {
    expect(await upgrade(`/api?token=${token}`, { Origin: 'http://evil.example', Host: 'evil.example' })).toBe(403);
  });
});

describe('PullbackApi over WebSocket', () => {
  let client: WsClient;
  beforeAll(async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    client = new WsClient(ws as unknown as WebSocketLike);
    await client.ready();
  });
  afterAll(() => client.close());

  it('getAppInfo says web mode, no native folder picker', async () => {
    const info = await client.getAppInfo();
    expect(info).toMatchObject({ mode: 'web', canPickFolder: false, bundledModels: [] });
    expect(info.providers).toContain('cpu');
    expect(await client.pickModelFolder()).toBeNull();
  });

  it('runs a job with progress; the PNG arrives as bytes', async () => {
    const fractions: number[] = [];
    const out = await runJob(client, 'generate', { modelDir: ANALYTIC_INT64, seed: 11, steps: 10, provider: 'cpu' }, { onProgress: (p) => fractions.push(p.fraction) });
    expect(out.images[0].bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.images[0].bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    expect(fractions.at(-1)).toBe(1);
  });

  it('typed errors cross the wire (bad folder, invalid input, cancel)', async () => {
    const missing = await runJob(client, 'model.info', { modelDir: '/no/such/model' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).code).toBe('missing-file');
    const invalid = await client.startJob('generate', { modelDir: ANALYTIC_INT64, seed: 1, steps: 99999 }).catch((e: unknown) => e);
    expect((invalid as ApiError).code).toBe('invalid-input');
    const controller = new AbortController();
    const cancelled = await runJob(
      client,
      'generate',
      { modelDir: ANALYTIC_INT64, seed: 1, steps: 1000, batch: 16, provider: 'cpu' },
      { signal: controller.signal, onProgress: () => controller.abort() },
    ).catch((e: unknown) => e);
    expect((cancelled as ApiError).code).toBe('cancelled');
  });
});

describe('WebSocket disconnects', () => {
  it('a job in flight fails with disconnected instead of hanging when the connection drops', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    const client = new WsClient(ws as unknown as WebSocketLike);
    await client.ready();
    const result = runJob(
      client,
      'generate',
      { modelDir: ANALYTIC_INT64, seed: 1, steps: 1000, batch: 16, provider: 'cpu' },
      { onStarted: () => ws.terminate() },
    ).catch((e: unknown) => e);
    const err = await result;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('disconnected');
    // The server cancelled the orphaned job: the engine is free for the next client.
    const again = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    const c2 = new WsClient(again as unknown as WebSocketLike);
    await c2.ready();
    const info = await runJob(c2, 'model.info', { modelDir: ANALYTIC_INT64 });
    expect(info.unet.sampleDims).toEqual([3, 8, 8]);
    c2.close();
  });
});
