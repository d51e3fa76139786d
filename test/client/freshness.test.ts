/**
 * A bundle proves a voucher's state as of its newest entry (`BundleReport.asOf`), and
 * `compareWithCurrent` says how the voucher changed since: real bundles from the real service,
 * taken before a pledge, before settlement, before a split, compared with the state after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  compareWithCurrent,
  signEnvelope,
  verifyBundle,
  voucherCancel,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherRelease,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  voucherAccept,
  type ProofBundle,
  type WireVoucher,
} from '../../src/client/index.js';
import { clone, dueIn, worldPerFile, type World } from './support.js';

let w: World;

worldPerFile((_server, world) => {
  w = world;
});

/** The holder's bundle of `id`, verified; its state is the proven one. */
const provenBundle = async (id: string, as = w.tier1): Promise<{ bundle: ProofBundle; state: WireVoucher }> => {
  const bundle = await w.as(as).proof(id);
  const report = verifyBundle(bundle, w.ledgerId);
  expect(report.ok, JSON.stringify(report.firstFailure)).toBe(true);
  return { bundle, state: bundle.state };
};

describe('BundleReport.asOf', () => {
  it('is the newest entry of the bundle (seq and time) and the checkpoint size, on every valid report', async () => {
    const root = await w.issueAccepted(10_000_00n);
    const bundle = await w.as(w.tier1).proof(root);
    const report = verifyBundle(bundle, w.ledgerId);
    const newest = bundle.entries.at(-1)!.entry;
    expect(report.ok).toBe(true);
    expect(report.asOf).toEqual({ seq: newest.seq, time: newest.time, treeSize: bundle.ledger.size });
    expect(report.asOf!.seq).toBe(bundle.state.updatedSeq);
    expect(report.asOf!.treeSize).toBeGreaterThan(report.asOf!.seq);
  });

  it('is absent from a report that is not valid', async () => {
    const root = await w.issueAccepted(10_000_00n);
    const bundle = clone(await w.as(w.tier1).proof(root)) as unknown as { state: { holder: string } };
    bundle.state.holder = w.tier2.party;
    const report = verifyBundle(bundle, w.ledgerId);
    expect(report.ok).toBe(false);
    expect(report.asOf).toBeUndefined();
  });
});

