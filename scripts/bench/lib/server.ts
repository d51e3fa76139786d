/**
 * The production server (`node dist/src/main.js`) as a child process on a data folder, with
 * what the benchmark reads of it from /proc: CPU time (utime + stime) and resident memory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_ENV_VARS } from '../../../src/service/config.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'main.js');

const LISTENING = /rvl ledger service listening on (http:\/\/\S+)\r?\n/;
/** The banner's row for the metrics listener (METRICS_PORT), and its last row. */
const METRICS_ROW = /metrics\s+(http:\/\/\S+\/metrics)\s/;
const LAST_ROW = /node key\s+\S.*\r?\n/;

/** Kernel clock ticks a second, the unit of utime and stime in /proc/<pid>/stat. */
export const CLK_TCK = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used, in µs (resolution 1/CLK_TCK s, usually 10 ms). */
export const processCpuUs = (pid: number): number => statCpuUs(`/proc/${pid}/stat`);

/**
 * CPU time of one thread of a process, in µs. The main thread's id is the process id: in Node it
 * runs JavaScript (HTTP, parsing, the single writer); the other threads are libuv's pool
 * (async crypto, LevelDB), V8's GC helpers and LevelDB's compaction.
 */
export const threadCpuUs = (pid: number, tid = pid): number => statCpuUs(`/proc/${pid}/task/${tid}/stat`);

const statCpuUs = (file: string): number => {
  const stat = readFileSync(file, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1_000_000) / CLK_TCK;
};

/** Bytes a process caused to be read from and written to storage (/proc/<pid>/io), page cache flushes included. */
export const processIo = (pid: number): { readBytes: number; writeBytes: number } => {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
  return { readBytes: field('read_bytes'), writeBytes: field('write_bytes') };
};

/**
 * VmRSS and VmHWM (peak) of a process, in bytes, and RSS split into anonymous memory (what the
 * process itself holds) and file-backed pages (LevelDB maps its table files: pages read through
 * the map count in RSS, but they are the kernel's page cache, shared and reclaimable).
 */
export const processMemory = (pid: number): { rss: number; hwm: number; anon: number; file: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
};

export interface ServerOptions {
  readonly dataDir: string;
  /** The compiled entry; default dist/src/main.js. */
  readonly main?: string;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  readonly nodeArgs?: readonly string[];
  readonly env?: Record<string, string>;
  readonly startTimeoutMs?: number;
}

export interface RunningServer {
  readonly url: string;
  /**
   * Where to read /metrics without a token: the metrics listener the benchmark turns on
   * (METRICS_PORT), or `url`'s /metrics for a build from before it (public there then).
   */
  readonly metricsUrl: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** ms from spawn to the "listening" line on stdout. */
  readonly startupMs: number;
  stdout(): string;
  stderr(): string;
  cpuUs(): number;
  /** CPU time of the main (JavaScript) thread, µs. */
  mainThreadCpuUs(): number;
  memory(): ReturnType<typeof processMemory>;
  io(): { readBytes: number; writeBytes: number };
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). Resolves with ms to exit. */
  stop(timeoutMs?: number): Promise<number>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export const startServer = async (o: ServerOptions): Promise<RunningServer> => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The service's own variables are never inherited from the environment of whoever runs this.
  for (const name of SERVICE_ENV_VARS) delete env[name];
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: '0',
    LEDGER_DATA_DIR: o.dataDir,
    LEDGER_NAME: 'bench',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MIN: '0',
    // /metrics on the main port needs the operator's token: the harness scrapes the metrics
    // listener instead, on a free loopback port that the banner names.
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    ...o.env,
  });
  const started = performance.now();
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), o.main ?? DEFAULT_MAIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    if (err.length > 1_000_000) err = err.slice(-500_000);
  });
  const exited = new Promise<void>((resolve) => {
    proc.once('close', () => {
      live.delete(proc);
      resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not print its listening line within ${o.startTimeoutMs ?? 120_000} ms\n${out}\n${err}`));
    }, o.startTimeoutMs ?? 120_000);
    proc.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (out.length < 1_000_000) out += c;
      const m = LISTENING.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${proc.exitCode}, signal ${proc.signalCode}) before listening\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const startupMs = performance.now() - started;
  // The banner is one write, so its rows normally come with the first line; a build that prints
  // no metrics row (one from before the listener) gets a short wait, then its public /metrics.
  for (let waitedMs = 0; !METRICS_ROW.test(out) && !LAST_ROW.test(out) && waitedMs < 2_000; waitedMs += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const metricsUrl = METRICS_ROW.exec(out)?.[1] ?? `${url}/metrics`;
  const pid = proc.pid!;
  return {
    url,
    metricsUrl,
    pid,
    proc,
    startupMs,
    stdout: () => out,
    stderr: () => err,
    cpuUs: () => processCpuUs(pid),
    mainThreadCpuUs: () => threadCpuUs(pid),
    memory: () => processMemory(pid),
    io: () => processIo(pid),
    stop: async (timeoutMs = 60_000) => {
      const t = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      return performance.now() - t;
    },
  };
};
