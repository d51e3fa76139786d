/**
 * `npm run test:fast`: the inner loop, in about a minute on two cores. It runs every suite that
 * stays inside the test process (the domain, the ledger, the vectors, the properties, the API and
 * the service over `app.inject` or an in-process listener on real LevelDB, the store, the SDK
 * against an in-process server, the in-process security suites) and leaves to `npm test` (CI)
 * every suite that spawns the compiled service, the `rvl` binary or Chromium: those need a build
 * first and spend their time starting processes, not testing the code just edited.
 *
 * `npm test` (vitest.config.ts) is untouched by this file: it runs everything, at full strength.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/** The outer suites: each spawns the compiled service, the `rvl` binary or Chromium. */
export const OUTER_SUITES = [
  // Chromium against the compiled service; /docs in Chromium.
  'test/browser/**',
  'test/security/docs-page.test.ts',
  // Crash, fault, model and race suites on spawned services; the benchmarks; `npm run demo`.
  'test/reliability/**',
  'test/bench/**',
  'test/demo/**',
  // The compiled service as a child process on a real port: story, restarts, start-up,
  // corruption, tampering, backup, races and the raw HTTP edge.
  'test/e2e/**',
  // Cluster mode: several spawned nodes over local PostgreSQL instances, failovers.
  'test/cluster/**',
  // The real `rvl` binary, most of them against a spawned service.
  'test/cli/story.test.ts',
  'test/cli/usage.test.ts',
  'test/cli/keys.test.ts',
  'test/cli/ledger-pin.test.ts',
  'test/cli/bundle-claims.test.ts',
  'test/cli/witness.test.ts',
  // Hostile bytes over sockets, the lying proxy with the real `rvl`, the logs and the start
  // banner of the spawned service.
  'test/security/hostile-http.test.ts',
  'test/security/lying-server.test.ts',
  'test/security/logs.test.ts',
  'test/service/banner.test.ts',
];

export default defineConfig({
  test: {
    ...base.test,
    exclude: [...configDefaults.exclude, ...OUTER_SUITES],
    // No suite left here runs compiled code, so the build of test/e2e-setup.ts is not needed.
    // A suite that does spawn it gets this path instead of a stale dist/, and fails saying where
    // it belongs.
    globalSetup: [],
    provide: { rvlMainJs: path.join(ROOT, 'not-built-by-test-fast', 'list-this-suite-in-OUTER_SUITES-of-vitest.fast.config.ts', 'main.js') },
    // vitest's default in a run is one worker fewer than the cores: one file at a time on two
    // cores. These suites wait on LevelDB and loopback sockets as well as compute, so one file
    // more than the cores keeps them all busy (measured on two
    // cores, another run beside it: three workers 38 s, two 54 s).
    maxWorkers: availableParallelism() + 1,
    // Property suites that read it run fewer random cases here; `npm test` runs their full count.
    env: { RVL_TEST_FAST: '1' },
  },
});
