/**
 * Content hash of a model folder, the identity of a model in every cache (derived graphs, bases, memoised x_t):
 * a renamed or copied folder keeps its bases, a changed weight file never reuses them. No ORT here: the hash only
 * reads files, so jobs and tests use it without a session.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import { MODEL_FILES } from '../../core/diffusion/model-folder';
import { readOnnxSignature } from '../../core/diffusion/onnx-signature';

const hashes = new Map<string, { stamp: string; files: string[]; hash: string }>();

async function hashFileInto(h: ReturnType<typeof createHash>, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(file);
    s.on('data', (c) => h.update(c));
    s.on('end', () => resolve());
    s.on('error', reject);
  });
}

async function stampOf(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      const st = await stat(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    }),
  );
  return parts.join('|');
}

/**
 * Content hash of a model folder: sha256 over the scheduler config, unet/model.onnx and its external data files
 * (names and bytes). Memoised per process by (path, size, mtime) of those files, so a repeated request does not
 * re-read the weights.
 */
export async function modelContentHash(model: ModelFolder): Promise<string> {
  const unet = model.unet.file;
  const sched = join(model.dir, MODEL_FILES.scheduler);
  const memo = hashes.get(unet);
  if (memo && memo.stamp === (await stampOf(memo.files))) return memo.hash;
  const bytes = await readFile(unet);
  const externals = readOnnxSignature(bytes).externalDataFiles.map((rel) => join(dirname(unet), rel)).sort();
  const files = [sched, unet, ...externals];
  const stamp = await stampOf(files);
  const h = createHash('sha256');
  h.update('pullback-model-v1\0');
  h.update(await readFile(sched));
  h.update('\0unet\0');
  h.update(bytes);
  for (const f of externals) {
    h.update(`\0${f.slice(dirname(unet).length + 1)}\0`);
    await hashFileInto(h, f);
  }
  const hash = h.digest('hex');
  hashes.set(unet, { stamp, files, hash });
  return hash;
}

