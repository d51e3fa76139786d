/**
 * Test helpers for the pure domain: real Ed25519 keys (node:crypto), real op preimages and opIds
 * (docs/protocol.md §3), real signatures, and a small in-memory "world" that runs
 * parseOp → decide → MemoryState.apply the way the service's sequencer would.
 *
 * Tests read as given / when / then:
 *   given  `const w = new World(); const core = w.register('gz-motors', 'core'); …`
 *   when   `w.submit([core], w.payload('voucher.issue', {…}))`
 *   then   `expectCode(decision, 'OK')` / `w.refuses(…, 'VOUCHER_PLEDGED')`
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { expect } from 'vitest';
import {
  decide,
  MemoryState,
  parseOp,
  type DecideCode,
  type DecideContext,
  type Decision,
  type Effects,
  type Party,
  type RegistrableRole,
  type Voucher,
} from '../../src/domain/index.js';

// ---------------------------------------------------------------- keys, preimages, signatures

/** §3: the domain-separation prefix of every op preimage. */
export const OP_PREIMAGE_PREFIX = 'rvl/op/v1\n';

export interface Key {
  /** Raw 32-byte Ed25519 public key, lowercase hex (§2). */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/** A fresh, real Ed25519 key pair. */
export const newKey = (): Key => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('no JWK x for an Ed25519 key');
  return { publicKey: Buffer.from(jwk.x, 'base64url').toString('hex'), privateKey };
};

/** Something that signs an envelope: the signer id it claims and the key it really signs with. */
export interface Actor {
  readonly id: string;
  readonly key: Key;
}

export type WirePayload = Record<string, unknown>;

export interface WireSignature {
  signer: string;
  sig: string;
}

export interface Envelope {
  payload: WirePayload;
  signatures: WireSignature[];
}

export const jcs = (value: unknown): string => {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no JCS form');
  return text;
};

/** §3: the bytes of "rvl/op/v1\n" followed by JCS(payload). */
export const preimage = (payload: WirePayload): Buffer => Buffer.concat([Buffer.from(OP_PREIMAGE_PREFIX, 'utf8'), Buffer.from(jcs(payload), 'utf8')]);

/** §3: hex SHA-256 of the op preimage. */
export const opIdOf = (payload: WirePayload): string => createHash('sha256').update(preimage(payload)).digest('hex');

/** §7 rule 3: a root's id is "v" + the first 24 hex chars of the issuing opId. */
export const rootIdOf = (issuePayload: WirePayload): string => `v${opIdOf(issuePayload).slice(0, 24)}`;

/** §7 rule 3: any other voucher's id is rootId + ":" + start + "-" + end. */
export const childId = (rootId: string, start: bigint | number, end: bigint | number): string => `${rootId}:${start}-${end}`;

export const signPayload = (key: Key, payload: WirePayload): string => sign(null, preimage(payload), key.privateKey).toString('hex');

export const publicKeyObject = (publicKeyHex: string): KeyObject =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKeyHex, 'hex').toString('base64url') },
    format: 'jwk',
  });

/** A real verifier over one op's preimage; never throws, a bad input is simply `false`. */
export const verifierFor =
  (payload: WirePayload) =>
  (publicKeyHex: string, sigHex: string): boolean => {
    try {
      if (!/^[0-9a-f]{64}$/.test(publicKeyHex) || !/^[0-9a-f]{128}$/.test(sigHex)) return false;
      return verify(null, preimage(payload), publicKeyObject(publicKeyHex), Buffer.from(sigHex, 'hex'));
    } catch {
      return false;
    }
  };

export const envelopeOf = (signers: readonly Actor[], payload: WirePayload): Envelope => ({
  payload,
  signatures: signers.map((s) => ({ signer: s.id, sig: signPayload(s.key, payload) })),
});

// ---------------------------------------------------------------- dates

export const DEFAULT_TIME = '2026-11-28T09:30:00.000Z';
export const DEFAULT_DUE = '2027-02-26';

