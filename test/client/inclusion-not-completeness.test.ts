/**
 * A proof bundle proves inclusion, not completeness. The attack: take a real bundle of a voucher
 * fetched after it was pledged, drop the pledge entry and every later entry, and roll `state`
 * back to the state before the pledge. The bundle still verifies under the same, newest
 * checkpoint — that is inherent (§9 has no non-membership proof): every remaining entry IS in
 * the log, and they DO give that state. What must hold instead:
 *  - the report says exactly that (its `asOf` is the newest remaining entry, before the pledge,
 *    though the checkpoint covers the pledge), and no check is named or worded as completeness;
 *  - `compareWithCurrent` against the ledger's answer reports the pledge;
 *  - the bank's pre-pledge review of a request carrying that bundle passes (inherent too), but
 *    the ledger refuses the second pledge at submission (VOUCHER_PLEDGED).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compareWithCurrent,
  LedgerRefusal,
  PLEDGE_REQUEST_FORMAT,
  reviewPledgeRequest,
  signEnvelope,
  verifyBundle,
  voucherPledge,
  voucherTransfer,
  addSignature,
  type ProofBundle,
  type WireVoucher,
} from '../../src/client/index.js';
import { clone, startWorld, type Server, type World } from './support.js';

let server: Server;
let w: World;
let root = '';
let before: WireVoucher;
let pledgeSeq = 0;
let real: ProofBundle;
let attack: ProofBundle;

/** The issue's attack: the entries from `fromSeq` on dropped, `state` rolled back to `state`. */
const dropFrom = (bundle: ProofBundle, fromSeq: number, state: WireVoucher): ProofBundle => {
  const b = clone(bundle);
  return { ...b, entries: b.entries.filter((e) => e.entry.seq < fromSeq), state: clone(state) };
};

beforeAll(async () => {
  ({ server, w } = await startWorld());
  root = await w.issueAccepted(50_000_00n);
  before = await w.as(w.tier1).voucher(root);
  expect(before.status).toBe('active');
  pledgeSeq = (await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank.party, loanRef: 'LN-DROP-1' }), [w.tier1, w.bank])).seq;
  // A later entry touching the voucher's parties, so that the checkpoint reaches past the pledge.
  const other = await w.issueAccepted(1_000_00n);
  await w.submit(voucherTransfer({ ledger: w.ledgerId, voucherId: other, to: w.tier2.party }), [w.tier1]);
  real = await w.as(w.tier1).proof(root);
  attack = dropFrom(real, pledgeSeq, before);
});
afterAll(() => server.close());

describe('a bundle with the pledge dropped and state rolled back', () => {
  it('still verifies under the newest checkpoint (inherent: inclusion is all §9 proves)', () => {
    expect(real.state.status).toBe('pledged');
    expect(real.entries.some((e) => e.entry.seq === pledgeSeq)).toBe(true);
    expect(attack.entries.every((e) => e.entry.seq < pledgeSeq)).toBe(true);
    expect(attack.checkpoint).toBe(real.checkpoint);

    const report = verifyBundle(attack, w.ledgerId, { voucherId: root });
    expect(report.ok, JSON.stringify(report.firstFailure)).toBe(true);
    expect(report.verdict).toMatchObject({ status: 'active', pledge: null, holder: w.tier1.party });
    // The checkpoint covers the pledge, yet the state is the one before it: the report says as of
    // which entry, and that entry is before the pledge.
    expect(report.verdict!.checkpointSize).toBeGreaterThan(pledgeSeq);
    expect(report.asOf!.seq).toBe(before.updatedSeq);
    expect(report.asOf!.seq).toBeLessThan(pledgeSeq);
  });

  it('names no check "completeness" and says nothing of a complete or current state', () => {
    const report = verifyBundle(attack, w.ledgerId, { voucherId: root });
    const names = report.checks.map((c) => c.name as string);
    expect(names).toContain('state entries');
    expect(names).not.toContain('completeness');
    for (const c of report.checks) expect(c.detail).not.toMatch(/complete|current|last changed|nothing (?:else|after|since)/i);
  });

  it('compareWithCurrent against the ledger reports the pledge, at the pledge entry', async () => {
    const now = await w.as(w.tier1).voucher(root);
    const f = compareWithCurrent(attack.state, now);
    expect(f).toMatchObject({
      kind: 'changed',
      sinceSeq: before.updatedSeq,
      atSeq: pledgeSeq,
      changes: [
        { kind: 'status', from: 'active', to: 'pledged' },
        { kind: 'pledgeGained', pledge: { bank: w.bank.party, loanRef: 'LN-DROP-1' } },
      ],
    });
    // And a fresh bundle from the ledger, verified against the same id, says the same.
    const fresh = await w.as(w.tier1).proof(root);
    expect(verifyBundle(fresh, w.ledgerId, { voucherId: root }).ok).toBe(true);
    expect(compareWithCurrent(attack.state, fresh.state).kind).toBe('changed');
  });

  it("the bank's review of a pledge request carrying it passes, as of the entry before the pledge; the ledger refuses the pledge at submission", async () => {
    const payload = voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank2.party, loanRef: 'LN-DROP-2' });
    const request = { format: PLEDGE_REQUEST_FORMAT, summary: [], envelope: signEnvelope(payload, [w.tier1]), proof: attack } as const;
    const review = reviewPledgeRequest(request, { bank: w.bank2.party, ledgerId: w.ledgerId, nowMs: Date.now() });
    expect(review.ok).toBe(true);
    if (!review.ok) return;
    expect(review.asOf.seq).toBe(before.updatedSeq);
    expect(review.asOf.seq).toBeLessThan(pledgeSeq);
    const err = await w.op.submit(addSignature(request.envelope, w.bank2)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LedgerRefusal);
    expect((err as LedgerRefusal).code).toBe('VOUCHER_PLEDGED');
    expect((await w.as(w.bank).voucher(root)).pledge).toMatchObject({ bank: w.bank.party, loanRef: 'LN-DROP-1' });
  });
});
