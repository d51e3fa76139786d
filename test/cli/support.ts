/**
 * Runs the real compiled `rvl` (built once per run by test/e2e-setup.ts, beside the service's
 * main.js) as a child process, against a real service started by test/e2e/server.ts. Each run
 * gets a clean environment: no inherited RVL_URL / RVL_KEY, HOME in a temporary folder (so the
 * trust store under ~/.rvl is the test's), and NO_COLOR.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

import { REPO_ROOT } from '../e2e/server.js';

/** The compiled CLI of this run: `<build>/src/cli/main.js`, next to the service's `<build>/src/main.js`. */
export const cliJs = (): string => {
  let main: string | undefined;
  try {
    main = inject('rvlMainJs');
  } catch {
    main = undefined;
  }
  const js = path.join(path.dirname(main ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js')), 'cli', 'main.js');
  if (!existsSync(js)) throw new Error(`${js} is missing: the globalSetup (test/e2e-setup.ts) should have built it`);
  return js;
};

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Working folder (key files and outputs are relative to it). */
  readonly cwd: string;
  /** HOME for the run (the trust store lives in $HOME/.rvl). */
  readonly home: string;
  /** RVL_URL, unless `env` overrides it. */
  readonly url?: string;
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

const CLI_TIMEOUT_MS = 30_000;

/** Runs `rvl args…`; never rejects on a non-zero exit (the code is in the result). */
export const rvl = (args: readonly string[], o: RunOptions): Promise<Result> => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['RVL_URL', 'RVL_KEY', 'FORCE_COLOR']) delete env[name];
  Object.assign(env, { HOME: o.home, NO_COLOR: '1', ...(o.url ? { RVL_URL: o.url } : {}), ...o.env });
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliJs(), ...args],
      { cwd: o.cwd, env, timeout: o.timeoutMs ?? CLI_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== 'number') {
          reject(new Error(`rvl ${args.join(' ')} did not run: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: err ? ((err as { code: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
};

/** Parses a run's stdout as JSON, with the run in the error if it is not. */
export const json = <T = Record<string, unknown>>(r: Result): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
};

export { dueIn } from '../support/time.js';
