/**
 * The LevelDB adapter of the storage port. Each kind of record lives in its own sublevel; a commit
 * is one `batch` across sublevels, fsync'd (`sync: true`; a cluster node's is not), so a crash
 * leaves all of it or none of it.
 */
import { Level } from 'level';
import type { Party } from '../domain/index.js';
import { nodeKey, parseListPlace, parseSeqKey, partySeqKey, partySeqPrefix, partyVoucherKey, partyVoucherPrefix, prefixEnd, seqKey } from './keys.js';
import {
  HeadMovedError,
  headAllows,
  type CommitBatch,
  type Head,
  type LedgerMeta,
  type ListPlace,
  type PartyVoucherRow,
  type RawRecord,
  type SealedKind,
  type StateSeal,
  type Store,
  type StoreSnapshot,
  type StoredEntry,
  type TreeNodeAt,
  type VoucherRecord,
} from './port.js';

/** The seqs stored as keys `<prefix><seq>` of an index sublevel. */
const seqsUnder = async (sub: { keys(o: { gte: string; lt: string }): { all(): Promise<string[]> } }, prefix: string): Promise<number[]> => {
  const keys = await sub.keys({ gte: prefix, lt: prefixEnd(prefix) }).all();
  return keys.map((k) => parseSeqKey(k.slice(prefix.length)));
};

/** Yields an iterator's items in chunks of at most `max` (nextv), and closes it however the loop ends. */
async function* inChunks<T>(it: { nextv(max: number): Promise<T[]>; close(): Promise<void> }, max: number): AsyncIterable<T[]> {
  try {
    for (;;) {
      const chunk = await it.nextv(max);
      if (chunk.length === 0) return;
      yield chunk;
    }
  } finally {
    await it.close();
  }
}

/**
 * LevelDB keeps every open table file (about 2 MiB each) memory-mapped, and a mapped page it has
 * read counts in the process's RSS. With LevelDB's default of 1,000 open files, the whole log of a
 * large ledger ends up mapped once it has been read through (the background log check at start-up
 * does exactly that): RSS was 590 MiB at 1M entries, 420 MiB of it mapped files. 64 open files
 * bound the mapped tables to about 110 MiB (246 MiB RSS measured); a read of a cold table opens it
 * again (its index block is small).
 */
const MAX_OPEN_FILES = 64;

/**
 * LevelDB compresses each table block (Snappy) on its own; 16 KiB blocks instead of the default
 * 4 KiB compress our JSON records and hex ids better. Measured on a 1.09M-entry ledger, fully
 * compacted both ways: 1,076 MB with 4 KiB blocks, 990 MB with 16 KiB (−8 %). A point read of a
 * block not in the cache then reads and decompresses 16 KiB instead of 4 KiB. Tables written
 * before keep their block size until LevelDB compacts them.
 */
const BLOCK_SIZE = 16 * 1024;

const META_KEY = 'meta';
const HEAD_KEY = 'head';
const CHECKPOINT_KEY = 'checkpoint';
const SEAL_KEY = 'seal';

export class LevelStore implements Store {
  readonly #db: Level<string, string>;
  readonly #meta;
  readonly #entries;
  readonly #effects;
  readonly #ops;
  readonly #parties;
  readonly #keys;
  readonly #vouchers;
  readonly #invoices;
  readonly #partyVouchers;
  readonly #partySeqs;
  readonly #nodes;
  /** Each sublevel's key prefix (`!name!`), for writes that bypass the sublevels. */
  readonly #prefix: Readonly<
    Record<'meta' | 'entries' | 'effects' | 'ops' | 'parties' | 'keys' | 'vouchers' | 'invoices' | 'partyVouchers' | 'partySeqs' | 'nodes', string>
  >;

