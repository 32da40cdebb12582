import { defineConfig } from 'vitest/config';

// CI asks for a machine-readable report beside the console one, to print its closing tally.
const report = process.env.HEAD3D_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: report ? ['default', 'json'] : ['default'],
    outputFile: report ? { json: report } : undefined,
  },
});
