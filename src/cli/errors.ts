/**
 * How `rvl` fails: one line on stderr, never a stack or a secret, and an exit code a script can
 * branch on.
 *
 * | exit | meaning                                                                              |
 * |------|--------------------------------------------------------------------------------------|
 * | 0    | done                                                                                 |
 * | 1    | refused or failed a check: the ledger refused (a §7–§8 code), a proof or audit failed, |
 * |      | a checkpoint is not trusted, a pledge request names another bank or ledger            |
 * | 2    | usage: a bad option or argument, an amount that is not one, a missing or bad key file |
 * | 3    | the ledger cannot be reached or is unavailable (no answer, 503, 429, an answer rvl    |
 * |      | cannot use)                                                                          |
 */
import type { RefusalCode, UnauthenticatedReason } from '../client/index.js';
import { clean } from './format.js';
import { AmountError } from '../domain/money.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI itself decided, with its exit code and, where there is one, a code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exit: ExitCode,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(EXIT.usage, message);
export const refusedError = (message: string, code?: string): CliError => new CliError(EXIT.refused, message, code);

/** A plain hint for the refusals people meet most, by code. */
export const HINTS: Partial<Record<RefusalCode, string>> = {
  MALFORMED_REQUEST: 'the service could not read the request',
  WRONG_LEDGER: 'the op was made for another ledger; check --url',
  OP_EXPIRED: 'its expiry passed before it reached the ledger; prepare it again',
  UNKNOWN_PARTY: 'a party named in the op is not registered (the operator registers parties)',
  BAD_SIGNATURE: "the key does not match the party's current key on the ledger",
  PARTY_SUSPENDED: 'a suspended party can do nothing until the operator reactivates it',
  VOUCHER_NOT_FOUND: 'no such voucher, or your party may not see it',
  VOUCHER_STATE_CONFLICT: 'its status does not allow this; look with: rvl show <voucher>',
  SIGNERS_MISMATCH: 'this op must be signed by exactly the parties it needs; check --key',
  PARTY_EXISTS: 'a party id or key can be registered only once, ever',
  VOUCHER_PLEDGED: 'the bank must release it first',
  VOUCHER_OVERDUE: 'after its due date a voucher can only be settled',
  INVALID_RECIPIENT: 'that party already holds it',
  AMOUNT_INVALID: 'a part must be below the voucher’s amount (leave out --amount to move it whole), and split parts must add up to it',
  DUE_DATE_INVALID: "the due date must be after today (ledger time) and within the ledger's maximum tenor",
  CURRENCY_INVALID: "use the ledger's currency",
  INVOICE_ALREADY_USED: 'an invoice can back only one live voucher',
  UNAUTHENTICATED: "the key is not the party's current key, the party is not registered or is suspended, or this computer's clock is off",
  NOT_FOUND: 'nothing there, or your party may not read it',
  RATE_LIMITED: 'too many requests; try again in a minute',
  LEDGER_UNAVAILABLE: 'the ledger cannot write right now and nothing was written; try again later',
};

/**
 * The `reason` a 401 `UNAUTHENTICATED` problem carries (which check of the read token failed),
 * said plainly for `party` (the key's party, when a key was loaded) and the service at `url`.
 * A reason not listed here gets the general hint.
 */
export const UNAUTHENTICATED_TEXT: Readonly<Record<UnauthenticatedReason, (party: string, url: string) => string>> = {
  TOKEN_MISSING: () => 'the request carried no read token — give your key with --key FILE or RVL_KEY',
  TOKEN_MALFORMED: () => 'the service could not read the token rvl made — rvl and the service may be of different versions',
  PARTY_UNKNOWN: (party, url) =>
    `party ${party} is not registered on this ledger — the operator of ${url} registers parties (rvl party register --key-file ${party}.pub …); check --url`,
  PARTY_SUSPENDED: (party) => `party ${party} is suspended on this ledger — only the operator can reactivate it`,
  KEY_NOT_CURRENT: (party) => `this key is not the current key of ${party} on this ledger — its key was changed; use the key file the operator registered last`,
  TOKEN_EXPIRED: () => "the token had expired when it arrived — this computer's clock is probably behind; set it right (e.g. with NTP) and try again",
  TOKEN_NOT_YET_VALID: () => "the token is dated in the future — this computer's clock is ahead; set it right (e.g. with NTP) and try again",
  WRONG_AUDIENCE: (_party, url) => `the token was made for another ledger than the one at ${url} — check --url`,
};

/** Names the key's party in messages, or says "your party" when no key was loaded. */
const partyName = (party: string | undefined): string => (party === undefined ? 'your party' : clean(party));

