/**
 * A save killed at a random point (SIGKILL of a child process that saves A and B alternately, 50 times) always leaves
 * a project file that loads as exactly A or exactly B, and a later save cleans up the temp files the kill left.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { loadProjectFile, saveProjectFile } from '../../src-main/core/project';

const CHILD = resolve(import.meta.dirname, '..', 'helpers', 'project-save-loop.ts');
const KILLS = 50;

function runAndKill(file: string, delayMs: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, String(256 * 1024)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let armed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Kill only once the first save finished, so there is always an old copy to protect.
      if (!armed && out.includes('saved 0')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', fail);
    child.on('exit', () => done((out.match(/saved/g) ?? []).length));
  });
}

describe('atomic save under SIGKILL', () => {
  it(`leaves the old or the new project intact, ${KILLS} random kills`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbkill-'));
    const file = join(dir, 'p.pbproj');
    const delays = fc.sample(fc.integer({ min: 0, max: 40 }), { numRuns: KILLS, seed: 20261126 });
    const seen = new Set<number>();
    let strays = 0;
    for (const delay of delays) {
      const saves = await runAndKill(file, delay);
      expect(saves).toBeGreaterThanOrEqual(1);
      const p = loadProjectFile(file); // throws if the kill left a damaged file
      expect([1, 2]).toContain(p.manifest.source.kind === 'seed' ? p.manifest.source.seed : -1);
      expect(p.manifest.state.timestep).toBe(p.manifest.source.kind === 'seed' ? 100 * p.manifest.source.seed : -1);
      seen.add(p.manifest.source.kind === 'seed' ? p.manifest.source.seed : -1);
      if (existsSync(`${file}.bak`)) loadProjectFile(`${file}.bak`); // the backup is always a whole project too
      strays += readdirSync(dir).filter((f) => f.includes('.tmp-')).length;
    }
    // Both outcomes occur, so the kills really landed at different points of the loop.
    expect(seen).toEqual(new Set([1, 2]));
    // A later ordinary save removes whatever temp files the kills left behind.
    saveProjectFile(file, { manifest: loadProjectFile(file).manifest, blobs: loadProjectFile(file).blobs });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    console.log(`kill test: ${KILLS} kills, stray temp files seen after kills: ${strays}`);
  }, 300_000);
});
