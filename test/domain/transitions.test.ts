/**
 * Every voucher op from every status (docs/protocol.md §7 rule 4 and the operations table), and the exact
 * effects of every legal transition.
 */
import { describe, expect, test } from 'vitest';
import type { Voucher, VoucherPayload } from '../../src/domain/index.js';
import {
  childId,
  DEFAULT_DUE,
  DEFAULT_TIME,
  effectVoucher,
  envelopeOf,
  expectCode,
  rootIdOf,
  ROOT_AMOUNT,
  snapshot,
  voucherIn,
  cast,
  type Actor,
  type Cast,
  type Outcome,
  type Status,
  type WirePayload,
} from './helpers.js';

type Scene = Cast & { id: string };
type Build = (s: Scene) => [Actor[], WirePayload];

const holderOf = (s: Scene): Actor => s.w.actor(s.w.voucher(s.id).holder);

/** Each voucher op, signed by its natural signer in the given scene. */
/** The ops on an existing voucher, by their short name. */
type VoucherOp = VoucherPayload['type'] extends `voucher.${infer K}` ? K : never;

const OPS: Record<VoucherOp, Build> = {
  accept: (s) => [[s.sup], s.w.payload('voucher.accept', { voucherId: s.id })],
  reject: (s) => [[s.sup], s.w.payload('voucher.reject', { voucherId: s.id, reason: 'no' })],
  cancel: (s) => [[holderOf(s)], s.w.payload('voucher.cancel', { voucherId: s.id })],
  split: (s) => [[holderOf(s)], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['30000000', '70000000'] })],
  transfer: (s) => [[holderOf(s)], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
  pledge: (s) => [[holderOf(s), s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L-2' })],
  release: (s) => {
    const pledge = s.w.voucher(s.id).pledge;
    return [[pledge === null ? holderOf(s) : s.w.actor(pledge.bank)], s.w.payload('voucher.release', { voucherId: s.id })];
  },
  settle: (s) => [[s.core], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P-1' })],
};

const C = 'VOUCHER_STATE_CONFLICT';
const P = 'VOUCHER_PLEDGED';
/** status → op → outcome, from §7 rules 4–5 and the table. */
const MATRIX: Record<Status, Record<VoucherOp, Outcome>> = {
  offered: { accept: 'OK', reject: 'OK', cancel: 'OK', split: C, transfer: C, pledge: C, release: C, settle: C },
  active: { accept: C, reject: C, cancel: C, split: 'OK', transfer: 'OK', pledge: 'OK', release: C, settle: 'OK' },
  pledged: { accept: C, reject: C, cancel: C, split: P, transfer: P, pledge: P, release: 'OK', settle: 'OK' },
  split: { accept: C, reject: C, cancel: C, split: C, transfer: C, pledge: C, release: C, settle: C },
  settled: { accept: C, reject: C, cancel: C, split: C, transfer: C, pledge: C, release: C, settle: C },
  cancelled: { accept: C, reject: C, cancel: C, split: C, transfer: C, pledge: C, release: C, settle: C },
};

const rows: [string, Status, Outcome][] = Object.entries(MATRIX).flatMap(([status, ops]) =>
  Object.entries(ops).map(([op, out]): [string, Status, Outcome] => [op, status as Status, out]),
);

describe('every voucher op from every status', () => {
  test.each(rows)('given a %s of a voucher that is %s, then %s', (op, status, expected) => {
    const s = voucherIn(status);
    const build = OPS[op as VoucherOp];
    if (build === undefined) throw new Error(op);
    const [signers, payload] = build(s);
    if (expected === 'OK') {
      const before = s.w.voucher(s.id);
      const d = s.w.submit(signers, payload);
      expectCode(d, 'OK');
      expect(s.w.voucher(s.id)).not.toEqual(before);
    } else {
      s.w.refuses(signers, payload, expected);
    }
  });
});

describe('voucher.issue', () => {
  test('when a core issues to a supplier, then a root is offered to it, held by the issuer, with the exact §7 state', () => {
    const { w, core, sup } = cast();
    const seq = w.seq;
    const p = w.issuePayload(core, sup, ROOT_AMOUNT, { invoiceIds: ['INV-001', 'INV-002'], memo: 'brake pads' });
    const e = w.ok([core], p);
    const id = rootIdOf(p);
    const root: Voucher = {
      id,
      rootId: id,
      parentId: null,
      issuer: core.id,
      holder: core.id,
      offeredTo: sup.id,
      amount: ROOT_AMOUNT,
      range: { start: 0n, end: ROOT_AMOUNT },
      currency: 'CNY',
      dueDate: DEFAULT_DUE,
      invoiceIds: ['INV-001', 'INV-002'],
      status: 'offered',
      pledge: null,
      settlement: null,
      createdSeq: seq,
      updatedSeq: seq,
    };
    expect(e.vouchers).toEqual([root]);
    expect(e.parties).toEqual([]);
    expect([...e.invoicesUsed].sort()).toEqual(['INV-001', 'INV-002']);
    expect(e.invoicesFreed).toEqual([]);
    expect(w.voucher(id)).toEqual(root);
    expect(w.state.invoiceRoot('INV-001')).toBe(id);
    expect(w.state.invoiceRoot('INV-002')).toBe(id);
  });

  test('when a root is issued, then its id is "v" + the first 24 hex chars of the opId (rule 3)', () => {
    const { w, core, sup } = cast();
    const p = w.issuePayload(core, sup, 5n);
    const e = w.ok([core], p);
    expect(e.vouchers[0]?.id).toMatch(/^v[0-9a-f]{24}$/);
    expect(e.vouchers[0]?.id).toBe(rootIdOf(p));
  });

  test('when the context carries another opId, then the root id follows the context (ids come from inputs)', () => {
    const { w, core, sup } = cast();
    const d = w.decide(envelopeOf([core], w.issuePayload(core, sup, 5n)), { opId: 'f'.repeat(64) });
    expect(d.ok && d.effects.vouchers[0]?.id).toBe(`v${'f'.repeat(24)}`);
  });

  test('when a root of 10^15 is issued, then the amount and range are exact bigints', () => {
    const { w, core, sup } = cast();
    const id = w.issue(core, sup, '1000000000000000');
    expect(w.voucher(id)).toMatchObject({ amount: 10n ** 15n, range: { start: 0n, end: 10n ** 15n } });
  });
});

describe('voucher.accept, reject, cancel', () => {
  test('when the offeree accepts a root, then it is active, held by the offeree, offeredTo null, updatedSeq = seq', () => {
    const s = voucherIn('offered');
    const seq = s.w.seq;
    const created = s.w.voucher(s.id).createdSeq;
    const e = s.w.accept(s.sup, s.id);
    expect(e.vouchers).toEqual([{ ...s.w.voucher(s.id) }]);
    expect(e.vouchers[0]).toMatchObject({ status: 'active', holder: s.sup.id, offeredTo: null, updatedSeq: seq, createdSeq: created });
    expect(e.invoicesUsed).toEqual([]);
    expect(e.invoicesFreed).toEqual([]);
  });

  test.each(['reject', 'cancel'] as const)('when a never-accepted root is %sed, then it is cancelled and its invoice ids are freed for a new issue', (op) => {
    const s = voucherIn('offered');
    const seq = s.w.seq;
    const invoices = [...s.w.voucher(s.id).invoiceIds];
    const e = op === 'reject' ? s.w.reject(s.sup, s.id) : s.w.cancel(s.core, s.id);
    expect(e.vouchers).toHaveLength(1);
    expect(e.vouchers[0]).toMatchObject({ id: s.id, status: 'cancelled', holder: s.core.id, offeredTo: null, updatedSeq: seq });
    expect([...e.invoicesFreed].sort()).toEqual([...invoices].sort());
    expect(e.invoicesUsed).toEqual([]);
    expect(s.w.state.invoiceRoot(invoices[0] as string)).toBeUndefined();
    expect(s.w.state.usedInvoices()).not.toContain(invoices[0]);
    // the freed invoice backs a new issue
    s.w.issue(s.core, s.sup, 1n, { invoiceIds: invoices });
  });

  test.each(['reject', 'cancel'] as const)(
    'when a partial-transfer child is %sed, then it is active again with the sender as holder, and no invoice is freed',
    (op) => {
      const s = voucherIn('active');
      const child = childId(s.id, 0, 25_000_000);
      s.w.transfer(s.sup, s.id, s.sup2, 25_000_000n);
      const seq = s.w.seq;
      const e = op === 'reject' ? s.w.reject(s.sup2, child) : s.w.cancel(s.sup, child);
      expect(e.vouchers).toHaveLength(1);
      expect(e.vouchers[0]).toMatchObject({ id: child, status: 'active', holder: s.sup.id, offeredTo: null, updatedSeq: seq });
      expect(e.invoicesFreed).toEqual([]);
      expect(s.w.state.invoiceRoot(s.w.voucher(s.id).invoiceIds[0] as string)).toBe(s.id);
    },
  );

  test('when an accepted root transferred whole is rejected, then it is active with the sender as holder (not cancelled)', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.sup2);
    const e = s.w.reject(s.sup2, s.id);
    expect(e.vouchers[0]).toMatchObject({ status: 'active', holder: s.sup.id, offeredTo: null });
    expect(e.invoicesFreed).toEqual([]);
  });

  test('when someone other than the offeree accepts, then SIGNERS_MISMATCH', () => {
    const s = voucherIn('offered');
    s.w.refuses([s.core], s.w.payload('voucher.accept', { voucherId: s.id }), 'SIGNERS_MISMATCH');
  });

  test('when the offeree tries to cancel (the holder withdraws, the offeree rejects), then SIGNERS_MISMATCH', () => {
    const s = voucherIn('offered');
    s.w.refuses([s.sup], s.w.payload('voucher.cancel', { voucherId: s.id }), 'SIGNERS_MISMATCH');
  });

  test('when the holder of an offered voucher rejects its own offer, then SIGNERS_MISMATCH', () => {
    const s = voucherIn('offered');
    s.w.refuses([s.core], s.w.payload('voucher.reject', { voucherId: s.id }), 'SIGNERS_MISMATCH');
  });
});

describe('voucher.split', () => {
  test('when the holder splits, then the parent is split and the children partition its range in the order of amounts', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const parent = s.w.voucher(s.id);
    const e = s.w.split(s.sup, s.id, [70_000_000n, 20_000_000n, 10_000_000n]);
    expect(e.vouchers).toHaveLength(4);
    expect(effectVoucher(e, s.id)).toEqual({ ...parent, status: 'split', updatedSeq: seq });
    const parts: [bigint, bigint][] = [
      [0n, 70_000_000n],
      [70_000_000n, 90_000_000n],
      [90_000_000n, ROOT_AMOUNT],
    ];
    for (const [start, end] of parts) {
      const id = childId(s.id, start, end);
      expect(effectVoucher(e, id)).toEqual({
        ...parent,
        id,
        rootId: s.id,
        parentId: s.id,
        amount: end - start,
        range: { start, end },
        status: 'active',
        holder: s.sup.id,
        offeredTo: null,
        createdSeq: seq,
        updatedSeq: seq,
      });
    }
    expect(e.invoicesUsed).toEqual([]);
    expect(e.invoicesFreed).toEqual([]);
  });

  test('when a child is split again, then the grandchildren are ids of the root with absolute ranges', () => {
    const s = voucherIn('active');
    s.w.split(s.sup, s.id, [40_000_000n, 60_000_000n]);
    const second = childId(s.id, 40_000_000n, ROOT_AMOUNT);
    const e = s.w.split(s.sup, second, [1n, 59_999_999n]);
    expect(effectVoucher(e, childId(s.id, 40_000_000n, 40_000_001n))).toMatchObject({ parentId: second, rootId: s.id, amount: 1n });
    expect(effectVoucher(e, childId(s.id, 40_000_001n, ROOT_AMOUNT))).toMatchObject({ parentId: second, rootId: s.id, amount: 59_999_999n });
  });

  test('when the split parts sum to less than the amount, then AMOUNT_INVALID', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['50000000', '49999999'] }), 'AMOUNT_INVALID');
  });

  test('when the split parts sum to more than the amount, then AMOUNT_INVALID', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['50000000', '50000001'] }), 'AMOUNT_INVALID');
  });

  test('when a voucher of 100 is split into 100 parts of 1, then 100 children of 1 are created', () => {
    const { w, core, sup } = cast();
    const id = w.issue(core, sup, 100n);
    w.accept(sup, id);
    const e = w.split(
      sup,
      id,
      Array.from({ length: 100 }, () => 1n),
    );
    expect(e.vouchers).toHaveLength(101);
    expect(effectVoucher(e, childId(id, 99, 100))).toMatchObject({ amount: 1n, status: 'active' });
  });

  test('when a voucher of 1 is split, then AMOUNT_INVALID (parts are at least 1)', () => {
    const { w, core, sup } = cast();
    const id = w.issue(core, sup, 1n);
    w.accept(sup, id);
    w.refuses([sup], w.payload('voucher.split', { voucherId: id, amounts: ['1', '1'] }), 'AMOUNT_INVALID');
  });

  test('when a non-holder who can see the voucher splits it, then SIGNERS_MISMATCH', () => {
    const s = voucherIn('active');
    s.w.refuses([s.core], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] }), 'SIGNERS_MISMATCH');
  });
});

