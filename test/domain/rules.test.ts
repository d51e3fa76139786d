/**
 * The nine rules of docs/protocol.md §7 that hold for every voucher at every entry: examples for each,
 * and a fast-check property that drives random op sequences and checks them all after every entry,
 * then replays the accepted entries into a fresh state.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decide, MemoryState, parseOp, type Voucher } from '../../src/domain/index.js';
import {
  addDays,
  cast,
  envelopeOf,
  childId,
  dayAfter,
  DEFAULT_DUE,
  expectCode,
  opIdOf,
  rootIdOf,
  ROOT_AMOUNT,
  snapshot,
  verifierFor,
  voucherIn,
  type Actor,
  type Cast,
  type WirePayload,
} from './helpers.js';

/** Rule 2, 5, 7 and the §7 state invariants, checked over a whole state. */
function checkInvariants(state: MemoryState): void {
  const all = state.allVouchers();
  const byId = new Map(all.map((v) => [v.id, v]));
  const roots = all.filter((v) => v.parentId === null);
  for (const v of all) {
    // amounts and ranges agree
    expect(v.amount).toBe(v.range.end - v.range.start);
    expect(v.amount >= 1n).toBe(true);
    // §7: offeredTo is null whenever the status is not offered; pledge only while pledged; settlement once settled
    expect(v.offeredTo === null).toBe(v.status !== 'offered');
    expect(v.pledge === null).toBe(v.status !== 'pledged');
    expect(v.settlement === null).toBe(v.status !== 'settled');
    // rule 3: ids
    const root = byId.get(v.rootId);
    expect(root).toBeDefined();
    if (v.parentId === null) {
      expect(v.id).toBe(v.rootId);
      expect(v.id).toMatch(/^v[0-9a-f]{24}$/);
      // rule 1: a root's range is [0, amount)
      expect(v.range.start).toBe(0n);
    } else {
      expect(v.id).toBe(childId(v.rootId, v.range.start, v.range.end));
      const parent = byId.get(v.parentId);
      expect(parent?.status).toBe('split');
      // rule 7: children inherit the root's issuer, currency, due date and invoice ids
      expect({ issuer: v.issuer, currency: v.currency, dueDate: v.dueDate, invoiceIds: v.invoiceIds }).toEqual({
        issuer: root?.issuer,
        currency: root?.currency,
        dueDate: root?.dueDate,
        invoiceIds: root?.invoiceIds,
      });
    }
    expect(v.createdSeq <= v.updatedSeq).toBe(true);
  }
  // rule 1: split children partition the parent's range, in order
  for (const parent of all.filter((v) => v.status === 'split')) {
    const kids = all.filter((v) => v.parentId === parent.id).sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
    expect(kids.length >= 2).toBe(true);
    expect(kids[0]?.range.start).toBe(parent.range.start);
    expect(kids.at(-1)?.range.end).toBe(parent.range.end);
    for (let i = 1; i < kids.length; i += 1) expect(kids[i]?.range.start).toBe(kids[i - 1]?.range.end);
  }
  // rule 2: the non-split vouchers of a root are disjoint and cover its range; rule 5 follows: no unit pledged twice
  for (const root of roots) {
    const leaves = all.filter((v) => v.rootId === root.id && v.status !== 'split').sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
    let at = 0n;
    for (const leaf of leaves) {
      expect(leaf.range.start).toBe(at);
      at = leaf.range.end;
    }
    expect(at).toBe(root.amount);
  }
  // rule 6: the used invoice ids are exactly those of the roots that are not cancelled
  const live = roots.filter((r) => r.status !== 'cancelled').flatMap((r) => r.invoiceIds);
  expect([...state.usedInvoices()].sort()).toEqual([...live].sort());
  for (const inv of live) expect(roots.find((r) => r.id === state.invoiceRoot(inv))?.invoiceIds).toContain(inv);
}

describe('rule 1: ranges', () => {
  test('given a root of N, then its range is [0, N)', () => {
    const s = voucherIn('offered');
    expect(s.w.voucher(s.id).range).toEqual({ start: 0n, end: ROOT_AMOUNT });
  });

  test('given a partial pledge of a split child, then the pledged part is [start, start + amount) of the child', () => {
    const s = voucherIn('split');
    const second = childId(s.id, 40_000_000, ROOT_AMOUNT);
    s.w.pledge(s.sup, second, s.bank, 5_000_000n);
    expect(s.w.voucher(childId(s.id, 40_000_000, 45_000_000))).toMatchObject({ status: 'pledged', range: { start: 40_000_000n, end: 45_000_000n } });
    expect(s.w.voucher(childId(s.id, 45_000_000, ROOT_AMOUNT))).toMatchObject({ status: 'active' });
    checkInvariants(s.w.state);
  });
});

