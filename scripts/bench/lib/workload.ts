/**
 * The benchmark's parties and its mixed write workload, built with the client SDK's op builders
 * and id prediction (`voucherIdsOf`), so every op is valid when sent in order.
 *
 * Setup (untimed) issues a root voucher of ¥10,000,000 from the core to a supplier A and A
 * accepts it. Each root then carries `cyclesPerRoot` cycles of ten timed ops; a cycle works on an
 * active voucher V held by A, with a second supplier B and two banks K and K2:
 *
 *  1. split V in halves P | Q                                   (A)
 *  2. partial transfer of 2/5 of P to B → M offered, rest P'    (A)
 *  3. accept M                                                  (B)
 *  4. partial pledge of 1/3 of P' to K                          (A + K, co-signed)
 *  5. release that pledge                                       (K)
 *  6. split M in halves M1 | M2                                 (B)
 *  7. partial transfer of half of M1 back to A                  (B)
 *  8. accept it                                                 (A)
 *  9. partial pledge of 1/3 of M2 to K2                         (B + K2, co-signed)
 * 10. release that pledge                                       (K2)
 *
 * The next cycle on the same root works on Q, so a voucher's ancestry stays short (at most six
 * generations) however long the run: every op reads its voucher's lineage, and a benchmark
 * should not measure an ever deeper chain. Per cycle: 2 splits, 2 partial transfers, 2 accepts,
 * 2 co-signed partial pledges, 2 releases; 12 signatures.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherRelease,
  voucherSplit,
  voucherTransfer,
  movedVoucherIdOf,
  type WirePayload,
} from '../../../src/client/index.js';
import { publicKeyFromSeedNode } from '../../../src/ledger/node/ed25519-node.js';

export type BenchRole = 'operator' | 'core' | 'supplier' | 'bank' | 'auditor';

export interface PartyKey {
  readonly id: string;
  readonly role: BenchRole;
  readonly seed: string;
  readonly publicKey: string;
}

export interface BenchParties {
  readonly core: PartyKey;
  readonly suppliers: readonly PartyKey[];
  readonly banks: readonly PartyKey[];
  readonly auditor: PartyKey;
}

const seedOf = (id: string): string => createHash('sha256').update(`rvl-bench-v1:${id}`).digest('hex');

export const partyKey = (id: string, role: BenchRole): PartyKey => {
  const seed = seedOf(id);
  return { id, role, seed, publicKey: publicKeyFromSeedNode(seed) };
};

export const benchParties = (suppliers = 16, banks = 8): BenchParties => ({
  core: partyKey('bench-core', 'core'),
  suppliers: Array.from({ length: suppliers }, (_, i) => partyKey(`bench-supplier-${i}`, 'supplier')),
  banks: Array.from({ length: banks }, (_, i) => partyKey(`bench-bank-${i}`, 'bank')),
  auditor: partyKey('bench-auditor', 'auditor'),
});

export const allParties = (p: BenchParties): PartyKey[] => [p.core, ...p.suppliers, ...p.banks, p.auditor];

export interface PlannedOp {
  readonly payload: WirePayload;
  readonly signers: readonly PartyKey[];
}

/** A voucher some party may read, for the read benchmark. */
export interface Visible {
  readonly voucherId: string;
  readonly viewer: string;
}

export interface PlannedCycle {
  readonly ops: readonly PlannedOp[];
  /** Vouchers this cycle creates, each with a party that may see it. */
  readonly visible: readonly Visible[];
}

export interface PlannedRoot {
  readonly issue: PlannedOp;
  readonly accept: PlannedOp;
  readonly cycles: readonly PlannedCycle[];
}

export const ROOT_AMOUNT = 1_000_000_000n;
export const OPS_PER_CYCLE = 10;
export const SIGNATURES_PER_CYCLE = 12;

/** A due date 90 days from now (UTC). */
const dueDate = (): string => new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);

const ids2 = (payload: WirePayload): [string, string] => {
  const ids = voucherIdsOf(payload);
  if (ids.length !== 2) throw new Error(`expected two new vouchers from ${payload.type}, got ${ids.length}`);
  return [ids[0]!, ids[1]!];
};

const width = (id: string, rootEnd: bigint): bigint => {
  const m = /:(\d+)-(\d+)$/.exec(id);
  return m ? BigInt(m[2]!) - BigInt(m[1]!) : rootEnd;
};

export class WorkloadPlanner {
  readonly #ledger: string;
  readonly #parties: BenchParties;
  readonly #tag = randomBytes(4).toString('hex');
  #roots = 0;
  readonly #due = dueDate();

