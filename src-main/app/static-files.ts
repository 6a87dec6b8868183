/** The renderer's files for web mode: URL paths resolved inside the renderer folder, never outside it. */
import { isAbsolute, join, normalize, relative, extname } from 'node:path';
import { readRegularFile, resolveInside } from '../core/fs/regular-file';

/** Resolve a URL path inside the renderer folder; null for anything that escapes it or looks malicious. */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const full = normalize(join(root, rel));
  const r = relative(root, full);
  if (!r || r.startsWith('..') || isAbsolute(r)) return null;
  return full;
}

/**
 * The bytes and type of the file a URL path names, or null (answer 404). Besides resolveStaticPath's lexical check,
 * the file must be a regular file (a FIFO would block the read) and no symlink may be on its way: the build output
 * never holds one, so a link is something planted there, even one that points inside the folder.
 */
export async function readStaticFile(root: string, urlPath: string, maxBytes: number): Promise<{ body: Buffer; type: string } | null> {
  const file = resolveStaticPath(root, urlPath);
  if (!file) return null;
  try {
    const realRoot = await resolveInside(root);
    const rel = relative(root, file);
    const real = await resolveInside(join(realRoot, rel), realRoot);
    if (real !== join(realRoot, rel)) return null;
    return { body: await readRegularFile(real, { root: realRoot, maxBytes }), type: mimeOf(file) };
  } catch {
    return null;
  }
}

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function mimeOf(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The renderer's CSP: scripts only from us; WebSocket back to the same origin. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
