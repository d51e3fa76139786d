/**
 * The storage port's contract: what the service relies on from any backend of `Store`
 * (src/store/port.ts). A backend's test file calls `storeContract` with a factory that makes an
 * empty, opened store, a way to close and open it again on the same data, and a way to remove it.
 *
 * The batches are written by hand, not through the service, so that each case names exactly the
 * records it expects back, in the port's words only (seqs, list places, tree nodes): nothing here
 * knows how a backend lays them out.
 */
import { describe, expect, it } from 'vitest';
import type { Party } from '../../src/domain/index.js';
import type { WireVoucher } from '../../src/domain/wire.js';
import {
  ANY_HEAD,
  emptyBatch,
  HeadMovedError,
  SEALED_KINDS,
  type CommitBatch,
  type Head,
  type LedgerMeta,
  type Listing,
  type PartyVoucherRow,
  type RawRecord,
  type SealedKind,
  type StateSeal,
  type Store,
  type TreeNode,
  type VoucherRecord,
} from '../../src/store/port.js';

export interface StoreUnderTest {
  readonly store: Store;
  /** Closes `store` and opens the same data again (a restart). */
  reopen(): Promise<Store>;
  /** Closes whatever is open and removes the data. */
  dispose(): Promise<void>;
}

/** A row of `party`'s voucher list at (createdSeq, start). */
const row = (party: string, createdSeq: number, start: bigint, voucherId: string, status: string): Listing => ({ party, createdSeq, start, voucherId, status });
const place = (party: string, createdSeq: number, start: bigint) => ({ party, createdSeq, start });
/** What `partyVouchers` answers for a row (the party is the list's). */
const listed = ({ party: _party, ...r }: Listing): PartyVoucherRow => r;
const node = (level: number, index: number, ...bytes: number[]): TreeNode => ({ level, index, hash: Uint8Array.of(...bytes) });

const hex = (c: string): string => c.repeat(64);

const META: LedgerMeta = {
  ledgerId: 'ledger-contract',
  name: '合同测试账本',
  nodeKey: hex('1'),
  operatorKey: hex('2'),
  currency: 'CNY',
  maxTenorDays: 365,
  createdAt: '2026-12-01T00:00:00.000Z',
};

const party = (id: string, role: Party['role'], name = `${id} 有限公司`, status: Party['status'] = 'active'): Party => ({
  id,
  name,
  role,
  publicKey: `${id}-key`.padEnd(64, '0'),
  status,
});

const voucher = (id: string, o: Partial<WireVoucher> & { readonly seqs?: number[]; readonly viewers?: string[] } = {}): VoucherRecord => {
  const { seqs = [1], viewers = ['CORE', 'SUP'], ...state } = o;
  return {
    state: {
      id,
      rootId: id,
      parentId: null,
      issuer: 'CORE',
      holder: 'SUP',
      offeredTo: null,
      amount: '1000000',
      range: { start: '0', end: '1000000' },
      currency: 'CNY',
      dueDate: '2027-03-01',
      invoiceIds: ['INV-1'],
      status: 'active',
      pledge: null,
      settlement: null,
      createdSeq: seqs[0] ?? 1,
      updatedSeq: seqs.at(-1) ?? 1,
      ...state,
    },
    viewers,
    seqs,
    children: [],
  };
};

/** An entry at `seq` whose text, op id and effects all name the seq, so a mix-up shows. */
const entry = (seq: number, tag = 'e') => ({
  seq,
  text: `{"seq":${seq},"tag":"${tag}"}`,
  hash: `${tag}${seq}`.padStart(64, '7'),
  opId: `${tag}${seq.toString(16)}`.padStart(64, 'f'),
  effects: `{"n":${seq},"tag":"${tag}"}`,
});

const headAt = (size: number, tag = 'h'): Head => ({
  size,
  lastHash: `${tag}${size}`.padStart(64, 'a'),
  lastTime: `2026-12-01T00:00:${String(size % 60).padStart(2, '0')}.000Z`,
});
const sealAt = (size: number, tag = 's'): StateSeal => ({
  size,
  root: `${tag}${size}r`.padStart(64, 'b'),
  digest: `${tag}${size}d`.padStart(64, 'c'),
  mac: `${tag}${size}m`.padStart(64, 'd'),
});

