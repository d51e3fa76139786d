/**
 * `LedgerClient`: docs/protocol.md §8 over `fetch`, portable (a browser, Node ≥ 18, Deno).
 *
 * - Writes: `submit(envelope)` posts a signed envelope. On a network error, a 503
 *   (`LEDGER_UNAVAILABLE`) or a 429 (`RATE_LIMITED`) it sends the SAME envelope again, so a retry
 *   has the same op id and can never become a second op (§4): if the first attempt was written,
 *   the retry's answer is the original receipt with `duplicate: true`.
 * - Reads: public ones plainly; the others with a §8 read token made by `makeToken` from the
 *   client's key, cached until shortly before it expires and made afresh once if the service
 *   answers `UNAUTHENTICATED` (a clock step, a rotated key).
 * - Errors: a problem answer with a known code is a `LedgerRefusal` (branch on `code`); any other
 *   answer the client cannot use is a `LedgerHttpError`; a request that never got an answer is a
 *   `LedgerNetworkError`.
 *
 * Answers are checked for shape before they are handed out (see answers.ts); a receipt must
 * also carry the op id of the envelope that was sent.
 */
import type { z } from 'zod';

import { REFUSAL_HTTP_STATUS, type RefusalCode } from '../domain/codes.js';
import { LIMITS } from '../domain/limits.js';
import type { VoucherStatus } from '../domain/types.js';
import {
  ANSWERS,
  type ConsistencyAnswer,
  type EntriesPage,
  type HashedEntry,
  type InclusionAnswer,
  type LedgerInfo,
  type Page,
  type Party,
  type ProofBundle,
  type Receipt,
  type TreeNode,
  type WireVoucher,
} from './answers.js';
import type { Signer } from './keys.js';
import { opIdOf, type SignedEnvelope } from './ops.js';
import { makeToken, TOKEN_LIFETIME_SECONDS_DEFAULT } from './token.js';

// ---- errors ----

/**
 * The service refused: an RFC 9457 problem whose `code` is one of §7–§8. `reason` is the
 * problem's `reason` extension member when it has one (a 401 `UNAUTHENTICATED` says which check
 * of the read token failed, e.g. `PARTY_UNKNOWN`, `TOKEN_EXPIRED`); a string, since the service
 * may add values.
 */
export class LedgerRefusal extends Error {
  override readonly name = 'LedgerRefusal';
  constructor(
    readonly code: RefusalCode,
    readonly status: number,
    readonly detail: string,
    readonly title?: string,
    readonly reason?: string,
  ) {
    super(`${code} (${status}): ${detail}`);
  }
}

/**
 * | reason       | meaning                                                                 |
 * |--------------|-------------------------------------------------------------------------|
 * | NOT_PROBLEM  | an error status without an RFC 9457 problem body (a proxy, a 500 page)   |
 * | UNKNOWN_CODE | a problem whose code is not one of §7–§8 (e.g. `INTERNAL`)               |
 * | BAD_ANSWER   | a success status whose body is not the shape §8 gives                   |
 * | OP_MISMATCH  | a receipt for another op than the one sent                              |
 * | WRONG_LEDGER | the service serves another ledger than the one the client is pinned to  |
 */
export type LedgerHttpErrorReason = 'NOT_PROBLEM' | 'UNKNOWN_CODE' | 'BAD_ANSWER' | 'OP_MISMATCH' | 'WRONG_LEDGER';

/** An answer the client cannot use. `body` is the raw text (at most 4 KiB of it). */
export class LedgerHttpError extends Error {
  override readonly name = 'LedgerHttpError';
  constructor(
    readonly reason: LedgerHttpErrorReason,
    readonly status: number,
    readonly detail: string,
    readonly body: string = '',
  ) {
    super(`${reason} (${status}): ${detail}`);
  }
}

