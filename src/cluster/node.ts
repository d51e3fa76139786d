/**
 * One node of a cluster (docs/protocol.md §11.6, docs/cluster.md): it follows the log of record
 * in PostgreSQL and, when it holds the lease, is the one writer that appends to it.
 *
 * A follower applies every entry of the log of record past its own store, each verified in full
 * as an audit would (LedgerService.applyLogged), and forwards writes to the leader. Every quarter
 * second (and at once when the leader NOTIFYs an append) it catches up and, unless it is a
 * read-only follower, tries for the lease if it has lapsed. A node that takes the lease applies the
 * whole log first, then takes writes. A leader renews its lease on the same tick; if a renewal or
 * an append fails it stops taking writes at once, waits until the batches it decided are
 * answered, and follows again. Whether an append whose answer was lost landed is settled by the
 * log itself: the node catches up, and the op, sent again, is answered as a duplicate.
 */
import type { Logger } from 'pino';
import type { LedgerService } from '../service/ledger-service.js';
import type { CommitBatch } from '../store/port.js';
import { FencedError, LEASE_MS, type PgLog, type NodeBeat } from './pg-log.js';

/** How often a node catches up, renews or tries for the lease, and reports itself. */
const TICK_MS = 250;
/** Entries read from the log of record and applied per local commit. */
const CATCH_UP_CHUNK = 512;
/** A node not heard from for this long is left out of `GET /v1/cluster`. */
const NODE_SEEN_MS = 3000;

export type ClusterRole = 'leader' | 'follower';

/** `GET /v1/cluster` (§11.6). */
export interface ClusterView {
  readonly leader: string | null;
  readonly nodes: readonly NodeBeat[];
}

export interface ClusterNodeOptions {
  readonly service: LedgerService;
  readonly log: PgLog;
  /** This node's base URL as the others reach it (LEDGER_NODE_URL): its name in the lease. */
  readonly url: string;
  /** `follower`: never leads (a bank's read-only copy). */
  readonly mode: 'auto' | 'follower';
  readonly logger: Logger;
}

export class ClusterNode {
  readonly #service: LedgerService;
  readonly #log: PgLog;
  readonly #logger: Logger;
  readonly url: string;
  readonly mode: 'auto' | 'follower';
  #role: ClusterRole = 'follower';
  #term: number | undefined;
  #leader: string | null = null;
  #nodes: readonly NodeBeat[] = [];
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Why following failed for good (an entry of the log of record does not verify here). */
  #broken: string | undefined;
  /** The last error talking to the database, while it lasts. */
  #dbError: string | undefined;

  constructor(o: ClusterNodeOptions) {
    this.#service = o.service;
    this.#log = o.log;
    this.#logger = o.logger.child({ cluster: o.url });
    this.url = o.url;
    this.mode = o.mode;
  }

  get role(): ClusterRole {
    return this.#role;
  }

  /** Whether this node appends now: writes sent here are decided here. */
  leads(): boolean {
    return this.#role === 'leader';
  }

  /** The leader's URL as last seen (null while none holds a live lease). */
  get leader(): string | null {
    return this.#role === 'leader' ? this.url : this.#leader;
  }

  /** Why the database cannot be reached now, if it cannot. */
  get databaseError(): string | undefined {
    return this.#dbError;
  }

