/**
 * The engine's folders in the app's data folder are the user's only (issue 14): derived/ (graphs derived from their
 * model, with its weights) and basis/ (bases computed from their pictures' x_t) are created 0700 with the entries
 * 0600, whatever the umask lets through; a basis/ folder an older version left 0755 is tightened on the next write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { useTempDataDir, wrapUnet } from './basis-fixture';

const posix = process.platform !== 'win32';
const tmp = useTempDataDir('modes');
let modelDir: string;
let umask: number | undefined;

beforeAll(async () => {
  // The usual umask: without the explicit modes, new folders would be 0755 and files 0644.
  umask = process.umask(0o022);
  modelDir = await wrapUnet('ddpm_unet2d_op14', tmp.root);
});
afterAll(() => {
  if (umask !== undefined) process.umask(umask);
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe.skipIf(!posix)('engine data folders are private', () => {
  it('a basis job creates derived/ and basis/ (and their subfolders) 0700, basis entries 0600', async () => {
    const data = join(tmp.root, 'data');
    await runJobInProcess('basis', { modelDir, seed: 1, t: 0.6, steps: 5, k: 2, provider: 'cpu' }, { quiet: true });
    expect((await mode(data)).toString(8)).toBe('700');
    for (const top of ['derived', 'basis']) {
      expect((await mode(join(data, top))).toString(8), top).toBe('700');
      for (const sub of await readdir(join(data, top))) {
        const p = join(data, top, sub);
        if ((await stat(p)).isDirectory()) expect((await mode(p)).toString(8), p).toBe('700');
      }
    }
    const [shard] = await readdir(join(data, 'basis'));
    for (const f of await readdir(join(data, 'basis', shard))) expect((await mode(join(data, 'basis', shard, f))).toString(8), f).toBe('600');
  });

  it('a basis/ folder left 0755 by an older version is made 0700 by the next write', async () => {
    const data = join(tmp.root, 'data2');
    await mkdir(join(data, 'basis'), { recursive: true });
    await chmod(join(data, 'basis'), 0o755);
    const saved = process.env.PULLBACK_DATA_DIR;
    process.env.PULLBACK_DATA_DIR = data;
    try {
      await runJobInProcess('basis', { modelDir, seed: 2, t: 0.6, steps: 5, k: 2, provider: 'cpu' }, { quiet: true });
    } finally {
      process.env.PULLBACK_DATA_DIR = saved;
    }
    expect((await mode(join(data, 'basis'))).toString(8)).toBe('700');
  });
});
