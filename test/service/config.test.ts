/**
 * The service's configuration (src/service/config.ts): the list of its variables, which the test
 * harness and the benchmarks strip from the environment they pass on, is every variable
 * `readConfig` reads.
 */
import { describe, expect, it } from 'vitest';
import { readConfig, SERVICE_ENV_VARS } from '../../src/service/config.js';

describe('SERVICE_ENV_VARS', () => {
  it('names exactly the variables readConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    readConfig(env);
    expect([...read].sort()).toEqual([...SERVICE_ENV_VARS].sort());
  });
});
