/**
 * The browser sessions of web mode, kept in the data folder so they outlive a restart of `npm run web`: a page left
 * open while the server restarts on the same port reconnects by itself instead of being refused until the user opens
 * a freshly printed link (issue 16: the connection must heal). Only SHA-256 digests of the session secrets are
 * written (a copy of the file cannot be replayed as a cookie), in a file readable by the user only, and a session
 * expires SESSION_LIFETIME_MS after it was handed out. A missing or damaged file means no remembered sessions: the
 * user opens the printed link, as before.
 */
import { join } from 'node:path';
import { readRegularFileSync } from '../core/fs/regular-file';
import { writeFileAtomic } from '../core/project/save';
import type { SecretEntry } from './security';

export const SESSION_FILE_NAME = 'web-sessions.json';
/** How long a browser session stays valid after it was handed out (restarts included). */
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const MAX_FILE_BYTES = 256 * 1024;
const VERSION = 1;

export class SessionFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, SESSION_FILE_NAME);
  }

  /** The remembered sessions; [] when there is no file or it cannot be read (never throws). */
  load(): SecretEntry[] {
    try {
      const parsed = JSON.parse(readRegularFileSync(this.path, { maxBytes: MAX_FILE_BYTES }).toString('utf8')) as { version?: unknown; sessions?: unknown };
      // SecretSet.restore checks each entry; a newer version's file is not ours to read.
      return parsed.version === VERSION && Array.isArray(parsed.sessions) ? (parsed.sessions as SecretEntry[]) : [];
    } catch {
      return [];
    }
  }

  /** Replace the file with `sessions` (atomically, 0600 when new). Throws ProjectError('project-io') when it cannot. */
  save(sessions: readonly SecretEntry[]): void {
    const text = JSON.stringify({ version: VERSION, sessions });
    writeFileAtomic(this.path, new TextEncoder().encode(text), { newFileMode: 0o600 });
  }
}
