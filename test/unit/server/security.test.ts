import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { bearer, cookieValue, hostAllowed, newToken, originAllowed, tokensEqual } from '../../../src-main/server/security';
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