  constructor(ledgerId: string, parties: BenchParties) {
    this.#ledger = ledgerId;
    this.#parties = parties;
  }

  /** The cast of stream `stream`: holder A, counterpart B, banks K and K2. */
  cast(stream: number): { a: PartyKey; b: PartyKey; k: PartyKey; k2: PartyKey } {
    const s = this.#parties.suppliers;
    const b = this.#parties.banks;
    // B is never A: the offset runs over 1 … S−1 as streams wrap around the suppliers.
    const offset = 1 + (Math.floor(stream / s.length) % Math.max(1, s.length - 1));
    return { a: s[stream % s.length]!, b: s[(stream + offset) % s.length]!, k: b[stream % b.length]!, k2: b[(stream + 1) % b.length]! };
  }

  /** A new root for `stream`'s holder and `cycles` cycles on it. */
  root(stream: number, cycles: number): PlannedRoot {
    const { a, b, k, k2 } = this.cast(stream);
    const n = (this.#roots += 1);
    const core = this.#parties.core;
    const issuePayload = voucherIssue({
      ledger: this.#ledger,
      issuer: core.id,
      to: a.id,
      amount: ROOT_AMOUNT,
      currency: 'CNY',
      dueDate: this.#due,
      invoiceIds: [`INV-${this.#tag}-${n}`],
    });
    const rootId = voucherIdsOf(issuePayload)[0]!;
    const accept: PlannedOp = { payload: voucherAccept({ ledger: this.#ledger, voucherId: rootId }), signers: [a] };
    const planned: PlannedCycle[] = [];
    let v = rootId;
    for (let c = 0; c < cycles; c += 1) {
      const { cycle, next } = this.#cycle(v, `${n}-${c}`, a, b, k, k2);
      planned.push(cycle);
      v = next;
    }
    return { issue: { payload: issuePayload, signers: [core] }, accept, cycles: planned };
  }

  #cycle(v: string, ref: string, a: PartyKey, b: PartyKey, k: PartyKey, k2: PartyKey): { cycle: PlannedCycle; next: string } {
    const ledger = this.#ledger;
    const w = width(v, ROOT_AMOUNT);
    if (w < 1000n) throw new Error(`voucher ${v} is too small for another cycle`);
    const h = w / 2n;
    const split = voucherSplit({ ledger, voucherId: v, amounts: [h, w - h] });
    const [p, q] = ids2(split);
    const t = (h * 2n) / 5n;
    const transfer = voucherTransfer({ ledger, voucherId: p, to: b.id, amount: t });
    const [m, pRest] = ids2(transfer);
    if (movedVoucherIdOf(transfer) !== m) throw new Error('movedVoucherIdOf disagrees with voucherIdsOf');
    const pledge = voucherPledge({ ledger, voucherId: pRest, bank: k.id, loanRef: `LOAN-${ref}-a`, amount: (h - t) / 3n });
    const [pledged] = ids2(pledge);
    const m1w = t / 2n;
    const split2 = voucherSplit({ ledger, voucherId: m, amounts: [m1w, t - m1w] });
    const [m1, m2] = ids2(split2);
    const back = voucherTransfer({ ledger, voucherId: m1, to: a.id, amount: m1w / 2n });
    const [backMoved] = ids2(back);
    const pledge2 = voucherPledge({ ledger, voucherId: m2, bank: k2.id, loanRef: `LOAN-${ref}-b`, amount: (t - m1w) / 3n });
    const [pledged2] = ids2(pledge2);
    const ops: PlannedOp[] = [
      { payload: split, signers: [a] },
      { payload: transfer, signers: [a] },
      { payload: voucherAccept({ ledger, voucherId: m }), signers: [b] },
      { payload: pledge, signers: [a, k] },
      { payload: voucherRelease({ ledger, voucherId: pledged }), signers: [k] },
      { payload: split2, signers: [b] },
      { payload: back, signers: [b] },
      { payload: voucherAccept({ ledger, voucherId: backMoved }), signers: [a] },
      { payload: pledge2, signers: [b, k2] },
      { payload: voucherRelease({ ledger, voucherId: pledged2 }), signers: [k2] },
    ];
    const visible: Visible[] = [
      { voucherId: p, viewer: a.id },
      { voucherId: m, viewer: b.id },
      { voucherId: pledged, viewer: k.id },
      { voucherId: backMoved, viewer: a.id },
    ];
    return { cycle: { ops, visible }, next: q };
  }
}
