/**
 * A web-mode server in its own process, for tests that must see whether hostile input kills the process (an
 * in-process server would take the test runner down with it). Prints one JSON line {port, token, url} when ready,
 * then {url} each time the one-time launch URL has been used (the fresh one). argv: rendererDir dataDir [modelsDir];
 * PB_TEST_MAX_CLIENTS raises the connection limits (fuzzing opens many connections at once).
 */
import { startWebMode } from '../../src-main/server/main';

const [rendererDir, dataDir, modelsDir] = process.argv.slice(2);
const web = await startWebMode({
  port: 0,
  rendererDir,
  dataDir,
  modelsDir: modelsDir ?? `${rendererDir}/no-models`,
  onLaunchUrlUsed: (url) => process.stdout.write(`${JSON.stringify({ url })}\n`),
  ...(process.env.PB_TEST_MAX_CLIENTS ? { maxClients: Number(process.env.PB_TEST_MAX_CLIENTS), maxClientsPerIdentity: Number(process.env.PB_TEST_MAX_CLIENTS) } : {}),
});
process.stdout.write(`${JSON.stringify({ port: web.server.port, token: web.server.token, url: web.server.url })}\n`);
process.on('SIGTERM', () => void web.close().then(() => process.exit(0)));