  view(): ClusterView {
    const me: NodeBeat = { url: this.url, role: this.#role, size: this.#service.size };
    const others = this.#nodes.filter((n) => n.url !== this.url);
    return { leader: this.leader, nodes: [...others, me].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0)) };
  }

  /** Appends the writer's batch to the log of record as the lease holder; FencedError when not leading. */
  append(batch: CommitBatch): Promise<void> {
    const term = this.#term;
    if (this.#role !== 'leader' || term === undefined) return Promise.reject(new FencedError('this node does not hold the lease'));
    return this.#log.append(batch, this.url, term).then(() => this.#log.markDurable(batch.head.size));
  }

  /** Starts following (writes paused until this node leads). */
  async start(): Promise<void> {
    this.#service.pauseWrites('this node is not the leader');
    this.#service.onAppendFailed = (err) => {
      this.#logger.warn({ err }, 'an append to the log of record failed; stepping down');
      this.#role = 'follower';
      this.#term = undefined;
      this.#wake?.();
    };
    await this.#log.listen(() => this.#wake?.()).catch((err: unknown) => this.#logger.warn({ err }, 'LISTEN failed; catching up by polling'));
    this.#loop = this.#run();
  }

  /** Stops following; a leader finishes the batches it decided, then gives up its lease at once. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    const term = this.#term;
    this.#stepDown('the node is shutting down');
    await this.#service.settle();
    if (term !== undefined) await this.#log.resign(this.url, term).catch((err: unknown) => this.#logger.warn({ err }, 'could not give up the lease'));
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#tick();
        if (this.#dbError !== undefined) this.#logger.info('the database answers again');
        this.#dbError = undefined;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        if (this.#dbError === undefined) this.#logger.warn({ err }, 'the database cannot be reached; retrying');
        this.#dbError = why;
        if (this.#role === 'leader') this.#stepDown('the lease cannot be renewed');
      }
      if (this.#broken !== undefined) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, TICK_MS);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #tick(): Promise<void> {
    if (this.#role === 'leader') {
      if (!(await this.#log.renew(this.url, this.#term!))) this.#stepDown('the lease lapsed');
    }
    if (this.#role === 'follower') {
      await this.#settle();
      await this.#catchUp();
      if (this.#broken !== undefined) return;
      const lease = await this.#log.lease();
      this.#leader = lease.live ? lease.holder : null;
      if (this.mode === 'auto' && !lease.live) await this.#tryToLead();
    }
    this.#nodes = await this.#log.nodes(NODE_SEEN_MS);
    // A read-only follower (perhaps on a read-only standby) writes nothing, not even its heartbeat.
    if (this.mode === 'auto') await this.#log.beat({ url: this.url, role: this.#role, size: this.#service.size });
  }

  /** Takes the lease if it can, applies the whole log, then takes writes. */
  async #tryToLead(): Promise<void> {
    const term = await this.#log.acquire(this.url);
    if (term === undefined) return;
    const started = performance.now();
    // The log may have grown until the lease lapsed (and the last appends may not be marked
    // durable yet): it is the log of record now; apply all of it before deciding anything.
    await this.#log.markAllDurable();
    await this.#catchUp();
    if (this.#broken !== undefined) return;
    if (!(await this.#log.renew(this.url, term))) return;
    const head = await this.#log.head();
    if (!head || head.size !== this.#service.size) return;
    this.#term = term;
    this.#role = 'leader';
    this.#leader = this.url;
    await this.#service.resumeWrites();
    this.#logger.info(
      { term, size: this.#service.size, ms: Math.round(performance.now() - started), leaseMs: LEASE_MS },
      'leading: this node appends to the log of record',
    );
  }

  #stepDown(why: string): void {
    if (this.#role !== 'leader') return;
    this.#logger.warn({ term: this.#term, why }, 'no longer leading; following');
    this.#service.pauseWrites('this node is not the leader');
    this.#role = 'follower';
    this.#term = undefined;
    this.#leader = null;
  }

  /** Waits until every batch this node decided is answered, its store at its last durable batch. */
  async #settle(): Promise<void> {
    if (this.#service.paused === undefined) this.#service.pauseWrites('this node is not the leader');
    await this.#service.settle();
  }

  /** Applies every entry of the log of record past this node's store. */
  async #catchUp(): Promise<void> {
    for (;;) {
      const from = this.#service.size;
      const rows = await this.#log.entries(from, CATCH_UP_CHUNK, { durable: true });
      if (rows.length === 0) return;
      const bad = await this.#service.applyLogged(rows);
      const last = rows.at(-1)!;
      if (!bad && this.#service.head.lastHash !== last.hash) {
        this.#fail(last.seq, `the hash the log of record keeps for entry ${last.seq} is not the entry's`);
        return;
      }
      if (bad) {
        this.#fail(bad.seq, bad.detail);
        return;
      }
      if (rows.length < CATCH_UP_CHUNK) return;
    }
  }

  #fail(seq: number, detail: string): void {
    this.#broken = `entry ${seq} of the log of record does not verify on this node: ${detail}`;
    this.#service.refuseWrites(this.#broken, seq);
    this.#logger.error({ seq, detail }, 'the log of record does not verify here; this node stops following');
  }
}
