/**
 * The story of CONTEXT.md against the real compiled service over loopback HTTP: the operator (from
 * the key file the service wrote) registers everyone; a core enterprise issues, suppliers accept,
 * split and pass on, a bank takes a co-signed pledge, a second bank is refused, the pledge is
 * released and taken again, and settlement pays the bank. Then every role's view, and the
 * checkpoint and proofs checked with the project's own verifiers from the node key alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { entryHash, verifyChain } from '../../src/ledger/entry.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { rootOf, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { castKeys } from '../support/cast.js';
import { Client, dueIn, operatorKey, type EntryItem, type Key, type Receipt } from './client.js';
import { cleanup, startServer, type Server } from './server.js';

const { core, tier1, tier2, bank: bankA, bank2: bankB, auditor } = castKeys();

describe('e2e: the supply-chain story over real HTTP', () => {
  let server: Server;
  let c: Client;
  let operator: Key;
  const receipts: Receipt[] = [];
  // Voucher ids, computed as §7 rule 3 says clients can.
  let R = ''; // the root
  const id = (start: number, end: number) => `${R}:${start}-${end}`;
  let earlyNote = '';

  beforeAll(async () => {
    server = await startServer();
    c = await Client.connect(server.url);
    operator = await operatorKey(server.dataDir);
  });
  afterAll(cleanup);

  it('lets the operator from <data>/operator.key register core, two suppliers, two banks and an auditor', async () => {
    expect(operator.publicKey).toBe(c.ledger.operatorKey);
    for (const k of [core, tier1, tier2, bankA, bankB, auditor]) {
      const r = await c.register(operator, k);
      expect(r.effects.parties).toMatchObject([{ id: k.id, role: k.role, publicKey: k.publicKey, status: 'active' }]);
      receipts.push(r);
    }
    expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    earlyNote = await c.checkpoint();
  });

  it('issues ¥1,000,000.00 to the tier-1 supplier, which accepts it', async () => {
    const issued = await c.ok(
      { type: 'voucher.issue', issuer: core.id, to: tier1.id, amount: '100000000', currency: 'CNY', dueDate: dueIn(90), invoiceIds: ['INV-001', 'INV-002'] },
      [core],
    );
    receipts.push(issued);
    R = `v${issued.opId.slice(0, 24)}`;
    expect(issued.effects.vouchers).toMatchObject([{ id: R, status: 'offered', holder: core.id, offeredTo: tier1.id, amount: '100000000' }]);
    expect(issued.treeSize).toBe(issued.seq + 1);

    const dup = await c.submit(
      { type: 'voucher.issue', issuer: core.id, to: tier2.id, amount: '500', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INV-002'] },
      [core],
    );
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('INVOICE_ALREADY_USED');

    const accepted = await c.ok({ type: 'voucher.accept', voucherId: R }, [tier1]);
    receipts.push(accepted);
    expect(accepted.effects.vouchers).toMatchObject([{ id: R, status: 'active', holder: tier1.id, offeredTo: null }]);
  });

  it('splits 60/40 and transfers 25 of the 60 to tier 2, which accepts', async () => {
    const split = await c.ok({ type: 'voucher.split', voucherId: R, amounts: ['60000000', '40000000'] }, [tier1]);
    receipts.push(split);
    expect(split.effects.vouchers.map((v) => [v.id, v.status])).toEqual([
      [R, 'split'],
      [id(0, 60000000), 'active'],
      [id(60000000, 100000000), 'active'],
    ]);
    const transfer = await c.ok({ type: 'voucher.transfer', voucherId: id(0, 60000000), to: tier2.id, amount: '25000000' }, [tier1]);
    receipts.push(transfer);
    expect(transfer.effects.vouchers).toMatchObject([
      { id: id(0, 60000000), status: 'split' },
      { id: id(0, 25000000), status: 'offered', holder: tier1.id, offeredTo: tier2.id },
      { id: id(25000000, 60000000), status: 'active', holder: tier1.id, offeredTo: null },
    ]);
    const accepted = await c.ok({ type: 'voucher.accept', voucherId: id(0, 25000000) }, [tier2]);
    receipts.push(accepted);
    expect(accepted.effects.vouchers).toMatchObject([{ id: id(0, 25000000), status: 'active', holder: tier2.id, offeredTo: null }]);
  });

  it('takes a co-signed partial pledge and refuses the second bank with 409 VOUCHER_PLEDGED', async () => {
    const pledge = await c.ok({ type: 'voucher.pledge', voucherId: id(0, 25000000), bank: bankA.id, loanRef: 'LOAN-7', amount: '20000000' }, [tier2, bankA]);
    receipts.push(pledge);
    expect(pledge.effects.vouchers).toMatchObject([
      { id: id(0, 25000000), status: 'split' },
      { id: id(0, 20000000), status: 'pledged', holder: tier2.id, pledge: { bank: bankA.id, loanRef: 'LOAN-7' } },
      { id: id(20000000, 25000000), status: 'active', holder: tier2.id, pledge: null },
    ]);
    const sizeBefore = (await c.info()).size;
    const second = await c.submit({ type: 'voucher.pledge', voucherId: id(0, 20000000), bank: bankB.id, loanRef: 'LOAN-9' }, [tier2, bankB]);
    expect(second.status).toBe(409);
    expect(second.contentType).toMatch(/^application\/problem\+json/);
    expect(second.body).toMatchObject({ type: 'about:blank', status: 409, code: 'VOUCHER_PLEDGED' });
    expect((await c.info()).size).toBe(sizeBefore);
  });

  it('releases, pledges again, and settlement pays the bank', async () => {
    const released = await c.ok({ type: 'voucher.release', voucherId: id(0, 20000000) }, [bankA]);
    receipts.push(released);
    expect(released.effects.vouchers).toMatchObject([{ id: id(0, 20000000), status: 'active', pledge: null }]);
    const again = await c.ok({ type: 'voucher.pledge', voucherId: id(0, 20000000), bank: bankA.id, loanRef: 'LOAN-8' }, [tier2, bankA]);
    receipts.push(again);
    expect(again.effects.vouchers).toMatchObject([{ id: id(0, 20000000), status: 'pledged', pledge: { bank: bankA.id, loanRef: 'LOAN-8' } }]);
    const settled = await c.ok({ type: 'voucher.settle', voucherId: id(0, 20000000), paymentRef: 'PAY-1' }, [core]);
    receipts.push(settled);
    expect(settled.effects.vouchers).toMatchObject([
      { id: id(0, 20000000), status: 'settled', holder: tier2.id, pledge: null, settlement: { payee: bankA.id, paymentRef: 'PAY-1' } },
    ]);
  });

  it('signs a checkpoint over every entry that verifies under the node key, with inclusion and consistency proofs', async () => {
    const ledger = await c.info();
    const last = receipts[receipts.length - 1]!;
    expect(ledger.size).toBe(last.treeSize);
    const note = await c.checkpoint();
    const cp = verifyCheckpoint(note, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    expect(cp).toMatchObject({ ok: true, size: ledger.size });
    if (!cp.ok) return;

    // The root recomputed from the raw log is the signed one, and genesis hashes to the ledger id.
    const entries = (await c.allEntries(auditor)).flat();
    expect(verifyChain(entries)).toMatchObject({ ok: true, count: ledger.size });
    expect(entries[0]?.hash).toBe(ledger.ledgerId);
    expect(toHex(rootOf(entries.map((e) => fromHex(e.hash))))).toBe(cp.root);
    for (const r of receipts) expect(entries[r.seq]?.hash, `seq ${r.seq}`).toBe(r.entryHash);

    // Inclusion of the settlement and of the issue under the final checkpoint.
    for (const r of [last, receipts[6]!]) {
      const inc = await c.getOk<{ seq: number; treeSize: number; entryHash: string; hashes: string[] }>(`/v1/proofs/inclusion?seq=${r.seq}&size=${cp.size}`);
      expect(inc).toMatchObject({ seq: r.seq, treeSize: cp.size, entryHash: r.entryHash });
      expect(
        verifyInclusion(
          fromHex(inc.entryHash),
          r.seq,
          cp.size,
          inc.hashes.map((h) => fromHex(h)),
          fromHex(cp.root),
        ),
      ).toEqual({ ok: true });
      // A proof against another root must not verify: the check above can fail.
      expect(
        verifyInclusion(
          fromHex(inc.entryHash),
          r.seq,
          cp.size,
          inc.hashes.map((h) => fromHex(h)),
          fromHex(entries[0]!.hash),
        ).ok,
      ).toBe(false);
    }

    // Consistency from the checkpoint seen after the registrations to the final one.
    const early = verifyCheckpoint(earlyNote, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    expect(early).toMatchObject({ ok: true, size: 7 });
    if (!early.ok) return;
    const cons = await c.getOk<{ from: number; to: number; hashes: string[] }>(`/v1/proofs/consistency?from=${early.size}&to=${cp.size}`);
    expect(cons).toMatchObject({ from: early.size, to: cp.size });
    expect(cons.hashes.length).toBeGreaterThan(0);
    expect(
      verifyConsistency(
        early.size,
        cp.size,
        cons.hashes.map((h) => fromHex(h)),
        fromHex(early.root),
        fromHex(cp.root),
      ),
    ).toEqual({ ok: true });
    expect(toHex(rootOf(entries.slice(0, early.size).map((e) => fromHex(e.hash))))).toBe(early.root);
  });

  describe('what each role sees', () => {
    // The vouchers of the story (see the tests above).
    const V = () => ({
      R,
      A: id(0, 60000000), // tier1, split by the partial transfer
      B: id(60000000, 100000000), // tier1, active
      C: id(0, 25000000), // sent by tier1 to tier2, split by the partial pledge
      D: id(25000000, 60000000), // tier1, active
      E: id(0, 20000000), // tier2's, pledged, released, pledged, settled to bank A
      F: id(20000000, 25000000), // tier2, active
    });
    type Name = keyof ReturnType<typeof V>;
    const all: Name[] = ['R', 'A', 'B', 'C', 'D', 'E', 'F'];
    // §8: issuer; has been holder, offeree, sender or pledgee; or sees a descendant.
    const visible: [Key | 'operator', Name[]][] = [
      [core, all],
      [tier1, ['R', 'A', 'B', 'C', 'D']],
      [tier2, ['R', 'A', 'C', 'E', 'F']],
      [bankA, ['R', 'A', 'C', 'E']],
      [bankB, []],
      [auditor, all],
      ['operator', all],
    ];
    const who = (k: Key | 'operator'): Key => (k === 'operator' ? operator : k);

    it('GET /v1/vouchers/:id answers 200 exactly for the vouchers each party may see, 404 otherwise, 401 anonymously', async () => {
      const v = V();
      const seen: Record<string, string[]> = {};
      const want: Record<string, string[]> = {};
      for (const [k, names] of visible) {
        const party = who(k);
        want[party.id] = names;
        seen[party.id] = [];
        for (const n of all) {
          const res = await c.get<{ id: string; code?: string }>(`/v1/vouchers/${v[n]}`, party);
          if (res.status === 200) {
            expect(res.body.id).toBe(v[n]);
            seen[party.id]!.push(n);
          } else {
            expect({ party: party.id, voucher: n, status: res.status, code: res.body.code }).toEqual({
              party: party.id,
              voucher: n,
              status: 404,
              code: 'NOT_FOUND',
            });
          }
        }
      }
      expect(seen).toEqual(want);
      expect((await c.get(`/v1/vouchers/${v.E}`)).status).toBe(401);
      expect((await c.getOk(`/v1/vouchers/${v.E}`, bankA)).settlement).toMatchObject({ payee: bankA.id });
    });

    it("lists: each party its own vouchers, operator and auditor anyone's, nobody else's", async () => {
      const v = V();
      const list = async (of: Key, as: Key, query = '') => {
        const res = await c.get<{ items: { id: string }[]; next: unknown; code?: string }>(`/v1/parties/${of.id}/vouchers${query}`, as);
        return res.status === 200 ? res.body.items.map((x) => x.id) : res.status;
      };
      // §8: holder, offeredTo, pledge.bank, settlement.payee or issuer is the party; by createdSeq, then start.
      expect(await list(core, core)).toEqual([v.R, v.A, v.B, v.C, v.D, v.E, v.F]);
      expect(await list(tier1, tier1)).toEqual([v.R, v.A, v.B, v.D]);
      expect(await list(tier2, tier2)).toEqual([v.C, v.E, v.F]);
      expect(await list(tier2, tier2, '?status=active,settled')).toEqual([v.E, v.F]);
      expect(await list(bankA, bankA)).toEqual([v.E]);
      expect(await list(bankB, bankB)).toEqual([]);
      expect(await list(tier2, auditor)).toEqual([v.C, v.E, v.F]);
      expect(await list(tier1, operator)).toEqual([v.R, v.A, v.B, v.D]);
      for (const [of, as] of [
        [tier2, tier1],
        [tier1, bankA],
        [bankA, bankB],
        [tier1, core],
        [core, tier1],
      ] as const) {
        expect(await list(of, as), `${as.id} listing ${of.id}`).toBe(404);
      }
      expect(await list(core, auditor)).toHaveLength(7);
      expect((await c.get(`/v1/parties/${tier1.id}/vouchers`)).status).toBe(401);
    });

    it('the raw log: operator and auditor only', async () => {
      for (const k of [operator, auditor]) {
        const page = await c.getOk<{ entries: EntryItem[]; next: unknown }>('/v1/entries?limit=3', k);
        expect(page.entries.map((e) => e.entry.seq)).toEqual([0, 1, 2]);
        expect(page.next).not.toBeNull();
        expect(entryHash(page.entries[2]!.entry as never)).toBe(page.entries[2]!.hash);
        expect((await c.get(`/v1/entries/${receipts[0]!.seq}`, k)).status).toBe(200);
      }
      for (const k of [core, tier1, tier2, bankA, bankB]) {
        const res = await c.get<{ code: string }>('/v1/entries', k);
        expect({ party: k.id, status: res.status, code: res.body.code }).toEqual({ party: k.id, status: 404, code: 'NOT_FOUND' });
        expect((await c.get('/v1/entries/1', k)).status).toBe(404);
      }
      expect((await c.get('/v1/entries')).status).toBe(401);
    });

    it('history and tree are cut to what the caller may see', async () => {
      const v = V();
      const history = await c.getOk<{ entries: EntryItem[] }>(`/v1/vouchers/${v.E}/history`, bankA);
      expect(history.entries.map((e) => e.entry.op.payload.type)).toEqual([
        'voucher.issue',
        'voucher.accept',
        'voucher.split',
        'voucher.transfer',
        'voucher.accept',
        'voucher.pledge',
        'voucher.release',
        'voucher.pledge',
        'voucher.settle',
      ]);
      for (const e of history.entries) expect(entryHash(e.entry as never)).toBe(e.hash);
      type Node = { id: string; children: Node[] };
      const ids = (n: Node): string[] => [n.id, ...n.children.flatMap(ids)];
      const tree2 = await c.getOk<{ root: Node }>(`/v1/vouchers/${v.E}/tree`, tier2);
      expect(ids(tree2.root).sort()).toEqual([v.R, v.A, v.C, v.E, v.F].sort());
      const treeCore = await c.getOk<{ root: Node }>(`/v1/vouchers/${v.R}/tree`, core);
      expect(ids(treeCore.root).sort()).toEqual(all.map((n) => v[n]).sort());
      expect((await c.get(`/v1/vouchers/${v.E}/tree`, bankB)).status).toBe(404);
    });
  });
});
