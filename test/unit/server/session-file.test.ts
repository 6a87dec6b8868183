/**
 * Browser sessions that outlive a web-server restart (issue 16): SecretSet keeps only digests, exports and restores
 * them, expires old ones; SessionFile writes them 0600 and reads a damaged file as "no sessions".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretSet, secretDigest } from '../../../src-main/server/security';
import { SESSION_FILE_NAME, SessionFile } from '../../../src-main/server/session-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pullback-sessions-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SecretSet persistence', () => {
  it('a restored set matches the secrets the first one handed out, and nothing else', () => {
    const first = new SecretSet(8);
    const a = first.add('a');
    const b = first.add('b');
    const second = new SecretSet(8);
    second.restore(first.entries());
    expect(second.match(a)).toBe('a');
    expect(second.match(b)).toBe('b');
    expect(second.match(new SecretSet(1).add('x'))).toBeNull();
    // What is exported is the digest, never the secret itself.
    expect(JSON.stringify(first.entries())).not.toContain(a);
    expect(first.entries().map((e) => e.digest)).toEqual([secretDigest(a), secretDigest(b)]);
  });

  it('expire forgets the secrets handed out before the cut-off', () => {
    let now = 1000;
    const set = new SecretSet(8, () => now);
    const old = set.add('old');
    now = 5000;
    const recent = set.add('recent');
    set.expire(3000);
    expect(set.match(old)).toBeNull();
    expect(set.match(recent)).toBe('recent');
  });

  it('restore skips malformed entries and keeps the newest within the cap', () => {
    const set = new SecretSet(2);
    const good = (label: string, createdAt: number) => ({ digest: secretDigest(label), label, createdAt });
    set.restore([good('s1', 1), good('s2', 2), good('s3', 3), { digest: 'nothex', label: 'x', createdAt: 4 } as never, { label: 'y' } as never, null as never]);
    expect(set.size).toBe(2);
    expect(set.match('s1')).toBeNull();
    expect(set.match('s2')).toBe('s2');
    expect(set.match('s3')).toBe('s3');
  });
});

describe('SessionFile', () => {
  it('round-trips the entries in a file readable by the user only', async () => {
    const set = new SecretSet(8);
    const secret = set.add('me');
    const file = new SessionFile(dir);
    file.save(set.entries());
    const again = new SecretSet(8);
    again.restore(new SessionFile(dir).load());
    expect(again.match(secret)).toBe('me');
    if (process.platform !== 'win32') expect((await stat(join(dir, SESSION_FILE_NAME))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, SESSION_FILE_NAME), 'utf8')).not.toContain(secret);
  });

  it.each([
    ['no file', null],
    ['not JSON', '{'],
    ['another version', JSON.stringify({ version: 99, sessions: [] })],
    ['sessions not a list', JSON.stringify({ version: 1, sessions: 'x' })],
  ])('reads %s as no sessions', async (_name, text) => {
    if (text !== null) await writeFile(join(dir, SESSION_FILE_NAME), text);
    expect(new SessionFile(dir).load()).toEqual([]);
  });
});
