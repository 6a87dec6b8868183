/** Running the `pullback` CLI as a user runs it (node bin/pullback.js from the project root) with its own data folder. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pullback.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runner whose PULLBACK_DATA_DIR is `dataDir()` at call time (test files create their temp folder in beforeAll). */
export function pullbackCli(dataDir: () => string): (args: string[]) => Promise<CliRun> {
  return async (args) => {
    try {
      const r = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, PULLBACK_DATA_DIR: dataDir() } });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
}
