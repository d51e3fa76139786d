/**
 * A seeded, deterministic storage-fault injector for the store port (src/store/port.ts), and what
 * a power loss leaves of a batch whose commit failed.
 *
 * How the faults are modelled, from what LevelDB (classic-level) really does:
 *
 * | kind          | at the commit                                 | what a restart finds of the batch           |
 * |---------------|-----------------------------------------------|---------------------------------------------|
 * | `batch-fails` | rejects (an I/O error); nothing written       | nothing                                     |
 * | `disk-full`   | rejects with ENOSPC, and so does every later  | nothing; the disk stays full until freed    |
 * |               | commit until `freeSpace()`                    |                                             |
 * | `fsync-error` | the write reached the OS but fsync failed     | the seed decides: all of it (the page cache |
 * |               | (EIO): rejects                                | was written back) or none (it was dropped)  |
 * | `torn-write`  | rejects mid-write (the WAL record is torn)    | the seed decides: the whole batch, or the   |
 * |               |                                               | record cut at a seeded byte                 |
 *
 * A failed commit never changes what the live store reads: LevelDB applies a batch to its memtable
 * only after the log write (and fsync, with `sync: true`) succeeded. What the disk holds after a
 * crash is applied by `applyPowerLoss` to the closed data folder: the batch is written through a
 * real `LevelStore` into a fresh write-ahead log and, for a torn write, that log is then cut inside
 * the batch's record, so LevelDB itself decides what a torn tail means on the next open (it drops
 * the incomplete record). A batch is therefore all there or not there at all; the store port
 * promises exactly that (`commit` is atomic), so a partly applied batch is not a state to test.
 *
 * Everything is a pure function of the seed: the kind, the commit it hits, what survives and where
 * a tear lands. `RVL_SEED=<n>` replays a seed in the suites that use this.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LevelStore } from '../../src/store/level-store.js';
import type { CommitBatch, Store } from '../../src/store/port.js';

// ---- a small seeded PRNG (sfc32 seeded through splitmix32), so a seed replays exactly ----

const splitmix32 = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
};

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(readonly seed: number) {
    const sm = splitmix32(seed);
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Rng.int: ${hi} < ${lo}`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('Rng.pick: empty list');
    return xs[this.int(0, xs.length - 1)] as T;
  }

  /** An independent stream for `label`, so adding draws to one stream does not shift another. */
  fork(label: string | number): Rng {
    let h = this.seed ^ 0x5bd1e995;
    for (const ch of String(label)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return new Rng(h >>> 0);
  }
}

/** The seed to run: RVL_SEED if set (a replay), else `fallback`. */
export const seedFromEnv = (fallback: number): number => {
  const raw = process.env.RVL_SEED;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`RVL_SEED must be a non-negative integer, not ${raw}`);
  return n;
};

// ---- fault plans ----

