import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Our layout is src-main/ + src-renderer/, not electron-vite's src/main etc., so every entry is explicit.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // onnxruntime-node and sharp are native: externalized (the default for dependencies), never bundled.
      rolldownOptions: {
        input: {
          index: resolve('src-main/electron/main.ts'),
          // The engine worker is its own entry so the host can start it as out/main/worker.js.
          worker: resolve('src-main/engine/worker/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads can only require('electron'): one self-contained CommonJS file.
      externalizeDeps: false,
      isolatedEntries: true,
      rolldownOptions: {
        input: { index: resolve('src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      rolldownOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
  },
});
