/**
 * The app's data folder, one function for every process that needs it: the engine worker (derived graphs under
 * derived/, the basis cache under basis/) and the services of web mode (projects, recovery, recent list).
 * Electron's main process passes app.getPath('userData') to its services instead; the engine worker still uses
 * this folder, so PULLBACK_DATA_DIR moves everything at once.
 *
 * PULLBACK_DATA_DIR (made absolute, so a relative value means the same folder to every process), else the OS
 * convention: ~/.local/share/pullback-studio (XDG_DATA_HOME), ~/Library/Application Support/pullback-studio,
 * %APPDATA%\pullback-studio. A leaf module (node:os and node:path only) so the engine may import it.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function dataDir(): string {
  const env = process.env.PULLBACK_DATA_DIR;
  if (env && env.length > 0) return resolve(env);
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'pullback-studio');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'pullback-studio');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'pullback-studio');
}

/**
 * Create a folder of the app's data (and its missing parents) readable by the user only (0700): it holds their
 * projects and images. A folder that exists keeps its mode, except one that is ours by construction and open to
 * others (made 0755 by an older version): `tighten` makes it 0700. Never tightens a folder the user named
 * (PULLBACK_DATA_DIR itself may be a shared folder they chose).
 */
export function ensurePrivateDir(dir: string, tighten = false): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!tighten || process.platform === 'win32') return;
  try {
    const st = statSync(dir);
    if (st.isDirectory() && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, st.mode & 0o700);
  } catch {
    /* not ours to change */
  }
}
