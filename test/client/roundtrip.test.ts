/**
 * End to end: random sequences of ops through the SDK against the real service; afterwards the
 * proof bundle of every voucher verifies offline with a verdict equal to the voucher as read, and
 * a full audit of the ledger passes. (Refused ops are part of the walk: they must change nothing.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { audit, build, LedgerRefusal, verifyBundle, type KeyFile, type WirePayload, type WireVoucher } from '../../src/client/index.js';
import { verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { worldPerFile, type World } from './support.js';

let w: World;

worldPerFile((_server, world) => {
  w = world;
});

describe('SDK round trip', () => {
  it("property: after any walk of ops, every voucher's bundle verifies to its state, and the audit passes", async () => {
    const outcomes = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(9), fc.nat(1000), fc.nat(1000)), { minLength: 5, maxLength: 14 }), async (steps) => {
        const ledger = w.ledgerId;
        const byId = new Map<string, KeyFile>([w.core, w.tier1, w.tier2, w.bank, w.bank2].map((k) => [k.party, k]));
        const key = (id: string | null | undefined): KeyFile => byId.get(id ?? '') ?? w.tier1;
        const touched = new Set<string>([await w.issueAccepted(1_000_000n)]);
        const vouchers = async (): Promise<WireVoucher[]> => Promise.all([...touched].map((id) => w.op.voucher(id)));

        // Mostly ops the voucher's status allows, some it does not (those must be refused).
        const plausible: Record<string, number[]> = { offered: [0, 1, 2], active: [3, 4, 5, 6, 7, 9], pledged: [8, 9, 6, 4] };
        for (const [choice, pick, amount] of steps) {
          const all = await vouchers();
          const live = all.filter((x) => x.status in plausible);
          const v = (live.length > 0 && choice < 8 ? live : all)[pick % (live.length > 0 && choice < 8 ? live.length : all.length)]!;
          const options = plausible[v.status] ?? [choice];
          const action = options[choice % options.length]!;
          const part = BigInt(1 + (amount % Math.max(1, Number(BigInt(v.amount) - 1n))));
          const to = [w.tier1, w.tier2, w.bank][pick % 3]!;
          let payload: WirePayload;
          let signers: KeyFile[];
          switch (action) {
            case 0:
              payload = build.voucherAccept({ ledger, voucherId: v.id });
              signers = [key(v.offeredTo)];
              break;
            case 1:
              payload = build.voucherReject({ ledger, voucherId: v.id, reason: 'no' });
              signers = [key(v.offeredTo)];
              break;
            case 2:
              payload = build.voucherCancel({ ledger, voucherId: v.id });
              signers = [key(v.holder)];
              break;
            case 3:
              payload = build.voucherSplit({ ledger, voucherId: v.id, amounts: [part, BigInt(v.amount) - part > 0n ? BigInt(v.amount) - part : 1n] });
              signers = [key(v.holder)];
              break;
            case 4:
            case 5:
              payload = build.voucherTransfer({ ledger, voucherId: v.id, to: to.party, ...(action === 5 && part < BigInt(v.amount) ? { amount: part } : {}) });
              signers = [key(v.holder)];
              break;
            case 6:
            case 7: {
              const bank = pick % 2 === 0 ? w.bank : w.bank2;
              payload = build.voucherPledge({
                ledger,
                voucherId: v.id,
                bank: bank.party,
                loanRef: `L${pick}`,
                ...(action === 7 && part < BigInt(v.amount) ? { amount: part } : {}),
              });
              signers = key(v.holder).party === bank.party ? [bank] : [key(v.holder), bank];
              break;
            }
            case 8:
              payload = build.voucherRelease({ ledger, voucherId: v.id });
              signers = [key(v.pledge?.bank)];
              break;
            default:
              payload = build.voucherSettle({ ledger, voucherId: v.id, paymentRef: `P${pick}` });
              signers = [w.core];
          }
          try {
            const receipt = await w.submit(payload, signers);
            for (const changed of receipt.effects.vouchers) touched.add(changed.id);
            outcomes.accepted += 1;
          } catch (err) {
            if (!(err instanceof LedgerRefusal)) throw err;
            outcomes.refused += 1;
          }
        }

        for (const v of await vouchers()) {
          const report = verifyBundle(await w.op.proof(v.id), ledger, { voucherId: v.id });
          expect(report.firstFailure, `${v.id}: ${JSON.stringify(report.firstFailure)}`).toBeUndefined();
          expect(report.verdict).toMatchObject({ status: v.status, holder: v.holder, amount: v.amount, pledge: v.pledge, settlement: v.settlement });
          expect(report.verdict?.path.at(-1)).toBe(v.id);
          expect(report.verdict?.path[0]).toBe(v.rootId);
        }
      }),
      { numRuns: 6 },
    );
    expect(outcomes.accepted).toBeGreaterThanOrEqual(12); // the walk does move vouchers (about 40 of 70 usually)
    const report = await audit(w.as(w.auditor), { verify: verifyNode });
    expect(report.firstFailure).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});
