/**
 * Refusal codes of docs/protocol.md §7 and §8, listed once, in the precedence order of the §7 table.
 * A code is a stable name: never renamed, never reused for another reason.
 */
export const REFUSAL_HTTP_STATUS = {
  PAYLOAD_TOO_LARGE: 413,
  MALFORMED_REQUEST: 400,
  WRONG_LEDGER: 422,
  OP_EXPIRED: 422,
  UNKNOWN_PARTY: 422,
  BAD_SIGNATURE: 401,
  PARTY_SUSPENDED: 403,
  VOUCHER_NOT_FOUND: 404,
  VOUCHER_STATE_CONFLICT: 409,
  SIGNERS_MISMATCH: 403,
  ROLE_NOT_ALLOWED: 422,
  PARTY_EXISTS: 409,
  VOUCHER_PLEDGED: 409,
  VOUCHER_OVERDUE: 409,
  INVALID_RECIPIENT: 422,
  AMOUNT_INVALID: 422,
  DUE_DATE_INVALID: 422,
  CURRENCY_INVALID: 422,
  INVOICE_ALREADY_USED: 409,
  // §8: reads and transport.
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  LEDGER_UNAVAILABLE: 503,
} as const;

export type RefusalCode = keyof typeof REFUSAL_HTTP_STATUS;

/** The codes `decide` itself can return (the op-level rows of the §7 table). */
export type DecideCode = Exclude<RefusalCode, 'PAYLOAD_TOO_LARGE' | 'UNAUTHENTICATED' | 'NOT_FOUND' | 'RATE_LIMITED' | 'LEDGER_UNAVAILABLE'>;

/**
 * What each code `decide` returns says about an op's signers, declared for every code so that a
 * new code cannot be added without saying it.
 *
 * `countsAgainstSigners`: whether the refusal of an op whose signatures all verified counts
 * against its signers' rate limit (counted once per op id when it was admitted; otherwise that
 * count is taken back). A signature covers the payload, not the envelope around it nor the moment
 * it is sent, so two refusals are not the signers' doing:
 * - SIGNERS_MISMATCH: which signatures an envelope carries is up to whoever assembles and sends
 *   it (a pledge request signed by the holder alone, sent by anyone who holds it);
 * - OP_EXPIRED: the signers set a deadline; sending the op after it is the sender's doing.
 * Every other refusal follows from what the signers signed.
 */
export const DECIDE_CODE_TRAITS: { readonly [C in DecideCode]: { readonly countsAgainstSigners: boolean } } = {
  MALFORMED_REQUEST: { countsAgainstSigners: true },
  WRONG_LEDGER: { countsAgainstSigners: true },
  OP_EXPIRED: { countsAgainstSigners: false },
  UNKNOWN_PARTY: { countsAgainstSigners: true },
  BAD_SIGNATURE: { countsAgainstSigners: true },
  PARTY_SUSPENDED: { countsAgainstSigners: true },
  VOUCHER_NOT_FOUND: { countsAgainstSigners: true },
  VOUCHER_STATE_CONFLICT: { countsAgainstSigners: true },
  SIGNERS_MISMATCH: { countsAgainstSigners: false },
  ROLE_NOT_ALLOWED: { countsAgainstSigners: true },
  PARTY_EXISTS: { countsAgainstSigners: true },
  VOUCHER_PLEDGED: { countsAgainstSigners: true },
  VOUCHER_OVERDUE: { countsAgainstSigners: true },
  INVALID_RECIPIENT: { countsAgainstSigners: true },
  AMOUNT_INVALID: { countsAgainstSigners: true },
  DUE_DATE_INVALID: { countsAgainstSigners: true },
  CURRENCY_INVALID: { countsAgainstSigners: true },
  INVOICE_ALREADY_USED: { countsAgainstSigners: true },
};

export interface Refusal {
  readonly ok: false;
  readonly code: DecideCode;
  /** A plain-English explanation for people; clients branch on `code`, never on this. */
  readonly detail: string;
}

export const refuse = (code: DecideCode, detail: string): Refusal => ({ ok: false, code, detail });

/**
 * Why a request was refused `UNAUTHENTICATED` (401): the RFC 9457 extension member `reason` of
 * that problem, so that a client can tell its user what to do (docs/protocol.md §8). Stable names,
 * like the codes; the code and status stay `UNAUTHENTICATED`/401 for every one of them.
 */
export const UNAUTHENTICATED_REASONS = [
  /** No `Authorization` header. */
  'TOKEN_MISSING',
  /** Not `Bearer <compact JWS>` with the header and claims of §8. */
  'TOKEN_MALFORMED',
  /** `iss` names no party of this ledger. */
  'PARTY_UNKNOWN',
  /** The party is suspended (told only to a holder of its current key). */
  'PARTY_SUSPENDED',
  /** The signature does not verify under the party's current key (a rotated or wrong key). */
  'KEY_NOT_CURRENT',
  /** `exp` has passed. */
  'TOKEN_EXPIRED',
  /** `iat` (or `nbf`) is too far ahead of the service's clock: a clock is wrong. */
  'TOKEN_NOT_YET_VALID',
  /** `aud` is not this ledger's id. */
  'WRONG_AUDIENCE',
] as const;

export type UnauthenticatedReason = (typeof UNAUTHENTICATED_REASONS)[number];
