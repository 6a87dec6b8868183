import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SecretSet, bearer, cookieValue, hostAllowed, newToken, originAllowed, parseRequestTarget, sameOriginPath, tokenProblem, tokensEqual } from '../../../src-main/server/security';
import { resolveStaticPath } from '../../../src-main/app/static-files';

describe('host/origin/token checks', () => {
  it('allows only loopback hosts on our port', () => {
    expect(hostAllowed('127.0.0.1:8080', 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', 8080)).toBe(true);
    expect(hostAllowed('[::1]:8080', 8080)).toBe(true);
    expect(hostAllowed('127.0.0.1:8081', 8080)).toBe(false);
    expect(hostAllowed('evil.com:8080', 8080)).toBe(false);
    expect(hostAllowed('127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed(undefined, 8080)).toBe(false);
  });
  it('requires Origin to be exactly our origin; missing only where allowed', () => {
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', 8080, true)).toBe(true);
    expect(originAllowed('http://localhost:8080', '127.0.0.1:8080', 8080, true)).toBe(false);
    expect(originAllowed('https://127.0.0.1:8080', '127.0.0.1:8080', 8080, true)).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8080', 8080, true)).toBe(false);
    expect(originAllowed(undefined, '127.0.0.1:8080', 8080, true)).toBe(false);
    expect(originAllowed(undefined, '127.0.0.1:8080', 8080, false)).toBe(true);
  });
  it('compares tokens exactly and parses cookie/bearer', () => {
    const t = newToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(t);
    expect(tokensEqual(t, t)).toBe(true);
    expect(tokensEqual(t.slice(0, -1), t)).toBe(false);
    expect(tokensEqual(null, t)).toBe(false);
    expect(cookieValue('a=1; pullback_token=xyz; b=2')).toBe('xyz');
    expect(cookieValue('a=1')).toBeNull();
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('Basic abc')).toBeNull();
  });
});

describe('hostile input never throws', () => {
  it('cookieValue gives null for bad percent-encoding instead of throwing URIError', () => {
    expect(cookieValue('pullback_token=%')).toBeNull();
    expect(cookieValue('pullback_token=%E0%A4%A')).toBeNull();
    expect(cookieValue('a=%; pullback_token=ok%20x')).toBe('ok x');
  });
  it('parseRequestTarget takes origin-form targets only and never throws', () => {
    expect(parseRequestTarget('//[')?.pathname).toBe('//[');
    expect(parseRequestTarget('/a?token=x')?.searchParams.get('token')).toBe('x');
    for (const t of ['http://evil.example/', '*', 'evil.example:80', '', undefined]) expect(parseRequestTarget(t)).toBeNull();
  });
  it('sameOriginPath never yields a protocol-relative or backslash redirect', () => {
    expect(sameOriginPath('//evil.com/')).toBe('/evil.com/');
    expect(sameOriginPath('/\\evil.com/', '?a=1')).toBe('/evil.com/?a=1');
    expect(sameOriginPath('/\\/\\evil.com')).toBe('/evil.com');
    expect(sameOriginPath('/')).toBe('/');
    expect(sameOriginPath('/assets/a.js')).toBe('/assets/a.js');
  });
});

describe('tokens and secrets', () => {
  it('tokenProblem wants 32+ printable characters that are not a short pattern', () => {
    expect(tokenProblem(newToken())).toBeNull();
    expect(tokenProblem('x'.repeat(31))).toMatch(/at least 32/);
    expect(tokenProblem('ab'.repeat(20))).toMatch(/too few characters/);
    expect(tokenProblem(`${newToken()} `)).toMatch(/printable/);
    expect(tokenProblem('é'.repeat(40))).toMatch(/printable/);
  });
  it('SecretSet: match, one-time take, and a capped population', () => {
    const set = new SecretSet(2);
    const a = set.add('a');
    expect(set.match(a)).toBe('a');
    expect(set.take(a)).toBe('a');
    expect(set.match(a)).toBeNull();
    const b = set.add('b');
    set.add('c');
    set.add('d');
    expect(set.size).toBe(2);
    expect(set.match(b)).toBeNull(); // the oldest went first
    expect(set.match(null)).toBeNull();
    expect(set.match('')).toBeNull();
  });
});

describe('resolveStaticPath', () => {
  const root = join('/srv', 'renderer');
  it('serves files inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveStaticPath(root, '/assets/a.js')).toBe(join(root, 'assets', 'a.js'));
  });
  it.each(['/../secret', '/..%2fsecret', '/%2e%2e/secret', '/assets/../../secret', '/a%00b', '/..\\secret', '/%E0%A4%A', '/../renderer-evil/x'])(
    'refuses %s',
    (p) => {
      expect(resolveStaticPath(root, p)).toBeNull();
    },
  );
});