/** No answer at all (connection refused, reset, DNS, …), after every retry. */
export class LedgerNetworkError extends Error {
  override readonly name = 'LedgerNetworkError';
  constructor(
    readonly detail: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** A problem's `reason` is kept when it looks like a code (`PARTY_UNKNOWN`), else dropped. */
const REASON_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

const isRefusalCode = (code: string): code is RefusalCode => Object.hasOwn(REFUSAL_HTTP_STATUS, code);

// ---- options and results ----

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface LedgerClientOptions {
  /** e.g. `http://127.0.0.1:8080` (the `/v1` prefix is added by the client). */
  readonly baseUrl: string;
  /** Default: the global `fetch`. Inject one for tests, proxies, or instrumentation. */
  readonly fetch?: FetchFn;
  /** The party the client acts as for authenticated reads. */
  readonly key?: Signer;
  /** The client's clock, ms since the epoch (token `iat`/`exp`). Default `Date.now`. */
  readonly now?: () => number;
  /** Pin the ledger: refuse a service that serves another one. Saves a request for tokens. */
  readonly ledgerId?: string;
  /** Read token lifetime, 1–3600 s; default 300. */
  readonly tokenLifetimeSeconds?: number;
  /** Retries of reads on a network error, 503 or 429; default 2. */
  readonly readRetries?: number;
  /** First retry delay; doubled each retry, capped at 5 s, with jitter. Default 200 ms. */
  readonly retryDelayMs?: number;
}

export interface SubmitOptions {
  /** Resends of the same envelope on a network error, 503 or 429; default 3. */
  readonly retries?: number;
}

export interface SubmitResult extends Receipt {
  /** True when the op was already on the ledger (a retry, or a resend of a known envelope). */
  readonly duplicate: boolean;
  /** Requests made, 1 + retries used. */
  readonly attempts: number;
}

export interface EntryProgress {
  /** Entries yielded so far. */
  readonly done: number;
  /** Entries this iteration will yield (`to - from`). */
  readonly total: number;
  /** The seq of the next entry to fetch. */
  readonly nextSeq: number;
}

export interface IterateEntriesOptions {
  readonly from?: number;
  /** Exclusive end; default: the ledger's size when iteration starts. */
  readonly to?: number;
  /** Page size, 1–1000; default 1000. */
  readonly limit?: number;
  readonly onProgress?: (p: EntryProgress) => void;
}

export interface VouchersOfOptions {
  readonly status?: VoucherStatus | readonly VoucherStatus[];
  /** Page size, 1–1000; default 100. */
  readonly limit?: number;
}

const RETRY_DELAY_MAX_MS = 5_000;
/** How much of a token's life is left unused, so that it never arrives expired. */
const TOKEN_REFRESH_MARGIN_SECONDS_MAX = 30;
const ERROR_BODY_CHARS_MAX = 4096;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly attempts: number;
}

interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: string;
  readonly auth?: boolean;
  readonly retries: number;
  /** Statuses that are answers, not errors. Default [200]. */
  readonly ok?: readonly number[];
}

