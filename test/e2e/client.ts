/**
 * A small HTTP client for the e2e tests: signs envelopes (docs/protocol.md §3–§4) and read tokens (§8)
 * with the project's own ledger code, and talks to a running service over loopback with Node's
 * global `fetch` (undici underneath, keep-alive by default).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeToken } from '../../src/api/auth.js';
import { signNode } from '../../src/ledger/node/ed25519-node.js';
import { opId, opPreimage } from '../../src/ledger/op.js';
import { keyed, type Keyed } from '../support/world.js';

/** A test party's key: the one helper of test/support/world.ts (deterministic per id and salt). */
export type Key = Keyed;
export const key = keyed;

/** The operator, from the key file the service wrote at genesis (docs/protocol.md §10). */
export const operatorKey = async (dataDir: string): Promise<Key> => {
  const file = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')) as { party: string; publicKey: string; secretKey: string };
  return { id: 'operator', role: 'operator', seed: file.secretKey, publicKey: file.publicKey };
};

export { dueIn } from '../support/time.js';

export interface Envelope {
  readonly payload: Record<string, unknown>;
  readonly signatures: { signer: string; sig: string }[];
}

export type { WireVoucher } from '../../src/domain/wire.js';
import type { Receipt as WireReceipt } from '../../src/domain/wire.js';

/** `POST /v1/ops`'s answer: the service's receipt, with `duplicate` on a replay. */
export interface Receipt extends WireReceipt {
  readonly duplicate?: true;
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed body (undefined if it is not JSON). */
  readonly body: T;
}

export interface LedgerInfo {
  ledgerId: string;
  name: string;
  nodeKey: string;
  operatorKey: string;
  size: number;
  currency: string;
  maxTenorDays: number;
}

export interface EntryItem {
  entry: { v: number; seq: number; time: string; prev: string; op: Envelope };
  hash: string;
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

export class Client {
  #nonce = 0;
  readonly #nonceBase = randomBytes(6).toString('hex');
  readonly #tokens = new Map<string, { token: string; until: number }>();

  private constructor(
    readonly url: string,
    readonly ledger: LedgerInfo,
  ) {}

  static async connect(url: string): Promise<Client> {
    const res = await fetch(`${url}/v1/ledger`);
    if (res.status !== 200) throw new Error(`GET /v1/ledger: ${res.status} ${await res.text()}`);
    return new Client(url, (await res.json()) as LedgerInfo);
  }

  get ledgerId(): string {
    return this.ledger.ledgerId;
  }

  nonce(): string {
    this.#nonce += 1;
    return `e2e-${this.#nonceBase}-${this.#nonce}`;
  }

  /** A signed envelope: `payload` gets this ledger's id and a fresh nonce unless it has them. */
  envelope(payload: Record<string, unknown>, signers: readonly Key[]): Envelope {
    const full = { ledger: this.ledgerId, nonce: this.nonce(), ...payload };
    const preimage = opPreimage(full);
    return { payload: full, signatures: signers.map((k) => ({ signer: k.id, sig: signNode(k.seed, preimage) })) };
  }

  static opIdOf(envelope: Envelope): string {
    return opId(envelope.payload);
  }

  async post<T = Receipt & { code?: string }>(envelope: Envelope): Promise<Answer<T>> {
    const res = await fetch(`${this.url}/v1/ops`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope),
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: parse(text) as T };
  }

  submit(payload: Record<string, unknown>, signers: readonly Key[]): Promise<Answer<Receipt & { code?: string }>> {
    return this.post(this.envelope(payload, signers));
  }

  /** Submits and insists on 201. */
  async ok(payload: Record<string, unknown>, signers: readonly Key[]): Promise<Receipt> {
    const res = await this.submit(payload, signers);
    if (res.status !== 201) throw new Error(`expected 201 for ${String(payload.type)}, got ${res.status}: ${res.text}`);
    return res.body;
  }

  register(operator: Key, k: Key, name = `${k.id} Ltd.`): Promise<Receipt> {
    return this.ok({ type: 'party.register', party: { id: k.id, name, role: k.role, publicKey: k.publicKey } }, [operator]);
  }

  /** A read token for `k`, reused for a minute (tokens live 300 s). */
  async token(k: Key): Promise<string> {
    const now = Date.now();
    const cached = this.#tokens.get(k.id + k.publicKey);
    if (cached && cached.until > now) return cached.token;
    const token = await makeToken({ partyId: k.id, secretKeyHex: k.seed, ledgerId: this.ledgerId, nowSeconds: Math.floor(now / 1000) });
    this.#tokens.set(k.id + k.publicKey, { token, until: now + 60_000 });
    return token;
  }

  /** GET as `k`, or anonymously. */
  async get<T = any>(urlPath: string, k?: Key): Promise<Answer<T>> {
    const headers: Record<string, string> = k ? { authorization: `Bearer ${await this.token(k)}` } : {};
    const res = await fetch(`${this.url}${urlPath}`, { headers });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: parse(text) as T };
  }

  async getOk<T = any>(urlPath: string, k?: Key): Promise<T> {
    const res = await this.get<T>(urlPath, k);
    if (res.status !== 200) throw new Error(`GET ${urlPath}: ${res.status} ${res.text}`);
    return res.body;
  }

  async info(): Promise<LedgerInfo> {
    return this.getOk<LedgerInfo>('/v1/ledger');
  }

  async checkpoint(): Promise<string> {
    const res = await this.get('/v1/checkpoint');
    if (res.status !== 200) throw new Error(`GET /v1/checkpoint: ${res.status} ${res.text}`);
    return res.text;
  }

  /** Every entry, paging through `GET /v1/entries` as `reader` (operator or auditor). */
  async allEntries(reader: Key, limit = 1000): Promise<EntryItem[][]> {
    const pages: EntryItem[][] = [];
    let from = 0;
    for (;;) {
      const page = await this.getOk<{ entries: EntryItem[]; next: number | string | null }>(`/v1/entries?from=${from}&limit=${limit}`, reader);
      pages.push(page.entries);
      if (page.next === null) return pages;
      const next = Number(page.next);
      if (!Number.isSafeInteger(next) || next <= from) throw new Error(`GET /v1/entries: next ${String(page.next)} after from=${from}`);
      from = next;
    }
  }
}

/** Runs `task` over `items` with at most `width` in flight; results in input order. */
export const pool = async <T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
};
