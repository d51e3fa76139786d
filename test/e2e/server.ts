/**
 * Runs the real compiled service (`main.js`, built once per run by `test/e2e-setup.ts`) as a child
 * process on a free port with a temporary data folder. The service binds PORT=0 and we read the
 * address it prints, so two test files never race for a port.
 *
 * Every process and folder made here is remembered; `cleanup()` (call it in `afterAll`) kills
 * what still runs and removes the folders. Set RVL_E2E_KEEP=1 to keep the folders for a post-mortem.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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

const LISTENING = /rvl ledger service listening on (http:\/\/\S+)\r?\n/;
/** How long a start may take before we give up (a cold start on a loaded 2-core box is ~1 s). */
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

/** The PROTOCOL §10 variables: never inherited from the test runner's environment. */
const SERVICE_VARS = [
  'HOST',
  'PORT',
  'LEDGER_DATA_DIR',
  'LEDGER_NAME',
  'LEDGER_OPERATOR_PUBLIC_KEY',
  'LEDGER_NODE_KEY_FILE',
  'LOG_LEVEL',
  'RATE_LIMIT_PER_MIN',
];

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Data folder; a fresh temporary one if omitted. */
  readonly dataDir?: string;
  /** Extra or overriding environment (PROTOCOL §10 variables). */
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

interface Proc {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout, or rejects if the process exits first. */
  waitForStdout(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

// A worker that dies without running afterAll must not leave servers behind.
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A fresh, empty temporary folder, removed by `cleanup()`. */
export const tempDir = async (label = 'rvl-e2e-'): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), label));
  dirs.add(dir);
  return dir;
};

/** Kills every process still running and removes every temporary folder. */
export const cleanup = async (): Promise<void> => {
  const waits = [...live].map(
    (p) =>
      new Promise<void>((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
  live.clear();
  if (process.env.RVL_E2E_KEEP !== '1') {
    await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
  }
  dirs.clear();
};

const environment = (dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SERVICE_VARS) delete env[name];
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    LEDGER_DATA_DIR: dataDir,
    LEDGER_NAME: 'e2e',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MIN: '0',
    ...extra,
  };
};

const spawnService = (dataDir: string, extra?: Record<string, string>): Proc => {
  const main = mainJs();
  if (!existsSync(main)) throw new Error(`${main} is missing: the e2e globalSetup (test/e2e-setup.ts) should have built it`);
  const proc = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    env: environment(dataDir, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of watchers) w();
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    // 'close' comes after 'exit' once stdout and stderr are drained, so the output is complete.
    proc.once('close', (code, signal) => {
      live.delete(proc);
      for (const w of watchers) w();
      resolve({ code, signal });
    });
    proc.once('error', () => {
      live.delete(proc);
      resolve({ code: null, signal: null });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const waitForStdout = (re: RegExp, timeoutMs: number): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`no ${re} on stdout within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          watchers.delete(check);
          resolve(m);
        } else if (done || proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          watchers.delete(check);
          reject(
            new Error(`the service exited (code ${proc.exitCode}, signal ${proc.signalCode}) before ${re}\nstdout:\n${out}\nstderr:\n${err}`),
          );
        }
      };
      watchers.add(check);
      check();
    });
  return { proc, exited, stdout: () => out, stderr: () => err, waitForStdout };
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

/** The JSON log lines (pino) among a process's stdout. */
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
