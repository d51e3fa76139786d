/**
 * The storage port: what the service needs from durable storage, in the ledger's words (entries,
 * checkpoints, parties, vouchers, their indexes, the Merkle tree's nodes). How a backend lays these
 * out (keys, encodings, tables) is its own business: the LevelDB adapter keeps its key encodings
 * in src/store/keys.ts. Every write goes through `commit`, which appends one group commit
 * atomically and durably (fsync'd), only on top of the head it names, or fails as a whole.
 */
import type { Party } from '../domain/index.js';
import type { WireVoucher } from '../domain/wire.js';

/** A voucher's stored record: its state, and the parties that may see it (§8). */
export interface VoucherRecord {
  readonly state: WireVoucher;
  /** Parties involved with this voucher or any of its descendants. */
  readonly viewers: readonly string[];
  /** The entries that touched this voucher, in seq order (its own history, without ancestors'). */
  readonly seqs: readonly number[];
  /** Its children's ids, in the order of their range starts (empty unless it was split). */
  readonly children: readonly string[];
}

/** The ledger's fixed facts, from genesis. */
export interface LedgerMeta {
  readonly ledgerId: string;
  readonly name: string;
  readonly nodeKey: string;
  readonly operatorKey: string;
  readonly currency: string;
  readonly maxTenorDays: number;
  readonly createdAt: string;
}

/** The end of the log: its size, and the hash and time of its last entry. */
export interface Head {
  readonly size: number;
  readonly lastHash: string;
  readonly lastTime: string;
}

export interface StoredEntry {
  readonly seq: number;
  /** The entry's JCS text: the exact bytes that were hashed. */
  readonly text: string;
}

/**
 * A place in a party's voucher list (§8 `GET /v1/parties/:id/vouchers`): the list is ordered by
 * the voucher's `createdSeq`, then its range start. The pair is unique per voucher: one op
 * creates vouchers of one root only, with distinct starts.
 */
export interface ListPlace {
  readonly createdSeq: number;
  readonly start: bigint;
}

/** One row of a party's voucher list: where it stands, the voucher, and its status. */
export interface PartyVoucherRow extends ListPlace {
  readonly voucherId: string;
  readonly status: string;
}

/** A row written to one party's voucher list. */
export interface Listing extends PartyVoucherRow {
  readonly party: string;
}

/** A node of the ledger's Merkle tree (RFC 9162): level 0 holds the leaves (entry hashes). */
export interface TreeNodeAt {
  readonly level: number;
  readonly index: number;
}

export interface TreeNode extends TreeNodeAt {
  readonly hash: Uint8Array;
}

/**
 * The records `decide` reads (parties, key owners, vouchers, invoices): the records the state
 * seal covers (src/service/state-seal.ts).
 */
export const SEALED_KINDS = ['parties', 'keyOwners', 'vouchers', 'invoices'] as const;
export type SealedKind = (typeof SEALED_KINDS)[number];

/**
 * The node's statement about the decision state as of a log size: the keyed multiset digest of
 * every sealed record, the log's Merkle root at that size, and a MAC over both under a key only
 * the node holds (src/service/state-seal.ts). Hex strings.
 */
export interface StateSeal {
  readonly size: number;
  readonly root: string;
  readonly digest: string;
  readonly mac: string;
}

/**
 * Everything one group commit writes: its entries, the records they change, the indexes over
 * them, and the head, seal and signed checkpoint after it.
 */
export interface CommitBatch {
  /**
   * The head this batch extends: the commit writes only if the stored head is still this one
   * (size and last hash), and fails with {@link HeadMovedError} otherwise. `undefined`: the store
   * must be empty (the genesis commit). {@link ANY_HEAD}: a repair by the node's own start-up
   * checks, which write what they proved from the log whatever head record the store holds.
   */
  readonly expectedHead: Head | undefined | typeof ANY_HEAD;
  readonly meta?: LedgerMeta;
  /** The entries, each with its hash (hex) and op id, and its receipt's effects as JSON text. */
  readonly entries: readonly { readonly seq: number; readonly text: string; readonly hash: string; readonly opId: string; readonly effects: string }[];
  readonly parties: readonly Party[];
  readonly keyOwners: readonly (readonly [publicKey: string, partyId: string])[];
  readonly vouchers: readonly VoucherRecord[];
  readonly invoicesUsed: readonly (readonly [invoiceId: string, rootId: string])[];
  readonly invoicesFreed: readonly string[];
  /** Rows added to (or whose status changed in) the parties' voucher lists. */
  readonly listed: readonly Listing[];
  /** Rows removed from the parties' voucher lists. */
  readonly unlisted: readonly (ListPlace & { readonly party: string })[];
  /** The entries that registered or updated a party. */
  readonly partySeqs: readonly (readonly [partyId: string, seq: number])[];
  /** The tree nodes the batch's entries complete, the leaves among them. */
  readonly treeNodes: readonly TreeNode[];
  readonly head: Head;
  /** The state seal as of `head` (every sealed record after this batch). */
  readonly seal: StateSeal;
  readonly checkpoint: string;
}

/**
 * One record of a store's own dump, as opaque bytes (a backup's record): only a store of the same
 * kind reads them back (`importRecords`).
 */
export type RawRecord = readonly [key: Uint8Array, value: Uint8Array];

/** The `expectedHead` of a start-up repair (see {@link CommitBatch.expectedHead}). */
export const ANY_HEAD = Symbol('any head');

