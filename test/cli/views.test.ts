/**
 * The CLI writes each voucher's amount in the voucher's currency (the ledger's, from genesis), with
 * the one formatter of src/domain/money.ts.
 */
import { describe, expect, it } from 'vitest';
import type { WireVoucher } from '../../src/domain/wire.js';
import { voucherDetails, voucherTable } from '../../src/cli/views.js';

const voucher = (currency: string): WireVoucher => ({
  id: `v${'a'.repeat(24)}`,
  rootId: `v${'a'.repeat(24)}`,
  parentId: null,
  issuer: 'core-1',
  holder: 'supplier-1',
  offeredTo: null,
  amount: '123456789',
  range: { start: '0', end: '123456789' },
  currency,
  dueDate: '2027-02-26',
  invoiceIds: ['INV-1'],
  status: 'active',
  pledge: null,
  settlement: null,
  createdSeq: 1,
  updatedSeq: 1,
});

describe('amounts in the CLI follow the currency', () => {
  it('writes a CNY voucher in yuan', () => {
    expect(voucherDetails(voucher('CNY'))).toContain('¥1,234,567.89');
    expect(voucherTable([voucher('CNY')])).toContain('¥1,234,567.89');
  });

  it('writes a voucher of another currency with its code, never with ¥', () => {
    for (const text of [voucherDetails(voucher('USD')), voucherTable([voucher('USD')])]) {
      expect(text).toContain('USD 1,234,567.89');
      expect(text).not.toContain('¥');
    }
  });
});
