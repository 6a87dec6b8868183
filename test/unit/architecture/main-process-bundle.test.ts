/**
 * onnxruntime-node never loads in the main process: not in Electron's main bundle, not in the web server. A native
 * crash in a session the host never needed must not take the window or the server down; only the engine worker
 * (out/main/worker.js) may load it. Checked on the real import graphs with esbuild (type-only imports drop out, as
 * in the build), and on the built bundle that `npm test` makes first.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Every bare package the entry's import graph loads at run time (static and dynamic imports). */
async function packagesLoadedBy(entry: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: join(ROOT, 'out', 'boundary-check'),
    logLevel: 'silent',
  });
  const out = new Set<string>();
  for (const o of Object.values(result.metafile.outputs)) {
    for (const i of o.imports) if (i.external) out.add(i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0]);
  }
  return out;
}

describe('onnxruntime-node stays in the engine worker', () => {
  it('the web server (npm run web) does not load it', async () => {
    const pkgs = await packagesLoadedBy('src-main/server/main.ts');
    expect(pkgs.has('ws')).toBe(true); // the graph was really walked
    expect(pkgs.has('onnxruntime-node')).toBe(false);
  }, 60_000);

  it("Electron's main process does not load it", async () => {
    const pkgs = await packagesLoadedBy('src-main/electron/main.ts');
    expect(pkgs.has('electron')).toBe(true);
    expect(pkgs.has('onnxruntime-node')).toBe(false);
  }, 60_000);

  it('the worker does (so the check above can tell)', async () => {
    expect((await packagesLoadedBy('src-main/engine/worker/worker.ts')).has('onnxruntime-node')).toBe(true);
  }, 60_000);

  it('the built out/main/index.js and its chunks do not name it (npm test builds first)', () => {
    const main = join(ROOT, 'out', 'main', 'index.js');
    expect(existsSync(main), 'out/main/index.js is missing: run `npm run build`').toBe(true);
    const chunksDir = join(ROOT, 'out', 'main', 'chunks');
    const chunks = existsSync(chunksDir) ? readdirSync(chunksDir).map((f) => join(chunksDir, f)) : [];
    // Only what index.js reaches matters; the worker's own chunks are allowed ORT. index.js imports chunks by name.
    const mainText = readFileSync(main, 'utf8');
    const reached = chunks.filter((c) => mainText.includes(c.split('/').pop()!));
    for (const f of [main, ...reached]) expect(readFileSync(f, 'utf8').includes('onnxruntime-node'), f).toBe(false);
    expect(readFileSync(join(ROOT, 'out', 'main', 'worker.js'), 'utf8').includes('onnxruntime-node')).toBe(true);
  });
});
