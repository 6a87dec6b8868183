/**
 * `npm run web`: start the engine and serve the built renderer + API on 127.0.0.1.
 * Port: --port N or PULLBACK_PORT (0 or absent: a free port). Connection token: --token-file PATH (as VS Code's
 * --connection-token-file), else PULLBACK_TOKEN, else random; a given token must pass tokenProblem (≥ 32 characters).
 * The printed URL carries a one-time launch code, not the token (see server.ts).
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { readRegularFileSync } from '../core/fs/regular-file';
import { tokenProblem } from './security';
import { EngineHost } from '../engine/host/engine-host';
import { ApiService } from '../app/api-service';
import { startWebServer, type WebServer } from './server';
import { ProjectService } from '../app/project-service';
import { dataDir, ensurePrivateDir } from '../app/data-dir';
import { SessionFile } from './session-file';
import { bundledModelsDir } from '../app/bundled-models';

export interface WebModeOptions {
  port?: number;
  token?: string;
  rendererDir?: string;
  modelsDir?: string;
  /** App data folder (projects, recovery, recent list); default: PULLBACK_DATA_DIR or the platform's app data folder. */
  dataDir?: string;
  /** See WebServerOptions.onLaunchUrlUsed. */
  onLaunchUrlUsed?: (nextUrl: string) => void;
  /** See WebServerOptions.onNotice. */
  onNotice?: (text: string) => void;
  /** See WebServerOptions (connection limits). */
  maxClients?: number;
  maxClientsPerIdentity?: number;
}

export async function startWebMode(o: WebModeOptions = {}): Promise<{ server: WebServer; host: EngineHost; close(): Promise<void> }> {
  const root = process.cwd();
  const host = new EngineHost({ resourceLimits: { maxOldGenerationSizeMb: 4096 } });
  const folder = o.dataDir ?? dataDir();
  ensurePrivateDir(folder);
  const projects = new ProjectService({ dataDir: folder });
  const service = new ApiService(host, { mode: 'web', modelsDir: o.modelsDir ?? bundledModelsDir(), projects });
  const server = await startWebServer({
    service,
    rendererDir: o.rendererDir ?? resolve(root, 'out', 'renderer'),
    port: o.port,
    token: o.token,
    onLaunchUrlUsed: o.onLaunchUrlUsed,
    // A page left open across a restart reconnects with its session cookie (see session-file.ts).
    sessionFile: new SessionFile(folder),
    onNotice: o.onNotice,
    maxClients: o.maxClients,
    maxClientsPerIdentity: o.maxClientsPerIdentity,
  });
  return {
    server,
    host,
    close: async () => {
      await server.close();
      await host.close();
    },
  };
}

/**
 * The connection token from --token-file (first line, trimmed; the file is read only when it is a small regular
 * file) or PULLBACK_TOKEN; undefined means random. Throws with a sentence when the token is unusable.
 */
export function tokenFromSettings(tokenFile: string | undefined, env: string | undefined): string | undefined {
  let token: string | undefined;
  let source: string;
  if (tokenFile) {
    source = `--token-file ${tokenFile}`;
    try {
      token = readRegularFileSync(resolve(tokenFile), { maxBytes: 4096 }).toString('utf8').split(/\r?\n/)[0].trim();
    } catch (err) {
      throw new Error(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    source = 'PULLBACK_TOKEN';
    token = env || undefined;
  }
  if (token === undefined) return undefined;
  const problem = tokenProblem(token);
  if (problem) throw new Error(`${source}: ${problem}`);
  return token;
}

export async function runWebCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, 'token-file': { type: 'string' } } });
  const portText = values.port ?? process.env.PULLBACK_PORT ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port "${portText}"`);
  const token = tokenFromSettings(values['token-file'], process.env.PULLBACK_TOKEN);
  const { server, close } = await startWebMode({
    port,
    token,
    onLaunchUrlUsed: (next) => process.stdout.write(`That link has been used (it works once). For another browser, open:\n  ${next}\n`),
    onNotice: (text) => process.stderr.write(`${text}\n`),
  });
  process.stdout.write(`Pullback Studio (web mode) is running. Open (this link works once):\n  ${server.url}\n(Ctrl+C to stop)\n`);
  const stop = () => void close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
