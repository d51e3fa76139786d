/**
 * The strict shape of a client envelope (docs/protocol.md §2, §4, §7). Anything that is not exactly this
 * shape is `MALFORMED_REQUEST`: an unknown, missing or mistyped field, a bad format, a count out of
 * range, a submitted `ledger.genesis`, or a bad public key.
 *
 * The schemas read every number from `limits.ts`. On success the payload's amounts are bigint.
 */
import { z } from 'zod';
import { isStrictPublicKey } from '../ledger/ed25519.js';
import { isLedgerTime } from '../ledger/entry.js';
import { refuse, type Refusal } from './codes.js';
import { LIMITS, PATTERNS } from './limits.js';
import { formatAmount } from './money.js';
import type { Op, OpType } from './types.js';

/** A UTF-16 string with an unpaired surrogate is not I-JSON (RFC 7493 §2.1). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Length in Unicode code points, as §2 counts lengths. */
export const codePointLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
};

/** Free text of `min`–`max` code points, well-formed UTF-16. */
const text = (min: number, max: number) =>
  z
    .string()
    .refine((s) => !LONE_SURROGATE.test(s), 'contains a lone surrogate')
    .refine((s) => {
      const n = codePointLength(s);
      return n >= min && n <= max;
    }, `must be ${min}–${max} characters`);

const partyId = z.string().regex(PATTERNS.partyId, 'is not a valid party id');
const voucherId = z.string().regex(PATTERNS.voucherId, 'is not a valid voucher id');
const nonce = z.string().regex(PATTERNS.nonce, 'is not a valid nonce');

/** True for a real calendar date `YYYY-MM-DD`. */
export const isCalendarDate = (s: string): boolean => {
  if (!PATTERNS.date.test(s)) return false;
  const ms = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return new Date(ms).toISOString().slice(0, 10) === s;
};

/**
 * A time in an op: a ledger time (the ledger's one definition: exactly what `toISOString` writes
 * for a real instant, so 23:59:60, 25:00 and :60 are refused) whose date also passes the same
 * check as a date field.
 */
const isOpTime = (s: string): boolean => isLedgerTime(s) && isCalendarDate(s.slice(0, 10));

const date = z.string().refine(isCalendarDate, 'is not a date YYYY-MM-DD');
const time = z.string().refine(isOpTime, 'is not an RFC 3339 UTC time with milliseconds');

/** §2: decimal minor units, no sign, no leading zeros, 1 … 10^15. */
const amount = z
  .string()
  .regex(PATTERNS.amount, 'is not an amount in minor units')
  .transform((s) => BigInt(s))
  .refine(
    (n) => n >= LIMITS.amountMinMinor && n <= LIMITS.amountMaxMinor,
    `must be from ${formatAmount(LIMITS.amountMinMinor)} to ${formatAmount(LIMITS.amountMaxMinor)}`,
  );

const publicKey = z.string().regex(PATTERNS.publicKey, 'is not 64 lowercase hex characters').refine(isStrictPublicKey, 'is not a valid Ed25519 public key');

const base = {
  ledger: z.string().regex(PATTERNS.hash, 'is not a ledger id'),
  nonce,
  expiresAt: time.optional(),
};

const ref = text(1, LIMITS.refCharsMax);

const payloadSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('party.register'),
    ...base,
    party: z.strictObject({
      id: partyId,
      name: text(1, LIMITS.partyNameCharsMax),
      role: z.enum(['core', 'supplier', 'bank', 'auditor']),
      publicKey,
    }),
  }),
  z
    .strictObject({
      type: z.literal('party.update'),
      ...base,
      partyId,
      publicKey: publicKey.optional(),
      status: z.enum(['active', 'suspended']).optional(),
    })
    .refine((p) => p.publicKey !== undefined || p.status !== undefined, 'needs publicKey or status'),
  z.strictObject({
    type: z.literal('voucher.issue'),
    ...base,
    issuer: partyId,
    to: partyId,
    amount,
    currency: z.string().regex(/^[A-Z]{3}$/, 'is not an ISO 4217 code'),
    dueDate: date,
    invoiceIds: z
      .array(text(1, LIMITS.invoiceIdCharsMax))
      .min(LIMITS.invoiceIdsMin)
      .max(LIMITS.invoiceIdsMax)
      .refine((ids) => new Set(ids).size === ids.length, 'has duplicate invoice ids'),
    memo: text(0, LIMITS.memoCharsMax).optional(),
  }),
  z.strictObject({ type: z.literal('voucher.accept'), ...base, voucherId }),
  z.strictObject({
    type: z.literal('voucher.reject'),
    ...base,
    voucherId,
    reason: text(0, LIMITS.reasonCharsMax).optional(),
  }),
  z.strictObject({ type: z.literal('voucher.cancel'), ...base, voucherId }),
  z.strictObject({
    type: z.literal('voucher.split'),
    ...base,
    voucherId,
    amounts: z.array(amount).min(LIMITS.splitPartsMin).max(LIMITS.splitPartsMax),
  }),
  z.strictObject({
    type: z.literal('voucher.transfer'),
    ...base,
    voucherId,
    to: partyId,
    amount: amount.optional(),
  }),
  z.strictObject({
    type: z.literal('voucher.pledge'),
    ...base,
    voucherId,
    bank: partyId,
    loanRef: ref,
    amount: amount.optional(),
  }),
  z.strictObject({ type: z.literal('voucher.release'), ...base, voucherId }),
  z.strictObject({ type: z.literal('voucher.settle'), ...base, voucherId, paymentRef: ref }),
]);

/** The op types this union lacks: `never`, or the compiler refuses the line below and names them. */
type OpTypesWithoutAShape = Exclude<OpType, z.infer<typeof payloadSchema>['type']>;
export const EVERY_OP_TYPE_HAS_A_SHAPE: [OpTypesWithoutAShape] extends [never] ? true : OpTypesWithoutAShape = true;

const signatureSchema = z.strictObject({
  signer: partyId,
  sig: z.string().regex(PATTERNS.signature, 'is not 128 lowercase hex characters'),
});

export const envelopeSchema = z.strictObject({
  payload: payloadSchema,
  signatures: z.array(signatureSchema).min(LIMITS.signaturesMin).max(LIMITS.signaturesMax),
});

export type ParseResult = { readonly ok: true; readonly op: Op } | Refusal;

/** Where in the envelope an issue is, as `payload.party.id`. */
const pathOf = (path: readonly PropertyKey[]): string => (path.length === 0 ? 'envelope' : path.map((p) => String(p)).join('.'));

/**
 * Checks an envelope's shape. `input` is the JSON value of the request body, already parsed as
 * I-JSON by the caller (duplicate keys and invalid UTF-8 are refused before this).
 */
export const parseOp = (input: unknown): ParseResult => {
  if (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as { payload?: unknown }).payload === 'object' &&
    (input as { payload: { type?: unknown } | null }).payload?.type === 'ledger.genesis'
  ) {
    return refuse('MALFORMED_REQUEST', 'ledger.genesis cannot be submitted');
  }
  const parsed = envelopeSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const detail = issue ? `${pathOf(issue.path)}: ${issue.message}` : 'not a valid envelope';
    return refuse('MALFORMED_REQUEST', detail);
  }
  return { ok: true, op: parsed.data as Op };
};
