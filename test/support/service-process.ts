/**
 * The compiled service as a child process, for the e2e, crash and soak runs: start it and wait
 * until it listens, or start it and SIGKILL it at a chosen moment, listening or not. Free of
 * vitest (the soak script uses it too), so the path of main.js is a parameter; test/e2e/server.ts
 * adds vitest's private build on top.
 *
 * Every process and folder made here is remembered; `cleanup()` kills what still runs and removes
 * the folders (kept with RVL_KEEP=1 or RVL_E2E_KEEP=1). A process that exits without cleanup
 * takes its children with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_ENV_VARS } from '../../src/service/config.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const LISTENING = /rvl ledger service listening on (http:\/\/\S+)\r?\n/;
/** How long a start may take before we give up (a cold start on a loaded 2-core box is ~1 s). */
export const START_TIMEOUT_MS = 30_000;

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A fresh, empty temporary folder, removed by `cleanup()`. */
export const tempDir = async (label = 'rvl-test-'): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), label));
  dirs.add(dir);
  return dir;
};

/** Kills what still runs and removes the folders (kept with RVL_KEEP=1 or RVL_E2E_KEEP=1). */
export const cleanup = async (): Promise<void> => {
  await Promise.all(
    [...live].map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
  live.clear();
  if (process.env.RVL_KEEP !== '1' && process.env.RVL_E2E_KEEP !== '1') await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
  dirs.clear();
};

export interface Proc {
  readonly proc: ChildProcess;
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout, or rejects if the process exits first. */
  waitForStdout(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** performance.now() when the listening line came, if it did. */
  listeningAt(): number | undefined;
  /** The URL, once listening. */
  url(): string | undefined;
  waitListening(timeoutMs?: number): Promise<string>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly mainJs: string;
  readonly dataDir: string;
  /** Extra or overriding environment (docs/protocol.md §10 variables; LEDGER_NAME defaults to "test"). */
  readonly env?: Record<string, string>;
  /** Arguments for node before the script (e.g. --import a preload). */
  readonly nodeArgs?: readonly string[];
}

export const spawnService = (o: SpawnOptions): Proc => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The service's own variables are never inherited from the environment of whoever runs this.
  for (const name of SERVICE_ENV_VARS) delete env[name];
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), o.mainJs], {
    cwd: REPO_ROOT,
    env: { ...env, HOST: '127.0.0.1', PORT: '0', LEDGER_DATA_DIR: o.dataDir, LEDGER_NAME: 'test', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MIN: '0', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnedAt = performance.now();
  live.add(proc);
  let out = '';
  let err = '';
  let url: string | undefined;
  let listeningAt: number | undefined;
  const waiters = new Set<() => void>();
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (url === undefined) {
      const m = LISTENING.exec(out);
      if (m) {
        url = m[1];
        listeningAt = performance.now();
      }
    }
    for (const w of waiters) w();
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('close', (code, signal) => {
      live.delete(proc);
      done = true;
      for (const w of waiters) w();
      resolve({ code, signal });
    });
    proc.once('error', () => {
      live.delete(proc);
      done = true;
      for (const w of waiters) w();
      resolve({ code: null, signal: null });
    });
  });
  const waitForStdout = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${re} on stdout within ${timeoutMs} ms\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`));
      }, timeoutMs);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        } else if (done) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(
            new Error(
              `the service exited (code ${proc.exitCode}, signal ${proc.signalCode}) before ${re}\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`,
            ),
          );
        }
      };
      waiters.add(check);
      check();
    });
  const waitListening = async (timeoutMs = START_TIMEOUT_MS): Promise<string> => (await waitForStdout(LISTENING, timeoutMs))[1]!;
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    proc,
    spawnedAt,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitForStdout,
    listeningAt: () => listeningAt,
    url: () => url,
    waitListening,
    kill,
    stop,
  };
};

/** Starts the service and waits until it listens. */
export const startService = async (o: SpawnOptions): Promise<Proc & { readonly url: () => string }> => {
  const p = spawnService(o);
  try {
    await p.waitListening();
  } catch (err) {
    await p.kill();
    throw err;
  }
  return p as Proc & { readonly url: () => string };
};

/** The pino lines of a process's stdout. */
export const logLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
