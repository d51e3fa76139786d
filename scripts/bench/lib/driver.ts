/**
 * The harness's side of a timed job: it forks the load process (load.ts), and wraps each `go` in
 * server-side readings taken just before and just after: the server's CPU time from /proc and
 * its Prometheus counters (commits = fsyncs, ops per batch, request time per route).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { routeCounters, scrape, stageCounters, STAGES, writeCounters, type Scrape, type Stage } from './metrics.js';
import type { Command, InitResult, PrepareResult, PrepareReadsCommand, PrepareWritesCommand, Reply, RunResult } from './protocol.js';
import { REPO_ROOT, type RunningServer } from './server.js';

const LOAD_TS = path.join(REPO_ROOT, 'scripts', 'bench', 'load.ts');

type Without<C> = C extends { cmd: string } ? Omit<C, 'cmd'> : never;

export class LoadProcess {
  readonly #proc: ChildProcess;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited = false;

  private constructor(proc: ChildProcess) {
    this.#proc = proc;
    proc.on('message', (m: Reply) => {
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`load process: ${m.error}`));
    });
    proc.once('exit', (code, signal) => {
      this.#exited = true;
      for (const w of this.#waiting.values()) w.reject(new Error(`the load process exited (code ${code}, signal ${signal})`));
      this.#waiting.clear();
    });
  }

  static start(): LoadProcess {
    const proc = fork(LOAD_TS, [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Killed with this process; the guard goes when the load process does (ab.ts starts a dozen).
    const guard = () => proc.kill('SIGKILL');
    process.once('exit', guard);
    proc.once('exit', () => process.removeListener('exit', guard));
    return new LoadProcess(proc);
  }

  get pid(): number {
    return this.#proc.pid!;
  }

  call<T>(c: Command): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('the load process has exited'));
    const id = (this.#next += 1);
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#proc.send({ ...c, id });
    });
  }

  init(c: Without<Extract<Command, { cmd: 'init' }>>): Promise<InitResult> {
    return this.call({ cmd: 'init', ...c });
  }

  prepareWrites(c: Omit<PrepareWritesCommand, 'cmd'>): Promise<PrepareResult> {
    return this.call({ cmd: 'prepare-writes', ...c });
  }

  prepareReads(c: Omit<PrepareReadsCommand, 'cmd'>): Promise<PrepareResult> {
    return this.call({ cmd: 'prepare-reads', ...c });
  }

  go(): Promise<RunResult> {
    return this.call({ cmd: 'go' });
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()));
    await this.call({ cmd: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

export interface ServerSide {
  /** Server CPU (user + system) in the window, µs. */
  readonly cpuUs: number;
  /** … of which the main thread (JavaScript: HTTP, parsing, the single writer), µs. */
  readonly mainThreadCpuUs: number;
  /** Bytes the server wrote to storage (LevelDB log, tables and compactions). */
  readonly writeBytes: number;
  readonly commits: number;
  readonly commitSeconds: number;
  readonly batchedOps: number;
  /** The writer's stage times summed over the ops that went through it, and their number. */
  readonly stageOps: number;
  readonly stageSeconds: Readonly<Record<Stage, number>>;
  /** Server-side time of the route's requests (from the request-latency histogram). */
  readonly route?: { readonly count: number; readonly seconds: number };
}

export interface Measured {
  readonly run: RunResult;
  readonly server: ServerSide;
  readonly prepare: PrepareResult;
}

/**
 * `go` between two readings. The scrape before is taken before the CPU reading and the one
 * after is taken after it, so the scrapes' own cost is outside the CPU window.
 */
export const measure = async (server: RunningServer, load: LoadProcess, prepare: PrepareResult, route?: string, method = 'GET'): Promise<Measured> => {
  const m0: Scrape = await scrape(server.metricsUrl);
  const cpu0 = server.cpuUs();
  const main0 = server.mainThreadCpuUs();
  const io0 = server.io();
  const run = await load.go();
  const cpu1 = server.cpuUs();
  const main1 = server.mainThreadCpuUs();
  const io1 = server.io();
  const m1: Scrape = await scrape(server.metricsUrl);
  const w0 = writeCounters(m0);
  const w1 = writeCounters(m1);
  const s0 = stageCounters(m0);
  const s1 = stageCounters(m1);
  const r0 = route ? routeCounters(m0, route, method) : undefined;
  const r1 = route ? routeCounters(m1, route, method) : undefined;
  return {
    run,
    prepare,
    server: {
      cpuUs: cpu1 - cpu0,
      mainThreadCpuUs: main1 - main0,
      writeBytes: io1.writeBytes - io0.writeBytes,
      commits: w1.commits - w0.commits,
      commitSeconds: w1.commitSeconds - w0.commitSeconds,
      batchedOps: w1.batchedOps - w0.batchedOps,
      stageOps: s1.ops - s0.ops,
      stageSeconds: Object.fromEntries(STAGES.map((st) => [st, s1.seconds[st] - s0.seconds[st]])) as Record<Stage, number>,
      ...(r0 && r1 ? { route: { count: r1.count - r0.count, seconds: r1.seconds - r0.seconds } } : {}),
    },
  };
};
