/**
 * A small ledger world for property tests: real keys, real signatures over the real op preimage,
 * `parseOp` → `decide` → `MemoryState.apply`, with a ledger clock that the test moves.
 */
import { createHash } from 'node:crypto';
import { MemoryState, decide, parseOp, voucherToWire, type Decision, type DecideContext, type Op, type Role } from '../../src/domain/index.js';
import { opId as computeOpId, opPreimage } from '../../src/ledger/op.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { signNode, verifyNode } from '../../src/ledger/node/ed25519-node.js';

export const LEDGER_ID = 'a'.repeat(64);
export const START_MS = Date.parse('2026-11-28T09:30:00.000Z');
export const DAY_MS = 86_400_000;

/** A deterministic key per name, so failures reproduce from the fast-check seed alone. */
export const seedFor = (name: string): string => createHash('sha256').update(`rvl-test-key:${name}`).digest('hex');

export interface Keyed {
  readonly id: string;
  readonly role: Role;
  readonly seed: string;
  readonly publicKey: string;
}

/** The one test key helper: a deterministic key per id, and per salt where a test needs a second key for the same id. */
export const keyed = (id: string, role: Role, salt = ''): Keyed => {
  const seed = seedFor(`${id}${salt}`);
  return { id, role, seed, publicKey: publicKeyFromSeed(seed) };
};

export interface Submitted {
  readonly envelope: { payload: Record<string, unknown>; signatures: { signer: string; sig: string }[] };
  readonly seq: number;
  readonly time: string;
  readonly decision: Decision;
}

export class World {
  readonly state: MemoryState;
  readonly operator = keyed('operator', 'operator');
  /** Every envelope submitted, accepted or not, with the seq and time it was decided at. */
  readonly history: Submitted[] = [];
  seq = 1;
  timeMs = START_MS;
  #nonce = 0;

  constructor() {
    this.state = new MemoryState({ operatorPublicKey: this.operator.publicKey });
  }

  get time(): string {
    return new Date(this.timeMs).toISOString();
  }

  nonce(): string {
    this.#nonce += 1;
    return `nonce-${String(this.#nonce).padStart(6, '0')}`;
  }

  /** Signs `payload` (the wire form) with each of `signers` (a wrong key where `forge` says so). */
  envelope(payload: Record<string, unknown>, signers: readonly Keyed[], forge = false): Submitted['envelope'] {
    const preimage = opPreimage(payload);
    return {
      payload,
      signatures: signers.map((k) => ({
        signer: k.id,
        sig: signNode(forge ? seedFor(`forged:${k.id}`) : k.seed, preimage),
      })),
    };
  }

  /** Decides an envelope at the current seq and time, applying it if accepted. */
  submitEnvelope(envelope: Submitted['envelope']): Decision {
    const parsed = parseOp(envelope);
    const decision = parsed.ok ? decide(this.state, parsed.op, this.context(envelope.payload)) : parsed;
    this.history.push({ envelope, seq: this.seq, time: this.time, decision });
    if (decision.ok) {
      this.state.apply(decision.effects);
      this.seq += 1;
    }
    return decision;
  }

  submit(payload: Record<string, unknown>, signers: readonly Keyed[], forge = false): Decision {
    return this.submitEnvelope(this.envelope({ ledger: LEDGER_ID, nonce: this.nonce(), ...payload }, signers, forge));
  }

  context(payload: unknown, at: { seq: number; time: string } = { seq: this.seq, time: this.time }): DecideContext {
    const preimage = opPreimage(payload);
    return {
      ledgerId: LEDGER_ID,
      currency: 'CNY',
      maxTenorDays: 365,
      seq: at.seq,
      time: at.time,
      opId: computeOpId(payload),
      nodeKey: keyed('node', 'operator').publicKey,
      verifySignature: (publicKey, sig) => verifyNode(publicKey, preimage, sig),
    };
  }

  register(k: Keyed, name = k.id): Decision {
    return this.submit({ type: 'party.register', party: { id: k.id, name, role: k.role, publicKey: k.publicKey } }, [this.operator]);
  }
}

/** The whole state as plain JSON, for before/after and replay comparisons. */
export const snapshot = (state: MemoryState, viewers: readonly string[] = []): unknown => {
  const vouchers = state.allVouchers();
  return {
    parties: state.allParties(),
    vouchers: vouchers.map(voucherToWire),
    invoices: state.usedInvoices().map((id) => [id, state.invoiceRoot(id)]),
    visibility: viewers.map((p) => vouchers.filter((v) => state.maySee(p, v.id)).map((v) => v.id)),
  };
};

/** Re-decides the accepted ops of `history` on a fresh state, at their original seq and time. */
export const replay = (world: World): { state: MemoryState; decisions: Decision[] } => {
  const state = new MemoryState({ operatorPublicKey: world.operator.publicKey });
  const decisions: Decision[] = [];
  for (const h of world.history) {
    if (!h.decision.ok) continue;
    const parsed = parseOp(h.envelope);
    if (!parsed.ok) throw new Error('an accepted envelope no longer parses');
    const op: Op = parsed.op;
    const decision = decide(state, op, world.context(h.envelope.payload, { seq: h.seq, time: h.time }));
    decisions.push(decision);
    if (decision.ok) state.apply(decision.effects);
  }
  return { state, decisions };
};
