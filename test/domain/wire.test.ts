/**
 * voucherToWire / voucherFromWire: the §7 JSON voucher with decimal-string amounts.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { voucherFromWire, voucherToWire, type Voucher } from '../../src/domain/index.js';
import { jcs, voucherIn } from './helpers.js';

const ROOT = `v3f9${'0'.repeat(20)}`;

/** The §7 example voucher, with bigint amounts. */
const EXAMPLE: Voucher = {
  id: `${ROOT}:0-60000000`,
  rootId: ROOT,
  parentId: ROOT,
  issuer: 'gz-motors',
  holder: 'dongguan-parts',
  offeredTo: null,
  amount: 60_000_000n,
  range: { start: 0n, end: 60_000_000n },
  currency: 'CNY',
  dueDate: '2027-02-26',
  invoiceIds: ['INV-001'],
  status: 'active',
  pledge: null,
  settlement: null,
  createdSeq: 7,
  updatedSeq: 9,
};

describe('voucherToWire', () => {
  test('given the §7 example voucher, then the wire form is exactly the §7 JSON', () => {
    expect(voucherToWire(EXAMPLE)).toEqual({
      id: `${ROOT}:0-60000000`,
      rootId: ROOT,
      parentId: ROOT,
      issuer: 'gz-motors',
      holder: 'dongguan-parts',
      offeredTo: null,
      amount: '60000000',
      range: { start: '0', end: '60000000' },
      currency: 'CNY',
      dueDate: '2027-02-26',
      invoiceIds: ['INV-001'],
      status: 'active',
      pledge: null,
      settlement: null,
      createdSeq: 7,
      updatedSeq: 9,
    });
  });

  test('given a voucher of 10^15, then the wire amount is the exact decimal string (no float, no exponent)', () => {
    const w = voucherToWire({ ...EXAMPLE, amount: 10n ** 15n, range: { start: 0n, end: 10n ** 15n } });
    expect(w.amount).toBe('1000000000000000');
    expect(w.range.end).toBe('1000000000000000');
    expect(jcs(w)).toContain('"amount":"1000000000000000"');
  });

  test('given pledged and settled vouchers, then pledge and settlement travel as objects', () => {
    const pledged = voucherToWire({ ...EXAMPLE, status: 'pledged', pledge: { bank: 'icbc-gz', loanRef: 'L-1', since: '2026-11-28T09:30:00.000Z' } });
    expect(pledged.pledge).toEqual({ bank: 'icbc-gz', loanRef: 'L-1', since: '2026-11-28T09:30:00.000Z' });
    const settled = voucherToWire({ ...EXAMPLE, status: 'settled', settlement: { payee: 'icbc-gz', paymentRef: 'P', at: '2027-02-26T00:00:00.000Z' } });
    expect(settled.settlement).toEqual({ payee: 'icbc-gz', paymentRef: 'P', at: '2027-02-26T00:00:00.000Z' });
  });

  test('given a wire voucher, then JSON has no bigint left in it (JSON.stringify does not throw)', () => {
    expect(() => JSON.stringify(voucherToWire(EXAMPLE))).not.toThrow();
  });
});

describe('voucherFromWire', () => {
  test('given the wire form of a voucher, then it converts back to the same voucher', () => {
    expect(voucherFromWire(voucherToWire(EXAMPLE))).toEqual(EXAMPLE);
  });

  test('given vouchers from a real ledger in every status, then each survives a JSON round trip', () => {
    for (const status of ['offered', 'active', 'pledged', 'split', 'settled', 'cancelled'] as const) {
      const s = voucherIn(status);
      for (const v of s.w.state.allVouchers()) {
        expect(voucherFromWire(JSON.parse(JSON.stringify(voucherToWire(v))))).toEqual(v);
      }
    }
  });

  test('given any amounts in range, then to-wire and back is the identity', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), fc.bigInt({ min: 1n, max: 10n ** 15n }), (start, size) => {
        const end = start + size;
        const v: Voucher = { ...EXAMPLE, amount: size, range: { start, end }, id: `${ROOT}:${start}-${end}` };
        const w = voucherToWire(v);
        expect(w.amount).toBe(size.toString());
        expect(voucherFromWire(w)).toEqual(v);
      }),
    );
  });
});
