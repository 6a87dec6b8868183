/**
 * `npm run web`: start the engine and serve the built renderer + API on 127.0.0.1.
 * Port: --port N or PULLBACK_PORT (0 or absent: a free port). Token: PULLBACK_TOKEN or random.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { EngineHost } from '../engine/host/engine-host';
import { ApiService } from '../app/api-service';
import { startWebServer, type WebServer } from './server';
import { ProjectService } from '../app/project-service';
import { dataDir } from '../app/data-dir';
import { bundledModelsDir } from '../app/bundled-models';

export interface WebModeOptions {
  port?: number;
  token?: string;
  rendererDir?: string;
  modelsDir?: string;
  /** App data folder (projects, recovery, recent list); default: PULLBACK_DATA_DIR or the platform's app data folder. */
  dataDir?: string;
}

export async function startWebMode(o: WebModeOptions = {}): Promise<{ server: WebServer; host: EngineHost; close(): Promise<void> }> {
  const root = process.cwd();
  const host = new EngineHost({ resourceLimits: { maxOldGenerationSizeMb: 4096 } });
  const projects = new ProjectService({ dataDir: o.dataDir ?? dataDir() });
  const service = new ApiService(host, { mode: 'web', modelsDir: o.modelsDir ?? bundledModelsDir(), projects });
  const server = await startWebServer({
    service,
    rendererDir: o.rendererDir ?? resolve(root, 'out', 'renderer'),
    port: o.port,
    token: o.token,
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

export async function runWebCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const portText = values.port ?? process.env.PULLBACK_PORT ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port "${portText}"`);
  const { server, close } = await startWebMode({ port, token: process.env.PULLBACK_TOKEN || undefined });
  process.stdout.write(`Pullback Studio (web mode) is running. Open:\n  ${server.url}\n(Ctrl+C to stop)\n`);
  const stop = () => void close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
