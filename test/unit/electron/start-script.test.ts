import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// @ts-expect-error -- plain JS script without type declarations
import { findElectronBinary } from '../../../scripts/start.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

describe('npm start', () => {
  it('finds the Electron binary only when it exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pullback-electron-'));
    try {
      expect(findElectronBinary(dir, {})).toBeNull();
      await writeFile(join(dir, 'path.txt'), 'electron');
      expect(findElectronBinary(dir, {})).toBeNull(); // path.txt without dist/ = skipped download
      await mkdir(join(dir, 'dist'));
      await writeFile(join(dir, 'dist', 'electron'), '');
      expect(findElectronBinary(dir, {})).toBe(join(dir, 'dist', 'electron'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without the binary exits non-zero and names `npm run web`', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(tmpdir(), 'no-electron-here') },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm run web');
  });
});
