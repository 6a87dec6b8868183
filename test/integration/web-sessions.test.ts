/**
 * A restart of web mode on the same port and data folder keeps the browser sessions it handed out (issue 16: a page
 * left open reconnects on its own); another data folder does not know them, and a session file never holds a cookie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startWebMode } from '../../src-main/server/main';
import { SESSION_FILE_NAME } from '../../src-main/server/session-file';

let root: string;
let rendererDir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pullback-web-sessions-'));
  rendererDir = join(root, 'renderer');
  await mkdir(rendererDir);
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const start = (dataDir: string, port = 0) => startWebMode({ port, rendererDir, dataDir, modelsDir: join(root, 'no-models') });

/** GET on a fresh connection each time (a pooled socket would belong to the server that was stopped). */
function get(url: string, cookie?: string): Promise<{ status: number; setCookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: cookie ? { Cookie: cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: String(res.headers['set-cookie'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The session cookie a browser gets for the printed link. */
async function login(url: string): Promise<string> {
  const res = await get(url);
  expect(res.status).toBe(303);
  return res.setCookie.split(';')[0];
}

describe('web sessions across a restart', () => {
  it('the same data folder and port: the old cookie still opens the page', async () => {
    const dataDir = join(root, 'data');
    const first = await start(dataDir);
    const port = first.server.port;
    const cookie = await login(first.server.url);
    expect((await get(`http://127.0.0.1:${port}/`, cookie)).status).toBe(200);
    await first.close();

    const second = await start(dataDir, port);
    try {
      expect((await get(`http://127.0.0.1:${port}/`, cookie)).status).toBe(200);
      expect((await get(`http://127.0.0.1:${port}/`, 'pullback_token=forged')).status).toBe(401);
      // What the folder keeps cannot be replayed: the cookie's secret is not in it.
      const stored = await readFile(join(dataDir, SESSION_FILE_NAME), 'utf8');
      expect(stored).not.toContain(cookie.split('=')[1]);
    } finally {
      await second.close();
    }

    // Another data folder (another user's, or a cleared one) knows no sessions.
    const other = await start(join(root, 'other'), port);
    try {
      expect((await get(`http://127.0.0.1:${port}/`, cookie)).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
