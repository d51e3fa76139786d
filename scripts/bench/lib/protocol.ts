/**
 * Messages between a harness (run.ts, scale.ts) and the load process (load.ts), over the IPC
 * channel of `child_process.fork`. Every command gets one reply with the same id.
 *
 * A timed job is two commands: `prepare-*` builds and signs everything (and runs the untimed
 * setup), then `go` runs it. Between the two the harness reads the server's counters, so they
 * cover exactly the timed window.
 */
import type { LatencySummary } from './hist.js';

export interface InitCommand {
  readonly cmd: 'init';
  readonly url: string;
  readonly ledgerId: string;
  /** The operator's seed, to register the bench parties; omit when they are registered already. */
  readonly operatorSeed?: string;
  readonly suppliers: number;
  readonly banks: number;
}

export interface PrepareWritesCommand {
  readonly cmd: 'prepare-writes';
  readonly label: string;
  readonly concurrency: number;
  /** Exactly this many timed ops, spread over the streams … */
  readonly ops?: number;
  /** … or run for this long, on a pre-signed budget of `budgetOps`. */
  readonly seconds?: number;
  readonly budgetOps?: number;
  /** Cycles of ten ops per root voucher (default 2). */
  readonly cyclesPerRoot?: number;
  /** Concurrency of the untimed setup (issue, accept); default 128. */
  readonly setupConcurrency?: number;
  /**
   * Base URLs the timed streams are spread over, stream s to `targets[s % n]` (the nodes of a
   * cluster); default the init URL. The untimed setup always goes to the init URL.
   */
  readonly targets?: readonly string[];
}

export type ReadKind = 'voucher' | 'inclusion' | 'consistency';

export interface PrepareReadsCommand {
  readonly cmd: 'prepare-reads';
  readonly label: string;
  readonly kind: ReadKind;
  readonly concurrency: number;
  readonly ops?: number;
  readonly seconds?: number;
  /** Tree size the proofs are asked against (default: the ledger's size now). */
  readonly size?: number;
}

export interface GoCommand {
  readonly cmd: 'go';
}

export interface CloseCommand {
  readonly cmd: 'close';
}

export type Command = InitCommand | PrepareWritesCommand | PrepareReadsCommand | GoCommand | CloseCommand;

export interface InitResult {
  readonly registered: number;
}

export interface PrepareResult {
  /** Timed requests prepared. */
  readonly requests: number;
  /** Untimed setup ops sent (all 201). */
  readonly setupOps: number;
  readonly setupSeconds: number;
  readonly signatures: number;
  readonly signSeconds: number;
  readonly prepareSeconds: number;
}

export interface FailureSample {
  readonly status: number;
  readonly what: string;
  readonly detail: string;
}

export interface RunResult {
  readonly label: string;
  readonly kind: 'writes' | ReadKind;
  readonly concurrency: number;
  /** Requests answered (any status) within the window. */
  readonly requests: number;
  /** Requests answered with the expected status (201 for ops, 200 for reads). */
  readonly ok: number;
  readonly failed: number;
  readonly failureSamples: readonly FailureSample[];
  readonly seconds: number;
  /** ok / seconds. */
  readonly perSecond: number;
  /** Latency of every answered request, µs. */
  readonly latencyUs: LatencySummary;
  /** The HDR histogram (µs), compressed base64. */
  readonly histogram: string;
  /** Ops answered 201 by op type (writes). */
  readonly byType: Readonly<Record<string, number>>;
  /** Why the window ended: all ops sent, the time was up, or a stream ran out of pre-signed ops. */
  readonly stoppedBy: 'ops' | 'deadline' | 'exhausted';
  /** CPU time of the load process in the window, µs. */
  readonly loadCpuUs: number;
}

export type Reply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };
