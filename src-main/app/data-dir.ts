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
