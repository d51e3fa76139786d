/**
 * The storage port: what the service needs from durable storage, and nothing about LevelDB.
 * Every write goes through `commit`, which is atomic and durable (fsync'd) or fails as a whole.
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

/** One entry of a party's voucher list, in the §8 order. */
export interface PartyVoucherRow {
  readonly key: string;
  readonly voucherId: string;
  readonly status: string;
}

/**
 * The sublevels whose records `decide` reads (parties, key owners, vouchers, invoices): the
 * records the state seal covers (src/service/state-seal.ts).
 */
export const SEALED_KINDS = ['p', 'k', 'v', 'inv'] as const;
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

/** Everything one group commit writes. */
export interface CommitBatch {
  readonly meta?: LedgerMeta;
  readonly entries: readonly { readonly seq: number; readonly text: string; readonly opId: string; readonly effects: string }[];
  readonly parties: readonly Party[];
  readonly keyOwners: readonly (readonly [publicKey: string, partyId: string])[];
  readonly vouchers: readonly VoucherRecord[];
  readonly invoicesUsed: readonly (readonly [invoiceId: string, rootId: string])[];
  readonly invoicesFreed: readonly string[];
  readonly partyVouchersPut: readonly (readonly [key: string, voucherId: string, status: string])[];
  readonly partyVouchersDel: readonly string[];
  /** The entries that registered or updated a party. */
  readonly partySeqs: readonly string[];
  readonly merkleNodes: readonly (readonly [key: string, hash: Uint8Array])[];
  readonly head: Head;
  /** The state seal as of `head` (every sealed record after this batch). */
  readonly seal: StateSeal;
  readonly checkpoint: string;
}

/** One stored key and its value, as the bytes LevelDB holds them (a backup's record). */
export type RawRecord = readonly [key: Uint8Array, value: Uint8Array];

/**
 * A consistent read of everything stored, as of the moment it was taken: writes committed after
 * it are not seen, and a commit is seen whole or not at all. Used for backups; it holds no lock,
 * so the writer goes on while it is read. Close it when done (it pins old data until then).
 */
export interface StoreSnapshot {
  readonly meta: LedgerMeta | undefined;
  readonly head: Head | undefined;
  readonly checkpoint: string | undefined;
  /** Every stored record in key order, at most `chunkRecordsMax` at a time. Call it once. */
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
  partyVouchers(party: string, afterKey: string | undefined, limit: number): Promise<PartyVoucherRow[]>;
  partySeqs(partyId: string): Promise<number[]>;

  /**
   * Streams every record of one sealed sublevel in key order, `chunkRecordsMax` at a time: its
   * key, and its value as the exact bytes stored (the state check hashes them unparsed).
   */
  sealedRecords(kind: SealedKind, chunkRecordsMax: number): AsyncIterable<readonly (readonly [key: string, value: Uint8Array])[]>;
  /** The first seq at or after `seq` that has stored receipt effects (a log cut short leaves them). */
  effectsFrom(seq: number): Promise<number | undefined>;

  merkleNode(key: string): Promise<Uint8Array | undefined>;
  merkleNodes(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;

  /**
   * Optional: builds a batch's writes ahead of its commit (the writer stages a batch while the one
   * before it is being written); `commit` of a batch with the same `entries` array then writes
   * them with its checkpoint. Staging writes nothing, and a staged batch never committed is
   * never written.
   */
  stage?(batch: Omit<CommitBatch, 'checkpoint'>): void;
  commit(batch: CommitBatch): Promise<void>;

  /** Takes a consistent snapshot of everything stored (see {@link StoreSnapshot}). */
  snapshot(): Promise<StoreSnapshot>;
}
