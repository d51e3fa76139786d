/**
 * What the console shows when something is refused or fails: the code exactly as the ledger or
 * the SDK gave it, a plain explanation for people, and the detail from the answer. The console
 * never invents a failure: every `Shown` comes from a problem+json answer of the service or a
 * coded result of the SDK (src/client), or is an unexpected error shown as such.
 */
import {
  InvalidOpError,
  KeyFileError,
  LedgerHttpError,
  LedgerNetworkError,
  LedgerRefusal,
  PledgeRequestError,
  TrustError,
  type AuditFailureCode,
  type BundleFailureCode,
  type KeyFileErrorCode,
  type LedgerHttpErrorReason,
  type PledgeRequestErrorCode,
  type PledgeReviewCode,
  type RefusalCode,
  type TrustErrorCode,
} from '../../src/client/index.js';
import { AmountError } from '../../src/domain/money.js';
import { SealError, type SealErrorCode } from './keystore.js';

/** §7–§8 refusals, in the words of the console (every code, so a new one fails to compile). */
export const REFUSAL_TEXT: Record<RefusalCode, string> = {
  PAYLOAD_TOO_LARGE: 'The request is larger than the ledger accepts.',
  MALFORMED_REQUEST: 'The ledger could not read the request: a field is missing, unknown or badly formed.',
  WRONG_LEDGER: 'The op was signed for another ledger than this one.',
  OP_EXPIRED: 'Its expiry passed before it reached the ledger. Prepare it again.',
  UNKNOWN_PARTY: 'A party named in the op is not registered on this ledger (the operator registers parties).',
  BAD_SIGNATURE: "A signature does not verify under the signer's current key on the ledger.",
  PARTY_SUSPENDED: 'A suspended party can do nothing until the operator reactivates it.',
  VOUCHER_NOT_FOUND: 'No such voucher, or none of the signers may see it.',
  VOUCHER_STATE_CONFLICT: 'The voucher’s status does not allow this step.',
  SIGNERS_MISMATCH: 'This op must be signed by exactly the parties it needs (for a pledge: the holder and the bank).',
  ROLE_NOT_ALLOWED: 'A party’s role does not allow this (only a core enterprise issues, only a bank takes pledges, nobody transfers to a core enterprise).',
  PARTY_EXISTS: 'A party id or key can be registered only once, ever.',
  VOUCHER_PLEDGED: 'The voucher is pledged to a bank: it cannot be pledged again, split or transferred until the bank releases it.',
  VOUCHER_OVERDUE: 'After its due date a voucher can only be settled.',
  INVALID_RECIPIENT: 'That party already holds the voucher.',
  AMOUNT_INVALID: 'The amounts do not fit: split parts must add up to the voucher exactly, and a partial amount must be below it.',
  DUE_DATE_INVALID: 'The due date must be after today (ledger time) and within the ledger’s maximum tenor.',
  CURRENCY_INVALID: 'Only the ledger’s currency is accepted.',
  INVOICE_ALREADY_USED: 'An invoice can back only one live voucher.',
  UNAUTHENTICATED: 'The ledger did not accept the sign-in token.',
  NOT_FOUND: 'Nothing there, or your party may not read it.',
  RATE_LIMITED: 'Too many requests; wait a minute and try again.',
  LEDGER_UNAVAILABLE: 'The ledger cannot write right now; nothing was written. Try again later.',
};

export const BUNDLE_TEXT: Record<BundleFailureCode, string> = {
  MALFORMED_BUNDLE: 'The file is not a proof bundle of this protocol.',
  WRONG_VOUCHER: 'The bundle is for another voucher than the one asked about.',
  GENESIS_MISMATCH: 'The bundle’s genesis entry does not hash to the ledger id you gave: it is not that ledger’s.',
  BAD_CHECKPOINT: 'The checkpoint is not signed by the ledger’s node key.',
  ENTRY_HASH_MISMATCH: 'An entry was changed: it does not hash to the hash given for it.',
  NOT_INCLUDED: 'An entry is not in the ledger’s signed tree.',
  CHAIN_BROKEN: 'Consecutive entries are not hash-linked, or time goes backwards.',
  UNKNOWN_SIGNER: 'A signer has no registered key at that entry.',
  BAD_SIGNATURE: 'A signature does not verify under the signer’s key at that entry.',
  MISSING_ENTRY: 'The history is incomplete.',
  REPLAY_REFUSED: 'Replaying the history, the rules refuse an entry.',
  STATE_MISMATCH: 'The stated voucher state is not what the history leads to.',
};

