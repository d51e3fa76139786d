/**
 * RFC 9457 problem details. Every error answer of the API is one of these, with a stable `code`
 * (docs/protocol.md §7–§8) that clients branch on, and a `detail` for people. A 5xx never carries an
 * internal message.
 */
import type { FastifyReply } from 'fastify';
import { REFUSAL_HTTP_STATUS, type RefusalCode, type UnauthenticatedReason } from '../domain/codes.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<RefusalCode | 'INTERNAL', string> = {
  PAYLOAD_TOO_LARGE: 'Request body too large',
  MALFORMED_REQUEST: 'Malformed request',
  WRONG_LEDGER: 'Op is for another ledger',
  OP_EXPIRED: 'Op expired',
  UNKNOWN_PARTY: 'Unknown party',
  BAD_SIGNATURE: 'Bad signature',
  PARTY_SUSPENDED: 'Party suspended',
  VOUCHER_NOT_FOUND: 'Voucher not found',
  VOUCHER_STATE_CONFLICT: 'Voucher state does not allow this op',
  SIGNERS_MISMATCH: 'Wrong signers',
  ROLE_NOT_ALLOWED: 'Role not allowed',
  PARTY_EXISTS: 'Party exists',
  VOUCHER_PLEDGED: 'Voucher is pledged',
  VOUCHER_OVERDUE: 'Voucher is overdue',
  INVALID_RECIPIENT: 'Invalid recipient',
  AMOUNT_INVALID: 'Invalid amount',
  DUE_DATE_INVALID: 'Invalid due date',
  CURRENCY_INVALID: 'Invalid currency',
  INVOICE_ALREADY_USED: 'Invoice already used',
  UNAUTHENTICATED: 'Unauthenticated',
  NOT_FOUND: 'Not found',
  RATE_LIMITED: 'Too many requests',
  LEDGER_UNAVAILABLE: 'Ledger unavailable for writes',
  INTERNAL: 'Internal error',
};

export interface ProblemBody {
  type: 'about:blank';
  title: string;
  status: number;
  code: RefusalCode | 'INTERNAL';
  detail: string;
  /** RFC 9457 §3.2 extension member of an `UNAUTHENTICATED` problem: why, as a stable name. */
  reason?: UnauthenticatedReason;
}

/** An error that becomes a problem answer. */
export class Problem extends Error {
  override readonly name = 'Problem';
  readonly status: number;
  constructor(
    readonly code: RefusalCode,
    readonly detail: string,
    /** For a 429: when to try again (RFC 9110 §10.2.3 `retry-after`). */
    readonly retryAfterSeconds?: number,
    /** For an `UNAUTHENTICATED` problem: the `reason` member. */
    readonly reason?: UnauthenticatedReason,
  ) {
    super(`${code}: ${detail}`);
    this.status = REFUSAL_HTTP_STATUS[code];
  }
}

export const problemBody = (code: RefusalCode | 'INTERNAL', detail: string, reason?: UnauthenticatedReason): ProblemBody => ({
  type: 'about:blank',
  title: TITLES[code],
  status: code === 'INTERNAL' ? 500 : REFUSAL_HTTP_STATUS[code],
  code,
  detail,
  ...(reason === undefined ? {} : { reason }),
});

export const sendProblem = (reply: FastifyReply, code: RefusalCode | 'INTERNAL', detail: string, reason?: UnauthenticatedReason): FastifyReply => {
  const body = problemBody(code, detail, reason);
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
};

/**
 * A problem answer written straight to a socket or a raw response, for the few errors that come
 * before Fastify has a reply (an unparsable request, an over-long path parameter). It carries the
 * same security headers as every other answer.
 */
export const rawProblem = (
  code: RefusalCode,
  detail: string,
  securityHeaders: Readonly<Record<string, string>>,
): { status: number; headers: Record<string, string>; body: string } => {
  const body = JSON.stringify(problemBody(code, detail));
  return {
    status: REFUSAL_HTTP_STATUS[code],
    headers: {
      ...securityHeaders,
      'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
};
