/**
 * docs/protocol.md §8, who may see a voucher, written once: the in-memory state, the writer's batch
 * view and the read side all ask here. The operator and auditors see every voucher. Any other party
 * sees a voucher it is or was involved with (`involvedParties`), and every ancestor of one: the
 * writer records those parties as the voucher's viewers and grants them upward (`grantViewers`).
 */
import type { Role, Voucher } from './types.js';

/** §8: the parties a voucher makes visible to, through its own fields. */
export const involvedParties = (v: Voucher): string[] => {
  const ids = [v.issuer, v.holder];
  if (v.offeredTo !== null) ids.push(v.offeredTo);
  if (v.pledge !== null) ids.push(v.pledge.bank);
  if (v.settlement !== null) ids.push(v.settlement.payee);
  return ids;
};

/** The roles that see every voucher (and the raw log and every party's list). */
export const seesEveryVoucher = (role: Role | undefined): boolean => role === 'operator' || role === 'auditor';

/** A voucher's viewers, as a store keeps them: a set in memory, a list in a stored record. */
export type Viewers = ReadonlySet<string> | readonly string[];

const lists = (viewers: Viewers, partyId: string): boolean => ('has' in viewers ? viewers.has(partyId) : viewers.includes(partyId));

/**
 * Whether party `partyId` (of `role`, undefined if unregistered) may see a voucher whose viewers
 * are `viewers`; `undefined` viewers means there is no such voucher.
 */
export const maySeeVoucher = (partyId: string, role: Role | undefined, viewers: Viewers | undefined): boolean =>
  viewers !== undefined && (seesEveryVoucher(role) || lists(viewers, partyId));

/** How `grantViewers` reads and changes one store's voucher records. */
export interface ViewerRecords<R> {
  /** The record of voucher `id`; a missing ancestor is a broken invariant, so this throws. */
  readonly record: (id: string) => R;
  readonly viewers: (record: R) => Viewers;
  readonly parentId: (record: R) => string | null;
  /** Adds `parties` (none of them viewers yet) to the viewers of voucher `id`. */
  readonly add: (id: string, record: R, parties: readonly string[]) => void;
}

/**
 * §8: a party that may see a voucher may see all its ancestors. Makes `parties` viewers of voucher
 * `fromId` and of each ancestor above it. A party already a viewer of a voucher was granted on
 * every ancestor above it too, so the walk goes on only with the parties that were missing.
 */
export const grantViewers = <R>(fromId: string | null, parties: readonly string[], records: ViewerRecords<R>): void => {
  let id = fromId;
  let pending = parties;
  while (id !== null && pending.length > 0) {
    const record = records.record(id);
    const viewers = records.viewers(record);
    const missingHere = pending.filter((p) => !lists(viewers, p));
    if (missingHere.length > 0) records.add(id, record, missingHere);
    pending = missingHere;
    id = records.parentId(record);
  }
};
