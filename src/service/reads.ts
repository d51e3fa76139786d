/**
 * The read side of docs/protocol.md §8 and §9: ledger facts, proofs, entries, parties, vouchers,
 * histories, trees and proof bundles, with the visibility rules. Everything read here is durable.
 * A read the caller may not make is `NOT_FOUND`, exactly as if the thing did not exist.
 */
import { maySeeVoucher, seesEveryVoucher, type Party, type VoucherStatus } from '../domain/index.js';
import type { LedgerInfo, WireVoucher } from '../domain/wire.js';

export type { LedgerInfo };
import { toHex } from '../ledger/hex.js';
import { consistencyProofFromSource, inclusionProofFromSource } from '../ledger/merkle.js';
import type { ListPlace, VoucherRecord } from '../store/port.js';
import type { LedgerService } from './ledger-service.js';
import { withStoredNodes, type ReadNodes } from './merkle-log.js';

export type ReadCode = 'NOT_FOUND' | 'MALFORMED_REQUEST';

export class ReadError extends Error {
  override readonly name = 'ReadError';
  constructor(
    readonly code: ReadCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Who is reading: an authenticated party, or nobody (public reads only). */
export interface Caller {
  readonly id: string;
  readonly role: Party['role'];
}

export interface EntryWithHash {
  entry: unknown;
  hash: string;
}

export interface TreeNode extends WireVoucher {
  children: TreeNode[];
}

export interface ProofBundle {
  ledger: LedgerInfo;
  checkpoint: string;
  voucherId: string;
  entries: (EntryWithHash & { inclusion: string[] })[];
  state: WireVoucher;
}

const seesEverything = (caller: Caller): boolean => seesEveryVoucher(caller.role);

/** §8 visibility (domain/visibility.ts): whether `caller` may see the voucher of `record`. */
const maySee = (caller: Caller, record: VoucherRecord | undefined): boolean => maySeeVoucher(caller.id, caller.role, record?.viewers);

const encodeCursor = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

const decodeCursor = (cursor: string): string => {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new ReadError('MALFORMED_REQUEST', 'cursor is not one this service issued');
  return Buffer.from(cursor, 'base64url').toString('utf8');
};

/**
 * A voucher-list cursor: the list's party and the place of the page's last row, as
 * `party NUL createdSeq NUL start` (12 and 13 lowercase hex digits), base64url.
 */
const LIST_CURSOR = /^([^\u0000]+)\u0000([0-9a-f]{12})\u0000([0-9a-f]{13})$/;

const listCursor = (party: string, place: ListPlace): string =>
  encodeCursor(`${party}\u0000${place.createdSeq.toString(16).padStart(12, '0')}\u0000${place.start.toString(16).padStart(13, '0')}`);

const listPlaceOf = (party: string, cursor: string): ListPlace => {
  const m = LIST_CURSOR.exec(decodeCursor(cursor));
  if (!m) throw new ReadError('MALFORMED_REQUEST', 'cursor is not one this service issued');
  if (m[1] !== party) throw new ReadError('MALFORMED_REQUEST', 'cursor belongs to another list');
  return { createdSeq: Number.parseInt(m[2]!, 16), start: BigInt(`0x${m[3]}`) };
};

const leafAt = (seq: number) => ({ level: 0, index: seq });

export class Reads {
  constructor(readonly service: LedgerService) {}

  get #store() {
    return this.service.store;
  }

  ledger(size = this.service.size): LedgerInfo {
    const m = this.service.meta;
    return {
      ledgerId: m.ledgerId,
      name: m.name,
      nodeKey: m.nodeKey,
      operatorKey: m.operatorKey,
      size,
      currency: m.currency,
      maxTenorDays: m.maxTenorDays,
    };
  }

  checkpoint(): string {
    return this.service.checkpoint;
  }

  #readNodes: ReadNodes = (at) => this.#store.treeNodes(at);

  async inclusion(seq: number, size = this.service.size): Promise<{ seq: number; treeSize: number; entryHash: string; hashes: string[] }> {
    if (size > this.service.size) throw new ReadError('NOT_FOUND', `the tree has ${this.service.size} entries, not ${size}`);
    if (seq >= size) throw new ReadError('NOT_FOUND', `no entry ${seq} in a tree of ${size}`);
    const leaf = await this.#store.treeNode(leafAt(seq));
    if (!leaf) throw new ReadError('NOT_FOUND', `no entry ${seq}`);
    const hashes = await withStoredNodes(size, this.#readNodes, (source) => inclusionProofFromSource(source, seq, size));
    return { seq, treeSize: size, entryHash: toHex(leaf), hashes: hashes.map(toHex) };
  }

  async consistency(from: number, to = this.service.size): Promise<{ from: number; to: number; hashes: string[] }> {
    if (from > to) throw new ReadError('MALFORMED_REQUEST', `from (${from}) is greater than to (${to})`);
    if (to > this.service.size) throw new ReadError('NOT_FOUND', `the tree has ${this.service.size} entries, not ${to}`);
    const hashes = await withStoredNodes(to, this.#readNodes, (source) => consistencyProofFromSource(source, from, to));
    return { from, to, hashes: hashes.map(toHex) };
  }

  /** Each entry's stored text (its JCS, the bytes that were hashed) and hash, or NOT_FOUND. */
  async #storedEntries(seqs: readonly number[]): Promise<{ text: string; hash: string }[]> {
    const texts = await Promise.all(seqs.map((seq) => this.#store.entry(seq)));
    const leaves = await this.#store.treeNodes(seqs.map(leafAt));
    return seqs.map((seq, i) => {
      const text = texts[i];
      const leaf = leaves[i];
      if (text === undefined || !leaf) throw new ReadError('NOT_FOUND', `no entry ${seq}`);
      return { text, hash: toHex(leaf) };
    });
  }

  async #hashedEntries(seqs: readonly number[]): Promise<EntryWithHash[]> {
    return (await this.#storedEntries(seqs)).map(({ text, hash }) => ({ entry: JSON.parse(text) as unknown, hash }));
  }

  /**
   * A page of the raw log, `{"entries":[{"entry":…,"hash":…},…],"next":…}`, as JSON text. Each
   * stored entry text is the entry's JCS, so it is spliced in as it is rather than parsed and
   * serialized again (an auditor reads the whole log through here): the bytes are the ones
   * JSON.stringify gives for the parsed page (JCS orders keys and writes strings and numbers as
   * ECMAScript's JSON.stringify does; a test holds the two equal).
   */
  async entriesJson(caller: Caller, from: number, limit: number): Promise<string> {
    if (!seesEverything(caller)) throw new ReadError('NOT_FOUND', 'the raw log is for the operator and auditors');
    const size = this.service.size;
    const end = Math.min(size, from + limit);
    const seqs: number[] = [];
    for (let s = from; s < end; s += 1) seqs.push(s);
    const items = (await this.#storedEntries(seqs)).map(({ text, hash }) => `{"entry":${text},"hash":"${hash}"}`);
    return `{"entries":[${items.join(',')}],"next":${end < size ? end : 'null'}}`;
  }

  async entry(caller: Caller, seq: number): Promise<EntryWithHash> {
    if (!seesEverything(caller)) throw new ReadError('NOT_FOUND', 'the raw log is for the operator and auditors');
    if (seq >= this.service.size) throw new ReadError('NOT_FOUND', `no entry ${seq}`);
    const [entry] = await this.#hashedEntries([seq]);
    if (!entry) throw new ReadError('NOT_FOUND', `no entry ${seq}`);
    return entry;
  }

  async parties(cursor: string | undefined, limit: number): Promise<{ items: Party[]; next: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const page = await this.#store.parties(after, limit + 1);
    const items = page.slice(0, limit);
    const last = items[items.length - 1];
    return { items, next: page.length > limit && last ? encodeCursor(last.id) : null };
  }

  async party(id: string): Promise<Party> {
    const party = await this.service.cache.party(id);
    if (!party) throw new ReadError('NOT_FOUND', `no party ${id}`);
    return party;
  }

  async partyVouchers(
    caller: Caller,
    partyId: string,
    statuses: readonly VoucherStatus[] | undefined,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: WireVoucher[]; next: string | null }> {
    if (caller.id !== partyId && !seesEverything(caller)) throw new ReadError('NOT_FOUND', `no voucher list for ${partyId} that you may read`);
    let after = cursor === undefined ? undefined : listPlaceOf(partyId, cursor);
    const wanted = statuses && new Set<string>(statuses);
    const ids: string[] = [];
    let last: ListPlace | undefined;
    let more = false;
    // Scan in chunks until the page is full, skipping rows of other statuses.
    for (;;) {
      const rows = await this.#store.partyVouchers(partyId, after, Math.max(limit, 64));
      for (const row of rows) {
        if (wanted && !wanted.has(row.status)) {
          after = row;
          continue;
        }
        if (ids.length === limit) {
          more = true;
          break;
        }
        ids.push(row.voucherId);
        last = row;
        after = row;
      }
      if (more || rows.length < Math.max(limit, 64)) break;
    }
    const records = await Promise.all(ids.map((id) => this.service.cache.voucher(id)));
    const items = records.map((r, i) => {
      if (!r) throw new Error(`voucher ${ids[i]} is listed but missing`);
      return r.state;
    });
    return { items, next: more && last !== undefined ? listCursor(partyId, last) : null };
  }

  /** A voucher's record if the caller may see it; `NOT_FOUND` otherwise. */
  async #visible(caller: Caller, id: string): Promise<VoucherRecord> {
    const record = await this.service.cache.voucher(id);
    if (!record || !maySee(caller, record)) {
      throw new ReadError('NOT_FOUND', `no voucher ${id} that you may see`);
    }
    return record;
  }

  async voucher(caller: Caller, id: string): Promise<WireVoucher> {
    return (await this.#visible(caller, id)).state;
  }

  /** The voucher and its ancestors, root first. */
  async #lineage(record: VoucherRecord): Promise<VoucherRecord[]> {
    const chain = [record];
    let parentId = record.state.parentId;
    while (parentId !== null) {
      const parent = await this.service.cache.voucher(parentId);
      if (!parent) throw new Error(`ancestor ${parentId} is missing`);
      chain.unshift(parent);
      parentId = parent.state.parentId;
    }
    return chain;
  }

  /** Seqs of the entries that touched the voucher or its ancestors, below `size`. */
  async #historySeqs(record: VoucherRecord, size: number): Promise<number[]> {
    const lineage = await this.#lineage(record);
    const seqs = lineage.flatMap((r) => r.seqs);
    return [...new Set(seqs)].filter((s) => s < size).sort((a, b) => a - b);
  }

  async history(caller: Caller, id: string): Promise<{ entries: EntryWithHash[] }> {
    const record = await this.#visible(caller, id);
    return { entries: await this.#hashedEntries(await this.#historySeqs(record, this.service.size)) };
  }

  async tree(caller: Caller, id: string): Promise<{ root: TreeNode }> {
    const record = await this.#visible(caller, id);
    const root = await this.service.cache.voucher(record.state.rootId);
    if (!root) throw new Error(`root ${record.state.rootId} is missing`);
    // Viewers propagate to ancestors, so a voucher the caller may not see has no visible descendant.
    const build = async (r: VoucherRecord): Promise<TreeNode> => {
      const children = (await Promise.all(r.children.map((c) => this.service.cache.voucher(c)))).filter(
        (c): c is VoucherRecord => c !== undefined && maySee(caller, c),
      );
      return { ...r.state, children: await Promise.all(children.map(build)) };
    };
    return { root: await build(root) };
  }

  /** §9: everything a bank needs to check a voucher trusting only the ledger id. */
  async proof(caller: Caller, id: string): Promise<ProofBundle> {
    await this.#visible(caller, id);
    // Take the checkpoint first; if the voucher changed after it, take the newer checkpoint.
    for (let attempt = 0; ; attempt += 1) {
      const size = this.service.size;
      const checkpoint = this.service.checkpoint;
      const record = await this.service.cache.voucher(id);
      if (!record) throw new ReadError('NOT_FOUND', `no voucher ${id}`);
      if (record.state.updatedSeq >= size) {
        if (attempt < 10) continue;
        throw new Error('the voucher keeps changing faster than checkpoints can be read');
      }
      const history = await this.#historySeqs(record, size);
      const historyEntries = await this.#hashedEntries(history);
      const named = new Set<string>(['operator']);
      for (const { entry } of historyEntries) {
        const op = (entry as { op: { payload: Record<string, unknown>; signatures: { signer: string }[] } }).op;
        for (const s of op.signatures) named.add(s.signer);
        for (const field of ['issuer', 'to', 'bank'] as const) {
          const v = op.payload[field];
          if (typeof v === 'string') named.add(v);
        }
      }
      const partySeqs = (await Promise.all([...named].map((p) => this.#store.partySeqs(p)))).flat();
      const seqs = [...new Set([0, ...partySeqs.filter((s) => s < size), ...history])].sort((a, b) => a - b);
      const entries = await this.#hashedEntries(seqs);
      const proofs = await withStoredNodes(size, this.#readNodes, (source) => seqs.map((seq) => inclusionProofFromSource(source, seq, size)));
      return {
        ledger: this.ledger(size),
        checkpoint,
        voucherId: id,
        entries: entries.map((e, i) => ({ ...e, inclusion: (proofs[i] ?? []).map(toHex) })),
        state: record.state,
      };
    }
  }
}