/** `date` (YYYY-MM-DD) plus `days`, in UTC. */
export const addDays = (date: string, days: number): string => {
  const t = Date.parse(`${date}T00:00:00.000Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
};

/** The first millisecond of the day after `date`: the first ledger time at which it is overdue. */
export const dayAfter = (date: string): string => `${addDays(date, 1)}T00:00:00.000Z`;
export const lastMsOf = (date: string): string => `${date}T23:59:59.999Z`;

// ---------------------------------------------------------------- decisions

export type Outcome = 'OK' | DecideCode;

export const outcome = (d: Decision | { ok: true }): Outcome => (d.ok ? 'OK' : d.code);

export function expectCode(d: Decision, code: Outcome): void {
  const detail = d.ok ? '' : ` (${d.detail})`;
  expect(`${outcome(d)}${code === outcome(d) ? '' : detail}`).toBe(code);
}

export function expectOk(d: Decision): Effects {
  if (!d.ok) throw new Error(`expected the op to be accepted, got ${d.code}: ${d.detail}`);
  return d.effects;
}

/** The effects' vouchers by id. */
export const byId = (vs: readonly Voucher[]): Map<string, Voucher> => new Map(vs.map((v) => [v.id, v]));

export function effectVoucher(e: Effects, id: string): Voucher {
  const v = e.vouchers.find((x) => x.id === id);
  if (v === undefined) throw new Error(`effects do not contain voucher ${id}: ${e.vouchers.map((x) => x.id).join(', ')}`);
  return v;
}

export interface Snapshot {
  vouchers: Voucher[];
  parties: Party[];
  invoices: string[];
}

export const snapshot = (s: MemoryState): Snapshot =>
  structuredClone({
    vouchers: [...s.allVouchers()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    parties: [...s.allParties()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    invoices: [...s.usedInvoices()].sort(),
  });

// ---------------------------------------------------------------- the world

export interface WorldOptions {
  readonly ledgerId?: string;
  readonly operatorKey?: Key;
  /** The node's checkpoint key from genesis; a fresh one by default. */
  readonly nodeKey?: Key;
  readonly time?: string;
  readonly maxTenorDays?: number;
  readonly currency?: string;
}

export interface Recorded {
  readonly envelope: Envelope;
  readonly seq: number;
  readonly time: string;
}

/**
 * A ledger in memory, driven by real envelopes. Genesis is seq 0, so the first op gets seq 1. A
 * refused op consumes nothing: the next op gets the same seq.
 */
export class World {
  readonly ledgerId: string;
  readonly currency: string;
  readonly maxTenorDays: number;
  readonly state: MemoryState;
  readonly operator: Actor;
  /** The node's key (genesis `nodeKey`): it signs checkpoints and belongs to no party. */
  readonly nodeKey: Key;
  /** The seq the next accepted op gets. */
  seq = 1;
  /** The ledger time the next op gets. */
  time: string;
  /** Every accepted envelope, with the seq and time it got, for replays. */
  readonly log: Recorded[] = [];
  readonly #actors = new Map<string, Actor>();
  #nonce = 0;

  constructor(opts: WorldOptions = {}) {
    this.ledgerId = opts.ledgerId ?? createHash('sha256').update('rvl test ledger').digest('hex');
    this.currency = opts.currency ?? 'CNY';
    this.maxTenorDays = opts.maxTenorDays ?? 365;
    this.time = opts.time ?? DEFAULT_TIME;
    const key = opts.operatorKey ?? newKey();
    this.operator = { id: 'operator', key };
    this.#actors.set('operator', this.operator);
    this.nodeKey = opts.nodeKey ?? newKey();
    this.state = new MemoryState({ operatorPublicKey: key.publicKey });
  }

  /** The ledger date (UTC) of the current ledger time. */
  get date(): string {
    return this.time.slice(0, 10);
  }

  at(time: string): this {
    this.time = time;
    return this;
  }

  /** A fresh nonce: 8–64 of [A-Za-z0-9_-] (§2). */
  nonce(): string {
    this.#nonce += 1;
    return `nonce-${String(this.#nonce).padStart(6, '0')}`;
  }

  /** A wire payload of `type` for this ledger with a fresh nonce; `fields` may override anything. */
  payload(type: string, fields: Record<string, unknown> = {}): WirePayload {
    return { type, ledger: this.ledgerId, nonce: this.nonce(), ...fields };
  }

  /** The actor registered under `id`, with its current key. */
  actor(id: string): Actor {
    const a = this.#actors.get(id);
    if (a === undefined) throw new Error(`no actor ${id}`);
    return a;
  }

  context(envelope: Envelope, overrides: Partial<DecideContext> = {}): DecideContext {
    return {
      ledgerId: this.ledgerId,
      currency: this.currency,
      maxTenorDays: this.maxTenorDays,
      seq: this.seq,
      time: this.time,
      opId: opIdOf(envelope.payload),
      nodeKey: this.nodeKey.publicKey,
      verifySignature: verifierFor(envelope.payload),
      ...overrides,
    };
  }

  /** parseOp → decide, without applying. */
  decide(envelope: unknown, overrides: Partial<DecideContext> = {}): Decision {
    // Through JSON, as the service sees it: a JSON-parsed object.
    const parsed = parseOp(JSON.parse(JSON.stringify(envelope)));
    if (!parsed.ok) return parsed;
    return decide(this.state, parsed.op, this.context(envelope as Envelope, overrides));
  }

  /** parseOp → decide → apply on success; returns the decision. */
  submitEnvelope(envelope: Envelope): Decision {
    const d = this.decide(envelope);
    if (d.ok) {
      this.state.apply(d.effects);
      this.log.push({ envelope, seq: this.seq, time: this.time });
      this.seq += 1;
    }
    return d;
  }

  submit(signers: readonly Actor[], payload: WirePayload): Decision {
    return this.submitEnvelope(envelopeOf(signers, payload));
  }

  /** Submits and insists on acceptance; returns the effects. */
  ok(signers: readonly Actor[], payload: WirePayload): Effects {
    return expectOk(this.submit(signers, payload));
  }

  /**
   * Then: the envelope is refused with `code`, and nothing changed (§7: a refused op writes and
   * consumes nothing).
   */
  refuses(signers: readonly Actor[], payload: WirePayload, code: Outcome): void {
    this.refusesEnvelope(envelopeOf(signers, payload), code);
  }

  refusesEnvelope(envelope: Envelope, code: Outcome): void {
    const before = snapshot(this.state);
    const seq = this.seq;
    const d = this.submitEnvelope(envelope);
    expectCode(d, code);
    expect(this.seq).toBe(seq);
    expect(snapshot(this.state)).toEqual(before);
  }

  // ---- parties

  register(id: string, role: RegistrableRole, opts: { name?: string; key?: Key } = {}): Actor {
    const key = opts.key ?? newKey();
    this.ok([this.operator], this.payload('party.register', { party: { id, name: opts.name ?? `Party ${id}`, role, publicKey: key.publicKey } }));
    const actor = { id, key };
    this.#actors.set(id, actor);
    return actor;
  }

  suspend(id: string): void {
    this.ok([this.operator], this.payload('party.update', { partyId: id, status: 'suspended' }));
  }

  reactivate(id: string): void {
    this.ok([this.operator], this.payload('party.update', { partyId: id, status: 'active' }));
  }

  /** Rotates `id`'s key; returns the actor with the new key (the old actor still signs with the old one). */
  rotate(id: string, key: Key = newKey()): Actor {
    const signer = this.actor('operator');
    this.ok([signer], this.payload('party.update', { partyId: id, publicKey: key.publicKey }));
    const actor = { id, key };
    this.#actors.set(id, actor);
    if (id === 'operator') (this as { operator: Actor }).operator = actor;
    return actor;
  }

  // ---- vouchers

  issuePayload(issuer: Actor, to: Actor | string, amount: bigint | string, fields: Record<string, unknown> = {}): WirePayload {
    return this.payload('voucher.issue', {
      issuer: issuer.id,
      to: typeof to === 'string' ? to : to.id,
      amount: String(amount),
      currency: 'CNY',
      dueDate: DEFAULT_DUE,
      invoiceIds: [`INV-${this.#nonce + 1}`],
      ...fields,
    });
  }

  /** Issues a root and returns its id (computed the way a client would, §7 rule 3). */
  issue(issuer: Actor, to: Actor, amount: bigint | string, fields: Record<string, unknown> = {}): string {
    const p = this.issuePayload(issuer, to, amount, fields);
    this.ok([issuer], p);
    return rootIdOf(p);
  }

  accept(actor: Actor, voucherId: string): Effects {
    return this.ok([actor], this.payload('voucher.accept', { voucherId }));
  }

  reject(actor: Actor, voucherId: string): Effects {
    return this.ok([actor], this.payload('voucher.reject', { voucherId }));
  }

  cancel(actor: Actor, voucherId: string): Effects {
    return this.ok([actor], this.payload('voucher.cancel', { voucherId }));
  }

  split(actor: Actor, voucherId: string, amounts: readonly (bigint | number)[]): Effects {
    return this.ok([actor], this.payload('voucher.split', { voucherId, amounts: amounts.map(String) }));
  }

  transfer(actor: Actor, voucherId: string, to: Actor, amount?: bigint | number): Effects {
    const fields: Record<string, unknown> = { voucherId, to: to.id };
    if (amount !== undefined) fields.amount = String(amount);
    return this.ok([actor], this.payload('voucher.transfer', fields));
  }

  pledge(holder: Actor, voucherId: string, bank: Actor, amount?: bigint | number, loanRef = 'LOAN-1'): Effects {
    const fields: Record<string, unknown> = { voucherId, bank: bank.id, loanRef };
    if (amount !== undefined) fields.amount = String(amount);
    return this.ok([holder, bank], this.payload('voucher.pledge', fields));
  }

  release(bank: Actor, voucherId: string): Effects {
    return this.ok([bank], this.payload('voucher.release', { voucherId }));
  }

  settle(issuer: Actor, voucherId: string, paymentRef = 'PAY-1'): Effects {
    return this.ok([issuer], this.payload('voucher.settle', { voucherId, paymentRef }));
  }

  voucher(id: string): Voucher {
    const v = this.state.voucher(id);
    if (v === undefined) throw new Error(`no voucher ${id}`);
    return v;
  }

  party(id: string): Party {
    const p = this.state.party(id);
    if (p === undefined) throw new Error(`no party ${id}`);
    return p;
  }
}

// ---------------------------------------------------------------- a standard cast

export interface Cast {
  readonly w: World;
  readonly operator: Actor;
  /** A core enterprise (issuer). */
  readonly core: Actor;
  readonly core2: Actor;
  /** Suppliers. */
  readonly sup: Actor;
  readonly sup2: Actor;
  /** A supplier that never touches the vouchers of the scenario. */
  readonly stranger: Actor;
  readonly bank: Actor;
  readonly bank2: Actor;
  readonly auditor: Actor;
}

export const cast = (opts: WorldOptions = {}): Cast => {
  const w = new World(opts);
  return {
    w,
    operator: w.operator,
    core: w.register('gz-motors', 'core'),
    core2: w.register('byd-auto', 'core'),
    sup: w.register('dongguan-parts', 'supplier'),
    sup2: w.register('chen-electronics', 'supplier'),
    stranger: w.register('stranger-co', 'supplier'),
    bank: w.register('icbc-gz', 'bank'),
    bank2: w.register('cmb-sz', 'bank'),
    auditor: w.register('csrc-audit', 'auditor'),
  };
};

/** Amount of the scenario root. */
export const ROOT_AMOUNT = 100_000_000n;

export type Status = Voucher['status'];

/**
 * Given a root of ROOT_AMOUNT issued by `core` to `sup`, brought into `status`:
 * offered (just issued), active (accepted), pledged (whole, to `bank`), split ([40%, 60%]),
 * settled (accepted, then paid), cancelled (rejected by `sup`).
 */
export const voucherIn = (status: Status, opts: WorldOptions = {}): Cast & { id: string } => {
  const c = cast(opts);
  const { w, core, sup, bank } = c;
  const id = w.issue(core, sup, ROOT_AMOUNT);
  if (status === 'cancelled') w.reject(sup, id);
  if (status !== 'offered' && status !== 'cancelled') w.accept(sup, id);
  if (status === 'pledged') w.pledge(sup, id, bank);
  if (status === 'split') w.split(sup, id, [40_000_000n, 60_000_000n]);
  if (status === 'settled') w.settle(core, id);
  expect(w.voucher(id).status).toBe(status);
  return { ...c, id };
};

// ---------------------------------------------------------------- keys that must be refused

/**
 * §3: small-order, mixed-order (a small-order component) or non-canonical Ed25519 public keys
 * (32 bytes, little-endian y + sign bit). The mixed-order ones are RFC 8032 TEST 1's key plus a
 * point of order 2, 4 or 8.
 */
export const BAD_POINTS: readonly (readonly [string, string])[] = [
  ['a mixed-order key: an honest key plus a point of order 8', '9158312a9a8d6e3b34c891d6d61444f8b8211c5117ebad15bdb0bd68b07e0245'],
  ['a mixed-order key: an honest key plus the point of order 2', '16a567fe7d4ef5482ab4012c369bf8c5f11e8d0c2559dcda50fde59708f8aee5'],
  ['a mixed-order key: an honest key plus a point of order 4', '40c7570f4dd54835b9131184410ed4a0cc93e7d9ad053cbc6d07a62426999582'],
  ['a mixed-order key: vector 2 of "Taming the many EdDSAs"', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43'],
  ['the identity (order 1)', '0100000000000000000000000000000000000000000000000000000000000000'],
  ['y = -1 (order 2)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = 0 (order 4)', '0000000000000000000000000000000000000000000000000000000000000000'],
  ['an order-8 point', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
  ['another order-8 point', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
  ['y = p + 3, a non-canonical encoding of a large-order point', 'f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = p + 1, a non-canonical identity', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['x = 0 with the sign bit set (non-canonical)', '0100000000000000000000000000000000000000000000000000000000000080'],
  ['y = 2, not on the curve', '0200000000000000000000000000000000000000000000000000000000000000'],
];