/**
 * A batch of the given entries with nothing else, its head and seal at the end of them, over the
 * head `headAt` gives the seq of its first entry (none before seq 0).
 */
const batchOf = (entries: readonly ReturnType<typeof entry>[], more: Partial<CommitBatch> = {}): CommitBatch => {
  const size = (entries.at(-1)?.seq ?? -1) + 1;
  const first = entries[0]?.seq ?? size;
  return {
    ...emptyBatch(first === 0 ? undefined : headAt(first), headAt(size), `ledger-contract\n${size}\n`, sealAt(size)),
    entries,
    treeNodes: entries.map((e) => node(0, e.seq, 0xee, e.seq & 0xff, e.seq >> 8)),
    ...more,
  };
};

/** Runs `check` on the store as committed, then again after a reopen (durability across close and open). */
const bothWays = async (s: StoreUnderTest, check: (store: Store) => Promise<void>): Promise<void> => {
  await check(s.store);
  await check(await s.reopen());
};

/** Bytes as a plain array: a backend may answer a Buffer or a Uint8Array for the same bytes. */
const bytesOf = (b: Uint8Array | undefined): number[] | undefined => (b === undefined ? undefined : [...b]);

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Every row of a party's voucher list, fetched `pageSize` at a time. */
const pageThrough = async (store: Store, partyId: string, pageSize: number): Promise<PartyVoucherRow[]> => {
  const rows: PartyVoucherRow[] = [];
  let after: PartyVoucherRow | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await store.partyVouchers(partyId, after, pageSize);
    expect(page.length).toBeLessThanOrEqual(pageSize);
    if (page.length === 0) return rows;
    rows.push(...page);
    after = page.at(-1);
  }
  throw new Error('paging did not end');
};

/** A first batch that writes every field of CommitBatch (the genesis-like commit). */
const FIRST: CommitBatch = batchOf([entry(0), entry(1)], {
  meta: META,
  parties: [party('OPERATOR', 'operator'), party('CORE', 'core'), party('SUP', 'supplier')],
  keyOwners: [
    [party('OPERATOR', 'operator').publicKey, 'OPERATOR'],
    [party('CORE', 'core').publicKey, 'CORE'],
    [party('SUP', 'supplier').publicKey, 'SUP'],
  ],
  vouchers: [voucher('V1', { seqs: [1] })],
  invoicesUsed: [
    ['INV-1', 'V1'],
    ['INV-2', 'V1'],
  ],
  listed: [row('CORE', 1, 0n, 'V1', 'active'), row('SUP', 1, 0n, 'V1', 'active')],
  partySeqs: [
    ['OPERATOR', 0],
    ['CORE', 1],
    ['SUP', 1],
  ],
  treeNodes: [node(0, 0, 1, 2, 3), node(0, 1, 4, 5, 6), node(1, 0, 7, 8, 9, 0)],
});

/** Asserts that every record FIRST wrote reads back as written. */
const expectFirst = async (store: Store): Promise<void> => {
  expect(await store.meta()).toEqual(META);
  expect(await store.head()).toEqual(FIRST.head);
  expect(await store.checkpoint()).toBe(FIRST.checkpoint);
  expect(await store.seal()).toEqual(FIRST.seal);
  for (const e of FIRST.entries) {
    expect(await store.entry(e.seq)).toBe(e.text);
    expect(await store.effects(e.seq)).toBe(e.effects);
    expect(await store.seqOfOp(e.opId)).toBe(e.seq);
  }
  for (const p of FIRST.parties) expect(await store.party(p.id)).toEqual(p);
  for (const [publicKey, owner] of FIRST.keyOwners) expect(await store.keyOwner(publicKey)).toBe(owner);
  expect(await store.voucher('V1')).toEqual(FIRST.vouchers[0]);
  expect(await store.invoiceRoot('INV-1')).toBe('V1');
  expect(await store.invoiceRoot('INV-2')).toBe('V1');
  expect(await store.partyVouchers('CORE', undefined, 10)).toEqual([listed(row('CORE', 1, 0n, 'V1', 'active'))]);
  expect(await store.partyVouchers('SUP', undefined, 10)).toEqual([listed(row('SUP', 1, 0n, 'V1', 'active'))]);
  expect(await store.partySeqs('OPERATOR')).toEqual([0]);
  expect(await store.partySeqs('CORE')).toEqual([1]);
  for (const n of FIRST.treeNodes) expect(bytesOf(await store.treeNode(n))).toEqual([...n.hash]);
};