describe('voucher.transfer', () => {
  test('when the holder transfers whole, then the same voucher is offered to the recipient and the holder stays the sender', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const before = s.w.voucher(s.id);
    const e = s.w.transfer(s.sup, s.id, s.sup2);
    expect(e.vouchers).toEqual([{ ...before, status: 'offered', offeredTo: s.sup2.id, holder: s.sup.id, updatedSeq: seq }]);
    s.w.accept(s.sup2, s.id);
    expect(s.w.voucher(s.id)).toMatchObject({ holder: s.sup2.id, status: 'active', offeredTo: null });
  });

  test('when the holder transfers part, then the parent splits into [amount, rest], the first offered, the rest active, in one op', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const e = s.w.transfer(s.sup, s.id, s.sup2, 25_000_000n);
    expect(e.vouchers).toHaveLength(3);
    expect(effectVoucher(e, s.id)).toMatchObject({ status: 'split', updatedSeq: seq, offeredTo: null });
    expect(effectVoucher(e, childId(s.id, 0, 25_000_000))).toMatchObject({
      status: 'offered',
      holder: s.sup.id,
      offeredTo: s.sup2.id,
      amount: 25_000_000n,
      parentId: s.id,
      createdSeq: seq,
      updatedSeq: seq,
    });
    expect(effectVoucher(e, childId(s.id, 25_000_000, ROOT_AMOUNT))).toMatchObject({
      status: 'active',
      holder: s.sup.id,
      offeredTo: null,
      amount: 75_000_000n,
      parentId: s.id,
      createdSeq: seq,
      updatedSeq: seq,
    });
    expect(s.w.seq).toBe(seq + 1);
  });

  test('when the holder transfers to a bank (factoring), then it is accepted', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.bank);
    s.w.accept(s.bank, s.id);
    expect(s.w.voucher(s.id).holder).toBe(s.bank.id);
  });

  test.each([
    ['a core', 'core2'],
    ['an auditor', 'auditor'],
    ['the operator', 'operator'],
  ] as const)('when the holder transfers to %s, then ROLE_NOT_ALLOWED', (_name, who) => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s[who].id }), 'ROLE_NOT_ALLOWED');
  });

  test('when the holder transfers to itself, then INVALID_RECIPIENT', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup.id }), 'INVALID_RECIPIENT');
  });

  test.each([
    ['equal to', ROOT_AMOUNT],
    ['above', ROOT_AMOUNT + 1n],
  ])('when a partial transfer amount is %s the voucher amount, then AMOUNT_INVALID', (_name, amount) => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, amount: String(amount) }), 'AMOUNT_INVALID');
  });

  test('given a voucher offered by transfer, when the offeree passes it on before accepting, then SIGNERS_MISMATCH (the sender is still the holder)', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.sup2);
    s.w.refuses([s.sup2], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.stranger.id }), 'SIGNERS_MISMATCH');
  });

  test('given a voucher offered by transfer, when the sender transfers it again, then VOUCHER_STATE_CONFLICT', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.sup2);
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.stranger.id }), 'VOUCHER_STATE_CONFLICT');
  });
});

