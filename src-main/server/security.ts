/**
 * Web-mode request checks, kept pure so they are unit-tested directly: Host (DNS rebinding), Origin (cross-site
 * WebSocket hijacking) and the token (constant-time compare).
 */
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { TOKEN_COOKIE } from '../shared/ws';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hosts a browser on this machine may use for us; anything else is a rebinding attempt or a remote client. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return !!host && allowedHosts(port).includes(host.toLowerCase());
}

/** Origin must be our own origin (same host the browser used). `required` for WebSocket upgrades. */
export function originAllowed(origin: string | undefined, host: string | undefined, port: number, required: boolean): boolean {
  if (origin === undefined) return !required;
  if (!hostAllowed(host, port)) return false;
  return origin.toLowerCase() === `http://${host!.toLowerCase()}`;
}

export function tokensEqual(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieValue(cookieHeader: string | undefined, name = TOKEN_COOKIE): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

export function bearer(auth: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(auth ?? '');
  return m ? m[1] : null;
}
