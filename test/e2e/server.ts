/**
 * Runs the real compiled service (`main.js`, built once per run by `test/e2e-setup.ts`) as a child
 * process on a free port with a temporary data folder. The service binds PORT=0 and we read the
 * address it prints, so two test files never race for a port.
 *
 * Every process and folder made here is remembered; `cleanup()` (call it in `afterAll`) kills
 * what still runs and removes the folders. Set RVL_E2E_KEEP=1 to keep the folders for a post-mortem.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { cleanup, LISTENING, logLines, REPO_ROOT, spawnService as spawnProcess, tempDir as tempFolder, type Proc } from '../support/service-process.js';

export { cleanup, logLines, REPO_ROOT };

/** The compiled entry: this run's private build (test/e2e-setup.ts), else `dist/` as `npm run build` leaves it. */
const mainJs = (): string => {
  let provided: string | undefined;
  try {
    provided = inject('rvlMainJs');
  } catch {
    provided = undefined; // not inside a vitest worker
  }
  return provided ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js');
};

/** How long a start may take before we give up (a cold start on a loaded 2-core box is ~1 s). */
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Data folder; a fresh temporary one if omitted. */
  readonly dataDir?: string;
  /** Extra or overriding environment (docs/protocol.md §10 variables). */
  readonly env?: Record<string, string>;
}

export interface Server {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly proc: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<Exit>;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; after `timeoutMs` (default 15 s) it
   * SIGKILLs the process and rejects.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** SIGKILL, no grace; waits for the exit. */
  kill(): Promise<Exit>;
}

/** A fresh, empty temporary folder, removed by `cleanup()`. */
export const tempDir = (label = 'rvl-e2e-'): Promise<string> => tempFolder(label);

const spawnService = (dataDir: string, extra?: Record<string, string>): Proc => {
  const main = mainJs();
  if (!existsSync(main)) throw new Error(`${main} is missing: the e2e globalSetup (test/e2e-setup.ts) should have built it`);
  return spawnProcess({ mainJs: main, dataDir, env: { LEDGER_NAME: 'e2e', ...extra } });
};

const withTimeout = async <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/** Starts the service and waits until it prints where it listens. */
export const startServer = async (o: StartOptions = {}): Promise<Server> => {
  const dataDir = o.dataDir ?? (await tempDir());
  const p = spawnService(dataDir, o.env);
  let match: RegExpExecArray;
  try {
    match = await p.waitForStdout(LISTENING, START_TIMEOUT_MS);
  } catch (err) {
    p.proc.kill('SIGKILL');
    await p.exited;
    throw err;
  }
  const url = match[1] ?? '';
  const port = Number(new URL(url).port);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> => {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
    try {
      return await withTimeout(p.exited, timeoutMs, `the service did not exit after ${signal}`);
    } catch (err) {
      p.proc.kill('SIGKILL');
      await p.exited;
      throw err;
    }
  };
  return {
    url,
    port,
    dataDir,
    proc: p.proc,
    stdout: p.stdout,
    stderr: p.stderr,
    exited: p.exited,
    stop,
    kill: () => stop('SIGKILL'),
  };
};

export interface Run extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Starts the service where it is expected NOT to come up, and waits for it to exit. If it starts
 * listening instead (or hangs), it is killed and the result says so (`code: null`,
 * `signal: 'SIGKILL'`), with the output showing how far it got.
 */
export const runToExit = async (o: StartOptions & { timeoutMs?: number } = {}): Promise<Run> => {
  const dataDir = o.dataDir ?? (await tempDir());
  const p = spawnService(dataDir, o.env);
  const listening = p.waitForStdout(LISTENING, o.timeoutMs ?? START_TIMEOUT_MS).then(
    () => true,
    () => false,
  );
  // Whichever comes first: the exit, or the listening line (or a timeout) — then it is killed.
  await Promise.race([p.exited, listening]);
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  const final = await p.exited;
  return { ...final, stdout: p.stdout(), stderr: p.stderr() };
};
