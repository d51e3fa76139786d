/**
 * The cluster's log of record in PostgreSQL (docs/protocol.md §11.6, docs/cluster.md): the
 * entries, the head with its signed checkpoint, the leader's lease, and the nodes' heartbeats.
 *
 * Tables (created by the first node, under a transaction-scoped advisory lock so that nodes
 * starting together do not race):
 *   rvl_entries(seq PK, text, hash)      every entry, as the exact JCS text that was hashed
 *   rvl_head(size, last_hash, checkpoint) one row: the log's end and the checkpoint over it
 *   rvl_durable(size)                     one row: the entries below it are acknowledged durable
 *   rvl_lease(holder, term, expires_at)   one row: who may append, until when (database time)
 *   rvl_nodes(url PK, role, size, seen_at) each node's last heartbeat
 *
 * Safety does not rest on the lease: an append is one transaction that checks, under the lease
 * row's lock, that this node still holds the lease at its term, and moves `rvl_head` only from the
 * head the batch was decided on. A deposed or paused leader's append therefore fails whole, and
 * no two entries ever take one seq (the primary key). The lease only keeps two nodes from
 * deciding at once; its clock is the database's, so node clocks do not matter.
 *
 * A commit is visible on the primary before a synchronous standby has confirmed it; if the
 * primary died then and a standby without it were promoted, the entry would be gone. So followers
 * apply only entries below `rvl_durable`, which the leader raises once each append has returned
 * (that is, once a standby holds it), and a new leader raises it to the whole log it finds before
 * it appends (what the promoted server holds is the log of record from then on).
 */
import postgres from 'postgres';
import type { Logger } from 'pino';
import { HeadMovedError, type CommitBatch, type StoredEntry } from '../store/port.js';

/** The lease's length: a leader that stops renewing is replaced this long after its last renewal. */
export const LEASE_MS = 2000;

/** This node no longer holds the lease it appended under (another node leads, or it lapsed). */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** The log of record's end: its size, last hash, and the checkpoint over it. */
export interface LogHead {
  readonly size: number;
  readonly lastHash: string;
  readonly checkpoint: string;
}

/** Who holds the lease (`live`: not yet expired by the database's clock). */
export interface Lease {
  readonly holder: string | null;
  readonly term: number;
  readonly live: boolean;
}

export interface NodeBeat {
  readonly url: string;
  readonly role: 'leader' | 'follower';
  readonly size: number;
}

/** A node's key for the lease: its URL (what followers forward writes to). */
type Sql = postgres.Sql<Record<string, never>>;

/** Serializes schema creation across nodes (an arbitrary constant: "rvl" in ASCII). */
const SCHEMA_LOCK = 0x72766c;

export class PgLog {
  readonly #sql: Sql;
  readonly #logger: Logger;

