#!/usr/bin/env node
// The `pullback` CLI runs straight from the TypeScript sources (no build step): tsx's ESM hooks compile on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/index.ts');
const code = await main(process.argv.slice(2));
// ORT's thread pool can keep the event loop alive; exit explicitly once the command is done.
process.exit(code);