export const AUDIT_TEXT: Record<AuditFailureCode, string> = {
  GENESIS_MISMATCH: 'Entry 0 does not hash to the ledger id, or is not a genesis entry.',
  BAD_CHECKPOINT: 'The checkpoint is not signed by the ledger’s node key.',
  MALFORMED_ENTRY: 'An entry is not the shape the protocol fixes.',
  ENTRY_HASH_MISMATCH: 'An entry does not hash to the hash served with it.',
  MISSING_ENTRY: 'An entry is missing from the log.',
  CHAIN_BROKEN: 'An entry is not linked to the one before it: the log was rewritten.',
  TIME_DECREASED: 'Time goes backwards between two entries.',
  UNKNOWN_SIGNER: 'A signer has no registered key at that entry.',
  BAD_SIGNATURE: 'A signature does not verify.',
  REPLAY_REFUSED: 'An entry breaks the rules when the log is replayed.',
  ENTRY_NOT_IN_TREE: 'An entry as served is not the one the signed checkpoint covers.',
  ROOT_MISMATCH: 'The log does not add up to the signed checkpoint’s root.',
};

const KEY_TEXT: Record<KeyFileErrorCode, string> = {
  NOT_JSON: 'The key file is not JSON.',
  PUBLIC_KEY_FILE: '这是公钥文件，请选择 .key 文件。 This is a public key file; choose the .key file (it holds the secret key too).',
  BAD_SHAPE: 'This file is not a key file (from rvl keygen).',
  BAD_PARTY: 'The party is not a valid party id.',
  BAD_HEX: 'A key must be 64 lowercase hexadecimal characters.',
  BAD_PUBLIC_KEY: 'The public key is not a valid Ed25519 key.',
  KEY_MISMATCH: 'The public key is not the key of this secret seed.',
};

const HTTP_TEXT: Record<LedgerHttpErrorReason, string> = {
  NOT_PROBLEM: 'The service answered with an error the console cannot read (a proxy or an internal error).',
  UNKNOWN_CODE: 'The service answered with an error code this console does not know.',
  BAD_ANSWER: 'The service’s answer is not the shape the protocol fixes.',
  OP_MISMATCH: 'The service answered for another op than the one sent.',
  WRONG_LEDGER: 'The service serves another ledger than the one this console is pinned to.',
};

const TRUST_TEXT: Record<TrustErrorCode, string> = {
  WRONG_LEDGER: 'The checkpoint is for another ledger.',
  BAD_CHECKPOINT: 'The checkpoint is not signed by the node key.',
  ROLLBACK: 'The new checkpoint is smaller than one already trusted: the ledger went back.',
  FORK: 'Two checkpoints of the same size with different roots: the ledger forked.',
  BAD_CONSISTENCY_PROOF: 'The new checkpoint does not extend the trusted one.',
  BAD_STATE: 'The saved trust state is damaged.',
  LEDGER_CHANGED:
    '这个地址以前是另一本账，现在换成了新账本：已拒绝，未信任任何内容。请向运营方核实新的账本 ID；确认后才可有意地改为信任新账本。 ' +
    'This address served another ledger before, and now serves a new one: refused, nothing was trusted. Check the new ledger id with the operator; only then re-pin it deliberately.',
};

const PLEDGE_FILE_TEXT: Record<PledgeRequestErrorCode, string> = {
  NOT_A_PLEDGE_REQUEST: 'This file is not a pledge request (made by “Prepare a pledge” or rvl pledge prepare).',
  BAD_ENVELOPE: 'The pledge in this file is not a valid signed pledge op.',
};

const PLEDGE_REVIEW_TEXT: Partial<Record<PledgeReviewCode, string>> = {
  WRONG_BANK: 'The request names another bank: only that bank can co-sign it.',
  WRONG_LEDGER: 'The request is for another ledger.',
  SIGNERS_MISMATCH: 'The request is not signed by the voucher’s holder.',
  VOUCHER_PLEDGED: 'The proof shows the voucher is already pledged.',
  VOUCHER_STATE_CONFLICT: 'The proof shows a voucher that is not active.',
  BAD_SIGNATURE: 'The holder’s signature does not verify under its key in the proof.',
  AMOUNT_INVALID: 'A partial pledge must be below the voucher’s amount.',
  OP_EXPIRED: 'The request has expired; ask the holder to prepare a new one.',
  VOUCHER_OVERDUE: 'The voucher is past its due date.',
};

/** Explanation of a pledge review code (its own, else a bundle code's). */
export const pledgeReviewText = (code: PledgeReviewCode): string => PLEDGE_REVIEW_TEXT[code] ?? BUNDLE_TEXT[code as BundleFailureCode] ?? '';

/**
 * Why the ledger refused a sign-in token: the `reason` member the service puts on a 401
 * UNAUTHENTICATED problem (docs/protocol.md §8), one sentence each, Chinese first.
 */
export type UnauthenticatedReason =
  | 'TOKEN_MISSING'
  | 'TOKEN_MALFORMED'
  | 'PARTY_UNKNOWN'
  | 'PARTY_SUSPENDED'
  | 'KEY_NOT_CURRENT'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'WRONG_AUDIENCE';

/** Who a sign-in sentence is about: the party named, or the signed-in one. */
interface Who {
  readonly zh: string;
  readonly en: string;
  readonly enPossessive: string;
}

const who = (party: string | undefined): Who =>
  party === undefined
    ? { zh: '你的参与方', en: 'Your party', enPossessive: 'your party’s' }
    : { zh: `参与方 ${party} `, en: `Party ${party}`, enPossessive: `${party}’s` };