/** Voucher ids and party ids are path segments; ':' is a valid segment character (RFC 3986). */
const segment = (s: string): string => encodeURIComponent(s).replace(/%3A/gi, ':');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class LedgerClient {
  readonly baseUrl: string;
  readonly key: Signer | undefined;
  readonly #fetch: FetchFn;
  readonly #now: () => number;
  readonly #options: LedgerClientOptions;
  #ledgerId: Promise<string> | undefined;
  #token: { readonly value: string; readonly refreshAtSeconds: number } | undefined;

  constructor(options: LedgerClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('LedgerClient: baseUrl must be an http(s) URL');
    }
    const lifetime = options.tokenLifetimeSeconds ?? TOKEN_LIFETIME_SECONDS_DEFAULT;
    if (!Number.isSafeInteger(lifetime) || lifetime < 1 || lifetime > LIMITS.jwtLifetimeSecondsMax) {
      throw new RangeError(`LedgerClient: tokenLifetimeSeconds must be 1–${LIMITS.jwtLifetimeSecondsMax}`);
    }
    this.#options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.key = options.key;
    if (typeof (options.fetch ?? globalThis.fetch) !== 'function') throw new TypeError('LedgerClient: no fetch available; pass one');
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    if (options.ledgerId !== undefined) this.#ledgerId = Promise.resolve(options.ledgerId);
  }

  /** The same client acting as another party (sharing fetch, clock and pinned ledger id). */
  as(key: Signer): LedgerClient {
    const clone = new LedgerClient({ ...this.#options, key });
    clone.#ledgerId = this.#ledgerId;
    return clone;
  }

  // ---- public reads ----

  /** `GET /v1/ledger`; checks it against the pinned ledger id, if any. */
  async ledger(): Promise<LedgerInfo> {
    const info = this.#json(await this.#request({ method: 'GET', path: '/v1/ledger', retries: this.#readRetries }), ANSWERS.ledger) as LedgerInfo;
    const pinned = this.#options.ledgerId;
    if (pinned !== undefined && info.ledgerId !== pinned) {
      throw new LedgerHttpError('WRONG_LEDGER', 200, `the service serves ledger ${info.ledgerId}, not ${pinned}`);
    }
    this.#ledgerId ??= Promise.resolve(info.ledgerId);
    return info;
  }

  /** The ledger id: pinned, or read once from `GET /v1/ledger`. */
  ledgerId(): Promise<string> {
    if (this.#ledgerId === undefined) {
      const pending = this.ledger().then((l) => l.ledgerId);
      pending.catch(() => {
        if (this.#ledgerId === pending) this.#ledgerId = undefined;
      });
      this.#ledgerId = pending;
    }
    return this.#ledgerId;
  }

  /** `GET /v1/checkpoint`: the signed note, unverified (see `CheckpointTracker`). */
  async checkpoint(): Promise<string> {
    const answer = await this.#request({ method: 'GET', path: '/v1/checkpoint', retries: this.#readRetries });
    if (!answer.contentType.startsWith('text/plain')) {
      throw new LedgerHttpError('BAD_ANSWER', answer.status, `a checkpoint is text/plain, not ${answer.contentType}`, answer.text);
    }
    return answer.text;
  }

  /** `GET /v1/proofs/inclusion`: RFC 9162 inclusion proof of `seq` in the tree of `size` (default: current). */
  async inclusion(seq: number, size?: number): Promise<InclusionAnswer> {
    const answer = await this.#request({ method: 'GET', path: '/v1/proofs/inclusion', query: { seq, size }, retries: this.#readRetries });
    return this.#json(answer, ANSWERS.inclusion) as InclusionAnswer;
  }

  /** `GET /v1/proofs/consistency`: RFC 9162 consistency proof from `from` to `to` (default: current). */
  async consistency(from: number, to?: number): Promise<ConsistencyAnswer> {
    const answer = await this.#request({ method: 'GET', path: '/v1/proofs/consistency', query: { from, to }, retries: this.#readRetries });
    return this.#json(answer, ANSWERS.consistency) as ConsistencyAnswer;
  }

  // ---- writes ----

  /**
   * `POST /v1/ops`. Resolves with the receipt (`duplicate: true` if the op was already on the
   * ledger); rejects with `LedgerRefusal` for a refused op. Retries resend the same bytes.
   */
  async submit(envelope: SignedEnvelope, options: SubmitOptions = {}): Promise<SubmitResult> {
    const retries = options.retries ?? 3;
    const expectedOpId = opIdOf(envelope.payload);
    const body = JSON.stringify(envelope);
    const answer = await this.#request({ method: 'POST', path: '/v1/ops', body, retries, ok: [200, 201] });
    const receipt = this.#json(answer, ANSWERS.receipt) as Receipt & { duplicate?: true };
    if (receipt.opId !== expectedOpId) {
      throw new LedgerHttpError('OP_MISMATCH', answer.status, `the receipt is for op ${receipt.opId}, not ${expectedOpId}`);
    }
    const duplicate = answer.status === 200;
    if (duplicate !== (receipt.duplicate === true)) {
      throw new LedgerHttpError('BAD_ANSWER', answer.status, 'a 200 answer is a duplicate receipt and a 201 is not');
    }
    return { ...receipt, duplicate, attempts: answer.attempts };
  }

  // ---- authenticated reads ----

  /** `GET /v1/entries?from&limit` (operator, auditor). */
  async entries(from = 0, limit: number = LIMITS.pageLimitDefault): Promise<EntriesPage> {
    const answer = await this.#authed('/v1/entries', { from, limit });
    return this.#json(answer, ANSWERS.entries) as EntriesPage;
  }

  /** `GET /v1/entries/:seq` (operator, auditor). */
  async entry(seq: number): Promise<HashedEntry> {
    return this.#json(await this.#authed(`/v1/entries/${seq}`), ANSWERS.entry) as HashedEntry;
  }

  /**
   * Every entry in `[from, to)`, page by page (`limit` per request), in seq order. `to` defaults
   * to the ledger's size when iteration starts; entries written later are not yielded.
   */
  async *iterateEntries(options: IterateEntriesOptions = {}): AsyncGenerator<HashedEntry, void, undefined> {
    const from = options.from ?? 0;
    const limit = options.limit ?? LIMITS.pageLimitMax;
    const to = options.to ?? (await this.ledger()).size;
    const total = Math.max(0, to - from);
    let next: number | null = from;
    let done = 0;
    while (next !== null && next < to) {
      const page = await this.entries(next, Math.min(limit, to - next));
      if (page.entries.length === 0) {
        throw new LedgerHttpError('BAD_ANSWER', 200, `an entries page from ${next} is empty but the ledger has ${to}`);
      }
      for (const item of page.entries) {
        if (item.entry.seq !== from + done) {
          throw new LedgerHttpError('BAD_ANSWER', 200, `expected entry ${from + done}, got ${item.entry.seq}`);
        }
        if (item.entry.seq >= to) return;
        yield item;
        done += 1;
      }
      next = page.next;
      options.onProgress?.({ done, total, nextSeq: from + done });
    }
    if (done < total) throw new LedgerHttpError('BAD_ANSWER', 200, `the entries ended at ${from + done}, before ${to}`);
  }

  /** `GET /v1/parties/:id`. */
  async party(id: string): Promise<Party> {
    return this.#json(await this.#authed(`/v1/parties/${segment(id)}`), ANSWERS.party) as Party;
  }

  /** One page of `GET /v1/parties`. */
  async partiesPage(cursor?: string, limit?: number): Promise<Page<Party>> {
    return this.#json(await this.#authed('/v1/parties', { cursor, limit }), ANSWERS.parties) as Page<Party>;
  }

  /** Every party, by id, following `next` cursors. */
  async *parties(options: { readonly limit?: number } = {}): AsyncGenerator<Party, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.partiesPage(cursor, options.limit);
      yield* page.items;
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
  }

  /** One page of `GET /v1/parties/:id/vouchers`. */
  async vouchersOfPage(party: string, options: VouchersOfOptions & { readonly cursor?: string } = {}): Promise<Page<WireVoucher>> {
    const status = options.status === undefined ? undefined : typeof options.status === 'string' ? options.status : options.status.join(',');
    const answer = await this.#authed(`/v1/parties/${segment(party)}/vouchers`, { status, cursor: options.cursor, limit: options.limit });
    return this.#json(answer, ANSWERS.vouchers) as Page<WireVoucher>;
  }

  /** Every voucher of `party` (in §8 order), optionally of some statuses, following cursors. */
  async *vouchersOf(party: string, options: VouchersOfOptions = {}): AsyncGenerator<WireVoucher, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.vouchersOfPage(party, { ...options, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
  }

  /** `GET /v1/vouchers/:id`. */
  async voucher(id: string): Promise<WireVoucher> {
    return this.#json(await this.#authed(`/v1/vouchers/${segment(id)}`), ANSWERS.voucher) as WireVoucher;
  }

  /** `GET /v1/vouchers/:id/history`: the entries of the voucher and its ancestors. */
  async history(id: string): Promise<HashedEntry[]> {
    const answer = this.#json(await this.#authed(`/v1/vouchers/${segment(id)}/history`), ANSWERS.history) as { entries: HashedEntry[] };
    return answer.entries;
  }

  /** `GET /v1/vouchers/:id/tree`: the root's split tree, cut to what the caller may see. */
  async tree(id: string): Promise<TreeNode> {
    const answer = this.#json(await this.#authed(`/v1/vouchers/${segment(id)}/tree`), ANSWERS.tree) as { root: TreeNode };
    return answer.root;
  }

  /** `GET /v1/vouchers/:id/proof`: the §9 bundle, unverified (see `verifyBundle`). */
  async proof(id: string): Promise<ProofBundle> {
    return this.#json(await this.#authed(`/v1/vouchers/${segment(id)}/proof`), ANSWERS.proof) as ProofBundle;
  }

  // ---- plumbing ----

  get #readRetries(): number {
    return this.#options.readRetries ?? 2;
  }

  #authed(path: string, query?: RequestSpec['query']): Promise<Answer> {
    return this.#request({ method: 'GET', path, ...(query ? { query } : {}), auth: true, retries: this.#readRetries });
  }

  /** A read token, from the cache while it has more than the margin left. */
  async #bearer(): Promise<string> {
    const key = this.key;
    if (key === undefined) throw new TypeError('LedgerClient: this read needs a key (pass `key` to the constructor)');
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (this.#token !== undefined && nowSeconds < this.#token.refreshAtSeconds) return this.#token.value;
    const lifetimeSeconds = this.#options.tokenLifetimeSeconds ?? TOKEN_LIFETIME_SECONDS_DEFAULT;
    const value = await makeToken({
      partyId: key.party,
      secretKeyHex: key.secretKey,
      ledgerId: await this.ledgerId(),
      nowSeconds,
      lifetimeSeconds,
    });
    const margin = Math.min(TOKEN_REFRESH_MARGIN_SECONDS_MAX, Math.floor(lifetimeSeconds / 4));
    this.#token = { value, refreshAtSeconds: nowSeconds + lifetimeSeconds - margin };
    return value;
  }

  #url(path: string, query: RequestSpec['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs.length > 0 ? `?${qs}` : ''}`;
  }

  #delay(retry: number, retryAfter: string | null): number {
    const seconds = retryAfter !== null && /^[0-9]{1,4}$/.test(retryAfter) ? Number(retryAfter) : undefined;
    if (seconds !== undefined) return Math.min(seconds * 1000, RETRY_DELAY_MAX_MS);
    const base = Math.min((this.#options.retryDelayMs ?? 200) * 2 ** retry, RETRY_DELAY_MAX_MS);
    return base / 2 + Math.random() * (base / 2);
  }

  /**
   * One logical request: retries on no answer, 503 and 429 (the body is the same bytes every
   * time), and one fresh token after an `UNAUTHENTICATED` answer. Throws the typed errors.
   */
  async #request(spec: RequestSpec): Promise<Answer> {
    const url = this.#url(spec.path, spec.query);
    const okStatuses = spec.ok ?? [200];
    let attempts = 0;
    let retried = 0;
    let freshToken = false;
    for (;;) {
      const headers: Record<string, string> = { accept: 'application/json, application/problem+json, text/plain' };
      if (spec.body !== undefined) headers['content-type'] = 'application/json';
      if (spec.auth === true) headers.authorization = `Bearer ${await this.#bearer()}`;
      attempts += 1;
      let response: Response;
      let text: string;
      try {
        // Called unbound: a browser's fetch refuses to run with the client as `this`.
        const send = this.#fetch;
        response = await send(url, { method: spec.method, headers, ...(spec.body !== undefined ? { body: spec.body } : {}) });
        text = await response.text();
      } catch (err) {
        if (retried < spec.retries) {
          await sleep(this.#delay(retried, null));
          retried += 1;
          continue;
        }
        const why = err instanceof Error ? err.message : String(err);
        throw new LedgerNetworkError(`${spec.method} ${spec.path}: no answer after ${attempts} attempt(s): ${why}`, attempts, { cause: err });
      }
      const status = response.status;
      const contentType = response.headers.get('content-type') ?? '';
      if (okStatuses.includes(status)) return { status, contentType, text, attempts };

      if ((status === 503 || status === 429) && retried < spec.retries) {
        await sleep(this.#delay(retried, response.headers.get('retry-after')));
        retried += 1;
        continue;
      }
      const error = this.#error(status, contentType, text);
      if (error instanceof LedgerRefusal && error.code === 'UNAUTHENTICATED' && spec.auth === true && !freshToken) {
        this.#token = undefined;
        freshToken = true;
        continue;
      }
      throw error;
    }
  }

  #error(status: number, contentType: string, text: string): LedgerRefusal | LedgerHttpError {
    const body = text.slice(0, ERROR_BODY_CHARS_MAX);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const problem = ANSWERS.problem.safeParse(parsed);
    if (!problem.success || !/json/.test(contentType)) {
      return new LedgerHttpError('NOT_PROBLEM', status, `HTTP ${status} without a problem body`, body);
    }
    const { code, detail, title, reason } = problem.data;
    if (!isRefusalCode(code)) return new LedgerHttpError('UNKNOWN_CODE', status, `${code}: ${detail ?? ''}`, body);
    const reasonCode = typeof reason === 'string' && REASON_PATTERN.test(reason) ? reason : undefined;
    return new LedgerRefusal(code, status, detail ?? '', title, reasonCode);
  }

  #json(answer: Answer, schema: z.ZodType): unknown {
    let value: unknown;
    try {
      value = JSON.parse(answer.text);
    } catch {
      throw new LedgerHttpError('BAD_ANSWER', answer.status, 'the answer is not JSON', answer.text.slice(0, ERROR_BODY_CHARS_MAX));
    }
    const checked = schema.safeParse(value);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'answer'}: ${issue.message}` : 'unexpected shape';
      throw new LedgerHttpError('BAD_ANSWER', answer.status, where, answer.text.slice(0, ERROR_BODY_CHARS_MAX));
    }
    return value; // the parsed JSON itself, not zod's copy
  }
}
