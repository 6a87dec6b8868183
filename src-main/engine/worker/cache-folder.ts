/**
 * A folder of the app's cache (derived graphs, float32 and mean-encoder copies of the user's model), written
 * atomically: filled in a private (0700, owner only: it holds the user's model) temp folder beside it, then renamed
 * into place, so a reader never sees half a folder. A folder another process made meanwhile holds the same bytes (the
 * name is a content key): ours is dropped. A fill that fails removes its temp folder and rethrows.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeCacheFolder(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** writeCacheFolder whose fill writes `files` (name → bytes), each owner-only. */
export function writeCacheFiles(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  return writeCacheFolder(dir, async (tmp) => {
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(tmp, name), bytes, { mode: 0o600 });
  });
}
