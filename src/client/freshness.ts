/**
 * How a voucher has changed since the state a verified proof bundle gives. A bundle proves that
 * its entries are in the log and that they give this state, as of its newest entry
 * (`BundleReport.asOf`); it cannot show an entry left out of it. A bank that checks a bundle
 * (an old one, or one from which later entries were dropped) needs to know whether the voucher
 * was since settled, released, pledged elsewhere, split or passed on.
 * `compareWithCurrent` compares the proven state with the ledger's current one and says what
 * changed, as data (the CLI and the console word it in their languages).
 *
 * The current state comes from the service and is not proven by the bundle, so the comparison
 * also notices a service whose answer cannot follow the proven state: an older state than the
 * proven one, or another state under the same seq.
 */
import { canonicalize } from '../ledger/jcs.js';
import type { Pledge, Settlement } from '../domain/types.js';
import type { VoucherStatus, WireVoucher } from './answers.js';

/**
 * One way the voucher changed, each its own kind:
 *
 * | kind         | meaning                                                                 |
 * |--------------|-------------------------------------------------------------------------|
 * | status       | the status moved `from` → `to`                                          |
 * | holder       | another party holds it (a transfer was accepted)                        |
 * | offer        | the open offer changed: offered to `to`, or withdrawn/answered (`null`) |
 * | pledgeGained | it is now pledged (to `pledge.bank`, loan `pledge.loanRef`)             |
 * | pledgeLost   | the pledge it had is gone (released, or ended by settlement)            |
 * | settled      | it was paid, to `settlement.payee`                                      |
 * | split        | it was split into parts (the parts are new vouchers; see the tree)      |
 * | other        | any other field changed (`fields` names them)                           |
 */
export type VoucherChange =
  | { readonly kind: 'status'; readonly from: VoucherStatus; readonly to: VoucherStatus }
  | { readonly kind: 'holder'; readonly from: string; readonly to: string }
  | { readonly kind: 'offer'; readonly from: string | null; readonly to: string | null }
  | { readonly kind: 'pledgeGained'; readonly pledge: Pledge }
  | { readonly kind: 'pledgeLost'; readonly pledge: Pledge }
  | { readonly kind: 'settled'; readonly settlement: Settlement }
  | { readonly kind: 'split' }
  | { readonly kind: 'other'; readonly fields: readonly string[] };

/**
 * | kind         | meaning                                                                       |
 * |--------------|-------------------------------------------------------------------------------|
 * | unchanged    | the current state is the proven one                                           |
 * | changed      | the voucher changed at entry `atSeq` (its latest change), after `sinceSeq`;   |
 * |              | `changes` says how, in the order of the table above. It is empty when later   |
 * |              | entries touched the voucher but left it as proven (an offer made, withdrawn)  |
 * | inconsistent | the service's state cannot follow the proven one: it is `OLDER` (an earlier   |
 * |              | seq) or `SAME_SEQ_DIFFERENT` (another state under the same seq). Do not rely  |
 * |              | on that service's answer.                                                     |
 */
export type Freshness =
  | { readonly kind: 'unchanged' }
  | {
      readonly kind: 'changed';
      readonly current: WireVoucher;
      /** The seq of the proven state's last change. */
      readonly sinceSeq: number;
      /** The seq of the current state's last change. */
      readonly atSeq: number;
      readonly changes: readonly VoucherChange[];
    }
  | { readonly kind: 'inconsistent'; readonly current: WireVoucher; readonly why: 'OLDER' | 'SAME_SEQ_DIFFERENT' };

/** Fields whose changes have their own kind; any other changed field is reported as `other`. */
const NAMED_FIELDS = new Set(['status', 'holder', 'offeredTo', 'pledge', 'settlement', 'updatedSeq']);

const same = (a: unknown, b: unknown): boolean => {
  try {
    return canonicalize(a ?? null) === canonicalize(b ?? null);
  } catch {
    return false;
  }
};

/**
 * Compares the state a bundle's entries give (`asOf`: the bundle's `state` once it verified) with the ledger's `current` state of the same voucher.
 * Throws `TypeError` when the two are states of different vouchers (a caller's mistake).
 */
export const compareWithCurrent = (asOf: WireVoucher, current: WireVoucher): Freshness => {
  if (asOf.id !== current.id) throw new TypeError(`compareWithCurrent: ${asOf.id} and ${current.id} are different vouchers`);
  if (same(asOf, current)) return { kind: 'unchanged' };
  if (current.updatedSeq < asOf.updatedSeq) return { kind: 'inconsistent', current, why: 'OLDER' };
  if (current.updatedSeq === asOf.updatedSeq) return { kind: 'inconsistent', current, why: 'SAME_SEQ_DIFFERENT' };

  const changes: VoucherChange[] = [];
  if (asOf.status !== current.status) changes.push({ kind: 'status', from: asOf.status, to: current.status });
  if (asOf.holder !== current.holder) changes.push({ kind: 'holder', from: asOf.holder, to: current.holder });
  if (asOf.offeredTo !== current.offeredTo) changes.push({ kind: 'offer', from: asOf.offeredTo, to: current.offeredTo });
  if (!same(asOf.pledge, current.pledge)) {
    if (current.pledge !== null) changes.push({ kind: 'pledgeGained', pledge: current.pledge });
    if (asOf.pledge !== null) changes.push({ kind: 'pledgeLost', pledge: asOf.pledge });
  }
  if (current.settlement !== null && !same(asOf.settlement, current.settlement)) changes.push({ kind: 'settled', settlement: current.settlement });
  if (current.status === 'split' && asOf.status !== 'split') changes.push({ kind: 'split' });
  const fields = [...new Set([...Object.keys(asOf), ...Object.keys(current)])].filter(
    (k) => !NAMED_FIELDS.has(k) && !same((asOf as unknown as Record<string, unknown>)[k], (current as unknown as Record<string, unknown>)[k]),
  );
  if (fields.length > 0) changes.push({ kind: 'other', fields });
  return { kind: 'changed', current, sinceSeq: asOf.updatedSeq, atSeq: current.updatedSeq, changes };
};
