import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/reporters/plain-summary.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes and bind real ports; two cores are shared between files.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
