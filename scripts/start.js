#!/usr/bin/env node
// `npm start`: build, then launch the desktop app with the installed Electron binary.
// Where the binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD=1, CI, offline machines) exit non-zero with a
// message pointing at web mode. We look for the binary ourselves: require('electron') would try to download it.
import { existsSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Path of the Electron executable, or null when it is not installed. */
export function findElectronBinary(electronDir = join(root, 'node_modules', 'electron'), env = process.env) {
  const pathFile = join(electronDir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const full = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron')
    : rel
      ? join(electronDir, 'dist', rel)
      : null;
  return full && existsSync(full) ? full : null;
}

/**
 * Electron ≥ 45 has no postinstall: its binary is fetched on first use. Fetch it here (a user with internet gets the
 * desktop app on the first `npm start`) unless the install opted out, as CI and offline machines do.
 */
function tryDownloadElectron(env = process.env) {
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD || env.ELECTRON_OVERRIDE_DIST_PATH) return;
  const installer = join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(installer)) return;
  console.error('Pullback Studio: downloading the Electron binary (first start)…');
  const r = spawnSync(process.execPath, [installer], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], timeout: 10 * 60 * 1000 });
  if (r.status !== 0) {
    // The installer prints a stack trace; the first line says what went wrong (offline, proxy, disk).
    const first = String(r.stderr ?? '').split('\n').find((l) => l.trim()) ?? 'unknown error';
    console.error(`Pullback Studio: the Electron download failed: ${first.trim()}`);
  }
}

function main() {
  let electron = findElectronBinary();
  if (!electron) {
    tryDownloadElectron();
    electron = findElectronBinary();
  }
  if (!electron) {
    console.error(
      [
        'Pullback Studio: the Electron binary is not installed, so the desktop window cannot start.',
        'Run the same app in your browser instead:   npm run web',
        '(To get the desktop app: with internet access, unset ELECTRON_SKIP_BINARY_DOWNLOAD and run npm start again.)',
      ].join('\n'),
    );
    process.exit(1);
  }
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const child = spawn(electron, ['.'], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