describe('rule 2: conservation', () => {
  test('given a chain of splits, transfers and pledges, then the leaves still cover the root exactly once', () => {
    const s = voucherIn('active');
    s.w.split(s.sup, s.id, [10n, 20n, 99_999_970n]);
    s.w.transfer(s.sup, childId(s.id, 30, ROOT_AMOUNT), s.sup2, 50_000_000n);
    s.w.accept(s.sup2, childId(s.id, 30, 50_000_030));
    s.w.pledge(s.sup, childId(s.id, 50_000_030, ROOT_AMOUNT), s.bank, 1n);
    s.w.settle(s.core, childId(s.id, 0, 10));
    checkInvariants(s.w.state);
  });
});

describe('rule 3: clients can compute every id before they submit', () => {
  test('given an issue payload, then the root id is "v" + opId[0..24]', () => {
    const { w, core, sup } = cast();
    const p = w.issuePayload(core, sup, 9n);
    const e = w.ok([core], p);
    expect(e.vouchers[0]?.id).toBe(`v${opIdOf(p).slice(0, 24)}`);
  });

  test('given the same issue fields with another nonce, then the root id differs (the opId covers the whole payload)', () => {
    const { w, core, sup } = cast();
    const a = w.issuePayload(core, sup, 9n, { invoiceIds: ['A-1'] });
    const b = { ...a, nonce: 'another-nonce', invoiceIds: ['A-2'] };
    w.ok([core], a);
    w.ok([core], b);
    expect(w.state.voucher(rootIdOf(a))).toBeDefined();
    expect(w.state.voucher(rootIdOf(b))).toBeDefined();
    expect(rootIdOf(a)).not.toBe(rootIdOf(b));
  });

  test('given a split, then each child id is rootId:start-end with absolute bounds', () => {
    const s = voucherIn('active');
    const e = s.w.split(s.sup, s.id, [1n, 99_999_999n]);
    expect(e.vouchers.map((v) => v.id).sort()).toEqual([s.id, `${s.id}:0-1`, `${s.id}:1-100000000`].sort());
  });
});

