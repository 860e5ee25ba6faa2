import { defineConfig } from 'vitest/config';

// Soak, load and long property runs: `npm run test:slow`, never part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