describe('voucher.pledge and voucher.release', () => {
  test('when holder and bank pledge whole, then the voucher is pledged with {bank, loanRef, since: ledger time}', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const before = s.w.voucher(s.id);
    const e = s.w.pledge(s.sup, s.id, s.bank, undefined, 'LOAN-42');
    expect(e.vouchers).toEqual([{ ...before, status: 'pledged', pledge: { bank: s.bank.id, loanRef: 'LOAN-42', since: DEFAULT_TIME }, updatedSeq: seq }]);
    expect(s.w.voucher(s.id).holder).toBe(s.sup.id);
  });

  test('when holder and bank pledge part, then [amount] is pledged and the rest is active, in one op', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const e = s.w.pledge(s.sup, s.id, s.bank, 30_000_000n, 'LOAN-7');
    expect(e.vouchers).toHaveLength(3);
    expect(effectVoucher(e, s.id)).toMatchObject({ status: 'split', pledge: null, updatedSeq: seq });
    expect(effectVoucher(e, childId(s.id, 0, 30_000_000))).toMatchObject({
      status: 'pledged',
      holder: s.sup.id,
      pledge: { bank: s.bank.id, loanRef: 'LOAN-7', since: DEFAULT_TIME },
      amount: 30_000_000n,
      offeredTo: null,
      createdSeq: seq,
    });
    expect(effectVoucher(e, childId(s.id, 30_000_000, ROOT_AMOUNT))).toMatchObject({
      status: 'active',
      holder: s.sup.id,
      pledge: null,
      amount: 70_000_000n,
      createdSeq: seq,
    });
  });

  test('when a partial pledge amount equals the voucher amount, then AMOUNT_INVALID', () => {
    const s = voucherIn('active');
    s.w.refuses(
      [s.sup, s.bank],
      s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L', amount: String(ROOT_AMOUNT) }),
      'AMOUNT_INVALID',
    );
  });

  test('when only the holder signs a pledge, then SIGNERS_MISMATCH (holder AND bank)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }), 'SIGNERS_MISMATCH');
  });

  test('given a bank that was the pledgee (so it may see the voucher), when it alone signs a new pledge, then SIGNERS_MISMATCH', () => {
    const s = voucherIn('pledged');
    s.w.release(s.bank, s.id);
    s.w.refuses([s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }), 'SIGNERS_MISMATCH');
  });

  test('given a bank that never saw the voucher, when it alone signs a pledge, then VOUCHER_NOT_FOUND (ids cannot be probed)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }), 'VOUCHER_NOT_FOUND');
  });

  test('when holder and bank sign a pledge in the other order, then it is accepted (any order)', () => {
    const s = voucherIn('active');
    s.w.ok([s.bank, s.sup], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }));
    expect(s.w.voucher(s.id).status).toBe('pledged');
  });

  test('when a pledge names a supplier as bank and both sign, then ROLE_NOT_ALLOWED', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup, s.sup2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.sup2.id, loanRef: 'L' }), 'ROLE_NOT_ALLOWED');
  });

  test('given a bank that holds a voucher, when it pledges it to itself, then INVALID_RECIPIENT', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.bank);
    s.w.accept(s.bank, s.id);
    s.w.refuses([s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }), 'INVALID_RECIPIENT');
  });

  test('when the pledgee releases, then the voucher is active, pledge null, same holder, updatedSeq = seq', () => {
    const s = voucherIn('pledged');
    const seq = s.w.seq;
    const e = s.w.release(s.bank, s.id);
    expect(e.vouchers).toEqual([{ ...s.w.voucher(s.id) }]);
    expect(e.vouchers[0]).toMatchObject({ status: 'active', pledge: null, holder: s.sup.id, updatedSeq: seq });
  });

  test.each([
    ['the holder', 'sup', 'SIGNERS_MISMATCH'],
    ['the issuer', 'core', 'SIGNERS_MISMATCH'],
    ['the operator', 'operator', 'SIGNERS_MISMATCH'],
    ['another bank, which cannot see it,', 'bank2', 'VOUCHER_NOT_FOUND'],
  ] as const)('when %s releases a pledge, then %s (only the pledgee releases)', (_name, who, code) => {
    const s = voucherIn('pledged');
    s.w.refuses([s[who]], s.w.payload('voucher.release', { voucherId: s.id }), code);
  });

  test('given a partial pledge released, when the holder pledges the released child again to another bank, then it is accepted', () => {
    const s = voucherIn('active');
    s.w.pledge(s.sup, s.id, s.bank, 30_000_000n);
    const child = childId(s.id, 0, 30_000_000);
    s.w.release(s.bank, child);
    s.w.pledge(s.sup, child, s.bank2);
    expect(s.w.voucher(child).pledge).toMatchObject({ bank: s.bank2.id });
  });
});

