/**
 * Web-mode request checks, kept pure so they are unit-tested directly: Host (DNS rebinding), Origin (cross-site
 * WebSocket hijacking), the token (constant-time compare), request targets and redirects, and the two kinds of
 * secret besides the connection token: one-time launch codes (the printed URL) and browser sessions (the cookie).
 *
 * Every parser here is total: hostile input gives null/false, never an exception, because an exception in a request
 * handler is one request away from taking the whole server down.
 */
import { createHash, timingSafeEqual, randomBytes } from 'node:crypto';
import { TOKEN_COOKIE } from '../shared/ws';

/** Shortest token we accept from PULLBACK_TOKEN or --token-file (a random one is 43 base64url characters). */
export const MIN_TOKEN_LENGTH = 32;
const MAX_TOKEN_LENGTH = 512;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Why a user-supplied token is too weak to guard the engine, or null when it is fine: at least 32 printable
 * characters without spaces, and not a short pattern repeated (a token of 32 'a's has no entropy to speak of).
 */
export function tokenProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) return `the token must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`;
  if (token.length > MAX_TOKEN_LENGTH) return `the token must be at most ${MAX_TOKEN_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the token may only contain printable ASCII characters without spaces';
  if (new Set(token).size < 10) return 'the token repeats too few characters to be secret; use e.g. `openssl rand -base64 32`';
  return null;
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

/** A cookie's value, or null when absent or not valid percent-encoding (`pullback_token=%` must not throw). */
export function cookieValue(cookieHeader: string | undefined, name = TOKEN_COOKIE): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return null;
    }
  }
  return null;
}

export function bearer(auth: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(auth ?? '');
  return m ? m[1] : null;
}

/**
 * The path and query of an origin-form request target (`/path?query`), or null for anything else: absolute-form
 * (`http://evil/`), authority-form, `*`, or text the URL parser refuses. Prefixing a fixed origin keeps `//host/x`
 * a path instead of a protocol-relative URL, so `GET //[` parses instead of throwing.
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  if (!target || !target.startsWith('/')) return null;
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    return null;
  }
}

/**
 * A redirect target that stays on this origin: always one leading slash. Browsers read `//x` and `/\x` as
 * "another host", and the URL parser turns `/.//evil.com/` into the path `//evil.com/`, so every leading run of
 * slashes and backslashes collapses to one.
 */
export function sameOriginPath(pathname: string, search = ''): string {
  return `/${pathname.replace(/^[/\\]+/, '')}${search}`;
}

/** What a secret is kept as: its SHA-256, so a stored copy (the session file) cannot be replayed as a cookie. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** One remembered secret, as SecretSet exports it and takes it back (the session file holds these). */
export interface SecretEntry {
  digest: string;
  label: string;
  /** When it was handed out (ms since the epoch): old ones expire. */
  createdAt: number;
}

/**
 * Random secrets with a capped population: the oldest is forgotten first, so a token holder minting sessions in a
 * loop costs bounded memory. `take` makes a secret one-time. Only digests are kept (see secretDigest); a candidate is
 * hashed and compared in constant time against each, so the set can be written to disk and read back.
 */
export class SecretSet {
  private readonly secrets = new Map<string, SecretEntry>();
  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new secret; `label` is what `match` returns for it (e.g. a session id). */
  add(label: string = randomBytes(9).toString('base64url')): string {
    const secret = newToken();
    const entry = { digest: secretDigest(secret), label, createdAt: this.now() };
    this.secrets.set(entry.digest, entry);
    this.trim();
    return secret;
  }

  /** The label of a known secret (constant time per entry), or null. */
  match(candidate: string | null | undefined): string | null {
    if (!candidate) return null;
    const digest = Buffer.from(secretDigest(candidate));
    let found: string | null = null;
    for (const e of this.secrets.values()) if (timingSafeEqual(digest, Buffer.from(e.digest))) found = e.label;
    return found;
  }

  /** Like match, then forgets the secret: a launch code works once. */
  take(candidate: string | null | undefined): string | null {
    const label = this.match(candidate);
    if (label !== null) for (const [d, e] of this.secrets) if (e.label === label) this.secrets.delete(d);
    return label;
  }

  /** Forget every secret handed out before `createdBefore` (ms since the epoch). */
  expire(createdBefore: number): void {
    for (const [d, e] of this.secrets) if (e.createdAt < createdBefore) this.secrets.delete(d);
  }

  /** The kept digests, oldest first (what a session file stores). */
  entries(): SecretEntry[] {
    return [...this.secrets.values()].map((e) => ({ ...e }));
  }

  /** Take back exported entries (well-formed ones only; the cap still holds, the newest kept). */
  restore(entries: readonly SecretEntry[]): void {
    const sorted = [...entries].filter(isSecretEntry).sort((a, b) => a.createdAt - b.createdAt);
    for (const e of sorted) this.secrets.set(e.digest, { digest: e.digest, label: e.label, createdAt: e.createdAt });
    this.trim();
  }

  get size(): number {
    return this.secrets.size;
  }

  private trim(): void {
    while (this.secrets.size > this.max) this.secrets.delete(this.secrets.keys().next().value as string);
  }
}

function isSecretEntry(e: unknown): e is SecretEntry {
  const x = e as Partial<SecretEntry> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.digest === 'string' &&
    /^[0-9a-f]{64}$/.test(x.digest) &&
    typeof x.label === 'string' &&
    x.label.length > 0 &&
    x.label.length <= 64 &&
    typeof x.createdAt === 'number' &&
    Number.isFinite(x.createdAt)
  );
}