  /**
   * `sync: false` (cluster nodes): commits are not fsync'd. Each batch still lands whole and in
   * order, so a crash loses at most the last batches, which a cluster node applies again from
   * the log of record (the durable copy) when it starts.
   */
  constructor(
    readonly location: string,
    readonly o: { readonly sync: boolean } = { sync: true },
  ) {
    this.#db = new Level<string, string>(location, { valueEncoding: 'utf8', maxOpenFiles: MAX_OPEN_FILES, blockSize: BLOCK_SIZE });
    const db = this.#db;
    this.#meta = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
    this.#entries = db.sublevel<string, string>('e', { valueEncoding: 'utf8' });
    this.#effects = db.sublevel<string, string>('fx', { valueEncoding: 'utf8' });
    this.#ops = db.sublevel<string, string>('op', { valueEncoding: 'utf8' });
    this.#parties = db.sublevel<string, Party>('p', { valueEncoding: 'json' });
    this.#keys = db.sublevel<string, string>('k', { valueEncoding: 'utf8' });
    this.#vouchers = db.sublevel<string, VoucherRecord>('v', { valueEncoding: 'json' });
    this.#invoices = db.sublevel<string, string>('inv', { valueEncoding: 'utf8' });
    this.#partyVouchers = db.sublevel<string, string>('pv', { valueEncoding: 'utf8' });
    this.#partySeqs = db.sublevel<string, string>('ps', { valueEncoding: 'utf8' });
    this.#nodes = db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' });
    const of = (sub: { prefixKey(key: string, format: 'utf8'): string }) => sub.prefixKey('', 'utf8');
    this.#prefix = {
      meta: of(this.#meta),
      entries: of(this.#entries),
      effects: of(this.#effects),
      ops: of(this.#ops),
      parties: of(this.#parties),
      keys: of(this.#keys),
      vouchers: of(this.#vouchers),
      invoices: of(this.#invoices),
      partyVouchers: of(this.#partyVouchers),
      partySeqs: of(this.#partySeqs),
      nodes: of(this.#nodes),
    };
  }

  async open(): Promise<void> {
    await this.#db.open();
    // Sublevels finish opening a tick after their database; the synchronous reads need them open.
    await Promise.all(
      [
        this.#meta,
        this.#entries,
        this.#effects,
        this.#ops,
        this.#parties,
        this.#keys,
        this.#vouchers,
        this.#invoices,
        this.#partyVouchers,
        this.#partySeqs,
        this.#nodes,
      ].map((s) => s.open()),
    );
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async meta(): Promise<LedgerMeta | undefined> {
    return (await this.#meta.get(META_KEY)) as LedgerMeta | undefined;
  }

  async head(): Promise<Head | undefined> {
    return (await this.#meta.get(HEAD_KEY)) as Head | undefined;
  }

  async checkpoint(): Promise<string | undefined> {
    return (await this.#meta.get(CHECKPOINT_KEY)) as string | undefined;
  }

  async seal(): Promise<StateSeal | undefined> {
    return (await this.#meta.get(SEAL_KEY)) as StateSeal | undefined;
  }

  async *sealedRecords(kind: SealedKind, chunkRecordsMax: number): AsyncIterable<readonly (readonly [string, Uint8Array])[]> {
    const sub = { parties: this.#parties, keyOwners: this.#keys, vouchers: this.#vouchers, invoices: this.#invoices }[kind] as unknown as Level<string, string>;
    yield* inChunks(sub.iterator<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), chunkRecordsMax);
  }

  /**
   * Every record of one sublevel in key order, values as stored (an offline full check compares
   * them with a replay). Not part of the port: only the admin tools read the indexes wholesale.
   */
  async *sublevelRecords(
    name: 'p' | 'k' | 'v' | 'inv' | 'pv' | 'ps' | 'op' | 'fx',
    chunkRecordsMax: number,
  ): AsyncIterable<readonly (readonly [string, string])[]> {
    const sub = {
      p: this.#parties,
      k: this.#keys,
      v: this.#vouchers,
      inv: this.#invoices,
      pv: this.#partyVouchers,
      ps: this.#partySeqs,
      op: this.#ops,
      fx: this.#effects,
    }[name] as unknown as Level<string, string>;
    yield* inChunks(sub.iterator<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' }), chunkRecordsMax);
  }

  async effectsFrom(seq: number): Promise<number | undefined> {
    const keys = await this.#effects.keys({ gte: seqKey(seq), limit: 1 }).all();
    return keys[0] === undefined ? undefined : parseSeqKey(keys[0]);
  }

  async entry(seq: number): Promise<string | undefined> {
    return this.#entries.getSync(seqKey(seq));
  }

  async entries(from: number, limit: number): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    for await (const [key, text] of this.#entries.iterator({ gte: seqKey(from), limit })) {
      out.push({ seq: parseSeqKey(key), text });
    }
    return out;
  }

  async *allEntries(from = 0): AsyncIterable<StoredEntry> {
    for await (const [key, text] of this.#entries.iterator({ gte: seqKey(from) })) {
      yield { seq: parseSeqKey(key), text };
    }
  }

  async effects(seq: number): Promise<string | undefined> {
    return this.#effects.getSync(seqKey(seq));
  }

  async seqOfOp(opId: string): Promise<number | undefined> {
    const v = this.#ops.getSync(opId);
    return v === undefined ? undefined : parseSeqKey(v);
  }

  async *opIds(): AsyncIterable<readonly string[]> {
    yield* inChunks(this.#ops.keys(), 4096);
  }

  async party(id: string): Promise<Party | undefined> {
    return this.#parties.getSync(id);
  }

  async parties(afterId: string | undefined, limit: number): Promise<Party[]> {
    const range = afterId === undefined ? { limit } : { gt: afterId, limit };
    return this.#parties.values(range).all();
  }

  async keyOwner(publicKey: string): Promise<string | undefined> {
    return this.#keys.getSync(publicKey);
  }

  async voucher(id: string): Promise<VoucherRecord | undefined> {
    return this.#vouchers.getSync(id);
  }

  async invoiceRoot(invoiceId: string): Promise<string | undefined> {
    return this.#invoices.getSync(invoiceId);
  }

  async partyVouchers(party: string, after: ListPlace | undefined, limit: number): Promise<PartyVoucherRow[]> {
    const prefix = partyVoucherPrefix(party);
    const lower = after === undefined ? { gte: prefix } : { gt: partyVoucherKey(party, after.createdSeq, after.start) };
    const rows: PartyVoucherRow[] = [];
    for await (const [key, value] of this.#partyVouchers.iterator({ ...lower, lt: prefixEnd(prefix), limit })) {
      const cut = value.lastIndexOf('\u0000');
      rows.push({ ...parseListPlace(key), voucherId: value.slice(0, cut), status: value.slice(cut + 1) });
    }
    return rows;
  }

  partySeqs(partyId: string): Promise<number[]> {
    return seqsUnder(this.#partySeqs, partySeqPrefix(partyId));
  }

  async treeNode(at: TreeNodeAt): Promise<Uint8Array | undefined> {
    return this.#nodes.getSync(nodeKey(at.level, at.index));
  }

  async treeNodes(at: readonly TreeNodeAt[]): Promise<(Uint8Array | undefined)[]> {
    return at.map((n) => this.#nodes.getSync(nodeKey(n.level, n.index)));
  }

  /** Batches built ahead by `prepare`, by their entries array (kept by the `{ ...prepared, checkpoint }` the writer commits). */
  readonly #prepared = new WeakMap<object, ReturnType<Level<string, string>['batch']>>();

  /**
   * The stored head as of the last commit through this store (LevelDB's lock keeps any other
   * process out while it is open); `null` until read, and again after `importRecords`.
   */
  #head: Head | undefined | null = null;

  /**
   * Builds a batch's writes now, all but its checkpoint; `commit` of a batch with the same
   * `entries` then only adds the checkpoint and writes.
   */
  prepare(b: Omit<CommitBatch, 'checkpoint'>): void {
    this.#prepared.set(b.entries, this.#build(b));
  }

  /**
   * One atomic, fsync'd batch. Keys are prefixed and values encoded here and written through a
   * chained batch on the root database: an array batch, or one routed through the sublevels,
   * blocks the event loop several times longer for the same operations (measured: 500 puts block
   * about 10 ms as an array batch and about 1 ms chained). Commits are one at a time (the
   * writer's loop), so the head checked here cannot move before the batch is written.
   */
  async commit(b: CommitBatch): Promise<void> {
    let batch = this.#prepared.get(b.entries);
    this.#prepared.delete(b.entries);
    if (this.#head === null) this.#head = await this.head();
    if (!headAllows(b.expectedHead, this.#head)) {
      await batch?.close();
      throw new HeadMovedError(b.expectedHead, this.#head);
    }
    batch ??= this.#build(b);
    batch.put(this.#prefix.meta + CHECKPOINT_KEY, JSON.stringify(b.checkpoint));
    try {
      await batch.write({ sync: this.o.sync });
    } catch (err) {
      // A failed write may or may not have reached the disk: read the head again before the next.
      this.#head = null;
      throw err;
    }
    this.#head = b.head;
  }

  /**
   * One explicit LevelDB snapshot: the ledger's facts are read from it, and then one iterator over
   * the whole database, reading from the same snapshot, yields every record as raw bytes. LevelDB
   * takes a snapshot without blocking writes; it only keeps the data it covers from being
   * compacted away until it is closed.
   */
  async snapshot(): Promise<StoreSnapshot> {
    const snap = this.#db.snapshot();
    try {
      const at = { snapshot: snap };
      const [meta, head, checkpoint] = await Promise.all([
        this.#meta.get(META_KEY, at) as Promise<LedgerMeta | undefined>,
        this.#meta.get(HEAD_KEY, at) as Promise<Head | undefined>,
        this.#meta.get(CHECKPOINT_KEY, at) as Promise<string | undefined>,
      ]);
      const db = this.#db;
      let read = false;
      return {
        meta,
        head,
        checkpoint,
        async *records(chunkRecordsMax: number): AsyncIterable<readonly RawRecord[]> {
          if (read) throw new Error('a store snapshot is read once');
          read = true;
          yield* inChunks(db.iterator<Uint8Array, Uint8Array>({ snapshot: snap, keyEncoding: 'view', valueEncoding: 'view' }), chunkRecordsMax);
        },
        close: () => snap.close(),
      };
    } catch (err) {
      await snap.close();
      throw err;
    }
  }

  async importRecords(records: readonly RawRecord[], o: { readonly sync: boolean }): Promise<void> {
    this.#head = null;
    const batch = this.#db.batch();
    for (const [key, value] of records) batch.put(key as never, value as never, { keyEncoding: 'view', valueEncoding: 'view' });
    await batch.write({ sync: o.sync });
  }

  #build(b: Omit<CommitBatch, 'checkpoint'>): ReturnType<Level<string, string>['batch']> {
    const batch = this.#db.batch();
    const p = this.#prefix;
    const put = (prefix: string, key: string, value: string) => batch.put(prefix + key, value);
    const json = (prefix: string, key: string, value: unknown) => put(prefix, key, JSON.stringify(value));
    const del = (prefix: string, key: string) => batch.del(prefix + key);

    if (b.meta) json(p.meta, META_KEY, b.meta);
    for (const e of b.entries) {
      const seq = seqKey(e.seq);
      put(p.entries, seq, e.text);
      put(p.effects, seq, e.effects);
      put(p.ops, e.opId, seq);
    }
    for (const party of b.parties) json(p.parties, party.id, party);
    for (const [key, owner] of b.keyOwners) put(p.keys, key, owner);
    for (const v of b.vouchers) json(p.vouchers, v.state.id, v);
    for (const id of b.invoicesFreed) del(p.invoices, id);
    for (const [id, root] of b.invoicesUsed) put(p.invoices, id, root);
    for (const r of b.unlisted) del(p.partyVouchers, partyVoucherKey(r.party, r.createdSeq, r.start));
    for (const r of b.listed) put(p.partyVouchers, partyVoucherKey(r.party, r.createdSeq, r.start), `${r.voucherId}\u0000${r.status}`);
    for (const [partyId, seq] of b.partySeqs) put(p.partySeqs, partySeqKey(partyId, seq), '');
    for (const n of b.treeNodes) batch.put(p.nodes + nodeKey(n.level, n.index), n.hash as never, { valueEncoding: 'view' });
    json(p.meta, HEAD_KEY, b.head);
    json(p.meta, SEAL_KEY, b.seal);
    return batch;
  }
}