export interface Described {
  readonly exit: ExitCode;
  /** The one line for stderr, without the `rvl: ` prefix. */
  readonly line: string;
  /** For `--json`: the error as data. */
  readonly json: { readonly kind: string; readonly code?: string; readonly reason?: string; readonly status?: number; readonly detail: string };
}

const oneLine = (s: string): string => clean(s.replace(/\s*\n\s*/g, ' ').trim());

/**
 * Maps anything thrown to its exit code and line. `url` names the service for network errors;
 * `party` is the party of the key the command used, if it loaded one. The SDK is imported here
 * only when needed (it is loaded already if it threw).
 */
export const describeError = async (err: unknown, url: string, party?: string): Promise<Described> => {
  if (err instanceof CliError) {
    const kind = err.exit === EXIT.usage ? 'usage' : err.exit === EXIT.unavailable ? 'unavailable' : 'refused';
    return { exit: err.exit, line: oneLine(err.message), json: { kind, ...(err.code ? { code: err.code } : {}), detail: err.message } };
  }
  if (err instanceof AmountError) {
    return { exit: EXIT.usage, line: oneLine(err.message), json: { kind: 'usage', code: 'BAD_AMOUNT', detail: err.message } };
  }
  const { InvalidOpError, KeyFileError, LedgerHttpError, LedgerNetworkError, LedgerRefusal, TrustError } = await import('../client/index.js');
  if (err instanceof LedgerRefusal && err.code === 'UNAUTHENTICATED' && err.reason !== undefined && Object.hasOwn(UNAUTHENTICATED_TEXT, err.reason)) {
    const text = UNAUTHENTICATED_TEXT[err.reason as UnauthenticatedReason](partyName(party), url);
    return {
      exit: EXIT.refused,
      line: `refused UNAUTHENTICATED (${err.status}, ${err.reason}): ${text}`,
      json: { kind: 'refusal', code: err.code, reason: err.reason, status: err.status, detail: err.detail },
    };
  }
  if (err instanceof LedgerRefusal) {
    const transient = err.code === 'LEDGER_UNAVAILABLE' || err.code === 'RATE_LIMITED';
    const hint = HINTS[err.code];
    const detail = oneLine(err.detail || err.title || '');
    return {
      exit: transient ? EXIT.unavailable : EXIT.refused,
      line: `refused ${err.code} (${err.status})${detail ? `: ${detail}` : ''}${hint ? ` — ${hint}` : ''}`,
      json: { kind: 'refusal', code: err.code, ...(err.reason === undefined ? {} : { reason: err.reason }), status: err.status, detail: err.detail },
    };
  }
  if (err instanceof LedgerNetworkError) {
    const why = err.cause instanceof Error ? causeText(err.cause) : oneLine(err.detail);
    return {
      exit: EXIT.unavailable,
      line: `cannot reach the ledger at ${url} (${why}) — is the service running? (--url or RVL_URL)`,
      json: { kind: 'network', detail: err.detail },
    };
  }
  if (err instanceof LedgerHttpError) {
    const line =
      err.reason === 'WRONG_LEDGER'
        ? `the service at ${url} serves another ledger: ${oneLine(err.detail)}`
        : `the service at ${url} gave an answer rvl cannot use: ${err.reason} (HTTP ${err.status}): ${oneLine(err.detail)}`;
    return {
      exit: err.reason === 'WRONG_LEDGER' ? EXIT.refused : EXIT.unavailable,
      line,
      json: { kind: 'bad-answer', code: err.reason, status: err.status, detail: err.detail },
    };
  }
  if (err instanceof KeyFileError && err.code === 'PUBLIC_KEY_FILE') {
    return { exit: EXIT.usage, line: oneLine(err.detail), json: { kind: 'usage', code: err.code, detail: err.detail } };
  }
  if (err instanceof KeyFileError) {
    return { exit: EXIT.usage, line: `bad key file: ${err.code}: ${oneLine(err.detail)}`, json: { kind: 'usage', code: err.code, detail: err.detail } };
  }
  if (err instanceof InvalidOpError) {
    return { exit: EXIT.usage, line: `invalid op: ${oneLine(err.detail)}`, json: { kind: 'usage', code: err.code, detail: err.detail } };
  }
  if (err instanceof TrustError) {
    return {
      exit: EXIT.refused,
      line: `checkpoint not trusted: ${err.code}: ${oneLine(err.detail)}`,
      json: { kind: 'trust', code: err.code, detail: err.detail },
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { exit: EXIT.refused, line: `internal error: ${oneLine(message)}`, json: { kind: 'internal', detail: message } };
};

/** The innermost useful reason of a fetch failure (`connect ECONNREFUSED 127.0.0.1:9`). */
const causeText = (err: Error): string => {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  return oneLine(e instanceof Error ? e.message : String(e));
};
