/**
 * The shapes of the service's answers (docs/protocol.md §8–§9) as the client sees them, and the checks
 * the client runs on them before handing them out. The checks only look (`safeParse`); the value
 * handed out is the parsed JSON itself, never a copy, so an entry's bytes stay exactly what was
 * hashed.
 */
import { z } from 'zod';

import { VOUCHER_STATUSES, type Party, type VoucherStatus } from '../domain/types.js';
import type { LedgerInfo, Receipt, WireVoucher } from '../domain/wire.js';
import type { HashedEntry } from '../ledger/entry.js';

export type { HashedEntry, LedgerInfo, Party, Receipt, VoucherStatus, WireVoucher };

export interface EntriesPage {
  readonly entries: readonly HashedEntry[];
  readonly next: number | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

export interface InclusionAnswer {
  readonly seq: number;
  readonly treeSize: number;
  readonly entryHash: string;
  readonly hashes: readonly string[];
}

export interface ConsistencyAnswer {
  readonly from: number;
  readonly to: number;
  readonly hashes: readonly string[];
}

export interface TreeNode extends WireVoucher {
  readonly children: readonly TreeNode[];
}

/** §9: `GET /v1/vouchers/:id/proof`. Check it with `verifyBundle` before relying on it. */
export interface ProofBundle {
  readonly ledger: LedgerInfo;
  readonly checkpoint: string;
  readonly voucherId: string;
  readonly entries: readonly (HashedEntry & { readonly inclusion: readonly string[] })[];
  readonly state: WireVoucher;
}

// ---- checks ----

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

const voucher = z.looseObject({
  id: z.string(),
  rootId: z.string(),
  parentId: z.string().nullable(),
  issuer: z.string(),
  holder: z.string(),
  offeredTo: z.string().nullable(),
  amount: z.string(),
  range: z.looseObject({ start: z.string(), end: z.string() }),
  status: z.enum(VOUCHER_STATUSES),
  createdSeq: count,
  updatedSeq: count,
});

const party = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.enum(['operator', 'core', 'supplier', 'bank', 'auditor']),
  publicKey: z.string(),
  status: z.enum(['active', 'suspended']),
});

const hashedEntry = z.looseObject({ entry: z.looseObject({ seq: count }), hash: hex32 });

export const ANSWERS = {
  ledger: z.looseObject({
    ledgerId: hex32,
    name: z.string(),
    nodeKey: hex32,
    operatorKey: hex32,
    size: count,
    currency: z.string(),
    maxTenorDays: count,
  }),
  receipt: z.looseObject({
    opId: hex32,
    seq: count,
    entryHash: hex32,
    time: z.string(),
    treeSize: count,
    effects: z.looseObject({ vouchers: z.array(voucher), parties: z.array(party) }),
    duplicate: z.literal(true).optional(),
  }),
  entries: z.looseObject({ entries: z.array(hashedEntry), next: count.nullable() }),
  entry: hashedEntry,
  history: z.looseObject({ entries: z.array(hashedEntry) }),
  parties: z.looseObject({ items: z.array(party), next: z.string().nullable() }),
  party,
  vouchers: z.looseObject({ items: z.array(voucher), next: z.string().nullable() }),
  voucher,
  tree: z.looseObject({ root: voucher.extend({ children: z.array(z.unknown()) }) }),
  /** Only the envelope of a bundle; `verifyBundle` checks the rest, defensively. */
  proof: z.looseObject({ checkpoint: z.string(), voucherId: z.string(), entries: z.array(z.unknown()) }),
  inclusion: z.looseObject({ seq: count, treeSize: count, entryHash: hex32, hashes: z.array(hex32) }),
  consistency: z.looseObject({ from: count, to: count, hashes: z.array(hex32) }),
  problem: z.looseObject({
    code: z.string(),
    status: z.number().optional(),
    title: z.string().optional(),
    detail: z.string().optional(),
    /**
     * An extension member (RFC 9457 §3.2): which check failed, e.g. for `UNAUTHENTICATED`. Not
     * checked here: an odd value must not turn a refusal into an unusable answer; the client
     * keeps it only when it is a short code.
     */
    reason: z.unknown().optional(),
  }),
} as const;