/** The head a commit expected is not the stored one: nothing was written. */
export class HeadMovedError extends Error {
  constructor(
    readonly expected: Head | undefined | typeof ANY_HEAD,
    readonly found: Head | undefined,
  ) {
    const size = (h: Head | undefined) => (h ? `size ${h.size}` : 'empty');
    super(`the stored head is ${size(found)}, not ${expected === ANY_HEAD ? 'any' : size(expected)} as the commit expected`);
    this.name = 'HeadMovedError';
  }
}

/** Whether two heads are the same point of the log (size and last hash). */
export const sameHead = (a: Head | undefined, b: Head | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.size === b.size && a.lastHash === b.lastHash;

/** Whether a commit that expects `expected` may be written over the stored head `stored`. */
export const headAllows = (expected: Head | undefined | typeof ANY_HEAD, stored: Head | undefined): boolean =>
  expected === ANY_HEAD || sameHead(expected, stored);

/**
 * A consistent read of everything stored, as of the moment it was taken: writes committed after
 * it are not seen, and a commit is seen whole or not at all. Used for backups; it holds no lock,
 * so the writer goes on while it is read. Close it when done (it pins old data until then).
 */
export interface StoreSnapshot {
  readonly meta: LedgerMeta | undefined;
  readonly head: Head | undefined;
  readonly checkpoint: string | undefined;
  /** Every stored record in the store's own order, at most `chunkRecordsMax` at a time. Call it once. */
  records(chunkRecordsMax: number): AsyncIterable<readonly RawRecord[]>;
  close(): Promise<void>;
}

export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;

  meta(): Promise<LedgerMeta | undefined>;
  head(): Promise<Head | undefined>;
  checkpoint(): Promise<string | undefined>;
  /** The state seal written with the last commit; undefined on a folder written before seals. */
  seal(): Promise<StateSeal | undefined>;

  entry(seq: number): Promise<string | undefined>;
  entries(from: number, limit: number): Promise<StoredEntry[]>;
  /** Streams every entry in seq order (start-up checks, audits). */
  allEntries(from?: number): AsyncIterable<StoredEntry>;
  /** The receipt effects stored with an entry, as JSON text. */
  effects(seq: number): Promise<string | undefined>;
  seqOfOp(opId: string): Promise<number | undefined>;
  /** Streams every stored op id, in chunks (the in-memory duplicate index is filled from it). */
  opIds(): AsyncIterable<readonly string[]>;

  party(id: string): Promise<Party | undefined>;
  parties(afterId: string | undefined, limit: number): Promise<Party[]>;
  keyOwner(publicKey: string): Promise<string | undefined>;

  voucher(id: string): Promise<VoucherRecord | undefined>;
  invoiceRoot(invoiceId: string): Promise<string | undefined>;
  /** One party's voucher list in its order, after `after` (exclusive), at most `limit` rows. */
  partyVouchers(party: string, after: ListPlace | undefined, limit: number): Promise<PartyVoucherRow[]>;
  partySeqs(partyId: string): Promise<number[]>;

  /**
   * Streams every record of one sealed kind in the order of its id, `chunkRecordsMax` at a time:
   * its id (party id, public key, voucher id, invoice id), and its value as the exact bytes
   * stored (the state check hashes them unparsed): JSON text for parties and vouchers, the owning
   * party's id for key owners, the root voucher's id for invoices.
   */
  sealedRecords(kind: SealedKind, chunkRecordsMax: number): AsyncIterable<readonly (readonly [key: string, value: Uint8Array])[]>;
  /** The first seq at or after `seq` that has stored receipt effects (a log cut short leaves them). */
  effectsFrom(seq: number): Promise<number | undefined>;

  treeNode(at: TreeNodeAt): Promise<Uint8Array | undefined>;
  /** The nodes asked for, in the order asked, `undefined` where none is stored. */
  treeNodes(at: readonly TreeNodeAt[]): Promise<(Uint8Array | undefined)[]>;

  /**
   * Lets the store do a batch's encoding work before its checkpoint is signed (the writer calls
   * it while the batch before is still being written). It writes nothing; a `commit` of a batch
   * with the same `entries` array then uses what was prepared, and a prepared batch never
   * committed is never written. A store with nothing to do ahead does nothing.
   */
  prepare(batch: Omit<CommitBatch, 'checkpoint'>): void;
  /**
   * Appends one group commit: its entries with its checkpoint and everything else in it,
   * atomically and durably, only if the stored head is still `batch.expectedHead`
   * ({@link HeadMovedError} otherwise, having written nothing). The one write of the port.
   */
  commit(batch: CommitBatch): Promise<void>;

  /** Takes a consistent snapshot of everything stored (see {@link StoreSnapshot}). */
  snapshot(): Promise<StoreSnapshot>;
  /**
   * Writes a dump's records into a new, empty store, fsync'd when `sync`: the inverse of
   * `snapshot().records()` for a store of the same kind. It bypasses every check of `commit`.
   */
  importRecords(records: readonly RawRecord[], o: { readonly sync: boolean }): Promise<void>;
}

/**
 * A commit of no entries: the head, a checkpoint and a seal. Over the head the store holds, or,
 * for a repair by the start-up checks, over any ({@link ANY_HEAD}).
 */
export const emptyBatch = (expectedHead: CommitBatch['expectedHead'], head: Head, checkpoint: string, seal: StateSeal): CommitBatch => ({
  expectedHead,
  entries: [],
  parties: [],
  keyOwners: [],
  vouchers: [],
  invoicesUsed: [],
  invoicesFreed: [],
  listed: [],
  unlisted: [],
  partySeqs: [],
  treeNodes: [],
  head,
  seal,
  checkpoint,
});
