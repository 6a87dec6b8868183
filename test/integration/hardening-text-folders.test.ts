/**
 * Text-conditioned model folders (Stable Diffusion layouts) are read like every other folder (issue 14): only regular
 * files inside the folder, each under a size cap, before any parse. A FIFO (which would block the reading thread), a
 * device, a link out of the folder or an oversized config is a typed error naming the file, for the folder's own
 * configs and graphs (text-model-folder.ts) and for the tokenizer files read later in the worker (tokenizer.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, realpath, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFolder, MAX_CONFIG_BYTES } from '../../src-main/core/diffusion/model-folder';
import { loadClipTokenizer } from '../../src-main/core/diffusion/tokenizer';
import { ModelFolderError } from '../../src-main/core/diffusion/errors';
import { readRegularFile } from '../../src-main/core/fs/regular-file';
import { textFolder } from '../helpers/text-fixtures';

const posix = process.platform !== 'win32';
const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function copyOf(): Promise<{ dir: string; outside: string }> {
  const root = await mkdtemp(join(tmpdir(), 'text-hostile-'));
  roots.push(root);
  const dir = join(root, 'model');
  await cp(textFolder('sd1-diffusers'), dir, { recursive: true });
  const outside = join(root, 'outside');
  await cp(textFolder('sd1-diffusers'), outside, { recursive: true });
  return { dir, outside };
}

async function refusal(dir: string): Promise<ModelFolderError> {
  const err = await loadModelFolder(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFolderError);
  return err as ModelFolderError;
}

/** Replace `file` with a FIFO (nothing ever writes to it: a plain read would block forever). */
async function fifo(file: string): Promise<void> {
  await unlink(file);
  execFileSync('mkfifo', [file]);
}

describe.skipIf(!posix)('text model folders: only regular files inside the folder are read', () => {
  it('a FIFO as a config or tokenizer file is unsafe-file at once (no hang)', async () => {
    for (const rel of ['scheduler/scheduler_config.json', 'tokenizer/tokenizer_config.json', 'tokenizer/vocab.json']) {
      const { dir } = await copyOf();
      await fifo(join(dir, rel));
      const t0 = performance.now();
      const err = await refusal(dir);
      expect(err.code, rel).toBe('unsafe-file');
      expect(err.file).toBe(join(dir, rel));
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });

  it('a graph or tokenizer file linking out of the folder is unsafe-file, even to a valid file', async () => {
    for (const rel of ['vae_decoder/model.onnx', 'text_encoder/model.onnx', 'tokenizer/merges.txt']) {
      const { dir, outside } = await copyOf();
      await unlink(join(dir, rel));
      await symlink(join(outside, rel), join(dir, rel));
      const err = await refusal(dir);
      expect(err.code, rel).toBe('unsafe-file');
      expect(err.file).toBe(join(dir, rel));
    }
  });

  it('a device as the VAE decoder is unsafe-file, never read', async () => {
    const { dir } = await copyOf();
    await unlink(join(dir, 'vae_decoder/model.onnx'));
    await symlink('/dev/zero', join(dir, 'vae_decoder/model.onnx'));
    expect((await refusal(dir)).code).toBe('unsafe-file');
  });

  it('a tokenizer config over the size cap is malformed-json naming the file, never parsed', async () => {
    const { dir } = await copyOf();
    await writeFile(join(dir, 'tokenizer/tokenizer_config.json'), Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
    const err = await refusal(dir);
    expect(err.code).toBe('malformed-json');
    expect(err.file).toBe(join(dir, 'tokenizer/tokenizer_config.json'));
  });

  it('the tokenizer read in the worker refuses a file swapped for a FIFO or a link out after the folder was checked', async () => {
    const { dir, outside } = await copyOf();
    const model = await loadModelFolder(dir);
    const root = await realpath(dir);
    const read = (f: string) => readRegularFile(f, { root, maxBytes: 64 * 1024 * 1024 });
    await fifo(join(dir, 'tokenizer/vocab.json'));
    const a = await loadClipTokenizer(model.text!.tokenizer, read).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(ModelFolderError);
    expect(a).toMatchObject({ code: 'unsafe-file', file: join(dir, 'tokenizer/vocab.json') });

    await unlink(join(dir, 'tokenizer/vocab.json'));
    await symlink(join(outside, 'tokenizer/vocab.json'), join(dir, 'tokenizer/vocab.json'));
    const b = await loadClipTokenizer(model.text!.tokenizer, read).catch((e: unknown) => e);
    expect(b).toMatchObject({ code: 'unsafe-file' });
  });
});
