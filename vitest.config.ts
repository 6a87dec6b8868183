import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ORT sessions are CPU-heavy; two cores are all CI has, so run files one at a time.
    fileParallelism: false,
  },
});
