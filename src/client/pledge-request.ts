/**
 * Pledge request files (`rvl/pledge-request/v1`), portable: what the holder hands the bank so that
 * the bank can check and co-sign a pledge on another machine (the CLI's `rvl pledge prepare` /
 * `pledge cosign`, and the web console, write and read the same file).
 *
 * `{format, summary, envelope, proof}`: the half-signed `voucher.pledge` envelope, a summary for
 * people (never relied on), and the voucher's §9 proof bundle — the bank cannot read a voucher
 * before it is pledged to it (§8 visibility), so the holder embeds the proof.
 *
 * `reviewPledgeRequest` is the bank's check before it co-signs. It trusts nothing in the file it
 * cannot check: the payload is rebuilt with the strict builder (same op id), the proof is verified
 * offline against the ledger id, the holder's signature is checked under the holder's key from
 * the proof, and what it reports (holder, amount, due date, status) comes from the verified proof,
 * never from `summary`.
 *
 * What a passing review cannot say: that the voucher is not pledged NOW. The proof shows that its
 * entries are in the log and the state they give, as of its newest entry (`asOf`); a holder can
 * hand over a bundle from before a pledge, or one with the pledge entry dropped, and it still
 * verifies. So the bank relies on the ledger, not on the review: the ledger refuses a pledge of a
 * voucher already pledged (`VOUCHER_PLEDGED`) when the envelope is submitted, and the bank's
 * signature is not a loan decision until the pledge entry is accepted — the bank lends on the
 * submission's receipt (or on the voucher's state read after it: pledged to this bank).
 */
import { hasValidSignature, movedVoucherIdOf, opIdOf, voucherPledge, type SignedEnvelope, type WirePayload, type WirePayloadOf } from './ops.js';
import type { ProofBundle } from './answers.js';
import { verifyBundle, type BundleAsOf, type BundleFailureCode, type BundleReport, type BundleVerdict } from './verify-bundle.js';
import type { VerifyFn } from '../ledger/checkpoint.js';

/** The `format` of a pledge request file. */
export const PLEDGE_REQUEST_FORMAT = 'rvl/pledge-request/v1';

export type PledgePayload = WirePayloadOf<'voucher.pledge'>;

export interface PledgeRequestFile {
  readonly format: typeof PLEDGE_REQUEST_FORMAT;
  /** For people reading the file; nothing relies on it. */
  readonly summary: readonly string[];
  readonly envelope: SignedEnvelope<PledgePayload>;
  /** The voucher's §9 proof bundle, fetched by the holder. */
  readonly proof: ProofBundle;
}

/**
 * | code                 | meaning                                                       |
 * |----------------------|---------------------------------------------------------------|
 * | NOT_A_PLEDGE_REQUEST | not a JSON object with `format: "rvl/pledge-request/v1"`      |
 * | BAD_ENVELOPE         | the envelope is not exactly a valid signed `voucher.pledge`   |
 */
export type PledgeRequestErrorCode = 'NOT_A_PLEDGE_REQUEST' | 'BAD_ENVELOPE';