export const UNAUTHENTICATED_TEXT: Record<UnauthenticatedReason, (w: Who) => string> = {
  TOKEN_MISSING: () => '请求未带登录令牌。 The request carried no sign-in token.',
  TOKEN_MALFORMED: () => '登录令牌格式不对（控制台出错）。 The sign-in token is malformed (a fault in the console).',
  PARTY_UNKNOWN: (w) =>
    `${w.zh}未在本账本注册。 ${w.en} is not registered on this ledger: ask the operator to register it, or check that this is the right ledger.`,
  PARTY_SUSPENDED: (w) => `${w.zh}已被运营方暂停。 ${w.en} is suspended by the operator; it can do nothing until reactivated.`,
  KEY_NOT_CURRENT: (w) =>
    `此密钥不是${w.zh}当前的密钥（可能已轮换）。 This key is not ${w.enPossessive} current key on the ledger (it may have been rotated): use the newest key file.`,
  TOKEN_EXPIRED: () => '登录令牌已过期：请检查本机时钟。 The sign-in token had expired when it arrived: this computer’s clock may be behind.',
  TOKEN_NOT_YET_VALID: () => '登录令牌尚未生效：请检查本机时钟。 The sign-in token is not valid yet: this computer’s clock is ahead of the ledger’s.',
  WRONG_AUDIENCE: () => '登录令牌是给另一个账本的。 The sign-in token was made for another ledger.',
};

const isUnauthenticatedReason = (x: unknown): x is UnauthenticatedReason => typeof x === 'string' && Object.hasOwn(UNAUTHENTICATED_TEXT, x);

/** The `reason` of a 401 the SDK threw, if it carries one the console knows. */
export const unauthenticatedReason = (err: unknown): UnauthenticatedReason | undefined => {
  if (!(err instanceof LedgerRefusal) || err.code !== 'UNAUTHENTICATED') return undefined;
  return isUnauthenticatedReason(err.reason) ? err.reason : undefined;
};

const SEAL_TEXT: Record<SealErrorCode, string> = {
  NO_WEBCRYPTO:
    '此页面不是安全连接（https 或 localhost），无法加密保存密钥。 This page is not a secure context (https or localhost), so the browser cannot encrypt a key to remember it.',
  BAD_SEALED_KEY: '浏览器中保存的密钥已损坏。 The key this browser remembers is damaged; sign in with the key file.',
  WRONG_PASSPHRASE: '口令不对，未登录。 Wrong passphrase: nothing was signed and you are not signed in.',
};

/** A failure as the console shows it. */
export interface Shown {
  readonly code: string;
  /** Plain explanation. */
  readonly text: string;
  /** The detail from the answer or the SDK, if any. */
  readonly detail?: string;
  /** HTTP status of a ledger answer. */
  readonly status?: number;
  /** Where the failure comes from. */
  readonly source: 'ledger' | 'console';
}

/**
 * Anything thrown by the SDK or the service call, as the console shows it; `signingParty` names the
 * party in a refused sign-in.
 */
export const toShown = (err: unknown, signingParty?: string): Shown => {
  const reason = unauthenticatedReason(err);
  if (reason !== undefined && err instanceof LedgerRefusal) {
    return { code: reason, text: UNAUTHENTICATED_TEXT[reason](who(signingParty)), detail: err.detail, status: err.status, source: 'ledger' };
  }
  if (err instanceof LedgerRefusal) {
    return { code: err.code, text: REFUSAL_TEXT[err.code], detail: err.detail || err.title || '', status: err.status, source: 'ledger' };
  }
  if (err instanceof LedgerHttpError) return { code: err.reason, text: HTTP_TEXT[err.reason], detail: err.detail, status: err.status, source: 'ledger' };
  if (err instanceof LedgerNetworkError) {
    return { code: 'NO_ANSWER', text: 'The ledger service did not answer. Is it running, and is this computer online?', detail: err.detail, source: 'console' };
  }
  if (err instanceof SealError) return { code: err.code, text: SEAL_TEXT[err.code], source: 'console' };
  // A public key file needs one sentence, not the same one twice (text and detail).
  if (err instanceof KeyFileError && err.code === 'PUBLIC_KEY_FILE') return { code: err.code, text: KEY_TEXT[err.code], source: 'console' };
  if (err instanceof KeyFileError) return { code: err.code, text: KEY_TEXT[err.code], detail: err.detail, source: 'console' };
  if (err instanceof InvalidOpError)
    return { code: err.code, text: 'The console will not sign this: the ledger would refuse it as malformed.', detail: err.detail, source: 'console' };
  if (err instanceof AmountError)
    return { code: 'BAD_AMOUNT', text: 'That is not an amount the console can read exactly.', detail: err.reason, source: 'console' };
  if (err instanceof TrustError) return { code: err.code, text: TRUST_TEXT[err.code], detail: err.detail, source: 'console' };
  if (err instanceof PledgeRequestError) return { code: err.code, text: PLEDGE_FILE_TEXT[err.code], detail: err.detail, source: 'console' };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'UNEXPECTED', text: 'Something went wrong in the console.', detail: message, source: 'console' };
};
