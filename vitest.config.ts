import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: '.crossfade/test-results.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // DynamoDB Local is a 230 MB JVM; files share one instance per worker, and two workers fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