export const storeContract = (name: string, make: () => Promise<StoreUnderTest>): void => {
  describe(`storage port contract: ${name}`, () => {
    /** Runs `body` on a fresh store and removes it afterwards, whatever happens. */
    const withStore = async (body: (s: StoreUnderTest) => Promise<void>): Promise<void> => {
      const s = await make();
      try {
        await body(s);
      } finally {
        await s.dispose();
      }
    };

    it('an empty store reads nothing', () =>
      withStore(async ({ store }) => {
        expect(await store.meta()).toBeUndefined();
        expect(await store.head()).toBeUndefined();
        expect(await store.checkpoint()).toBeUndefined();
        expect(await store.seal()).toBeUndefined();
        expect(await store.entry(0)).toBeUndefined();
        expect(await store.entries(0, 10)).toEqual([]);
        expect(await collect(store.allEntries())).toEqual([]);
        expect((await collect(store.opIds())).flat()).toEqual([]);
        expect(await store.effectsFrom(0)).toBeUndefined();
        expect(await store.parties(undefined, 10)).toEqual([]);
        expect(await store.partyVouchers('CORE', undefined, 10)).toEqual([]);
        for (const kind of SEALED_KINDS) expect((await collect(store.sealedRecords(kind, 10))).flat()).toEqual([]);
      }));

    it('a commit is visible whole once it resolves, every field of the batch, and reads the same after a reopen', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        await expectFirst(s.store);
        const again = await s.reopen();
        await expectFirst(again);
        // Nothing more than was written: the neighbours of each record are absent.
        expect(await again.entry(2)).toBeUndefined();
        expect(await again.effects(2)).toBeUndefined();
        expect(await again.party('NOBODY')).toBeUndefined();
        expect(await again.keyOwner(hex('9'))).toBeUndefined();
        expect(await again.voucher('V2')).toBeUndefined();
        expect(await again.invoiceRoot('INV-3')).toBeUndefined();
        expect(await again.treeNode({ level: 1, index: 1 })).toBeUndefined();
        expect(await again.seqOfOp(hex('0'))).toBeUndefined();
        expect(await again.partySeqs('NOBODY')).toEqual([]);
      }));

    it('a later commit replaces records, frees invoices, deletes list rows, keeps the meta, and moves head, seal and checkpoint', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        const coreRenamed = party('CORE', 'core', '核心企业（更名）', 'suspended');
        const split = voucher('V1', { status: 'split', seqs: [1, 2], viewers: ['CORE', 'SUP', 'BANK'] });
        const second = batchOf([entry(2)], {
          parties: [coreRenamed],
          keyOwners: [[hex('7'), 'CORE']],
          vouchers: [split, voucher('V1a', { rootId: 'V1', parentId: 'V1', seqs: [2] })],
          invoicesFreed: ['INV-2'],
          unlisted: [place('SUP', 1, 0n)],
          listed: [row('CORE', 1, 0n, 'V1', 'split'), row('SUP', 2, 0n, 'V1a', 'active')],
          partySeqs: [['CORE', 2]],
        });
        await s.store.commit(second);
        await bothWays(s, async (store) => {
          expect(await store.meta()).toEqual(META);
          expect(await store.head()).toEqual(second.head);
          expect(await store.seal()).toEqual(second.seal);
          expect(await store.checkpoint()).toBe(second.checkpoint);
          expect(await store.entry(1)).toBe(entry(1).text);
          expect(await store.entry(2)).toBe(entry(2).text);
          expect(await store.party('CORE')).toEqual(coreRenamed);
          expect(await store.party('SUP')).toEqual(FIRST.parties[2]);
          expect(await store.keyOwner(hex('7'))).toBe('CORE');
          expect(await store.keyOwner(party('CORE', 'core').publicKey)).toBe('CORE');
          expect(await store.voucher('V1')).toEqual(split);
          expect((await store.voucher('V1a'))?.state.parentId).toBe('V1');
          expect(await store.invoiceRoot('INV-1')).toBe('V1');
          expect(await store.invoiceRoot('INV-2')).toBeUndefined();
          expect(await store.partyVouchers('CORE', undefined, 10)).toEqual([listed(row('CORE', 1, 0n, 'V1', 'split'))]);
          expect(await store.partyVouchers('SUP', undefined, 10)).toEqual([listed(row('SUP', 2, 0n, 'V1a', 'active'))]);
          expect(await store.partySeqs('CORE')).toEqual([1, 2]);
        });
      }));

    it('entries(from, limit) and allEntries(from) return stored entries in seq order, within their bounds', () =>
      withStore(async (s) => {
        // Three commits, 40 entries: seqs cross 9→10, 15→16 and 31→32, where text and hex orders differ from numeric.
        await s.store.commit(batchOf(range(0, 11).map((n) => entry(n))));
        await s.store.commit(batchOf(range(11, 17).map((n) => entry(n))));
        await s.store.commit(batchOf(range(17, 40).map((n) => entry(n))));
        await bothWays(s, async (store) => {
          const all = range(0, 40).map((n) => ({ seq: n, text: entry(n).text }));
          expect(await store.entries(0, 1000)).toEqual(all);
          expect(await store.entries(9, 3)).toEqual(all.slice(9, 12));
          expect(await store.entries(15, 2)).toEqual(all.slice(15, 17));
          expect(await store.entries(38, 10)).toEqual(all.slice(38));
          expect(await store.entries(40, 10)).toEqual([]);
          expect(await store.entries(0, 1)).toEqual(all.slice(0, 1));
          expect(await collect(store.allEntries())).toEqual(all);
          expect(await collect(store.allEntries(31))).toEqual(all.slice(31));
          expect(await collect(store.allEntries(40))).toEqual([]);
        });
      }));

    it('opIds() streams every stored op id exactly once, and seqOfOp finds each', () =>
      withStore(async (s) => {
        // More ids than one chunk of the LevelDB adapter (4096), over several commits.
        const n = 5000;
        for (let from = 0; from < n; from += 1250) await s.store.commit(batchOf(range(from, from + 1250).map((k) => entry(k))));
        await bothWays(s, async (store) => {
          const chunks = await collect(store.opIds());
          expect(chunks.every((c) => c.length > 0)).toBe(true);
          const ids = chunks.flat();
          expect(ids.length).toBe(n);
          expect(new Set(ids)).toEqual(new Set(range(0, n).map((k) => entry(k).opId)));
          for (const k of [0, 1, 4095, 4096, 4999]) expect(await store.seqOfOp(entry(k).opId)).toBe(k);
          expect(await store.seqOfOp(entry(n).opId)).toBeUndefined();
        });
      }));

    it("partyVouchers pages through one party's list in (createdSeq, start) order, never repeating or skipping a row, whatever the page size", () =>
      withStore(async (s) => {
        // createdSeq 9 and 10, starts 9 and 10 and 255/256: the list order is numeric. A party whose
        // id extends another's ('SUP' and 'SUP2') must not leak into it.
        const mine: Listing[] = [
          row('SUP', 10, 0n, 'V10', 'active'),
          row('SUP', 9, 256n, 'V9c', 'pledged'),
          row('SUP', 9, 9n, 'V9a', 'offered'),
          row('SUP', 9, 10n, 'V9b', 'settled'),
          row('SUP', 9, 255n, 'V9d', 'split'),
          row('SUP', 300, 0n, 'V300', 'cancelled'),
          row('SUP', 2, 0n, 'V2', 'active'),
        ];
        const others: Listing[] = [row('SUP2', 1, 0n, 'X1', 'active'), row('SU', 1, 0n, 'X2', 'active'), row('CORE', 9, 9n, 'X3', 'active')];
        await s.store.commit(batchOf([entry(0)], { listed: [...mine.slice(0, 4), ...others] }));
        await s.store.commit(batchOf([entry(1)], { listed: mine.slice(4) }));
        const expected = ['V2', 'V9a', 'V9b', 'V9d', 'V9c', 'V10', 'V300'];
        const statusOf = new Map(mine.map((r) => [r.voucherId, r.status]));
        const placeOf = new Map(mine.map((r) => [r.voucherId, [r.createdSeq, r.start]]));
        await bothWays(s, async (store) => {
          for (const pageSize of [1, 2, 3, 7, 100]) {
            const rows = await pageThrough(store, 'SUP', pageSize);
            expect(rows.map((r) => r.voucherId)).toEqual(expected);
            expect(rows.map((r) => r.status)).toEqual(expected.map((id) => statusOf.get(id)));
            expect(rows.map((r) => [r.createdSeq, r.start])).toEqual(expected.map((id) => placeOf.get(id)));
          }
          expect((await pageThrough(store, 'SUP2', 1)).map((r) => r.voucherId)).toEqual(['X1']);
          expect((await pageThrough(store, 'SU', 1)).map((r) => r.voucherId)).toEqual(['X2']);
        });
        // Deleting rows and changing a status between pages: the pages after the cursor see the change, and no row twice.
        const store = await s.reopen();
        const first = await store.partyVouchers('SUP', undefined, 3);
        expect(first.map((r) => r.voucherId)).toEqual(['V2', 'V9a', 'V9b']);
        await store.commit(
          batchOf([entry(2)], {
            unlisted: [place('SUP', 9, 255n), place('SUP', 2, 0n)],
            listed: [row('SUP', 10, 0n, 'V10', 'pledged')],
          }),
        );
        const rest = await store.partyVouchers('SUP', first.at(-1), 10);
        expect(rest.map((r) => [r.voucherId, r.status])).toEqual([
          ['V9c', 'pledged'],
          ['V10', 'pledged'],
          ['V300', 'cancelled'],
        ]);
        expect((await pageThrough(store, 'SUP', 2)).map((r) => r.voucherId)).toEqual(['V9a', 'V9b', 'V9c', 'V10', 'V300']);
      }));

    it('parties(afterId, limit) pages through every party in id order; partySeqs are in seq order', () =>
      withStore(async (s) => {
        const ids = ['B2', 'A1', 'C3', 'A10', 'B1'];
        await s.store.commit(
          batchOf([entry(0)], {
            parties: ids.map((id) => party(id, 'supplier')),
            partySeqs: [
              ['A1', 16],
              ['A1', 9],
              ['A1', 256],
              ['A10', 10],
              ['A1', 15],
            ],
          }),
        );
        const store = await s.reopen();
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.parties(after, 2);
          expect(page.length).toBeLessThanOrEqual(2);
          if (page.length === 0) break;
          seen.push(...page.map((p) => p.id));
          after = page.at(-1)!.id;
        }
        expect(seen).toEqual([...ids].sort());
        expect(await store.parties('B1', 10)).toEqual([party('B2', 'supplier'), party('C3', 'supplier')]);
        expect(await store.partySeqs('A1')).toEqual([9, 15, 16, 256]);
        expect(await store.partySeqs('A10')).toEqual([10]);
      }));

    it('treeNodes(at) answers each node in the order asked, undefined where none is stored', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        const store = await s.reopen();
        const at = (level: number, index: number) => ({ level, index });
        expect((await store.treeNodes([at(1, 0), at(0, 7), at(0, 0), at(0, 1)])).map(bytesOf)).toEqual([[7, 8, 9, 0], undefined, [1, 2, 3], [4, 5, 6]]);
        expect(await store.treeNodes([])).toEqual([]);
        // Level and index are one node's address: (1, 0) and (0, 1) are different nodes, and a
        // large index reads as itself.
        expect(await store.treeNode(at(2, 0))).toBeUndefined();
        expect(await store.treeNode(at(0, 2 ** 40))).toBeUndefined();
      }));

    it('sealedRecords(kind) yields exactly the sealed records, in key order, values as the bytes the seal hashes', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        const bank = party('BANK', 'bank');
        const v2 = voucher('V2', { seqs: [2], invoiceIds: ['INV-3'] });
        await s.store.commit(
          batchOf([entry(2)], {
            parties: [bank],
            keyOwners: [[bank.publicKey, 'BANK']],
            vouchers: [v2],
            invoicesUsed: [['INV-3', 'V2']],
            invoicesFreed: ['INV-2'],
          }),
        );
        // The state seal hashes JSON.stringify of parties and voucher records, and the UTF-8 strings of key owners and invoices.
        const expected: Record<SealedKind, [string, string][]> = {
          parties: [bank, ...FIRST.parties].map((p) => [p.id, JSON.stringify(p)] as [string, string]),
          keyOwners: [[bank.publicKey, 'BANK'], ...FIRST.keyOwners.map(([k, o]) => [k, o] as [string, string])],
          vouchers: [FIRST.vouchers[0]!, v2].map((v) => [v.state.id, JSON.stringify(v)] as [string, string]),
          invoices: [
            ['INV-1', 'V1'],
            ['INV-3', 'V2'],
          ],
        };
        await bothWays(s, async (store) => {
          for (const kind of SEALED_KINDS) {
            const want = [...expected[kind]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
            for (const chunkMax of [1, 2, 1000]) {
              const chunks = await collect(store.sealedRecords(kind, chunkMax));
              expect(chunks.every((c) => c.length >= 1 && c.length <= chunkMax)).toBe(true);
              const got = chunks.flat();
              expect(got.every(([, v]) => v instanceof Uint8Array)).toBe(true);
              expect(got.map(([k, v]) => [k, text(v)])).toEqual(want);
              expect(got.map(([, v]) => [...v])).toEqual(want.map(([, v]) => [...utf8(v)]));
            }
          }
        });
      }));

    it('effectsFrom(seq) is the first seq at or after seq with stored receipt effects', () =>
      withStore(async (s) => {
        await s.store.commit(batchOf(range(0, 20).map((n) => entry(n))));
        const store = await s.reopen();
        expect(await store.effectsFrom(0)).toBe(0);
        expect(await store.effectsFrom(9)).toBe(9);
        expect(await store.effectsFrom(16)).toBe(16);
        expect(await store.effectsFrom(19)).toBe(19);
        expect(await store.effectsFrom(20)).toBeUndefined();
        expect(await store.effectsFrom(1_000_000)).toBeUndefined();
      }));

    it('effectsFrom(seq) skips seqs that hold no effects to the next that does', () =>
      withStore(async (s) => {
        // Entries 5 to 9 and 300 only: the first stored effects at or after 0 are those of 5.
        await s.store.commit(
          batchOf(
            [...range(5, 10), 300].map((n) => entry(n)),
            { expectedHead: undefined },
          ),
        );
        await bothWays(s, async (store) => {
          expect(await store.effectsFrom(0)).toBe(5);
          expect(await store.effectsFrom(7)).toBe(7);
          expect(await store.effectsFrom(10)).toBe(300);
          expect(await store.effectsFrom(301)).toBeUndefined();
        });
      }));

    it('a snapshot reads the store as it was when taken, while a later commit lands', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        const readAll = async (snap: Awaited<ReturnType<Store['snapshot']>>): Promise<RawRecord[]> => {
          try {
            return (await collect(snap.records(3))).flat();
          } finally {
            await snap.close();
          }
        };
        const hold = await s.store.snapshot();
        const reference = await readAll(await s.store.snapshot());
        const second = batchOf([entry(2, 'late')], {
          parties: [party('CORE', 'core', '快照之后')],
          vouchers: [voucher('V9', { seqs: [2] })],
          invoicesFreed: ['INV-1'],
        });
        await s.store.commit(second);
        // The store itself has moved on.
        expect(await s.store.head()).toEqual(second.head);
        expect(hold.meta).toEqual(META);
        expect(hold.head).toEqual(FIRST.head);
        expect(hold.checkpoint).toBe(FIRST.checkpoint);
        const held = await readAll(hold);
        expect(held.length).toBeGreaterThan(0);
        expect(held).toEqual(reference);
        // A snapshot taken after the commit does see it, so the comparison above can tell them apart.
        const after = await s.store.snapshot();
        expect(after.head).toEqual(second.head);
        expect(after.checkpoint).toBe(second.checkpoint);
        const now = await readAll(after);
        expect(now).not.toEqual(reference);
        const values = (records: RawRecord[]) => records.map(([, v]) => text(v));
        expect(values(now)).toContain(entry(2, 'late').text);
        expect(values(held)).not.toContain(entry(2, 'late').text);
      }));

    it('a commit that fails leaves nothing of itself, and the store goes on', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        // Every field is well formed except the seal, which no store can encode (a bigint in a
        // JSON record, and a cycle): the entries, records and indexes before it must not land.
        const cyclic: Record<string, unknown> = { size: 3n };
        cyclic.self = cyclic;
        const bad = batchOf([entry(2, 'bad')], {
          parties: [party('CORE', 'core', '不应写入')],
          keyOwners: [[hex('8'), 'CORE']],
          vouchers: [voucher('V1', { status: 'settled', seqs: [1, 2] }), voucher('VBAD', { seqs: [2] })],
          invoicesUsed: [['INV-BAD', 'VBAD']],
          invoicesFreed: ['INV-1'],
          listed: [row('SUP', 2, 0n, 'VBAD', 'active')],
          unlisted: [place('CORE', 1, 0n)],
          partySeqs: [['SUP', 2]],
          treeNodes: [node(0, 2, 9)],
          seal: cyclic as unknown as StateSeal,
        });
        await expect(s.store.commit(bad)).rejects.toThrow();
        const unchanged = async (store: Store) => {
          await expectFirst(store);
          expect(await store.entry(2)).toBeUndefined();
          expect(await store.effects(2)).toBeUndefined();
          expect(await store.effectsFrom(2)).toBeUndefined();
          expect(await store.seqOfOp(entry(2, 'bad').opId)).toBeUndefined();
          expect(await store.keyOwner(hex('8'))).toBeUndefined();
          expect(await store.voucher('VBAD')).toBeUndefined();
          expect(await store.invoiceRoot('INV-BAD')).toBeUndefined();
          expect(await store.partySeqs('SUP')).toEqual([1]);
          expect(await store.treeNode({ level: 0, index: 2 })).toBeUndefined();
        };
        await unchanged(s.store);
        // A good commit after the failed one writes only itself.
        const good = batchOf([entry(2, 'good')]);
        await s.store.commit(good);
        const store = await s.reopen();
        expect(await store.entry(2)).toBe(entry(2, 'good').text);
        expect(await store.head()).toEqual(good.head);
        expect(await store.voucher('VBAD')).toBeUndefined();
        expect(await store.party('CORE')).toEqual(FIRST.parties[1]);
        expect(await store.invoiceRoot('INV-1')).toBe('V1');
        expect((await collect(store.opIds())).flat().sort()).toEqual([entry(0).opId, entry(1).opId, entry(2, 'good').opId].sort());
      }));

    it('a commit writes only over the head it expects: another head, or entries on an empty store, are refused and write nothing', () =>
      withStore(async (s) => {
        // On an empty store only a batch that expects no head may land.
        const early = batchOf([entry(0, 'early')], { expectedHead: headAt(0) });
        await expect(s.store.commit(early)).rejects.toBeInstanceOf(HeadMovedError);
        expect(await s.store.head()).toBeUndefined();
        expect(await s.store.entry(0)).toBeUndefined();
        await s.store.commit(FIRST);
        // A second genesis, a stale head (same size, another hash), and a head from the future.
        const stale = { ...FIRST.head, lastHash: hex('e') };
        for (const expectedHead of [undefined, stale, headAt(1), headAt(3)]) {
          const refused = batchOf([entry(2, 'refused')], {
            expectedHead,
            vouchers: [voucher('VX', { seqs: [2] })],
            listed: [row('SUP', 2, 0n, 'VX', 'active')],
          });
          const err = await s.store.commit(refused).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(HeadMovedError);
          expect((err as HeadMovedError).found).toEqual(FIRST.head);
        }
        await bothWays(s, async (store) => {
          await expectFirst(store);
          expect(await store.entry(2)).toBeUndefined();
          expect(await store.voucher('VX')).toBeUndefined();
          expect(await store.seqOfOp(entry(2, 'refused').opId)).toBeUndefined();
        });
        // The head a refused commit left is the one the next commit extends, after a reopen too.
        const store = await s.reopen();
        await store.commit(batchOf([entry(2)]));
        expect(await store.head()).toEqual(headAt(3));
        await expect(store.commit(batchOf([entry(3)], { expectedHead: headAt(2) }))).rejects.toBeInstanceOf(HeadMovedError);
        await store.commit(batchOf([entry(3)]));
        expect(await store.entry(3)).toBe(entry(3).text);
      }));

    it('a repair (ANY_HEAD) writes over whatever head is stored', () =>
      withStore(async (s) => {
        await s.store.commit(FIRST);
        const repaired = { ...batchOf([]), expectedHead: ANY_HEAD, head: headAt(2, 'r'), seal: sealAt(2, 'r'), checkpoint: 'repaired\n' } satisfies CommitBatch;
        await s.store.commit(repaired);
        await bothWays(s, async (store) => {
          expect(await store.head()).toEqual(headAt(2, 'r'));
          expect(await store.seal()).toEqual(sealAt(2, 'r'));
          expect(await store.checkpoint()).toBe('repaired\n');
        });
        const store = await s.reopen();
        await expect(store.commit(batchOf([entry(2)]))).rejects.toBeInstanceOf(HeadMovedError);
        await store.commit(batchOf([entry(2)], { expectedHead: headAt(2, 'r') }));
        expect(await store.entry(2)).toBe(entry(2).text);
      }));

    it('a prepared batch commits (with its checkpoint) exactly what an unprepared one does; one never committed writes nothing', () =>
      withStore(async (s) => {
        const { checkpoint, ...rest } = FIRST;
        const abandoned = batchOf([entry(0, 'abandoned'), entry(1, 'abandoned')], { vouchers: [voucher('VA')] });
        const { checkpoint: _unused, ...abandonedRest } = abandoned;
        s.store.prepare(abandonedRest);
        expect(await s.store.entry(0)).toBeUndefined();
        expect(await s.store.head()).toBeUndefined();
        s.store.prepare(rest);
        await s.store.commit({ ...rest, checkpoint });
        await expectFirst(s.store);
        await expectFirst(await s.reopen());
        const store = await s.reopen();
        expect(await store.voucher('VA')).toBeUndefined();
        expect(await store.seqOfOp(entry(0, 'abandoned').opId)).toBeUndefined();
        // A prepared batch refused for its head writes nothing either, and the next one lands.
        const next = batchOf([entry(2)], { expectedHead: headAt(7) });
        const { checkpoint: nextCheckpoint, ...nextRest } = next;
        store.prepare(nextRest);
        await expect(store.commit({ ...nextRest, checkpoint: nextCheckpoint })).rejects.toBeInstanceOf(HeadMovedError);
        expect(await store.entry(2)).toBeUndefined();
        await store.commit(batchOf([entry(2)]));
        expect(await store.entry(2)).toBe(entry(2).text);
      }));
  });
};
