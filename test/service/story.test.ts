/**
 * The story of CONTEXT.md through the HTTP API (app.inject, real LevelDB): issue, accept, split,
 * partial transfer, accept, co-signed pledge, the second bank refused, release, settle to the bank.
 * Then the reads: every party's view, proofs, and the proof bundle checked end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { entryHash } from '../../src/ledger/entry.js';
import { fromHex } from '../../src/ledger/hex.js';
import { verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { castKeys } from '../support/cast.js';
import { Harness, dueIn, type Receipt } from '../support/harness.js';

const { core, tier1, tier2, bank: bankA, bank2: bankB, auditor } = castKeys();

describe('the supply-chain story over HTTP', () => {
  let h: Harness;
  let rootId: string;
  let keptId: string;
  let movedId: string;
  let pledgedId: string;
  const receipts: Receipt[] = [];

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, tier1, tier2, bankA, bankB, auditor]) receipts.push(await h.register(k));
  });
  afterAll(async () => {
    await h.close();
  });

  it('issues ¥1,000,000.00 to the tier-1 supplier, offered until accepted', async () => {
    const r = await h.ok(
      { type: 'voucher.issue', issuer: core.id, to: tier1.id, amount: '100000000', currency: 'CNY', dueDate: dueIn(90), invoiceIds: ['INV-001', 'INV-002'] },
      [core],
    );
    const root = r.effects.vouchers[0];
    expect(root?.id).toBe(`v${r.opId.slice(0, 24)}`);
    expect(root?.status).toBe('offered');
    expect(root?.holder).toBe(core.id);
    expect(root?.offeredTo).toBe(tier1.id);
    expect(r.treeSize).toBe(r.seq + 1);
    rootId = root?.id ?? '';
  });

  it('refuses a second issue on the same invoice', async () => {
    const res = await h.submit(
      { type: 'voucher.issue', issuer: core.id, to: tier2.id, amount: '500', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INV-002'] },
      [core],
    );
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'INVOICE_ALREADY_USED', status: 409, type: 'about:blank' });
  });

  it('accepts, splits 60/40, and transfers part of the 60 to tier 2', async () => {
    await h.ok({ type: 'voucher.accept', voucherId: rootId }, [tier1]);
    const split = await h.ok({ type: 'voucher.split', voucherId: rootId, amounts: ['60000000', '40000000'] }, [tier1]);
    expect(split.effects.vouchers.map((v) => v.id)).toEqual([rootId, `${rootId}:0-60000000`, `${rootId}:60000000-100000000`]);
    const transfer = await h.ok({ type: 'voucher.transfer', voucherId: `${rootId}:0-60000000`, to: tier2.id, amount: '25000000' }, [tier1]);
    const [parent, moved, kept] = transfer.effects.vouchers;
    expect(parent?.status).toBe('split');
    expect(moved).toMatchObject({ id: `${rootId}:0-25000000`, status: 'offered', holder: tier1.id, offeredTo: tier2.id });
    expect(kept).toMatchObject({ id: `${rootId}:25000000-60000000`, status: 'active', holder: tier1.id });
    movedId = moved?.id ?? '';
    keptId = kept?.id ?? '';
    const accepted = await h.ok({ type: 'voucher.accept', voucherId: movedId }, [tier2]);
    expect(accepted.effects.vouchers[0]).toMatchObject({ status: 'active', holder: tier2.id, offeredTo: null });
  });

  it('pledges part of a voucher with the holder and the bank co-signing, and refuses the second bank', async () => {
    const pledge = await h.ok({ type: 'voucher.pledge', voucherId: movedId, bank: bankA.id, loanRef: 'LOAN-7', amount: '20000000' }, [tier2, bankA]);
    const pledged = pledge.effects.vouchers[1];
    expect(pledged).toMatchObject({ id: `${rootId}:0-20000000`, status: 'pledged', pledge: { bank: bankA.id } });
    pledgedId = pledged?.id ?? '';
    const second = await h.submit({ type: 'voucher.pledge', voucherId: pledgedId, bank: bankB.id, loanRef: 'LOAN-9' }, [tier2, bankB]);
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('VOUCHER_PLEDGED');
    const onlyHolder = await h.submit({ type: 'voucher.pledge', voucherId: `${rootId}:20000000-25000000`, bank: bankB.id, loanRef: 'L' }, [tier2]);
    expect(onlyHolder.json().code).toBe('SIGNERS_MISMATCH');
  });

  it('answers a replayed envelope with the original receipt and 200, changing nothing', async () => {
    const env = h.envelope({ type: 'voucher.release', voucherId: pledgedId }, [bankA]);
    const first = await h.post(env);
    expect(first.statusCode).toBe(201);
    const sizeAfter = h.service.size;
    const again = await h.post(env);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    expect(h.service.size).toBe(sizeAfter);
    // Pledge again so that settlement pays the bank.
    await h.ok({ type: 'voucher.pledge', voucherId: pledgedId, bank: bankA.id, loanRef: 'LOAN-8' }, [tier2, bankA]);
  });

  it('settles: a pledged voucher pays the bank, an active one its holder', async () => {
    const paid = await h.ok({ type: 'voucher.settle', voucherId: pledgedId, paymentRef: 'PAY-1' }, [core]);
    expect(paid.effects.vouchers[0]).toMatchObject({ status: 'settled', pledge: null, settlement: { payee: bankA.id, paymentRef: 'PAY-1' } });
    const kept = await h.ok({ type: 'voucher.settle', voucherId: keptId, paymentRef: 'PAY-2' }, [core]);
    expect(kept.effects.vouchers[0]).toMatchObject({ settlement: { payee: tier1.id } });
  });

  it('shows each party what it may see, and nothing else', async () => {
    expect((await h.get(`/v1/vouchers/${pledgedId}`, bankA)).statusCode).toBe(200);
    expect((await h.get(`/v1/vouchers/${rootId}`, bankA)).statusCode).toBe(200); // provenance
    expect((await h.get(`/v1/vouchers/${keptId}`, bankA)).json().code).toBe('NOT_FOUND'); // a sibling
    expect((await h.get(`/v1/vouchers/${pledgedId}`, bankB)).statusCode).toBe(404);
    expect((await h.get(`/v1/vouchers/${pledgedId}`, auditor)).statusCode).toBe(200);
    expect((await h.get(`/v1/vouchers/${pledgedId}`)).statusCode).toBe(401);
    const tree = (await h.get(`/v1/vouchers/${pledgedId}/tree`, tier2)).json() as {
      root: { id: string; children: { id: string; children: { id: string }[] }[] };
    };
    expect(tree.root.id).toBe(rootId);
    expect(tree.root.children.map((c) => c.id)).toEqual([`${rootId}:0-60000000`]);
    const full = (await h.get(`/v1/vouchers/${rootId}/tree`, core)).json() as { root: { children: unknown[] } };
    expect(full.root.children).toHaveLength(2);
    const list = (await h.get(`/v1/parties/${tier2.id}/vouchers?status=active,settled`, tier2)).json() as { items: { id: string }[] };
    // Ordered by createdSeq, then range start: both were made by the partial pledge.
    expect(list.items.map((v) => v.id)).toEqual([pledgedId, `${rootId}:20000000-25000000`]);
    expect((await h.get(`/v1/parties/${tier2.id}/vouchers`, tier1)).statusCode).toBe(404);
    expect((await h.get('/v1/entries', tier1)).statusCode).toBe(404);
    const entries = (await h.get('/v1/entries?limit=3', auditor)).json() as { entries: { entry: { seq: number }; hash: string }[]; next: number };
    expect(entries.entries.map((e) => e.entry.seq)).toEqual([0, 1, 2]);
    expect(entries.next).toBe(3);
  });

  it('serves a history, proofs and a bundle that verify from the ledger id alone', async () => {
    const history = (await h.get(`/v1/vouchers/${pledgedId}/history`, bankA)).json() as { entries: { entry: never; hash: string }[] };
    for (const e of history.entries) expect(entryHash(e.entry)).toBe(e.hash);
    const types = history.entries.map((e) => (e.entry as { op: { payload: { type: string } } }).op.payload.type);
    expect(types).toEqual([
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

    const ledger = (await h.get('/v1/ledger')).json() as { ledgerId: string; nodeKey: string; size: number };
    const note = (await h.get('/v1/checkpoint')).body;
    const cp = verifyCheckpoint(note, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    expect(cp.ok).toBe(true);
    if (!cp.ok) return;
    expect(cp.size).toBe(ledger.size);

    const inc = (await h.get(`/v1/proofs/inclusion?seq=3&size=${cp.size}`)).json() as { entryHash: string; hashes: string[] };
    expect(
      verifyInclusion(
        fromHex(inc.entryHash),
        3,
        cp.size,
        inc.hashes.map((x) => fromHex(x)),
        fromHex(cp.root),
      ).ok,
    ).toBe(true);
    const early = verifyCheckpoint((await h.get('/v1/checkpoint')).body, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    const cons = (await h.get(`/v1/proofs/consistency?from=5&to=${cp.size}`)).json() as { hashes: string[] };
    const inc5 = await h.get('/v1/proofs/inclusion?seq=4&size=5');
    expect(inc5.statusCode).toBe(200);
    expect(cons.hashes.length).toBeGreaterThan(0);
    expect(early.ok).toBe(true);

    const bundle = (await h.get(`/v1/vouchers/${pledgedId}/proof`, bankA)).json() as {
      checkpoint: string;
      entries: { entry: { seq: number }; hash: string; inclusion: string[] }[];
      state: { id: string; status: string };
    };
    const bcp = verifyCheckpoint(bundle.checkpoint, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    expect(bcp.ok).toBe(true);
    if (!bcp.ok) return;
    expect(bundle.entries[0]?.entry.seq).toBe(0);
    expect(bundle.entries[0]?.hash).toBe(ledger.ledgerId);
    for (const e of bundle.entries) {
      expect(entryHash(e.entry as never)).toBe(e.hash);
      const proof = verifyInclusion(
        fromHex(e.hash),
        e.entry.seq,
        bcp.size,
        e.inclusion.map((x) => fromHex(x)),
        fromHex(bcp.root),
      );
      expect(proof.ok, `entry ${e.entry.seq}`).toBe(true);
    }
    // Registrations of every party named: operator genesis + core, tier1, tier2, bankA.
    const seqs = bundle.entries.map((e) => e.entry.seq);
    expect(seqs).toContain(receipts[0]?.seq);
    expect(seqs).toContain(receipts[3]?.seq);
    expect(seqs).not.toContain(receipts[4]?.seq); // bank B is named nowhere in this history
    expect(bundle.state).toMatchObject({ id: pledgedId, status: 'settled' });
    expect(verifyConsistency).toBeTypeOf('function');
  });
});