describe('rule 5: a pledged voucher is paid only to the pledgee', () => {
  test('given a partial pledge, then the pledged child pays the bank and the free child pays the holder', () => {
    const s = voucherIn('active');
    s.w.pledge(s.sup, s.id, s.bank, 30_000_000n);
    const pledged = childId(s.id, 0, 30_000_000);
    const free = childId(s.id, 30_000_000, ROOT_AMOUNT);
    s.w.settle(s.core, pledged);
    s.w.settle(s.core, free);
    expect(s.w.voucher(pledged).settlement?.payee).toBe(s.bank.id);
    expect(s.w.voucher(free).settlement?.payee).toBe(s.sup.id);
  });

  test('given a pledged voucher, then a second pledge to another bank is VOUCHER_PLEDGED', () => {
    const s = voucherIn('pledged');
    s.w.refuses([s.sup, s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L2' }), 'VOUCHER_PLEDGED');
  });

  test('given a pledged voucher, then a second pledge to the same bank is VOUCHER_PLEDGED', () => {
    const s = voucherIn('pledged');
    s.w.refuses([s.sup, s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L2' }), 'VOUCHER_PLEDGED');
  });

  test('given a pledge refused because the voucher is pledged, when the pledgee releases, then the same envelope is accepted', () => {
    const s = voucherIn('pledged');
    const envelope = envelopeOf([s.sup, s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L2' }));
    s.w.refusesEnvelope(envelope, 'VOUCHER_PLEDGED');
    s.w.release(s.bank, s.id);
    expectCode(s.w.submitEnvelope(envelope), 'OK');
    expect(s.w.voucher(s.id).pledge?.bank).toBe(s.bank2.id);
  });
});

describe('rule 7: inheritance', () => {
  test('given a root with several invoices, then every descendant inherits issuer, currency, dueDate and invoice ids', () => {
    const { w, core, sup, sup2 } = cast();
    const id = w.issue(core, sup, 1000n, { invoiceIds: ['I-1', 'I-2', 'I-3'], dueDate: '2027-06-30' });
    w.accept(sup, id);
    w.split(sup, id, [600n, 400n]);
    w.transfer(sup, childId(id, 0, 600), sup2, 100n);
    for (const v of w.state.allVouchers().filter((x) => x.rootId === id)) {
      expect(v).toMatchObject({ issuer: core.id, currency: 'CNY', dueDate: '2027-06-30', invoiceIds: ['I-1', 'I-2', 'I-3'] });
    }
    checkInvariants(w.state);
  });
});

describe('rule 9: every named party exists; all but partyId are active', () => {
  test('given a suspended pledgee, then it cannot release; reactivated, it can', () => {
    const s = voucherIn('pledged');
    s.w.suspend(s.bank.id);
    s.w.refuses([s.bank], s.w.payload('voucher.release', { voucherId: s.id }), 'PARTY_SUSPENDED');
    s.w.reactivate(s.bank.id);
    s.w.release(s.bank, s.id);
  });

  test('given a suspended holder, then the issuer can still settle to it (the holder is not named in the op)', () => {
    const s = voucherIn('active');
    s.w.suspend(s.sup.id);
    const e = s.w.settle(s.core, s.id);
    expect(e.vouchers[0]?.settlement?.payee).toBe(s.sup.id);
  });
});

// ---------------------------------------------------------------- property: random op sequences

type Cmd =
  | { kind: 'issue'; amount: number; invoice: number; core: number; to: number }
  | { kind: 'accept' | 'reject' | 'cancel' | 'release' | 'settle'; pick: number }
  | { kind: 'split'; pick: number; cuts: number[] }
  | { kind: 'transfer'; pick: number; to: number; part: number | null }
  | { kind: 'pledge'; pick: number; bank: number; part: number | null }
  | { kind: 'time'; days: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      amount: fc.integer({ min: 1, max: 1_000 }),
      invoice: fc.integer({ min: 0, max: 6 }),
      core: fc.nat(1),
      to: fc.nat(2),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat(1_000) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('reject' as const, 'cancel' as const, 'release' as const, 'settle' as const), pick: fc.nat(1_000) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('split' as const), pick: fc.nat(1_000), cuts: fc.array(fc.nat(1_000), { minLength: 1, maxLength: 4 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('transfer' as const), pick: fc.nat(1_000), to: fc.nat(3), part: fc.option(fc.nat(1_000)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pledge' as const), pick: fc.nat(1_000), bank: fc.nat(1), part: fc.option(fc.nat(1_000)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), days: fc.integer({ min: 0, max: 25 }) }) },
);

/** Turns a command into the op its natural signers would send (it may still be refused). */
function opFor(c: Cast, cmd: Cmd): [Actor[], WirePayload] | null {
  const { w } = c;
  const cores = [c.core, c.core2];
  const suppliers = [c.sup, c.sup2, c.stranger];
  const banks = [c.bank, c.bank2];
  const vs = [...w.state.allVouchers()].sort((a, b) => a.createdSeq - b.createdSeq || (a.id < b.id ? -1 : 1));
  // Mostly pick a voucher the op fits, sometimes any voucher (to exercise refusals too).
  const fits: Record<string, (v: Voucher) => boolean> = {
    accept: (v) => v.status === 'offered',
    reject: (v) => v.status === 'offered',
    cancel: (v) => v.status === 'offered',
    release: (v) => v.status === 'pledged',
    settle: (v) => v.status === 'active' || v.status === 'pledged',
    split: (v) => v.status === 'active',
    transfer: (v) => v.status === 'active',
    pledge: (v) => v.status === 'active',
  };
  const pick = (n: number): Voucher | undefined => {
    const fit = vs.filter(fits[cmd.kind] ?? (() => true));
    const from = n % 5 !== 0 && fit.length > 0 ? fit : vs;
    return from[Math.floor(n / 5) % Math.max(from.length, 1)];
  };
  const by = (id: string): Actor => w.actor(id);
  switch (cmd.kind) {
    case 'issue': {
      const core = cores[cmd.core] as Actor;
      return [
        [core],
        w.issuePayload(core, suppliers[cmd.to] as Actor, BigInt(cmd.amount), { invoiceIds: [`INV-${cmd.invoice}`], dueDate: addDays(w.date, 60) }),
      ];
    }
    case 'time':
      return null;
    default: {
      const v = pick(cmd.pick);
      if (v === undefined) return null;
      const voucherId = v.id;
      switch (cmd.kind) {
        case 'accept':
        case 'reject':
          return [[by(v.offeredTo ?? v.holder)], w.payload(`voucher.${cmd.kind}`, { voucherId })];
        case 'cancel':
          return [[by(v.holder)], w.payload('voucher.cancel', { voucherId })];
        case 'release':
          return [[by(v.pledge?.bank ?? v.holder)], w.payload('voucher.release', { voucherId })];
        case 'settle':
          return [[by(v.issuer)], w.payload('voucher.settle', { voucherId, paymentRef: 'P' })];
        case 'split': {
          const cuts = [...new Set(cmd.cuts.map((x) => BigInt(x) % v.amount).filter((x) => x > 0n))].sort((a, b) => (a < b ? -1 : 1));
          const points = [0n, ...cuts, v.amount];
          const amounts = points.slice(1).map((p, i) => String(p - (points[i] as bigint)));
          if (amounts.length < 2) amounts.push('1'); // sums wrong on purpose: AMOUNT_INVALID
          return [[by(v.holder)], w.payload('voucher.split', { voucherId, amounts })];
        }
        case 'transfer': {
          const fields: Record<string, unknown> = { voucherId, to: ([...suppliers, c.bank][cmd.to] as Actor).id };
          if (cmd.part !== null) fields.amount = String(1n + (BigInt(cmd.part) % v.amount));
          return [[by(v.holder)], w.payload('voucher.transfer', fields)];
        }
        case 'pledge': {
          const bank = banks[cmd.bank] as Actor;
          const fields: Record<string, unknown> = { voucherId, bank: bank.id, loanRef: 'L' };
          if (cmd.part !== null) fields.amount = String(1n + (BigInt(cmd.part) % v.amount));
          const holder = by(v.holder);
          return [holder.id === bank.id ? [holder] : [holder, bank], w.payload('voucher.pledge', fields)];
        }
      }
    }
  }
}

describe('property: any sequence of ops keeps every rule, and replay rebuilds the same state', () => {
  test('given random op sequences, then rules 1, 2, 3, 5, 6, 7 hold after every entry and a replay matches', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 10, maxLength: 40, size: 'max' }), (cmds) => {
        const c = cast();
        const { w } = c;
        for (const cmd of cmds) {
          if (cmd.kind === 'time') {
            w.at(`${addDays(w.date, cmd.days)}T12:00:00.000Z`);
            continue;
          }
          const op = opFor(c, cmd);
          if (op === null) continue;
          const before = snapshot(w.state);
          const d = w.submit(op[0], op[1]);
          if (!d.ok) expect(snapshot(w.state)).toEqual(before);
          checkInvariants(w.state);
        }
        // replay every accepted entry into a fresh state: same decisions, same state
        const fresh = new MemoryState({ operatorPublicKey: c.operator.key.publicKey });
        for (const { envelope, seq, time } of w.log) {
          const parsed = parseOp(JSON.parse(JSON.stringify(envelope)));
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          const d = decide(fresh, parsed.op, {
            ledgerId: w.ledgerId,
            currency: 'CNY',
            maxTenorDays: 365,
            seq,
            time,
            opId: opIdOf(envelope.payload),
            nodeKey: w.nodeKey.publicKey,
            verifySignature: verifierFor(envelope.payload),
          });
          expect(d.ok).toBe(true);
          if (d.ok) fresh.apply(d.effects);
        }
        expect(snapshot(fresh)).toEqual(snapshot(w.state));
      }),
      // Shrinking replays whole op sequences; cap it so a failure is reported in bounded time.
      { numRuns: 60, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe('rule 4 and 8, time-wise, through the world clock', () => {
  test('given a voucher overdue by one day, then nothing can be split off it, but it can still be settled', () => {
    const s = voucherIn('active');
    s.w.at(dayAfter(DEFAULT_DUE));
    s.w.refuses([s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] }), 'VOUCHER_OVERDUE');
    s.w.settle(s.core, s.id);
  });
});
