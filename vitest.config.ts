import { defineConfig } from 'vitest/config';

// `npm test` prints vitest's usual summary and also writes a JSON report that .ci/run counts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
