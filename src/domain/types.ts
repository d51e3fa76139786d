/**
 * The domain's data: parties, vouchers, ops, and the result of `decide`.
 * Amounts are bigint minor units everywhere inside; `wire.ts` converts to and from the
 * decimal strings of docs/protocol.md §2.
 */
import type { Refusal } from './codes.js';

export type Role = 'operator' | 'core' | 'supplier' | 'bank' | 'auditor';
/** Roles `party.register` may give (§7): the operator exists only from genesis. */
export type RegistrableRole = Exclude<Role, 'operator'>;
export type PartyStatus = 'active' | 'suspended';

export interface Party {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly publicKey: string;
  readonly status: PartyStatus;
}

/** Every voucher status (docs/protocol.md §7), in lifecycle order; the one list that readers, parsers and UIs use. */
export const VOUCHER_STATUSES = ['offered', 'active', 'pledged', 'split', 'settled', 'cancelled'] as const;
export type VoucherStatus = (typeof VOUCHER_STATUSES)[number];

export interface Pledge {
  readonly bank: string;
  readonly loanRef: string;
  /** Ledger time of the pledge entry. */
  readonly since: string;
}

export interface Settlement {
  readonly payee: string;
  readonly paymentRef: string;
  readonly at: string;
}

/** A voucher's state, as in §7 but with bigint amounts. */
export interface Voucher {
  readonly id: string;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly issuer: string;
  readonly holder: string;
  readonly offeredTo: string | null;
  readonly amount: bigint;
  readonly range: { readonly start: bigint; readonly end: bigint };
  readonly currency: string;
  readonly dueDate: string;
  readonly invoiceIds: readonly string[];
  readonly status: VoucherStatus;
  readonly pledge: Pledge | null;
  readonly settlement: Settlement | null;
  readonly createdSeq: number;
  readonly updatedSeq: number;
}

// ---- Ops (payloads after the strict shape check of schema.ts) ----

interface PayloadBase {
  readonly ledger: string;
  readonly nonce: string;
  readonly expiresAt?: string;
}

export interface PartyRegisterPayload extends PayloadBase {
  readonly type: 'party.register';
  readonly party: {
    readonly id: string;
    readonly name: string;
    readonly role: RegistrableRole;
    readonly publicKey: string;
  };
}

export interface PartyUpdatePayload extends PayloadBase {
  readonly type: 'party.update';
  readonly partyId: string;
  readonly publicKey?: string;
  readonly status?: PartyStatus;
}

export interface VoucherIssuePayload extends PayloadBase {
  readonly type: 'voucher.issue';
  readonly issuer: string;
  readonly to: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly dueDate: string;
  readonly invoiceIds: readonly string[];
  readonly memo?: string;
}

export interface VoucherAcceptPayload extends PayloadBase {
  readonly type: 'voucher.accept';
  readonly voucherId: string;
}

export interface VoucherRejectPayload extends PayloadBase {
  readonly type: 'voucher.reject';
  readonly voucherId: string;
  readonly reason?: string;
}

export interface VoucherCancelPayload extends PayloadBase {
  readonly type: 'voucher.cancel';
  readonly voucherId: string;
}

export interface VoucherSplitPayload extends PayloadBase {
  readonly type: 'voucher.split';
  readonly voucherId: string;
  readonly amounts: readonly bigint[];
}

export interface VoucherTransferPayload extends PayloadBase {
  readonly type: 'voucher.transfer';
  readonly voucherId: string;
  readonly to: string;
  readonly amount?: bigint;
}

export interface VoucherPledgePayload extends PayloadBase {
  readonly type: 'voucher.pledge';
  readonly voucherId: string;
  readonly bank: string;
  readonly loanRef: string;
  readonly amount?: bigint;
}

export interface VoucherReleasePayload extends PayloadBase {
  readonly type: 'voucher.release';
  readonly voucherId: string;
}

export interface VoucherSettlePayload extends PayloadBase {
  readonly type: 'voucher.settle';
  readonly voucherId: string;
  readonly paymentRef: string;
}

export type Payload =
  | PartyRegisterPayload
  | PartyUpdatePayload
  | VoucherIssuePayload
  | VoucherAcceptPayload
  | VoucherRejectPayload
  | VoucherCancelPayload
  | VoucherSplitPayload
  | VoucherTransferPayload
  | VoucherPledgePayload
  | VoucherReleasePayload
  | VoucherSettlePayload;

export type OpType = Payload['type'];
export type VoucherPayload = Extract<Payload, { voucherId: string }>;

export interface Signature {
  readonly signer: string;
  readonly sig: string;
}

/** A client op after the shape check: the typed payload and its signatures. */
export interface Op {
  readonly payload: Payload;
  readonly signatures: readonly Signature[];
}

// ---- decide's inputs and output ----

/**
 * Read access to the ledger's current state. `decide` reads only through this, so the service can
 * back it with a prefetched cache and tests with `MemoryState`.
 */
export interface LedgerView {
  party(id: string): Party | undefined;
  /** The id of the party that holds or ever held this public key, if any. */
  keyOwner(publicKey: string): string | undefined;
  voucher(id: string): Voucher | undefined;
  /** The id of the live (not cancelled) root that holds this invoice id, if any. */
  invoiceRoot(invoiceId: string): string | undefined;
  /**
   * §8 visibility: operator and auditor see everything; any other party sees a voucher if it is its
   * issuer, has been its holder, offeree, sender or pledgee, or may see one of its descendants.
   */
  maySee(partyId: string, voucherId: string): boolean;
}

export interface DecideContext {
  /** This ledger's id (§6). */
  readonly ledgerId: string;
  /** The ledger's currency and tenor, from genesis. */
  readonly currency: string;
  readonly maxTenorDays: number;
  /** The seq and ledger time the op would get if it is accepted. */
  readonly seq: number;
  readonly time: string;
  /** The op's id (hex SHA-256 of its preimage); the root voucher id derives from it. */
  readonly opId: string;
  /**
   * The node's public key, from genesis (§6). Genesis registers it to the node, which signs
   * checkpoints with it, so no party may take it (`PARTY_EXISTS`).
   */
  readonly nodeKey: string;
  /**
   * Does `sig` verify over this op's preimage under `publicKey`? The service answers from
   * signatures it checked off the main thread; tests answer with a real verifier.
   */
  verifySignature(publicKey: string, sig: string): boolean;
}

export interface Effects {
  /** Every voucher the op created or changed, in its new state. */
  readonly vouchers: readonly Voucher[];
  /** Every party the op created or changed, in its new state. */
  readonly parties: readonly Party[];
  readonly invoicesUsed: readonly string[];
  readonly invoicesFreed: readonly string[];
}

export interface Accepted {
  readonly ok: true;
  readonly effects: Effects;
}

export type Decision = Accepted | Refusal;
