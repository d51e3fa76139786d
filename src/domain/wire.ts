/**
 * The voucher as it travels (docs/protocol.md §7): amounts and range bounds as decimal strings.
 */
import type { Party, Pledge, Settlement, Voucher, VoucherStatus } from './types.js';

export interface WireVoucher {
  id: string;
  rootId: string;
  parentId: string | null;
  issuer: string;
  holder: string;
  offeredTo: string | null;
  amount: string;
  range: { start: string; end: string };
  currency: string;
  dueDate: string;
  invoiceIds: string[];
  status: VoucherStatus;
  pledge: Pledge | null;
  settlement: Settlement | null;
  createdSeq: number;
  updatedSeq: number;
}

/** The §7 JSON form, with its fields in the order the protocol lists them. */
export const voucherToWire = (v: Voucher): WireVoucher => ({
  id: v.id,
  rootId: v.rootId,
  parentId: v.parentId,
  issuer: v.issuer,
  holder: v.holder,
  offeredTo: v.offeredTo,
  amount: v.amount.toString(),
  range: { start: v.range.start.toString(), end: v.range.end.toString() },
  currency: v.currency,
  dueDate: v.dueDate,
  invoiceIds: [...v.invoiceIds],
  status: v.status,
  pledge: v.pledge && { bank: v.pledge.bank, loanRef: v.pledge.loanRef, since: v.pledge.since },
  settlement: v.settlement && {
    payee: v.settlement.payee,
    paymentRef: v.settlement.paymentRef,
    at: v.settlement.at,
  },
  createdSeq: v.createdSeq,
  updatedSeq: v.updatedSeq,
});

/** The inverse of `voucherToWire`, for state read back from storage or a proof bundle. */
export const voucherFromWire = (w: WireVoucher): Voucher => ({
  ...w,
  amount: BigInt(w.amount),
  range: { start: BigInt(w.range.start), end: BigInt(w.range.end) },
  invoiceIds: [...w.invoiceIds],
});

/** `GET /v1/ledger` (§8): genesis's facts and the current size. */
export interface LedgerInfo {
  readonly ledgerId: string;
  readonly name: string;
  readonly nodeKey: string;
  readonly operatorKey: string;
  readonly size: number;
  readonly currency: string;
  readonly maxTenorDays: number;
}

/** The `effects` of a receipt: every voucher and party record the op changed, in its new state. */
export interface ReceiptEffects {
  readonly vouchers: readonly WireVoucher[];
  readonly parties: readonly Party[];
}

/** `POST /v1/ops` (§8): 201, or 200 with `"duplicate": true` on a replay. */
export interface Receipt {
  readonly opId: string;
  readonly seq: number;
  readonly entryHash: string;
  readonly time: string;
  readonly treeSize: number;
  readonly effects: ReceiptEffects;
}
