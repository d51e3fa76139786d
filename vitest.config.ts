import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Builds dist/ once for the end-to-end tests (test/e2e), which run the compiled service.
    globalSetup: ['test/e2e-setup.ts'],
  },
});
