/**
 * Every endpoint of docs/protocol.md §8 with its success shape (app.inject, real LevelDB): the receipt,
 * the ledger facts, the checkpoint, inclusion and consistency proofs with their defaults and edge
 * cases, entries, parties and voucher lists with paging, a voucher, its history, tree and proof
 * bundle; the operational routes; and MALFORMED_REQUEST for bad paths and query parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { entryHash, type Entry } from '../../src/ledger/entry.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { rootOf, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { Harness, dueIn, key, type Key, type Receipt } from '../support/harness.js';
import { expectProblem } from './helpers.js';

const core = key('gz-motors', 'core');
const s1 = key('dongguan-parts', 'supplier');
const s2 = key('chen-electronics', 'supplier');
const bank = key('icbc-gz', 'bank');
const auditor = key('csrc-audit', 'auditor');
/** Extra parties, registered out of id order, for paging. */
const extras = ['zeta-parts', 'alpha-parts', 'mu-parts', 'beta-parts', 'kappa-parts', 'omega-parts', 'delta-parts'].map((id) => key(id, 'supplier'));

const VOUCHER_KEYS = [
  'amount',
  'createdSeq',
  'currency',
  'dueDate',
  'holder',
  'id',
  'invoiceIds',
  'issuer',
  'offeredTo',
  'parentId',
  'pledge',
  'range',
  'rootId',
  'settlement',
  'status',
  'updatedSeq',
];
const PARTY_KEYS = ['id', 'name', 'publicKey', 'role', 'status'];
const HEX64 = /^[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Voucher {
  id: string;
  rootId: string;
  parentId: string | null;
  status: string;
  holder: string;
  offeredTo: string | null;
  createdSeq: number;
  range: { start: string; end: string };
  [k: string]: unknown;
}
interface TreeNode extends Voucher {
  children: TreeNode[];
}
interface HashedEntry {
  entry: Entry & { op: { payload: { type: string } } };
  hash: string;
}

describe('§8 endpoints: success shapes', () => {
  let h: Harness;
  let regReceipt: Receipt;
  let issueReceipt: Receipt;
  let root: string;
  let splitReceipt: Receipt;
  let settleReceipt: Receipt;
  let pledged: string;
  let lateReceipt: Receipt;
  /** Every entry, read once the story is written. */
  let all: HashedEntry[];

  const json = async <T>(url: string, k?: Key): Promise<T> => {
    const res = await h.get(url, k);
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return res.json() as T;
  };
  const leaves = () => all.map((e) => fromHex(e.hash));

  beforeAll(async () => {
    h = await Harness.start();
    regReceipt = await h.register(core, 'GZ Motors Co.');
    for (const k of [s1, s2, bank, auditor, ...extras]) await h.register(k);
    issueReceipt = await h.ok(
      {
        type: 'voucher.issue',
        issuer: core.id,
        to: s1.id,
        amount: '100000',
        currency: 'CNY',
        dueDate: dueIn(90),
        invoiceIds: ['INV-1', 'INV-2'],
        memo: 'first lot',
      },
      [core],
    );
    root = issueReceipt.effects.vouchers[0]?.id ?? '';
    await h.ok({ type: 'voucher.accept', voucherId: root }, [s1]);
    splitReceipt = await h.ok({ type: 'voucher.split', voucherId: root, amounts: ['50000', '30000', '20000'] }, [s1]);
    await h.ok({ type: 'voucher.transfer', voucherId: `${root}:50000-80000`, to: s2.id }, [s1]);
    await h.ok({ type: 'voucher.accept', voucherId: `${root}:50000-80000` }, [s2]);
    pledged =
      (await h.ok({ type: 'voucher.pledge', voucherId: `${root}:50000-80000`, bank: bank.id, loanRef: 'LOAN-1', amount: '10000' }, [s2, bank])).effects
        .vouchers[1]?.id ?? '';
    settleReceipt = await h.ok({ type: 'voucher.settle', voucherId: `${root}:80000-100000`, paymentRef: 'PAY-1' }, [core]);
    // A second root, offered and never accepted, and a third, cancelled.
    await h.ok({ type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '500', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INV-3'] }, [core]);
    const third =
      (await h.ok({ type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '700', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INV-4'] }, [core]))
        .effects.vouchers[0]?.id ?? '';
    await h.ok({ type: 'voucher.reject', voucherId: third, reason: 'wrong amount' }, [s1]);
    lateReceipt = await h.register(key('late-co', 'supplier'));
    all = (await json<{ entries: HashedEntry[] }>('/v1/entries?limit=1000', auditor)).entries;
  });
  afterAll(async () => {
    await h.close();
  });

  describe('POST /v1/ops', () => {
    it('201 receipt {opId, seq, entryHash, time, treeSize, effects:{vouchers, parties}} for party.register', async () => {
      expect(Object.keys(regReceipt).sort()).toEqual(['effects', 'entryHash', 'opId', 'seq', 'time', 'treeSize']);
      expect(Object.keys(regReceipt.effects).sort()).toEqual(['parties', 'vouchers']);
      expect(regReceipt.seq).toBe(1);
      expect(regReceipt.treeSize).toBe(regReceipt.seq + 1);
      expect(regReceipt.opId).toMatch(HEX64);
      expect(regReceipt.entryHash).toMatch(HEX64);
      expect(regReceipt.time).toMatch(TIME);
      expect(regReceipt.effects.vouchers).toEqual([]);
      expect(regReceipt.effects.parties).toEqual([{ id: core.id, name: 'GZ Motors Co.', role: 'core', publicKey: core.publicKey, status: 'active' }]);
    });

    it('the receipt names its entry: opId of the payload, entryHash and time of the entry at seq', async () => {
      const e = all[issueReceipt.seq];
      expect(e?.entry.seq).toBe(issueReceipt.seq);
      expect(e?.hash).toBe(issueReceipt.entryHash);
      expect(entryHash(e?.entry as Entry)).toBe(issueReceipt.entryHash);
      expect(e?.entry.time).toBe(issueReceipt.time);
      expect(h.opIdOf(e?.entry.op as { payload: unknown })).toBe(issueReceipt.opId);
    });

    it('the latest op: its treeSize is the GET /v1/ledger size', async () => {
      const ledger = await json<{ size: number }>('/v1/ledger');
      expect(lateReceipt.treeSize).toBe(ledger.size);
      expect(lateReceipt.seq).toBe(ledger.size - 1);
    });

    it('voucher.issue: effects hold the new root in its full §7 state', async () => {
      const v = issueReceipt.effects.vouchers[0] as unknown as Voucher;
      expect(Object.keys(v).sort()).toEqual(VOUCHER_KEYS);
      expect(v).toEqual({
        id: `v${issueReceipt.opId.slice(0, 24)}`,
        rootId: `v${issueReceipt.opId.slice(0, 24)}`,
        parentId: null,
        issuer: core.id,
        holder: core.id,
        offeredTo: s1.id,
        amount: '100000',
        range: { start: '0', end: '100000' },
        currency: 'CNY',
        dueDate: dueIn(90),
        invoiceIds: ['INV-1', 'INV-2'],
        status: 'offered',
        pledge: null,
        settlement: null,
        createdSeq: issueReceipt.seq,
        updatedSeq: issueReceipt.seq,
      });
      expect(issueReceipt.effects.parties).toEqual([]);
    });

    it('voucher.split: effects hold the parent (split) and every child (active), in range order', async () => {
      const vs = splitReceipt.effects.vouchers as unknown as Voucher[];
      expect(vs.map((v) => [v.id, v.status, v.holder, v.range])).toEqual([
        [root, 'split', s1.id, { start: '0', end: '100000' }],
        [`${root}:0-50000`, 'active', s1.id, { start: '0', end: '50000' }],
        [`${root}:50000-80000`, 'active', s1.id, { start: '50000', end: '80000' }],
        [`${root}:80000-100000`, 'active', s1.id, { start: '80000', end: '100000' }],
      ]);
      for (const v of vs.slice(1))
        expect(v).toMatchObject({ rootId: root, parentId: root, createdSeq: splitReceipt.seq, issuer: core.id, invoiceIds: ['INV-1', 'INV-2'] });
    });

    it('voucher.settle: settlement {payee, paymentRef, at} with at = the entry time', async () => {
      expect(settleReceipt.effects.vouchers[0]).toMatchObject({
        status: 'settled',
        pledge: null,
        settlement: { payee: s1.id, paymentRef: 'PAY-1', at: settleReceipt.time },
      });
    });
  });

  describe('public reads', () => {
    it('GET /v1/ledger: {ledgerId, name, nodeKey, operatorKey, size, currency, maxTenorDays}, no token needed', async () => {
      const res = await h.get('/v1/ledger');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const l = res.json();
      expect(Object.keys(l).sort()).toEqual(['currency', 'ledgerId', 'maxTenorDays', 'name', 'nodeKey', 'operatorKey', 'size']);
      expect(l).toMatchObject({ ledgerId: h.ledgerId, name: 'test', operatorKey: h.operator.publicKey, currency: 'CNY', maxTenorDays: 365, size: all.length });
      expect(l.nodeKey).toMatch(HEX64);
      // The ledger id is the hash of entry 0, whose payload carries these keys.
      expect(all[0]?.hash).toBe(h.ledgerId);
      expect(all[0]?.entry.op.payload).toMatchObject({
        type: 'ledger.genesis',
        operatorKey: l.operatorKey,
        nodeKey: l.nodeKey,
        currency: 'CNY',
        maxTenorDays: 365,
      });
    });

    it('GET /v1/checkpoint: a text/plain C2SP signed note over the current size and root', async () => {
      const res = await h.get('/v1/checkpoint');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const lines = res.body.split('\n');
      expect(lines[0]).toBe(`rvl/${h.ledgerId}`);
      expect(lines[1]).toBe(String(all.length));
      expect(lines[2]).toBe(Buffer.from(rootOf(leaves())).toString('base64'));
      expect(lines[3]).toBe('');
      expect(lines[4]).toMatch(new RegExp(`^— rvl/${h.ledgerId} [A-Za-z0-9+/]+=*$`));
      expect(res.body.endsWith('\n')).toBe(true);
      const ledger = await json<{ nodeKey: string }>('/v1/ledger');
      const cp = verifyCheckpoint(res.body, { ledgerId: h.ledgerId, nodePublicKey: ledger.nodeKey });
      expect(cp.ok && cp.size).toBe(all.length);
    });

    it('GET /v1/proofs/inclusion: {seq, treeSize, entryHash, hashes}; size defaults to the current size; every seq verifies', async () => {
      const size = all.length;
      const r = leaves();
      const rootHash = rootOf(r);
      for (let seq = 0; seq < size; seq++) {
        const p = await json<{ seq: number; treeSize: number; entryHash: string; hashes: string[] }>(`/v1/proofs/inclusion?seq=${seq}`);
        expect(Object.keys(p).sort()).toEqual(['entryHash', 'hashes', 'seq', 'treeSize']);
        expect(p.seq).toBe(seq);
        expect(p.treeSize).toBe(size);
        expect(p.entryHash).toBe(all[seq]?.hash);
        expect(
          verifyInclusion(
            fromHex(p.entryHash),
            seq,
            size,
            p.hashes.map((x) => fromHex(x)),
            rootHash,
          ).ok,
          `seq ${seq}`,
        ).toBe(true);
      }
    });

    it('GET /v1/proofs/inclusion with an older size verifies against that size’s root', async () => {
      const r = leaves();
      for (const [seq, size] of [
        [0, 1],
        [3, 4],
        [4, 7],
        [6, 7],
        [2, 13],
      ] as const) {
        const p = await json<{ treeSize: number; hashes: string[]; entryHash: string }>(`/v1/proofs/inclusion?seq=${seq}&size=${size}`);
        expect(p.treeSize).toBe(size);
        expect(
          verifyInclusion(
            fromHex(p.entryHash),
            seq,
            size,
            p.hashes.map((x) => fromHex(x)),
            rootOf(r.slice(0, size)),
          ).ok,
          `${seq}@${size}`,
        ).toBe(true);
      }
      expect((await json<{ hashes: string[] }>('/v1/proofs/inclusion?seq=0&size=1')).hashes).toEqual([]);
    });

    it.each([
      ['seq = size (default size)', () => `seq=${all.length}`],
      ['seq = size (explicit)', () => `seq=3&size=3`],
      ['seq > size', () => `seq=5&size=3`],
      ['size past the tree', () => `seq=0&size=${all.length + 1}`],
      ['size = 0', () => 'seq=0&size=0'],
    ])('GET /v1/proofs/inclusion: %s is 404 NOT_FOUND', async (_name, q) => {
      expectProblem(await h.get(`/v1/proofs/inclusion?${q()}`), 404, 'NOT_FOUND');
    });

    it('GET /v1/proofs/consistency: {from, to, hashes}; to defaults to the current size; every from verifies', async () => {
      const size = all.length;
      const r = leaves();
      for (let from = 1; from < size; from++) {
        const p = await json<{ from: number; to: number; hashes: string[] }>(`/v1/proofs/consistency?from=${from}`);
        expect(Object.keys(p).sort()).toEqual(['from', 'hashes', 'to']);
        expect(p).toMatchObject({ from, to: size });
        expect(
          verifyConsistency(
            from,
            size,
            p.hashes.map((x) => fromHex(x)),
            rootOf(r.slice(0, from)),
            rootOf(r),
          ).ok,
          `from ${from}`,
        ).toBe(true);
      }
      const mid = await json<{ hashes: string[] }>('/v1/proofs/consistency?from=3&to=7');
      expect(
        verifyConsistency(
          3,
          7,
          mid.hashes.map((x) => fromHex(x)),
          rootOf(r.slice(0, 3)),
          rootOf(r.slice(0, 7)),
        ).ok,
      ).toBe(true);
    });

    it.each([
      ['from=0 (to defaults)', () => 'from=0', () => all.length],
      ['from=0&to=5', () => 'from=0&to=5', () => 5],
      ['from=to=4', () => 'from=4&to=4', () => 4],
      ['from=to=current size', () => `from=${all.length}&to=${all.length}`, () => all.length],
      ['from=current size (to defaults)', () => `from=${all.length}`, () => all.length],
    ])('GET /v1/proofs/consistency: %s gives []', async (_name, q, to) => {
      const p = await json<{ from: number; to: number; hashes: string[] }>(`/v1/proofs/consistency?${q()}`);
      expect(p.hashes).toEqual([]);
      expect(p.to).toBe(to());
    });

    it('GET /v1/proofs/consistency: from > to is 400 MALFORMED_REQUEST', async () => {
      expectProblem(await h.get('/v1/proofs/consistency?from=5&to=4'), 400, 'MALFORMED_REQUEST');
      expectProblem(await h.get(`/v1/proofs/consistency?from=${all.length + 1}`), 400, 'MALFORMED_REQUEST');
    });

    it('GET /v1/proofs/consistency: to past the tree is 404 NOT_FOUND', async () => {
      expectProblem(await h.get(`/v1/proofs/consistency?from=1&to=${all.length + 1}`), 404, 'NOT_FOUND');
      expectProblem(await h.get(`/v1/proofs/consistency?from=0&to=${all.length + 1}`), 404, 'NOT_FOUND');
    });
  });

  describe('entries (operator, auditor)', () => {
    it('GET /v1/entries: {entries:[{entry, hash}], next}; from defaults to 0; entries chain from genesis', async () => {
      const page = await json<{ entries: HashedEntry[]; next: number | null }>('/v1/entries', auditor);
      expect(Object.keys(page).sort()).toEqual(['entries', 'next']);
      expect(page.next).toBeNull();
      expect(page.entries.length).toBe(all.length);
      let prev = '0'.repeat(64);
      let time = '';
      page.entries.forEach((e, i) => {
        expect(Object.keys(e).sort()).toEqual(['entry', 'hash']);
        expect(Object.keys(e.entry).sort()).toEqual(['op', 'prev', 'seq', 'time', 'v']);
        expect(e.entry).toMatchObject({ v: 1, seq: i, prev });
        expect(entryHash(e.entry)).toBe(e.hash);
        expect(e.entry.time >= time, `time of ${i}`).toBe(true);
        prev = e.hash;
        time = e.entry.time;
      });
    });

    it('GET /v1/entries pages with limit and next (a seq) until next is null', async () => {
      const seen: number[] = [];
      let next: number | null = 0;
      let pages = 0;
      while (next !== null) {
        const page: { entries: HashedEntry[]; next: number | null } = await json(`/v1/entries?from=${next}&limit=4`, h.operator);
        expect(page.entries.length).toBeLessThanOrEqual(4);
        seen.push(...page.entries.map((e) => e.entry.seq));
        next = page.next;
        if (next !== null) expect(next).toBe(page.entries[page.entries.length - 1]!.entry.seq + 1);
        pages += 1;
      }
      expect(seen).toEqual(all.map((_, i) => i));
      expect(pages).toBe(Math.ceil(all.length / 4));
    });

    it('GET /v1/entries: the stored entry texts spliced into the page are the bytes JSON.stringify gives for the parsed page', async () => {
      // A ledger of its own: names and memos outside ASCII, quotes, backslashes and control
      // characters, through JCS.
      const own = await Harness.start();
      try {
        const odd = key('odd-names', 'supplier');
        const reader = key('odd-auditor', 'auditor');
        await own.register(core);
        await own.register(reader);
        await own.register(odd, '东莞 "零件" \\ 有限公司 é 😀 \u2028');
        await own.ok(
          {
            type: 'voucher.issue',
            issuer: core.id,
            to: odd.id,
            amount: '1',
            currency: 'CNY',
            dueDate: dueIn(30),
            invoiceIds: ['INV-ODD'],
            memo: 'tab\there "q" \\ \u0001\u001f ü 😀',
          },
          [core],
        );
        const res = await own.get('/v1/entries?limit=1000', reader);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        const page = res.json() as { entries: HashedEntry[]; next: number | null };
        expect(res.body).toBe(JSON.stringify(page));
        expect(page.entries.map((e) => e.entry.seq)).toEqual([0, 1, 2, 3, 4]);
        expect(page.next).toBeNull();
        expect(res.body).toContain('有限公司');
        for (const e of page.entries) expect(e.hash).toBe(entryHash(e.entry as Entry));
        const paged = await own.get('/v1/entries?from=1&limit=2', reader);
        expect(paged.body).toBe(JSON.stringify(paged.json()));
        expect((paged.json() as { next: number | null }).next).toBe(3);
      } finally {
        await own.close();
      }
    });

    it('GET /v1/entries?from=N starts at N', async () => {
      const page = await json<{ entries: HashedEntry[]; next: number | null }>('/v1/entries?from=5&limit=2', auditor);
      expect(page.entries.map((e) => e.entry.seq)).toEqual([5, 6]);
      expect(page.next).toBe(7);
    });

    it('GET /v1/entries/:seq: {entry, hash}, the same as in the list', async () => {
      for (const seq of [0, 1, all.length - 1]) {
        const one = await json<HashedEntry>(`/v1/entries/${seq}`, auditor);
        expect(one).toEqual(all[seq]);
      }
    });

    it('GET /v1/entries/:seq past the end is 404 NOT_FOUND', async () => {
      expectProblem(await h.get(`/v1/entries/${all.length}`, auditor), 404, 'NOT_FOUND');
      expectProblem(await h.get('/v1/entries/999999', h.operator), 404, 'NOT_FOUND');
    });
  });

  describe('parties (any authenticated party)', () => {
    const walk = async (limit: number, k: Key): Promise<{ ids: string[]; pages: number }> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/parties?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page: { items: { id: string }[]; next: string | null } = await json(url, k);
        expect(Object.keys(page).sort()).toEqual(['items', 'next']);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        ids.push(...page.items.map((p) => p.id));
        cursor = page.next;
        if (cursor !== null) expect(typeof cursor).toBe('string');
        pages += 1;
      } while (cursor !== null);
      return { ids, pages };
    };

    it('GET /v1/parties: items ordered by id with {id, name, role, publicKey, status}; next null on the last page', async () => {
      const page = await json<{ items: Record<string, unknown>[]; next: string | null }>('/v1/parties?limit=1000', s1);
      expect(page.next).toBeNull();
      const ids = page.items.map((p) => p.id as string);
      expect(ids).toEqual([...ids].sort());
      expect(ids).toContain('operator');
      expect(ids.length).toBe(1 + 5 + extras.length + 1);
      for (const p of page.items) expect(Object.keys(p).sort()).toEqual(PARTY_KEYS);
      expect(page.items.find((p) => p.id === s1.id)).toEqual({ id: s1.id, name: s1.id, role: 'supplier', publicKey: s1.publicKey, status: 'active' });
    });

    it.each([1, 2, 3, 7])('walking every page with limit=%i neither repeats nor skips', async (limit) => {
      const full = await walk(1000, bank);
      const paged = await walk(limit, bank);
      expect(paged.ids).toEqual(full.ids);
      expect(new Set(paged.ids).size).toBe(paged.ids.length);
      expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(full.ids.length / limit));
    });

    it('limit defaults to 100', async () => {
      const page = await json<{ items: unknown[]; next: string | null }>('/v1/parties', s2);
      expect(page.items.length).toBe(all.filter((e) => e.entry.op.payload.type === 'party.register').length + 1);
      expect(page.next).toBeNull();
    });

    it('GET /v1/parties/:id: the party, with its current key', async () => {
      expect(await json(`/v1/parties/${bank.id}`, s1)).toEqual({ id: bank.id, name: bank.id, role: 'bank', publicKey: bank.publicKey, status: 'active' });
      expect(await json('/v1/parties/operator', s1)).toMatchObject({ id: 'operator', role: 'operator', publicKey: h.operator.publicKey, status: 'active' });
    });

    it('GET /v1/parties/:id of an unknown party is 404 NOT_FOUND; of a malformed id 400', async () => {
      expectProblem(await h.get('/v1/parties/no-such-co', s1), 404, 'NOT_FOUND');
      expectProblem(await h.get('/v1/parties/No_Such', s1), 400, 'MALFORMED_REQUEST');
    });
  });

  describe("a party's vouchers", () => {
    type Page = { items: Voucher[]; next: string | null };
    const walk = async (party: string, query: string, limit: number, k: Key): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/parties/${party}/vouchers?limit=${limit}${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page: Page = await json(url, k);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        ids.push(...page.items.map((v) => v.id));
        cursor = page.next;
      } while (cursor !== null);
      return ids;
    };
    const order = (vs: Voucher[]) =>
      [...vs].sort((a, b) => a.createdSeq - b.createdSeq || (BigInt(a.range.start) < BigInt(b.range.start) ? -1 : 1)).map((v) => v.id);

    it('lists every voucher whose holder, offeredTo, pledge.bank, settlement.payee or issuer is the party, ordered by createdSeq then start', async () => {
      const everything = (await json<Page>(`/v1/parties/${core.id}/vouchers?limit=1000`, core)).items;
      expect(everything.length).toBe(1 + 3 + 2 + 1 + 1); // root, 3 parts, 2 pledge parts, offered, cancelled
      expect(everything.map((v) => v.id)).toEqual(order(everything));
      for (const v of everything) expect(Object.keys(v).sort()).toEqual(VOUCHER_KEYS);
      const involved = (p: string) =>
        everything.filter((v) =>
          [v.holder, v.offeredTo, (v.pledge as { bank: string } | null)?.bank, (v.settlement as { payee: string } | null)?.payee, v.issuer].includes(p),
        );
      for (const p of [s1.id, s2.id, bank.id]) {
        const listed = (await json<Page>(`/v1/parties/${p}/vouchers?limit=1000`, h.operator)).items;
        expect(
          listed.map((v) => v.id),
          p,
        ).toEqual(order(involved(p)));
      }
      const bankList = (await json<Page>(`/v1/parties/${bank.id}/vouchers`, bank)).items;
      expect(bankList.map((v) => v.id)).toEqual([pledged]);
    });

    it.each([
      ['status=active', 'active', ['active']],
      ['status=split', 'split', ['split']],
      ['status=offered,cancelled', 'offered,cancelled', ['offered', 'cancelled']],
      ['status=settled,active,split', 'settled,active,split', ['settled', 'active', 'split']],
      ['status=pledged', 'pledged', ['pledged']],
    ])('filters by %s', async (_name, q, wanted) => {
      const everything = (await json<Page>(`/v1/parties/${core.id}/vouchers?limit=1000`, core)).items;
      const filtered = (await json<Page>(`/v1/parties/${core.id}/vouchers?status=${q}`, core)).items;
      expect(filtered.map((v) => v.id)).toEqual(everything.filter((v) => wanted.includes(v.status)).map((v) => v.id));
      expect(filtered.length).toBeGreaterThan(0);
    });

    it.each([
      ['an unknown status', 'status=open'],
      ['an unknown status in a list', 'status=active,open'],
      ['an empty status', 'status='],
      ['a trailing comma', 'status=active,'],
      ['an uppercase status', 'status=ACTIVE'],
    ])('%s is 400 MALFORMED_REQUEST', async (_name, q) => {
      expectProblem(await h.get(`/v1/parties/${core.id}/vouchers?${q}`, core), 400, 'MALFORMED_REQUEST');
    });

    it.each([1, 2, 3])('walking with limit=%i neither repeats nor skips (with and without a status filter)', async (limit) => {
      for (const query of ['', '&status=active,split', '&status=settled']) {
        const full = await walk(core.id, query, 1000, auditor);
        const paged = await walk(core.id, query, limit, auditor);
        expect(paged, query).toEqual(full);
      }
    });

    it('a cursor that the service did not issue is 400', async () => {
      expectProblem(await h.get(`/v1/parties/${core.id}/vouchers?cursor=${encodeURIComponent('!!not a cursor!!')}`, core), 400, 'MALFORMED_REQUEST');
    });
  });

  describe('a voucher, its history, tree and proof', () => {
    it('GET /v1/vouchers/:id: the §7 state', async () => {
      const v = await json<Voucher>(`/v1/vouchers/${pledged}`, s2);
      expect(Object.keys(v).sort()).toEqual(VOUCHER_KEYS);
      expect(v).toMatchObject({
        id: `${root}:50000-60000`,
        rootId: root,
        parentId: `${root}:50000-80000`,
        status: 'pledged',
        holder: s2.id,
        offeredTo: null,
        amount: '10000',
        range: { start: '50000', end: '60000' },
        pledge: { bank: bank.id, loanRef: 'LOAN-1' },
        settlement: null,
      });
      expect((v.pledge as { since: string }).since).toMatch(TIME);
    });

    it('GET /v1/vouchers/:id/history: {entries:[{entry, hash}]}, its own and its ancestors’ entries in order', async () => {
      const hist = await json<{ entries: HashedEntry[] }>(`/v1/vouchers/${pledged}/history`, bank);
      expect(Object.keys(hist)).toEqual(['entries']);
      const seqs = hist.entries.map((e) => e.entry.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      for (const e of hist.entries) expect(entryHash(e.entry)).toBe(e.hash);
      expect(hist.entries.map((e) => e.entry.op.payload.type)).toEqual([
        'voucher.issue',
        'voucher.accept',
        'voucher.split',
        'voucher.transfer',
        'voucher.accept',
        'voucher.pledge',
      ]);
    });

    it('GET /v1/vouchers/:id/tree: {root: node}, a node is a state plus children, in range order', async () => {
      const tree = await json<{ root: TreeNode }>(`/v1/vouchers/${pledged}/tree`, core);
      expect(Object.keys(tree)).toEqual(['root']);
      expect(Object.keys(tree.root).sort()).toEqual([...VOUCHER_KEYS, 'children'].sort());
      const shape = (n: TreeNode): unknown => ({ [n.id.replace(root, 'R')]: n.children.map(shape) });
      expect(shape(tree.root)).toEqual({
        R: [{ 'R:0-50000': [] }, { 'R:50000-80000': [{ 'R:50000-60000': [] }, { 'R:60000-80000': [] }] }, { 'R:80000-100000': [] }],
      });
      // The same tree whatever node of it is asked for.
      expect(await json(`/v1/vouchers/${root}/tree`, core)).toEqual(tree);
    });

    it('GET /v1/vouchers/:id/proof: {ledger, checkpoint, voucherId, entries, state}; every entry included under the checkpoint', async () => {
      const b = await json<{
        ledger: { size: number; nodeKey: string };
        checkpoint: string;
        voucherId: string;
        entries: (HashedEntry & { inclusion: string[] })[];
        state: Voucher;
      }>(`/v1/vouchers/${pledged}/proof`, bank);
      expect(Object.keys(b).sort()).toEqual(['checkpoint', 'entries', 'ledger', 'state', 'voucherId']);
      expect(b.voucherId).toBe(pledged);
      expect(b.ledger).toEqual(await json('/v1/ledger'));
      expect(b.state).toEqual(await json(`/v1/vouchers/${pledged}`, bank));
      const cp = verifyCheckpoint(b.checkpoint, { ledgerId: h.ledgerId, nodePublicKey: b.ledger.nodeKey });
      expect(cp.ok).toBe(true);
      if (!cp.ok) return;
      expect(cp.size).toBe(b.ledger.size);
      const seqs = b.entries.map((e) => e.entry.seq);
      expect(seqs[0]).toBe(0);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      for (const e of b.entries) {
        expect(Object.keys(e).sort()).toEqual(['entry', 'hash', 'inclusion']);
        expect(entryHash(e.entry)).toBe(e.hash);
        expect(
          verifyInclusion(
            fromHex(e.hash),
            e.entry.seq,
            cp.size,
            e.inclusion.map((x) => fromHex(x)),
            fromHex(cp.root),
          ).ok,
        ).toBe(true);
      }
      // Registrations of the parties named in the history are there; of others (s1 is named; auditor is not) not.
      const registered = (id: string) =>
        all.find((e) => e.entry.op.payload.type === 'party.register' && (e.entry.op.payload as unknown as { party: { id: string } }).party.id === id)?.entry
          .seq;
      for (const id of [core.id, s1.id, s2.id, bank.id]) expect(seqs, id).toContain(registered(id));
      for (const id of [auditor.id, extras[0]?.id ?? '']) expect(seqs, id).not.toContain(registered(id));
    });
  });

  describe('operations routes', () => {
    it('GET /healthz is 200', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
    });

    it('GET /readyz is 200 while writable, with the size and the states of the log and state checks', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', size: h.service.size, logCheck: h.service.logCheck, stateCheck: h.service.stateCheck });
      expect(['none', 'running', 'passed']).toContain(res.json().logCheck);
      expect(['none', 'running', 'passed']).toContain(res.json().stateCheck);
    });

    it('GET /metrics is Prometheus text with rvl_ops_total, refusals, request latency and the entry gauge', async () => {
      await h.submit({ type: 'voucher.accept', voucherId: root }, [s1]); // one refusal to count
      const res = await h.get('/metrics', h.operator);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(/^# TYPE rvl_ops_total counter$/m);
      expect(res.body).toMatch(/^rvl_ops_total\{type="party\.register",outcome="accepted"\} \d+$/m);
      expect(res.body).toMatch(/^rvl_refusals_total\{code="VOUCHER_STATE_CONFLICT"\} [1-9]\d*$/m);
      expect(res.body).toMatch(/^rvl_http_request_seconds_count\{/m);
      expect(res.body).toMatch(new RegExp(`^rvl_ledger_entries \\d+$`, 'm'));
    });

    it("GET /metrics sums each writer stage's time over the ops that went through it", async () => {
      const read = async () => {
        const body = (await h.get('/metrics', h.operator)).body;
        const num = (re: RegExp) => Number(re.exec(body)?.[1] ?? Number.NaN);
        const stages = Object.fromEntries(
          ['verify', 'queue', 'decide', 'wait', 'commit'].map((st) => [st, num(new RegExp(`^rvl_op_stage_seconds_total\\{stage="${st}"\\} (\\S+)$`, 'm'))]),
        );
        return { ops: num(/^rvl_op_stage_ops_total (\S+)$/m), stages };
      };
      const before = await read();
      const k1 = key('stage-a', 'supplier');
      const k2 = key('stage-b', 'supplier');
      await Promise.all([h.register(k1), h.register(k2)]);
      const after = await read();
      expect(after.ops - before.ops).toBe(2);
      for (const [st, seconds] of Object.entries(after.stages)) {
        expect(seconds, st).toBeGreaterThanOrEqual(before.stages[st]!);
      }
      // Every op spends some time being decided and committed.
      expect(after.stages.decide! - before.stages.decide!).toBeGreaterThan(0);
      expect(after.stages.commit! - before.stages.commit!).toBeGreaterThan(0);
    });

    it('GET /openapi.json is an OpenAPI document with a path for every §8 route', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toMatch(/^3\./);
      const routes: [string, string][] = [
        ['post', '/v1/ops'],
        ['get', '/v1/ledger'],
        ['get', '/v1/checkpoint'],
        ['get', '/v1/proofs/inclusion'],
        ['get', '/v1/proofs/consistency'],
        ['get', '/v1/entries'],
        ['get', '/v1/entries/{seq}'],
        ['get', '/v1/parties'],
        ['get', '/v1/parties/{id}'],
        ['get', '/v1/parties/{id}/vouchers'],
        ['get', '/v1/vouchers/{id}'],
        ['get', '/v1/vouchers/{id}/history'],
        ['get', '/v1/vouchers/{id}/tree'],
        ['get', '/v1/vouchers/{id}/proof'],
      ];
      for (const [method, path] of routes) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    });

    it('GET /docs is 200 HTML', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/docs' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toMatch(/<html/i);
    });

    it('an unknown route is 404 NOT_FOUND as a problem', async () => {
      expectProblem(await h.app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'NOT_FOUND');
      expectProblem(await h.app.inject({ method: 'GET', url: '/v1/ops' }), 404, 'NOT_FOUND');
    });
  });

  describe('MALFORMED_REQUEST (400) for bad paths and query parameters', () => {
    const vid = () => root;
    /** Every read, with a query that is valid for it (so that appending one bad parameter is the only fault). */
    const reads: [string, () => string][] = [
      ['/v1/ledger', () => '/v1/ledger?'],
      ['/v1/checkpoint', () => '/v1/checkpoint?'],
      ['/v1/proofs/inclusion', () => '/v1/proofs/inclusion?seq=0&'],
      ['/v1/proofs/consistency', () => '/v1/proofs/consistency?from=1&'],
      ['/v1/entries', () => '/v1/entries?'],
      ['/v1/entries/:seq', () => '/v1/entries/0?'],
      ['/v1/parties', () => '/v1/parties?'],
      ['/v1/parties/:id', () => `/v1/parties/${core.id}?`],
      ['/v1/parties/:id/vouchers', () => `/v1/parties/${core.id}/vouchers?`],
      ['/v1/vouchers/:id', () => `/v1/vouchers/${vid()}?`],
      ['/v1/vouchers/:id/history', () => `/v1/vouchers/${vid()}/history?`],
      ['/v1/vouchers/:id/tree', () => `/v1/vouchers/${vid()}/tree?`],
      ['/v1/vouchers/:id/proof', () => `/v1/vouchers/${vid()}/proof?`],
    ];

    it.each(reads)('%s: the valid form answers 200, an unknown parameter is 400', async (_name, base) => {
      expect((await h.get(base().replace(/[?&]$/, ''), auditor)).statusCode).toBe(200);
      expectProblem(await h.get(`${base()}foo=1`, auditor), 400, 'MALFORMED_REQUEST');
    });

    const numeric: [string, string][] = [
      ['/v1/proofs/inclusion', 'seq'],
      ['/v1/proofs/inclusion?seq=0', 'size'],
      ['/v1/proofs/consistency', 'from'],
      ['/v1/proofs/consistency?from=1', 'to'],
      ['/v1/entries', 'from'],
      ['/v1/entries', 'limit'],
      ['/v1/parties', 'limit'],
      [`/v1/parties/${core.id}/vouchers`, 'limit'],
    ];
    const badNumbers = ['-1', '1.5', '1e3', '0x10', '99999999999999999999', 'abc', '', ' 1', '+1', '01'];
    it.each(numeric.flatMap(([url, param]) => [[`${url} ${param}`, url, param] as const]))(
      '%s: negative, non-integer, huge, empty, padded values are 400',
      async (_name, url, param) => {
        for (const bad of badNumbers) {
          const sep = url.includes('?') ? '&' : '?';
          const res = await h.get(`${url}${sep}${param}=${encodeURIComponent(bad)}`, auditor);
          expect(res.statusCode, `${param}=${JSON.stringify(bad)}`).toBe(400);
          expectProblem(res, 400, 'MALFORMED_REQUEST');
        }
      },
    );

    it.each([
      ['/v1/entries', 0],
      ['/v1/entries', 1001],
      ['/v1/parties', 0],
      ['/v1/parties', 1001],
      [`/v1/parties/${core.id}/vouchers`, 0],
      [`/v1/parties/${core.id}/vouchers`, 1001],
    ])('%s?limit=%i is 400; limit=1 and limit=1000 are fine', async (url, limit) => {
      expectProblem(await h.get(`${url}?limit=${limit}`, auditor), 400, 'MALFORMED_REQUEST');
      expect((await h.get(`${url}?limit=1`, auditor)).statusCode).toBe(200);
      expect((await h.get(`${url}?limit=1000`, auditor)).statusCode).toBe(200);
    });

    it('a parameter given twice is 400', async () => {
      expectProblem(await h.get('/v1/entries?limit=1&limit=2', auditor), 400, 'MALFORMED_REQUEST');
      expectProblem(await h.get('/v1/proofs/inclusion?seq=0&seq=1'), 400, 'MALFORMED_REQUEST');
    });

    it('inclusion without seq and consistency without from are 400', async () => {
      expectProblem(await h.get('/v1/proofs/inclusion'), 400, 'MALFORMED_REQUEST');
      expectProblem(await h.get('/v1/proofs/consistency?to=3'), 400, 'MALFORMED_REQUEST');
    });

    it.each([
      ['too short', 'v123'],
      ['uppercase hex', () => root.toUpperCase()],
      ['no leading v', () => root.slice(1)],
      ['a leading zero in the range', () => `${root}:01-5`],
      ['a range ending at 0', () => `${root}:0-0`],
      ['a 17-digit bound', () => `${root}:0-12345678901234567`],
      ['a missing range end', () => `${root}:0-`],
      ['a second range', () => `${root}:0-5:0-1`],
      ['percent-encoded junk', '%00%ff'],
      ['longer than any voucher id could be (301 chars)', `v${'a'.repeat(300)}`],
    ])('a voucher id in the path that is %s is 400 on every voucher route', async (_name, id) => {
      const text = typeof id === 'function' ? id() : id;
      for (const suffix of ['', '/history', '/tree', '/proof']) {
        const path = text.startsWith('%') ? text : encodeURIComponent(text);
        expectProblem(await h.get(`/v1/vouchers/${path}${suffix}`, auditor), 400, 'MALFORMED_REQUEST');
      }
    });

    it('an error for a URL that is not valid percent-encoding is a problem too', async () => {
      expectProblem(await h.get('/v1/parties/%ff', auditor), 400, 'MALFORMED_REQUEST');
    });

    it.each(['-1', '01', '1.0', 'abc', '99999999999999999999'])('GET /v1/entries/%s is 400', async (seq) => {
      expectProblem(await h.get(`/v1/entries/${seq}`, auditor), 400, 'MALFORMED_REQUEST');
    });
  });
});

describe('GET /v1/ledger keeps genesis keys after the operator key rotates', () => {
  it('operatorKey in /v1/ledger is genesis’s; /v1/parties/operator has the current one', async () => {
    const h = await Harness.start();
    try {
      const next = key('operator', 'operator', '-rotated');
      await h.ok({ type: 'party.update', partyId: 'operator', publicKey: next.publicKey }, [h.operator]);
      const ledger = (await h.get('/v1/ledger')).json() as { operatorKey: string };
      expect(ledger.operatorKey).toBe(h.operator.publicKey);
      const current = (await h.get('/v1/parties/operator', next)).json() as { publicKey: string };
      expect(current.publicKey).toBe(next.publicKey);
      // The new key signs from now on; the old one is refused.
      const sup = key('after-rotation', 'supplier');
      expect(
        (await h.submit({ type: 'party.register', party: { id: sup.id, name: sup.id, role: 'supplier', publicKey: sup.publicKey } }, [next])).statusCode,
      ).toBe(201);
      expectProblem(
        await h.submit({ type: 'party.register', party: { id: 'x-co', name: 'x', role: 'supplier', publicKey: key('x-co', 'supplier').publicKey } }, [
          h.operator,
        ]),
        401,
        'BAD_SIGNATURE',
      );
      expect(toHex(fromHex(ledger.operatorKey))).toBe(ledger.operatorKey);
    } finally {
      await h.close();
    }
  });
});

describe('paging while the ledger grows', () => {
  it('a voucher list walked with limit=1 while new vouchers are issued neither repeats nor skips an item', async () => {
    const h = await Harness.start();
    try {
      const c = key('gz-motors', 'core');
      const sup = key('dongguan-parts', 'supplier');
      for (const k of [c, sup]) await h.register(k);
      const issue = () =>
        h.ok({ type: 'voucher.issue', issuer: c.id, to: sup.id, amount: '100', currency: 'CNY', dueDate: dueIn(30), invoiceIds: [`INV-${h.nonce()}`] }, [c]);
      for (let i = 0; i < 4; i++) await issue();
      const before = ((await h.get(`/v1/parties/${c.id}/vouchers?limit=1000`, c)).json() as { items: { id: string }[] }).items.map((v) => v.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/parties/${c.id}/vouchers?limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page = (await h.get(url, c)).json() as { items: { id: string }[]; next: string | null };
        seen.push(...page.items.map((v) => v.id));
        cursor = page.next;
        if (seen.length <= before.length) await issue();
      } while (cursor !== null);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, before.length)).toEqual(before);
    } finally {
      await h.close();
    }
  });
});
