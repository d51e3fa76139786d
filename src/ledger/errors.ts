/**
 * Result codes of the ledger layer (docs/protocol.md §2–§6). One closed list, each code one reason,
 * never renamed. Verifiers return `LedgerResult`; they never throw on untrusted input. Functions
 * whose inputs are trusted (the service's own data) throw a `LedgerError` carrying the same codes.
 *
 * | code              | meaning                                                                    |
 * |-------------------|----------------------------------------------------------------------------|
 * | BAD_HEX           | not lowercase hex, or not the expected number of bytes                     |
 * | BAD_JSON_VALUE    | a value JCS (RFC 8785) cannot encode: NaN/±Infinity, bigint, undefined in   |
 * |                   | an array, a function, symbol, class instance, lone surrogate, too deep     |
 * | BAD_HASH          | a leaf, root or proof element that is not a 32-byte hash                   |
 * | BAD_INDEX         | a leaf index that is not an integer in [0, size)                           |
 * | BAD_SIZE          | a tree size that is not a safe non-negative integer, or sizes out of order |
 * | BAD_PROOF         | a proof that is not an array, or longer than LEDGER_LIMITS.proofHashesMax  |
 * | BAD_PROOF_LENGTH  | a proof with too many or too few elements for its index and sizes          |
 * | ROOT_MISMATCH     | a well-formed proof that does not lead to the given root(s)                |
 * | BAD_KEY           | a public key that is not a canonical, non-small-order Ed25519 point        |
 * | BAD_SIGNATURE     | a signature by a known key that does not verify                            |
 * | UNKNOWN_KEY       | no signature line of the expected key (name and key id) in a note          |
 * | BAD_NOTE          | a signed note that breaks C2SP signed-note framing or our limits           |
 * | BAD_CHECKPOINT    | a note text that is not a C2SP tlog-checkpoint body                         |
 * | ORIGIN_MISMATCH   | a checkpoint for another ledger (origin is not `rvl/<ledgerId>`)           |
 * | BAD_ENTRY         | an entry that is not the shape of docs/protocol.md §5                           |
 * | HASH_MISMATCH     | an entry whose given hash is not SHA-256(0x00 ‖ JCS(entry))                |
 * | SEQ_GAP           | an entry whose seq is not the previous seq + 1 (or 0 for genesis)          |
 * | CHAIN_BROKEN      | an entry whose `prev` is not the previous entry's hash                     |
 * | TIME_DECREASED    | an entry whose time is before the previous entry's time                    |
 * | BAD_VKEY          | a witness verifier key that is not an Ed25519 cosigner vkey (§11.3)        |
 * | BAD_POLICY        | a witness policy whose quorum is not from 1 to its number of witnesses     |
 * | BAD_COSIGNATURE   | a cosignature line of a known witness that does not verify                 |
 * | QUORUM_NOT_MET    | fewer valid cosignatures of the policy's witnesses than its quorum         |
 */
export const LEDGER_ERROR_CODES = [
  'BAD_HEX',
  'BAD_JSON_VALUE',
  'BAD_HASH',
  'BAD_INDEX',
  'BAD_SIZE',
  'BAD_PROOF',
  'BAD_PROOF_LENGTH',
  'ROOT_MISMATCH',
  'BAD_KEY',
  'BAD_SIGNATURE',
  'UNKNOWN_KEY',
  'BAD_NOTE',
  'BAD_CHECKPOINT',
  'ORIGIN_MISMATCH',
  'BAD_ENTRY',
  'HASH_MISMATCH',
  'SEQ_GAP',
  'CHAIN_BROKEN',
  'TIME_DECREASED',
  'BAD_VKEY',
  'BAD_POLICY',
  'BAD_COSIGNATURE',
  'QUORUM_NOT_MET',
] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export interface LedgerFailure {
  readonly ok: false;
  readonly code: LedgerErrorCode;
  /** For people; callers branch on `code`, never on this text. */
  readonly detail: string;
}

/** `{ok: true, ...value}` or a coded failure. */
export type LedgerResult<T extends object = object> = ({ readonly ok: true } & Readonly<T>) | LedgerFailure;

export const fail = (code: LedgerErrorCode, detail: string): LedgerFailure => ({ ok: false, code, detail });

/** Thrown only for inputs the caller was responsible for (programmer errors), never for wire data. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.name = 'LedgerError';
    this.code = code;
  }
}
