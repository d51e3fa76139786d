/**
 * The typed client SDK of the receivable voucher ledger (docs/protocol.md), portable: it runs in
 * Node and in a browser (only @noble, jose, zod, and the ledger's and domain's pure modules).
 *
 * - `keys`: parse and generate §3 key files.
 * - `ops`: build every §7 op (bigint amounts in, decimal strings out), sign and co-sign
 *   envelopes, compute op ids and the voucher ids an op will create.
 * - `LedgerClient`: §8 over fetch — retry-safe submit, typed refusals, every read with cached
 *   read tokens, paging iterators.
 * - `CheckpointTracker`: a trusted checkpoint that only moves along verified consistency proofs.
 * - `verifyBundle`: the bank's offline check of a §9 proof bundle, trusting only the ledger id;
 *   `compareWithCurrent`: how the voucher changed since the state a verified bundle's entries give.
 * - `audit`: the auditor's full check of the log against the signed checkpoint.
 * - `pledge-request`: the pledge request file a holder hands a bank, and the bank's review of it.
 */
export { makeToken, TOKEN_LIFETIME_SECONDS_DEFAULT, type TokenRequest } from './token.js';
export {
  generateKeyFile,
  keyFileFromJson,
  keyFileText,
  parseKeyFile,
  KeyFileError,
  PUBLIC_KEY_FILE_DETAIL,
  type KeyFile,
  type KeyFileErrorCode,
  type Signer,
} from './keys.js';
export {
  addSignature,
  amountToWire,
  build,
  hasValidSignature,
  InvalidOpError,
  movedVoucherIdOf,
  newNonce,
  opIdOf,
  parseVoucherId,
  partyRegister,
  partyUpdate,
  rootIdOf,
  signEnvelope,
  voucherAccept,
  voucherCancel,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherReject,
  voucherRelease,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type CommonParams,
  type PartyRegisterParams,
  type PartyUpdateParams,
  type SignedEnvelope,
  type VoucherIssueParams,
  type VoucherParams,
  type VoucherPledgeParams,
  type VoucherRejectParams,
  type VoucherSettleParams,
  type VoucherSplitParams,
  type VoucherTransferParams,
  type WireOf,
  type WirePayload,
  type WirePayloadOf,
  type WireSignature,
} from './ops.js';
export type {
  ConsistencyAnswer,
  EntriesPage,
  HashedEntry,
  InclusionAnswer,
  LedgerInfo,
  Page,
  Party,
  ProofBundle,
  Receipt,
  TreeNode,
  VoucherStatus,
  WireVoucher,
} from './answers.js';
export {
  LedgerClient,
  LedgerHttpError,
  LedgerNetworkError,
  LedgerRefusal,
  type EntryProgress,
  type FetchFn,
  type IterateEntriesOptions,
  type LedgerClientOptions,
  type LedgerHttpErrorReason,
  type SubmitOptions,
  type SubmitResult,
  type VouchersOfOptions,
} from './client.js';
export {
  CheckpointTracker,
  LedgerPins,
  pinKeyOf,
  TrustError,
  type LedgerPin,
  type PinCheck,
  type PinsState,
  type TrackerOptions,
  type TrackerState,
  type TrustErrorCode,
  type TrustedCheckpoint,
  type UpdateResult,
} from './trust.js';
export {
  BUNDLE_ENTRIES_MAX,
  verifyBundle,
  type BundleAsOf,
  type BundleCheck,
  type BundleCheckName,
  type BundleFailure,
  type BundleFailureCode,
  type BundleReport,
  type BundleVerdict,
  type VerifyBundleOptions,
} from './verify-bundle.js';
export { compareWithCurrent, type Freshness, type VoucherChange } from './freshness.js';
export {
  checkedPledgeEnvelope,
  keyInProof,
  PLEDGE_REQUEST_FORMAT,
  PledgeRequestError,
  pledgeRequestFromJson,
  pledgeRequestText,
  reviewPledgeRequest,
  type PledgePayload,
  type PledgeRequestErrorCode,
  type PledgeRequestFile,
  type PledgeReview,
  type PledgeReviewCode,
  type PledgeReviewOptions,
} from './pledge-request.js';
export { audit, type AuditFailure, type AuditFailureCode, type AuditOptions, type AuditProgress, type AuditReport } from './audit.js';
export type { RefusalCode, UnauthenticatedReason } from '../domain/codes.js';
export type { VerifyFn } from '../ledger/checkpoint.js';
/** Amounts in the ledger's currency (`LedgerInfo.currency`): the CLI and the console read and write them with these. */
export { AmountError, currencyStyle, foldFullWidth, formatAmount, parseAmount, type AmountErrorCode, type CurrencyStyle } from '../domain/money.js';