describe('voucher.settle', () => {
  test('when the issuer settles an active voucher, then it is settled with payee = holder, paymentRef, at = ledger time', () => {
    const s = voucherIn('active');
    const seq = s.w.seq;
    const before = s.w.voucher(s.id);
    const e = s.w.settle(s.core, s.id, 'PAY-77');
    expect(e.vouchers).toEqual([{ ...before, status: 'settled', settlement: { payee: s.sup.id, paymentRef: 'PAY-77', at: DEFAULT_TIME }, updatedSeq: seq }]);
  });

  test('when the issuer settles a pledged voucher, then the payee is the pledgee and the pledge is null', () => {
    const s = voucherIn('pledged');
    const e = s.w.settle(s.core, s.id, 'PAY-78');
    expect(e.vouchers[0]).toMatchObject({
      status: 'settled',
      pledge: null,
      holder: s.sup.id,
      settlement: { payee: s.bank.id, paymentRef: 'PAY-78', at: DEFAULT_TIME },
    });
  });

  test('when the holder tries to settle, then SIGNERS_MISMATCH (the issuer pays)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' }), 'SIGNERS_MISMATCH');
  });

  test('when the pledgee tries to settle, then SIGNERS_MISMATCH', () => {
    const s = voucherIn('pledged');
    s.w.refuses([s.bank], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' }), 'SIGNERS_MISMATCH');
  });

  test('when another core tries to settle, then VOUCHER_NOT_FOUND (it cannot see the voucher)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.core2], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' }), 'VOUCHER_NOT_FOUND');
  });

  test('when the issuer settles a split child, then only that child is settled', () => {
    const s = voucherIn('split');
    const a = childId(s.id, 0, 40_000_000);
    const b = childId(s.id, 40_000_000, ROOT_AMOUNT);
    const before = snapshot(s.w.state);
    const e = s.w.settle(s.core, a);
    expect(e.vouchers.map((v) => v.id)).toEqual([a]);
    expect(s.w.voucher(b)).toEqual(before.vouchers.find((v) => v.id === b));
  });
});
