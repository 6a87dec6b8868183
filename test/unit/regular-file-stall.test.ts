/**
 * Reads that stop answering (a network mount whose server is gone) end in a typed 'stalled' error after the deadline
 * instead of holding the engine worker forever (issue 14). node:fs/promises is wrapped so a step can be made to hang:
 * a real hung mount cannot be made without root. A slow disk that keeps moving is not cut off (the deadline is per
 * read of at most READ_STEP bytes), and a file that opens after the deadline is closed, not leaked.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Hang = 'open' | 'read' | 'realpath' | 'slow-read' | null;
const ctl: { hang: Hang; release?: () => void; lateClosed: number } = { hang: null, lateClosed: 0 };

vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const never = <T>() => new Promise<T>(() => undefined);
  return {
    ...fsp,
    realpath: ((p: string) => (ctl.hang === 'realpath' ? never() : fsp.realpath(p))) as typeof fsp.realpath,
    open: (async (p: string, flags: number) => {
      if (ctl.hang === 'open') {
        // Opens only when the test releases it: long after the deadline.
        await new Promise<void>((r) => (ctl.release = r));
        const fh = await fsp.open(p, flags);
        const close = fh.close.bind(fh);
        fh.close = async () => {
          ctl.lateClosed++;
          return close();
        };
        return fh;
      }
      const fh = await fsp.open(p, flags);
      if (ctl.hang === 'read') fh.read = (() => never()) as typeof fh.read;
      if (ctl.hang === 'slow-read') {
        const read = fh.read.bind(fh) as (...a: unknown[]) => Promise<unknown>;
        fh.read = (async (...a: unknown[]) => {
          await new Promise((r) => setTimeout(r, 500));
          return read(...a);
        }) as typeof fh.read;
      }
      return fh;
    }) as typeof fsp.open,
  };
});

const { FileAccessError, READ_STEP, readRegularFile, statRegularFile } = await import('../../src-main/core/fs/regular-file');
const { folderError } = await import('../../src-main/core/diffusion/model-folder');

const dir = mkdtempSync(join(tmpdir(), 'stall-'));
const small = join(dir, 'model_index.json');
writeFileSync(small, '{"a": 1}');

afterEach(() => {
  ctl.hang = null;
  ctl.release = undefined;
});

async function stalls(p: Promise<unknown>): Promise<InstanceType<typeof FileAccessError>> {
  const t0 = performance.now();
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileAccessError);
  expect((err as InstanceType<typeof FileAccessError>).problem).toBe('stalled');
  expect(performance.now() - t0).toBeLessThan(3000);
  return err as InstanceType<typeof FileAccessError>;
}

describe('a read that stops answering fails typed after its deadline', () => {
  it('a hung open, read or link resolution each end in stalled, naming the file', async () => {
    for (const hang of ['read', 'realpath'] as const) {
      ctl.hang = hang;
      const err = await stalls(readRegularFile(small, { root: dir, stallMs: 200 }));
      expect(err.file).toBe(small);
      expect(err.message).toMatch(/did not answer within 200 ms/);
    }
    ctl.hang = 'realpath';
    await stalls(statRegularFile(small, { stallMs: 200 }));
  });

  it('a file that opens after the deadline is closed when it finally opens', async () => {
    ctl.hang = 'open';
    await stalls(readRegularFile(small, { stallMs: 200 }));
    const release = ctl.release!;
    release();
    await vi.waitFor(() => expect(ctl.lateClosed).toBe(1));
  });

  it('a slow disk that keeps moving is not cut off: the deadline is per read step, not per file', async () => {
    const big = join(dir, 'weights.pb');
    writeFileSync(big, Buffer.alloc(READ_STEP * 2 + 10, 7));
    ctl.hang = 'slow-read';
    const t0 = performance.now();
    // Three steps of 500 ms each: longer than the 1.2 s deadline in total, each step well within it.
    const bytes = await readRegularFile(big, { stallMs: 1200 });
    expect(performance.now() - t0).toBeGreaterThan(1400);
    expect(bytes.length).toBe(READ_STEP * 2 + 10);
  });

  it('in a model folder, a stalled file is missing-file with the stall in its message', () => {
    const e = folderError(new FileAccessError('stalled', small, 'did not answer within 60 s while reading it'), small, 'malformed-json');
    expect(e).toMatchObject({ code: 'missing-file', file: small });
    expect(e.message).toMatch(/did not answer/);
  });
});