export class PledgeRequestError extends Error {
  override readonly name = 'PledgeRequestError';
  constructor(
    readonly code: PledgeRequestErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The envelope, if it is exactly a signed `voucher.pledge`: the payload is rebuilt with the SDK's
 * strict builder, and the same op id proves it has no extra field and no bad value. Throws
 * `PledgeRequestError('BAD_ENVELOPE')` with the reason.
 */
export const checkedPledgeEnvelope = (envelope: unknown): SignedEnvelope<PledgePayload> => {
  const bad = (why: string): PledgeRequestError => new PledgeRequestError('BAD_ENVELOPE', why);
  if (!isRecord(envelope) || !isRecord(envelope.payload) || !Array.isArray(envelope.signatures)) throw bad('no signed envelope');
  const p = envelope.payload as Partial<Record<keyof PledgePayload, unknown>>;
  if (p.type !== 'voucher.pledge') throw bad(`the op is ${typeof p.type === 'string' ? p.type : 'unknown'}, not voucher.pledge`);
  let rebuilt: PledgePayload;
  try {
    rebuilt = voucherPledge({
      ledger: p.ledger as string,
      nonce: p.nonce as string,
      ...(p.expiresAt === undefined ? {} : { expiresAt: p.expiresAt as string }),
      voucherId: p.voucherId as string,
      bank: p.bank as string,
      loanRef: p.loanRef as string,
      ...(p.amount === undefined ? {} : { amount: typeof p.amount === 'string' && /^[0-9]{1,16}$/.test(p.amount) ? BigInt(p.amount) : -1n }),
    });
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
  if (opIdOf(rebuilt) !== opIdOf(envelope.payload as WirePayload)) throw bad('the payload has fields a pledge does not have');
  for (const s of envelope.signatures as unknown[]) {
    if (!isRecord(s) || typeof s.signer !== 'string' || typeof s.sig !== 'string') throw bad('a malformed signature');
  }
  return envelope as unknown as SignedEnvelope<PledgePayload>;
};

/** A pledge request file's parsed JSON, checked; throws `PledgeRequestError`. */
export const pledgeRequestFromJson = (value: unknown): PledgeRequestFile => {
  if (!isRecord(value) || value.format !== PLEDGE_REQUEST_FORMAT) {
    throw new PledgeRequestError('NOT_A_PLEDGE_REQUEST', `not a pledge request (a file with "format": "${PLEDGE_REQUEST_FORMAT}")`);
  }
  const envelope = checkedPledgeEnvelope(value.envelope);
  const summary = Array.isArray(value.summary) ? value.summary.filter((l): l is string => typeof l === 'string') : [];
  return { format: PLEDGE_REQUEST_FORMAT, summary, envelope, proof: value.proof as ProofBundle };
};

/** The text of a pledge request file, as `rvl pledge prepare` writes it. */
export const pledgeRequestText = (request: PledgeRequestFile): string => `${JSON.stringify(request, null, 2)}\n`;

/** A party's key in force at the proof's checkpoint, from the proof's registrations and updates. */
export const keyInProof = (proof: ProofBundle, party: string): string | undefined => {
  let key: string | undefined;
  for (const { entry } of proof.entries) {
    const p = entry.op.payload as Record<string, unknown>;
    const registered = p.party as Record<string, unknown> | undefined;
    if (p.type === 'party.register' && registered?.id === party && typeof registered.publicKey === 'string') key = registered.publicKey;
    if (p.type === 'party.update' && p.partyId === party && typeof p.publicKey === 'string') key = p.publicKey;
  }
  return key;
};

/**
 * Why a bank must not co-sign, in the order they are checked:
 *
 * | code                   | meaning                                                           |
 * |------------------------|-------------------------------------------------------------------|
 * | WRONG_BANK             | the request names another bank than the reviewer                  |
 * | WRONG_LEDGER           | the request is for another ledger than the one trusted            |
 * | SIGNERS_MISMATCH       | not signed by exactly one other party, or by someone who does not |
 * |                        | hold the voucher according to the proof                           |
 * | (a bundle code)        | the embedded proof does not verify (see `verifyBundle`)            |
 * | VOUCHER_PLEDGED        | the proof shows the voucher already pledged                       |
 * | VOUCHER_STATE_CONFLICT | the proof shows a voucher that is not active                      |
 * | BAD_SIGNATURE          | the holder's signature does not verify under its key in the proof |
 * | AMOUNT_INVALID         | a partial amount not below the voucher's                          |
 * | OP_EXPIRED             | the request's `expiresAt` has passed                              |
 * | VOUCHER_OVERDUE        | the voucher's due date has passed                                 |
 */
export type PledgeReviewCode =
  | 'WRONG_BANK'
  | 'WRONG_LEDGER'
  | 'SIGNERS_MISMATCH'
  | BundleFailureCode
  | 'VOUCHER_PLEDGED'
  | 'VOUCHER_STATE_CONFLICT'
  | 'BAD_SIGNATURE'
  | 'AMOUNT_INVALID'
  | 'OP_EXPIRED'
  | 'VOUCHER_OVERDUE';

export interface PledgeReviewOptions {
  /** The reviewing bank's party id. */
  readonly bank: string;
  /** The ledger id the bank trusts. */
  readonly ledgerId: string;
  /** The bank's clock, ms since the epoch (expiry, due date). */
  readonly nowMs: number;
  readonly verify?: VerifyFn;
}

export type PledgeReview =
  | {
      readonly ok: true;
      readonly holder: string;
      /** What the verified proof says about the voucher: the state its entries give. */
      readonly verdict: BundleVerdict;
      /**
       * The entry (and time) that state is as of. Later entries, and entries left out of the
       * proof, are not seen: the ledger decides at submission (see the module comment).
       */
      readonly asOf: BundleAsOf;
      /** The proof's checklist. */
      readonly report: BundleReport;
      /** The amount pledged, in fen (the whole voucher's unless partial). */
      readonly amount: string;
      readonly partial: boolean;
      /** The voucher that will be pledged: the moved part of a partial pledge, else the voucher. */
      readonly pledgedVoucherId: string;
      /** Whether the reviewing bank has signed already. */
      readonly bankSigned: boolean;
    }
  | { readonly ok: false; readonly code: PledgeReviewCode; readonly detail: string; readonly report?: BundleReport };

/** The bank's review of a pledge request before it co-signs (see the module comment). Never throws. */
export const reviewPledgeRequest = (request: PledgeRequestFile, o: PledgeReviewOptions): PledgeReview => {
  const { envelope } = request;
  const p = envelope.payload;
  const no = (code: PledgeReviewCode, detail: string, report?: BundleReport): PledgeReview => ({ ok: false, code, detail, ...(report ? { report } : {}) });

  if (p.bank !== o.bank) return no('WRONG_BANK', `the request names the bank ${p.bank}; only ${p.bank} can co-sign it`);
  if (p.ledger !== o.ledgerId) return no('WRONG_LEDGER', `the request is for ledger ${p.ledger}, not ${o.ledgerId}`);
  const others = envelope.signatures.filter((s) => s.signer !== o.bank);
  if (others.length !== 1) return no('SIGNERS_MISMATCH', "the request is not signed by the voucher's holder");
  const holder = others[0]!.signer;

  const report = verifyBundle(request.proof, o.ledgerId, { voucherId: p.voucherId, ...(o.verify ? { verify: o.verify } : {}) });
  if (!report.ok || report.verdict === undefined || report.asOf === undefined) {
    const f = report.firstFailure;
    return no(f?.code ?? 'MALFORMED_BUNDLE', `the proof does not verify${f?.seq === undefined ? '' : ` at entry ${f.seq}`}: ${f?.detail ?? ''}`, report);
  }
  const v = report.verdict;
  if (v.holder !== holder)
    return no('SIGNERS_MISMATCH', `the request is signed by ${holder}, but the proof shows ${p.voucherId} is held by ${v.holder}`, report);
  if (v.status === 'pledged') return no('VOUCHER_PLEDGED', `the proof shows ${p.voucherId} is pledged to ${v.pledge?.bank ?? '?'}`, report);
  if (v.status !== 'active')
    return no('VOUCHER_STATE_CONFLICT', `the proof shows ${p.voucherId} is ${v.status}; only an active voucher can be pledged`, report);
  const holderKey = keyInProof(request.proof, holder);
  if (holderKey === undefined || !hasValidSignature(envelope, holder, holderKey)) {
    return no('BAD_SIGNATURE', `the holder's signature (${holder}) does not verify under its key in the proof`, report);
  }
  if (p.amount !== undefined && BigInt(p.amount) >= BigInt(v.amount)) {
    return no('AMOUNT_INVALID', `the pledge is for ${p.amount} fen, not below the voucher's ${v.amount}`, report);
  }
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= o.nowMs) return no('OP_EXPIRED', `the request expired at ${p.expiresAt}`, report);
  if (new Date(o.nowMs).toISOString().slice(0, 10) > v.dueDate) return no('VOUCHER_OVERDUE', `${p.voucherId} was due on ${v.dueDate}`, report);

  const pledgedVoucherId = movedVoucherIdOf(p, { id: p.voucherId, range: request.proof.state.range }) ?? p.voucherId;
  const bankSig = envelope.signatures.find((s) => s.signer === o.bank);
  return {
    ok: true,
    holder,
    verdict: v,
    asOf: report.asOf,
    report,
    amount: p.amount ?? v.amount,
    partial: p.amount !== undefined,
    pledgedVoucherId,
    bankSigned: bankSig !== undefined,
  };
};
