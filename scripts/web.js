#!/usr/bin/env node
// `npm run web`: the desktop UI in a browser, for machines without the Electron binary (CI, servers via ssh -L).
// Builds the renderer first if out/renderer is missing, then runs the server from the TypeScript sources via tsx.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
  console.log('out/renderer is missing: building it once (npm run build)...');
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
register();
const { runWebCli } = await import('../src-main/server/main.ts');
try {
  await runWebCli(process.argv.slice(2));
} catch (err) {
  console.error(`pullback web: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