  constructor(url: string, logger: Logger) {
    this.#logger = logger;
    this.#sql = postgres(url, {
      max: 4,
      // A dead primary must not hang a node: connect and fail fast, then retry.
      connect_timeout: 3,
      idle_timeout: 60,
      onnotice: () => undefined,
      connection: {
        application_name: 'rvl',
        // A leader paused (or cut off) inside an append holds the lease row's lock: the database
        // ends such a session after a second, so another node can take the lapsed lease.
        idle_in_transaction_session_timeout: 1000,
        // Nothing waits long for a lock: a blocked acquire or renew fails and is tried next tick.
        lock_timeout: 2000,
      },
      // seq and size are bigint columns; every value here fits in a JS number (< 2^53).
      types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
    }) as unknown as Sql;
  }

  /** Creates the tables if they are missing. */
  async ensureSchema(): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS rvl_entries (seq bigint PRIMARY KEY, text text NOT NULL, hash text NOT NULL)`;
      await tx`CREATE TABLE IF NOT EXISTS rvl_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), size bigint NOT NULL, last_hash text NOT NULL, checkpoint text NOT NULL)`;
      await tx`CREATE TABLE IF NOT EXISTS rvl_lease (one boolean PRIMARY KEY DEFAULT true CHECK (one), holder text, term bigint NOT NULL DEFAULT 0, expires_at timestamptz NOT NULL DEFAULT 'epoch')`;
      await tx`CREATE TABLE IF NOT EXISTS rvl_nodes (url text PRIMARY KEY, role text NOT NULL, size bigint NOT NULL, seen_at timestamptz NOT NULL)`;
      await tx`CREATE TABLE IF NOT EXISTS rvl_durable (one boolean PRIMARY KEY DEFAULT true CHECK (one), size bigint NOT NULL)`;
      await tx`INSERT INTO rvl_lease (one) VALUES (true) ON CONFLICT DO NOTHING`;
    });
  }

  /** The genesis entry's text, or undefined if the log is empty. */
  async genesis(): Promise<string | undefined> {
    const rows = await this.#sql<{ text: string }[]>`SELECT text FROM rvl_entries WHERE seq = 0`;
    return rows[0]?.text;
  }

  /**
   * Writes genesis if the log is empty; returns the genesis the log holds afterwards (this one,
   * or the one another node wrote first).
   */
  async writeGenesis(text: string, hash: string, checkpoint: string): Promise<string> {
    return this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
      const there = await tx<{ text: string }[]>`SELECT text FROM rvl_entries WHERE seq = 0`;
      if (there[0]) return there[0].text;
      await tx`INSERT INTO rvl_entries (seq, text, hash) VALUES (0, ${text}, ${hash})`;
      await tx`INSERT INTO rvl_head (one, size, last_hash, checkpoint) VALUES (true, 1, ${hash}, ${checkpoint})`;
      await tx`INSERT INTO rvl_durable (one, size) VALUES (true, 1)`;
      return text;
    });
  }

  async head(): Promise<LogHead | undefined> {
    const rows = await this.#sql<{ size: number; last_hash: string; checkpoint: string }[]>`SELECT size, last_hash, checkpoint FROM rvl_head`;
    const r = rows[0];
    return r && { size: r.size, lastHash: r.last_hash, checkpoint: r.checkpoint };
  }

  /** Entries from `from`, in seq order, at most `limit`, with their stored hashes (`durable`: only those below the durable mark). */
  async entries(from: number, limit: number, o: { durable: boolean } = { durable: false }): Promise<(StoredEntry & { readonly hash: string })[]> {
    return o.durable
      ? this.#sql<{ seq: number; text: string; hash: string }[]>`
          SELECT seq, text, hash FROM rvl_entries WHERE seq >= ${from} AND seq < (SELECT size FROM rvl_durable WHERE one) ORDER BY seq LIMIT ${limit}`
      : this.#sql<{ seq: number; text: string; hash: string }[]>`SELECT seq, text, hash FROM rvl_entries WHERE seq >= ${from} ORDER BY seq LIMIT ${limit}`;
  }

  /** The hashes of the entries from `from`, in seq order, at most `limit` (no texts: a start-up check reads every one). */
  async hashes(from: number, limit: number): Promise<{ readonly seq: number; readonly hash: string }[]> {
    return this.#sql<{ seq: number; hash: string }[]>`SELECT seq, hash FROM rvl_entries WHERE seq >= ${from} ORDER BY seq LIMIT ${limit}`;
  }

  /** The durable mark wanted next, and whether a raise is being written. */
  #durableWanted = 0;
  #durableRaising: Promise<void> | undefined;

  /**
   * Raises the durable mark to `size` (an append of that end has returned) in the background:
   * one update at a time, the newest size wins; a failed one is left to the next append or to the
   * next leader. Never awaited by the writer.
   */
  markDurable(size: number): void {
    this.#durableWanted = Math.max(this.#durableWanted, size);
    this.#durableRaising ??= (async () => {
      try {
        for (let done = 0; done < this.#durableWanted; ) {
          const target = this.#durableWanted;
          await this.#sql`UPDATE rvl_durable SET size = GREATEST(size, ${target}) WHERE one`;
          await this.#sql`SELECT pg_notify('rvl_log', ${String(target)})`;
          done = target;
        }
      } catch (err) {
        this.#logger.warn({ err }, 'could not raise the durable mark; the next append will');
      } finally {
        this.#durableRaising = undefined;
      }
    })();
  }

  /** A new leader's first write: everything the log holds is the log of record from now on. */
  async markAllDurable(): Promise<void> {
    await this.#sql`UPDATE rvl_durable SET size = GREATEST(size, (SELECT size FROM rvl_head WHERE one)) WHERE one`;
  }

  /**
   * Appends a batch decided on `batch.expectedHead`, as lease holder `holder` at `term`: one
   * statement (its own transaction), durable when it returns (the database's synchronous commit). FencedError if the
   * lease is no longer ours, HeadMovedError if the log moved; nothing is appended then.
   */
  async append(batch: CommitBatch, holder: string, term: number): Promise<void> {
    const expected = batch.expectedHead;
    if (typeof expected !== 'object') throw new HeadMovedError(expected, undefined);
    const seqs = batch.entries.map((e) => e.seq);
    const texts = batch.entries.map((e) => e.text);
    const hashes = batch.entries.map((e) => e.hash);
    // One statement, so one round trip and its own transaction: the lease row locked and checked,
    // the head moved only from the expected one and only under the lease, the entries inserted
    // only if the head moved. Its counts tell a fenced append from a moved head.
    const [r] = await this.#sql<{ leased: number; moved: number }[]>`
      WITH lease AS (
        SELECT 1 FROM rvl_lease WHERE one AND holder = ${holder} AND term = ${term} AND expires_at > now() FOR SHARE
      ), moved AS (
        UPDATE rvl_head SET size = ${batch.head.size}, last_hash = ${batch.head.lastHash}, checkpoint = ${batch.checkpoint}
        WHERE one AND size = ${expected.size} AND last_hash = ${expected.lastHash} AND EXISTS (SELECT 1 FROM lease)
        RETURNING size
      ), inserted AS (
        INSERT INTO rvl_entries (seq, text, hash)
        SELECT * FROM unnest(${seqs}::bigint[], ${texts}::text[], ${hashes}::text[]) WHERE EXISTS (SELECT 1 FROM moved)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM lease)::int AS leased, (SELECT count(*) FROM moved)::int AS moved,
        (SELECT count(*) FROM inserted)::int AS inserted,
        (SELECT pg_notify('rvl_log', size::text) FROM moved) AS notified`;
    if (r?.leased !== 1) throw new FencedError(`the lease at term ${term} is no longer this node's`);
    if (r.moved !== 1) throw new HeadMovedError(expected, undefined);
  }

  /** Takes the lease if it is free or expired; the new term, or undefined if another node holds it. */
  async acquire(holder: string): Promise<number | undefined> {
    const rows = await this.#sql<{ term: number }[]>`
      UPDATE rvl_lease SET holder = ${holder}, term = term + 1, expires_at = now() + make_interval(secs => ${LEASE_MS / 1000})
      WHERE one AND (holder IS NULL OR expires_at <= now())
      RETURNING term`;
    return rows[0]?.term;
  }

  /** Extends our lease; false if it is no longer ours (it lapsed and another node took it). */
  async renew(holder: string, term: number): Promise<boolean> {
    const rows = await this.#sql`
      UPDATE rvl_lease SET expires_at = now() + make_interval(secs => ${LEASE_MS / 1000})
      WHERE one AND holder = ${holder} AND term = ${term} AND expires_at > now()
      RETURNING 1`;
    return rows.length === 1;
  }

  /** Gives the lease up at once (a clean shutdown), so that another node need not wait it out. */
  async resign(holder: string, term: number): Promise<void> {
    await this.#sql`UPDATE rvl_lease SET holder = NULL, expires_at = 'epoch' WHERE one AND holder = ${holder} AND term = ${term}`;
  }

  async lease(): Promise<Lease> {
    const rows = await this.#sql<{ holder: string | null; term: number; live: boolean }[]>`
      SELECT holder, term, expires_at > now() AS live FROM rvl_lease WHERE one`;
    return rows[0] ?? { holder: null, term: 0, live: false };
  }

  async beat(b: NodeBeat): Promise<void> {
    await this.#sql`
      INSERT INTO rvl_nodes (url, role, size, seen_at) VALUES (${b.url}, ${b.role}, ${b.size}, now())
      ON CONFLICT (url) DO UPDATE SET role = EXCLUDED.role, size = EXCLUDED.size, seen_at = EXCLUDED.seen_at`;
  }

  /** The nodes heard from in the last `withinMs`. */
  async nodes(withinMs: number): Promise<NodeBeat[]> {
    return this.#sql<NodeBeat[]>`
      SELECT url, role, size FROM rvl_nodes WHERE seen_at > now() - make_interval(secs => ${withinMs / 1000}) ORDER BY url`;
  }

  /** Calls `onAppend` with the new size whenever an append commits (LISTEN; reconnects by itself). */
  async listen(onAppend: (size: number) => void): Promise<void> {
    await this.#sql.listen(
      'rvl_log',
      (payload) => onAppend(Number(payload)),
      () => this.#logger.debug('listening for appends to the log of record'),
    );
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 2 });
  }
}