describe('compareWithCurrent on real states', () => {
  it('unchanged: the ledger still has the proven state', async () => {
    const root = await w.issueAccepted(5_000_00n);
    const { state } = await provenBundle(root);
    expect(compareWithCurrent(state, await w.as(w.tier1).voucher(root))).toEqual({ kind: 'unchanged' });
  });

  it('a bundle fetched while pledged, compared after settlement: pledged → settled, pledge lost, paid to the bank, at the settle entry', async () => {
    const root = await w.issueAccepted(40_000_00n);
    await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank.party, loanRef: 'LN-F1' }), [w.tier1, w.bank]);
    const { state } = await provenBundle(root, w.bank);
    expect(state.status).toBe('pledged');
    const settled = await w.submit(voucherSettle({ ledger: w.ledgerId, voucherId: root, paymentRef: 'PAY-F1' }), [w.core]);
    const f = compareWithCurrent(state, await w.as(w.bank).voucher(root));
    expect(f.kind).toBe('changed');
    if (f.kind !== 'changed') return;
    expect(f.sinceSeq).toBe(state.updatedSeq);
    expect(f.atSeq).toBe(settled.seq);
    expect(f.changes).toEqual([
      { kind: 'status', from: 'pledged', to: 'settled' },
      { kind: 'pledgeLost', pledge: state.pledge },
      { kind: 'settled', settlement: { payee: w.bank.party, paymentRef: 'PAY-F1', at: settled.time } },
    ]);
  });

  it('active → pledged to a bank: pledge gained, to whom', async () => {
    const root = await w.issueAccepted(7_000_00n);
    const { state } = await provenBundle(root);
    const r = await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank2.party, loanRef: 'LN-F2' }), [w.tier1, w.bank2]);
    const f = compareWithCurrent(state, await w.as(w.tier1).voucher(root));
    expect(f).toMatchObject({
      kind: 'changed',
      atSeq: r.seq,
      changes: [
        { kind: 'status', from: 'active', to: 'pledged' },
        { kind: 'pledgeGained', pledge: { bank: w.bank2.party, loanRef: 'LN-F2', since: r.time } },
      ],
    });
  });

  it('released then pledged to another bank: one pledge lost, another gained', async () => {
    const root = await w.issueAccepted(8_000_00n);
    await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank.party, loanRef: 'A' }), [w.tier1, w.bank]);
    const { state } = await provenBundle(root);
    await w.submit(voucherRelease({ ledger: w.ledgerId, voucherId: root }), [w.bank]);
    await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank2.party, loanRef: 'B' }), [w.tier1, w.bank2]);
    const f = compareWithCurrent(state, await w.as(w.tier1).voucher(root));
    expect(f.kind === 'changed' && f.changes.map((c) => c.kind)).toEqual(['pledgeGained', 'pledgeLost']);
    expect(f.kind === 'changed' && f.changes).toMatchObject([{ pledge: { bank: w.bank2.party } }, { pledge: { bank: w.bank.party } }]);
  });

  it('split: active → split', async () => {
    const root = await w.issueAccepted(9_000_00n);
    const { state } = await provenBundle(root);
    await w.submit(voucherSplit({ ledger: w.ledgerId, voucherId: root, amounts: [4_000_00n, 5_000_00n] }), [w.tier1]);
    const f = compareWithCurrent(state, await w.as(w.tier1).voucher(root));
    expect(f.kind === 'changed' && f.changes).toEqual([{ kind: 'status', from: 'active', to: 'split' }, { kind: 'split' }]);
  });

  it('transferred: offered to another, then the holder changed', async () => {
    const root = await w.issueAccepted(6_000_00n);
    const { state } = await provenBundle(root);
    await w.submit(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    const offered = await w.as(w.tier1).voucher(root);
    expect(compareWithCurrent(state, offered)).toMatchObject({
      kind: 'changed',
      changes: [
        { kind: 'status', from: 'active', to: 'offered' },
        { kind: 'offer', from: null, to: w.tier2.party },
      ],
    });
    await w.submit(voucherAccept({ ledger: w.ledgerId, voucherId: root }), [w.tier2]);
    const f = compareWithCurrent(state, await w.as(w.tier2).voucher(root));
    expect(f.kind === 'changed' && f.changes).toEqual([{ kind: 'holder', from: w.tier1.party, to: w.tier2.party }]);
  });

  it('inconsistent: a service that answers an older state, or another state under the same seq', async () => {
    const issue = voucherIssue({
      ledger: w.ledgerId,
      issuer: w.core.party,
      to: w.tier1.party,
      amount: 1_000n,
      currency: 'CNY',
      dueDate: dueIn(30),
      invoiceIds: [`INV-FR-${Date.now()}`],
    });
    const [root] = voucherIdsOf(issue) as [string];
    await w.op.submit(signEnvelope(issue, [w.core]));
    const offered = await w.as(w.core).voucher(root);
    await w.submit(voucherCancel({ ledger: w.ledgerId, voucherId: root }), [w.core]);
    const cancelled = await w.as(w.core).voucher(root);
    expect(compareWithCurrent(cancelled, offered)).toEqual({ kind: 'inconsistent', current: offered, why: 'OLDER' });
    const forged = { ...cancelled, holder: w.tier2.party };
    expect(compareWithCurrent(cancelled, forged)).toEqual({ kind: 'inconsistent', current: forged, why: 'SAME_SEQ_DIFFERENT' });
    expect(() => compareWithCurrent(cancelled, { ...cancelled, id: `${root.slice(0, -1)}${root.endsWith('0') ? '1' : '0'}` })).toThrow(TypeError);
  });
});

describe('compareWithCurrent, properties', () => {
  const base: WireVoucher = {
    id: 'v0123456789abcdef01234567',
    rootId: 'v0123456789abcdef01234567',
    parentId: null,
    issuer: 'core',
    holder: 'a',
    offeredTo: null,
    amount: '100',
    range: { start: '0', end: '100' },
    currency: 'CNY',
    dueDate: '2030-01-01',
    invoiceIds: ['I'],
    status: 'active',
    pledge: null,
    settlement: null,
    createdSeq: 5,
    updatedSeq: 5,
  };
  it('a state compared with itself is unchanged; with any later state, changed, with no change listed only when every field but the seq is the same', () => {
    fc.assert(
      fc.property(
        fc.record({
          holder: fc.constantFrom('a', 'b'),
          offeredTo: fc.constantFrom(null, 'c'),
          status: fc.constantFrom('active', 'pledged', 'offered', 'split', 'settled', 'cancelled' as const),
          pledge: fc.constantFrom(null, { bank: 'k', loanRef: 'L', since: '2026-01-01T00:00:00.000Z' }),
          settlement: fc.constantFrom(null, { payee: 'a', paymentRef: 'P', at: '2026-01-02T00:00:00.000Z' }),
          dueDate: fc.constantFrom('2030-01-01', '2030-01-02'),
        }),
        fc.integer({ min: 6, max: 1000 }),
        (fields, seq) => {
          expect(compareWithCurrent(base, clone(base))).toEqual({ kind: 'unchanged' });
          const later = { ...base, ...fields, updatedSeq: seq } as WireVoucher;
          const f = compareWithCurrent(base, later);
          expect(f.kind).toBe('changed');
          if (f.kind === 'changed') {
            expect(f.atSeq).toBe(seq);
            const sameFields = Object.entries(fields).every(([k, v]) => JSON.stringify(v) === JSON.stringify((base as unknown as Record<string, unknown>)[k]));
            expect(f.changes.length === 0).toBe(sameFields);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