export const FAULT_KINDS = ['batch-fails', 'fsync-error', 'disk-full', 'torn-write'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a restart finds of the failed batch. */
export type Survival = 'none' | 'whole' | 'torn';

export interface FaultPlan {
  readonly seed: number;
  readonly kind: FaultKind;
  /** The commit that fails, counted from the first one this injector sees (0 = genesis). */
  readonly commitIndex: number;
  readonly survives: Survival;
  /** For a torn write: where the cut lands, as a fraction of the batch's log record, in (0, 1). */
  readonly cutAt: number;
}

/**
 * The plan of a seed. The low bits choose the kind and what survives, so seeds 0–7 cover every
 * kind and outcome; bits 3+ choose the commit (one seed in six hits genesis).
 */
export const planFor = (seed: number): FaultPlan => {
  const kind = FAULT_KINDS[seed % 4] as FaultKind;
  const alt = Math.floor(seed / 4) % 2 === 1;
  const survives: Survival = kind === 'fsync-error' ? (alt ? 'whole' : 'none') : kind === 'torn-write' ? (alt ? 'whole' : 'torn') : 'none';
  const rng = new Rng(seed).fork('plan');
  const genesis = Math.floor(seed / 8) % 6 === 5;
  return { seed, kind, commitIndex: genesis ? 0 : rng.int(2, 24), survives, cutAt: 0.02 + 0.96 * rng.next() };
};

export const describePlan = (p: FaultPlan): string =>
  `${p.kind} at commit ${p.commitIndex}${p.commitIndex === 0 ? ' (genesis)' : ''}` +
  (p.kind === 'fsync-error' || p.kind === 'torn-write' ? `, survives: ${p.survives}` : '') +
  (p.survives === 'torn' ? ` (cut at ${(p.cutAt * 100).toFixed(1)}% of its record)` : '');

/** The error a store would throw for `kind`, with the errno code Node gives such errors. */
export const faultError = (kind: FaultKind | 'lie'): Error & { code?: string } => {
  const [code, message] =
    kind === 'disk-full'
      ? ['ENOSPC', 'IO error: No space left on device (injected)']
      : kind === 'fsync-error'
        ? ['EIO', 'IO error: fsync: Input/output error (injected)']
        : kind === 'torn-write'
          ? ['EIO', 'IO error: write: the batch was torn (injected)']
          : ['LEVEL_IO_ERROR', 'IO error: batch write failed (injected)'];
  return Object.assign(new Error(message), { code });
};

export interface CommitRecord {
  readonly index: number;
  /** The op ids of the batch's entries, in seq order, and the size after it. */
  readonly opIds: readonly string[];
  readonly firstSeq: number;
  readonly size: number;
  readonly outcome: 'ok' | 'failed';
}

/**
 * Wraps a store: counts commits, fails the planned one, and keeps the failed batch for
 * `applyPowerLoss`. Reads pass through untouched.
 */
export class FaultInjector {
  readonly commits: CommitRecord[] = [];
  /** The failed batch (the planned one), once it has happened. */
  failed: { readonly index: number; readonly batch: CommitBatch; readonly at: number } | undefined;
  /** Commits attempted after the failure (a service that goes read-only attempts none). */
  commitsAfterFailure = 0;
  #full = false;
  #count = 0;

  constructor(
    readonly plan: FaultPlan,
    /**
     * `lie`: a broken store for the checkers' own tests: from the planned commit on, commits
     * resolve without writing anything, so ops are acknowledged and then lost.
     */
    readonly mode: 'fault' | 'lie' = 'fault',
  ) {}

  /** A store whose disk is full from the start (a restart before space was freed). */
  static diskFull(seed: number): FaultInjector {
    const f = new FaultInjector({ seed, kind: 'disk-full', commitIndex: 0, survives: 'none', cutAt: 0.5 });
    f.#full = true;
    return f;
  }

  /** After a disk-full fault: the operator made room. Later commits go through again. */
  freeSpace(): void {
    this.#full = false;
  }

  get triggered(): boolean {
    return this.failed !== undefined;
  }

  wrap = (store: Store): Store => {
    const commit = async (batch: CommitBatch): Promise<void> => {
      const index = this.#count++;
      const record = (outcome: CommitRecord['outcome']) =>
        this.commits.push({
          index,
          opIds: batch.entries.map((e) => e.opId),
          firstSeq: batch.entries[0]?.seq ?? batch.head.size,
          size: batch.head.size,
          outcome,
        });
      if (this.failed) this.commitsAfterFailure += 1;
      if (this.#full) {
        record('failed');
        throw faultError('disk-full');
      }
      if (this.mode === 'lie' && (this.failed || index === this.plan.commitIndex)) {
        // "Durable", says the broken store, from the planned commit on, and writes nothing.
        this.failed ??= { index, batch, at: performance.now() };
        record('failed');
        return;
      }
      if (index === this.plan.commitIndex && !this.failed) {
        this.failed = { index, batch, at: performance.now() };
        record('failed');
        if (this.plan.kind === 'disk-full') this.#full = true;
        throw faultError(this.plan.kind);
      }
      await store.commit(batch);
      record('ok');
    };
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'commit') return commit;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

const WAL = /^\d{6,}\.log$/;

/** The newest write-ahead log of a LevelDB folder and its size. */
const newestLog = async (db: string): Promise<{ name: string; size: number } | undefined> => {
  const names = (await fs.readdir(db)).filter((n) => WAL.test(n)).sort();
  const name = names.at(-1);
  if (name === undefined) return undefined;
  return { name, size: (await fs.stat(path.join(db, name))).size };
};

export interface PowerLossResult {
  /** What the restart will find of the failed batch. */
  readonly persisted: 'none' | 'whole';
  /** For a torn write: the record's bytes and where it was cut. */
  readonly recordBytes?: number;
  readonly cutBytes?: number;
}

/**
 * Leaves the closed data folder as a power loss would after the failed commit of `injector`:
 * nothing, the whole batch, or the batch's log record torn at the planned byte.
 */
export const applyPowerLoss = async (dataDir: string, injector: FaultInjector): Promise<PowerLossResult> => {
  const failed = injector.failed;
  if (!failed || injector.mode === 'lie') return { persisted: 'none' };
  const survives = injector.plan.survives;
  if (survives === 'none') return { persisted: 'none' };
  const db = path.join(dataDir, 'db');
  const store = new LevelStore(db);
  await store.open();
  // Opening replays the old log into a table and starts a new, empty one: the batch is the
  // first and only record written to it.
  const before = await newestLog(db);
  try {
    await store.commit(failed.batch);
  } finally {
    await store.close();
  }
  const after = await newestLog(db);
  if (!after) throw new Error('applyPowerLoss: LevelDB wrote no log');
  if (survives === 'whole') return { persisted: 'whole' };
  const start = before && before.name === after.name ? before.size : 0;
  const recordBytes = after.size - start;
  if (recordBytes < 2) throw new Error(`applyPowerLoss: a ${recordBytes}-byte record cannot be torn`);
  const cutBytes = Math.min(recordBytes - 1, Math.max(1, Math.floor(recordBytes * injector.plan.cutAt)));
  await fs.truncate(path.join(db, after.name), start + cutBytes);
  return { persisted: 'none', recordBytes, cutBytes };
};
