import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  // Compiles runes in src-renderer's .svelte.ts state classes, so test/unit/state-* can test them in Node.
  plugins: [svelte()],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ORT sessions are CPU-heavy; two cores are all CI has, so run files one at a time.
    fileParallelism: false,
  },
});
