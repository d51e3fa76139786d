/**
 * A real ledger for API tests: LevelDB in a temporary folder, the real writer, the Fastify app
 * (driven with `app.inject`), and a party book that signs envelopes and read tokens.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { makeToken } from '../../src/api/auth.js';
import { buildApp } from '../../src/api/app.js';
import { opId, opPreimage } from '../../src/ledger/op.js';
import { sign } from '../../src/ledger/ed25519.js';
import type { LedgerService } from '../../src/service/ledger-service.js';
import { Metrics } from '../../src/service/metrics.js';
import { openLedger } from '../../src/service/open.js';
import type { Receipt as WireReceipt } from '../../src/domain/wire.js';
import type { Store } from '../../src/store/port.js';
import { dueIn } from './time.js';
import { keyed, type Keyed } from './world.js';

export { dueIn };

/** A test party's key: the one helper of test/support/world.ts. */
export type Key = Keyed;
export const key = keyed;

export interface HarnessOptions {
  readonly dataDir?: string;
  readonly now?: () => number;
  readonly rateLimitPerMin?: number;
  readonly wrapStore?: (store: Store) => Store;
  readonly startupVerify?: 'full' | 'tail';
  readonly tailEntries?: number;
}

export class Harness {
  #nonce = 0;
  private constructor(
    readonly dataDir: string,
    readonly app: FastifyInstance,
    readonly service: LedgerService,
    readonly operator: Key,
    readonly ownsDir: boolean,
  ) {}

  static async start(o: HarnessOptions = {}): Promise<Harness> {
    const dataDir = o.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'rvl-test-')));
    const logger = pino({ level: 'silent' });
    const metrics = new Metrics();
    const opened = await openLedger({
      dataDir,
      ledgerName: 'test',
      operatorPublicKey: undefined,
      nodeKeyFile: path.join(dataDir, 'node.key'),
      logger,
      metrics,
      ...(o.now ? { now: o.now } : {}),
      ...(o.wrapStore ? { wrapStore: o.wrapStore } : {}),
      ...(o.startupVerify ? { startupVerify: o.startupVerify } : {}),
      ...(o.tailEntries !== undefined ? { tailEntries: o.tailEntries } : {}),
    });
    const app = await buildApp({
      service: opened.service,
      logger,
      metrics,
      rateLimitPerMin: o.rateLimitPerMin ?? 0,
      ...(o.now ? { now: o.now } : {}),
    });
    const operatorFile = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')) as { secretKey: string; publicKey: string };
    const operator: Key = { id: 'operator', role: 'operator', seed: operatorFile.secretKey, publicKey: operatorFile.publicKey };
    return new Harness(dataDir, app, opened.service, operator, o.dataDir === undefined);
  }

  get ledgerId(): string {
    return this.service.meta.ledgerId;
  }

  /** Closes the app and the store; removes the data folder unless the caller gave it. */
  async close(removeDir = this.ownsDir): Promise<void> {
    await this.app.close();
    await this.service.close();
    await this.service.store.close();
    if (removeDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  nonce(): string {
    this.#nonce += 1;
    return `n-${Date.now().toString(36)}-${this.#nonce}`;
  }

  /** A signed envelope: `payload` gets this ledger's id and a fresh nonce unless it has them. */
  envelope(payload: Record<string, unknown>, signers: readonly Key[]): { payload: Record<string, unknown>; signatures: { signer: string; sig: string }[] } {
    const full = { ledger: this.ledgerId, nonce: this.nonce(), ...payload };
    const preimage = opPreimage(full);
    return { payload: full, signatures: signers.map((k) => ({ signer: k.id, sig: sign(k.seed, preimage) })) };
  }

  opIdOf(envelope: { payload: unknown }): string {
    return opId(envelope.payload);
  }

  post(body: unknown): Promise<LightMyRequestResponse> {
    return this.app.inject({ method: 'POST', url: '/v1/ops', payload: body as object });
  }

  /** Signs and submits; returns the response. */
  submit(payload: Record<string, unknown>, signers: readonly Key[]): Promise<LightMyRequestResponse> {
    return this.post(this.envelope(payload, signers));
  }

  /** Submits and insists on 201, returning the receipt. */
  async ok(payload: Record<string, unknown>, signers: readonly Key[]): Promise<Receipt> {
    const res = await this.submit(payload, signers);
    if (res.statusCode !== 201) throw new Error(`expected 201 for ${String(payload.type)}, got ${res.statusCode}: ${res.body}`);
    return res.json() as Receipt;
  }

  register(k: Key, name = k.id): Promise<Receipt> {
    return this.ok({ type: 'party.register', party: { id: k.id, name, role: k.role, publicKey: k.publicKey } }, [this.operator]);
  }

  token(k: Key, o: { nowSeconds?: number; lifetimeSeconds?: number; ledgerId?: string } = {}): Promise<string> {
    return makeToken({
      partyId: k.id,
      secretKeyHex: k.seed,
      ledgerId: o.ledgerId ?? this.ledgerId,
      nowSeconds: o.nowSeconds ?? Math.floor(Date.now() / 1000),
      ...(o.lifetimeSeconds ? { lifetimeSeconds: o.lifetimeSeconds } : {}),
    });
  }

  /** GET as `k` (or anonymously). */
  async get(url: string, k?: Key): Promise<LightMyRequestResponse> {
    const headers = k ? { authorization: `Bearer ${await this.token(k)}` } : {};
    return this.app.inject({ method: 'GET', url, headers });
  }

  /** Issues a voucher from `core` to `supplier` and has the supplier accept it. */
  async issueAccepted(core: Key, supplier: Key, amount: string, invoiceIds: string[] = [`INV-${this.nonce()}`]): Promise<string> {
    const issued = await this.ok({ type: 'voucher.issue', issuer: core.id, to: supplier.id, amount, currency: 'CNY', dueDate: dueIn(90), invoiceIds }, [core]);
    const id = issued.effects.vouchers[0]?.id;
    if (!id) throw new Error('issue made no voucher');
    await this.ok({ type: 'voucher.accept', voucherId: id }, [supplier]);
    return id;
  }
}

/** `POST /v1/ops`'s answer: the service's receipt, with `duplicate` on a replay. */
export interface Receipt extends WireReceipt {
  readonly duplicate?: true;
}
