/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts, whose `main(args)` prints its table.
 * Each benchmark is one module so they can be added independently.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 1 : 64);
}
const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { main(args: string[]): Promise<void> };
await mod.main(args);
// ORT's thread pool can keep the event loop alive
process.exit(0);
