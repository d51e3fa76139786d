/**
 * A seeded, concurrent workload of signed ops, and the history of every request and its answer.
 *
 * Workers pick ops from what they believe the state to be (the effects of the receipts they have
 * seen), so most ops are plausible: the right signer, a voucher in the right status. Workers share
 * vouchers, so they race, and a share of ops is wrong on purpose (a stale status, a transfer to
 * the holder, a wrong sum, an expired op, a reused invoice, a suspended party), so refusals of
 * many codes are in every history. The history records each request with the time it was sent
 * and answered, which the model checker (check.ts) uses to bound where a refusal was decided.
 */
import type { WireVoucher } from '../../../src/domain/wire.js';
import { Rng } from '../../support/faults.js';
import { dueIn } from '../../support/time.js';
import { key, opIdOf, sign, type Answer, type Envelope, type Key, type Target } from './target.js';

// ---- the parties of a run ----

export interface Cast {
  readonly label: string;
  readonly cores: readonly Key[];
  readonly suppliers: readonly Key[];
  readonly banks: readonly Key[];
  readonly auditor: Key;
  /** A supplier the workload suspends and reactivates now and then. */
  readonly flaky: Key;
  readonly all: readonly Key[];
}

export const makeCast = (label: string, sizes: { cores?: number; suppliers?: number; banks?: number } = {}): Cast => {
  const cores = Array.from({ length: sizes.cores ?? 2 }, (_, i) => key(`${label}-core-${i}`, 'core'));
  const suppliers = Array.from({ length: sizes.suppliers ?? 6 }, (_, i) => key(`${label}-supplier-${i}`, 'supplier'));
  const banks = Array.from({ length: sizes.banks ?? 3 }, (_, i) => key(`${label}-bank-${i}`, 'bank'));
  const auditor = key(`${label}-auditor`, 'auditor');
  const flaky = key(`${label}-flaky`, 'supplier');
  return { label, cores, suppliers: [...suppliers, flaky], banks, auditor, flaky, all: [...cores, ...suppliers, flaky, ...banks, auditor] };
};

// ---- the history ----

export interface Call {
  /** Order of sending, across the whole run. */
  readonly n: number;
  readonly worker: number;
  /** What the worker meant to do (for reports). */
  readonly intent: string;
  /** A label the run gives, e.g. the kill round. */
  readonly tag: string;
  readonly env: Envelope;
  readonly opId: string;
  /** performance.now() before the request and when its answer (or error) came. */
  start: number;
  end: number;
  /** Undefined when no answer came (the connection was refused or reset). */
  answer: Answer | undefined;
  error?: string;
}

export class History {
  readonly calls: Call[] = [];

  async send(target: Target, env: Envelope, meta: { worker: number; intent: string; tag: string }): Promise<Call> {
    const call: Call = { n: this.calls.length, ...meta, env, opId: opIdOf(env), start: performance.now(), end: Number.NaN, answer: undefined };
    this.calls.push(call);
    try {
      call.answer = await target.post(env);
    } catch (err) {
      call.error = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
    }
    call.end = performance.now();
    return call;
  }

  /** Answers counted by kind. */
  tally(): { sent: number; acked: number; duplicates: number; refused: number; unavailable: number; serverErrors: number; noAnswer: number } {
    const t = { sent: 0, acked: 0, duplicates: 0, refused: 0, unavailable: 0, serverErrors: 0, noAnswer: 0 };
    for (const c of this.calls) {
      t.sent += 1;
      const s = c.answer?.status;
      if (s === undefined) t.noAnswer += 1;
      else if (s === 201) t.acked += 1;
      else if (s === 200) t.duplicates += 1;
      else if (s === 503 && c.answer?.body?.code === 'LEDGER_UNAVAILABLE') t.unavailable += 1;
      else if (s >= 500) t.serverErrors += 1;
      else t.refused += 1;
    }
    return t;
  }
}

// ---- what the workers believe ----

/** A set with O(1) add, delete and uniform pick. */
class PickSet {
  readonly #items: string[] = [];
  readonly #at = new Map<string, number>();
  get size(): number {
    return this.#items.length;
  }
  add(x: string): void {
    if (this.#at.has(x)) return;
    this.#at.set(x, this.#items.length);
    this.#items.push(x);
  }
  delete(x: string): void {
    const i = this.#at.get(x);
    if (i === undefined) return;
    const last = this.#items.pop() as string;
    if (last !== x) {
      this.#items[i] = last;
      this.#at.set(last, i);
    }
    this.#at.delete(x);
  }
  pick(rng: Rng): string | undefined {
    return this.#items.length === 0 ? undefined : this.#items[rng.int(0, this.#items.length - 1)];
  }
}

export class Beliefs {
  readonly vouchers = new Map<string, WireVoucher>();
  readonly #byStatus = new Map<string, PickSet>();
  readonly #any = new PickSet();
  readonly invoices = new PickSet();
  readonly suspended = new Set<string>();

  /** Takes in the vouchers of a receipt (or a read); an older state never replaces a newer one. */
  learn(vouchers: readonly WireVoucher[]): void {
    for (const v of vouchers) {
      const known = this.vouchers.get(v.id);
      if (known && known.updatedSeq > v.updatedSeq) continue;
      if (known) this.#byStatus.get(known.status)?.delete(v.id);
      this.vouchers.set(v.id, v);
      let set = this.#byStatus.get(v.status);
      if (!set) this.#byStatus.set(v.status, (set = new PickSet()));
      set.add(v.id);
      this.#any.add(v.id);
      if (v.parentId === null) for (const inv of v.invoiceIds) this.invoices.add(inv);
    }
  }

  learnReceipt(body: unknown): void {
    const effects = (body as { effects?: { vouchers?: WireVoucher[]; parties?: { id: string; status: string }[] } } | undefined)?.effects;
    if (effects?.vouchers) this.learn(effects.vouchers);
    for (const p of effects?.parties ?? []) {
      if (p.status === 'suspended') this.suspended.add(p.id);
      else this.suspended.delete(p.id);
    }
  }

  pick(rng: Rng, status?: string): WireVoucher | undefined {
    const id = (status === undefined ? this.#any : this.#byStatus.get(status))?.pick(rng);
    return id === undefined ? undefined : this.vouchers.get(id);
  }

  count(status: string): number {
    return this.#byStatus.get(status)?.size ?? 0;
  }
}

// ---- choosing ops ----

export interface Intent {
  readonly payload: Record<string, unknown>;
  readonly signers: readonly Key[];
  readonly intent: string;
}

/** Splits `amount` into `parts` positive amounts (as strings) that sum to it. */
const partsOf = (rng: Rng, amount: bigint, parts: number): string[] => {
  const cuts = new Set<bigint>();
  while (cuts.size < parts - 1) cuts.add(1n + BigInt(Math.floor(rng.next() * Number(amount - 1n))));
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  let prev = 0n;
  for (const c of [...sorted, amount]) {
    out.push((c - prev).toString());
    prev = c;
  }
  return out;
};

/** A partial amount in [1, amount - 1] (the voucher must be worth at least 2). */
const partial = (rng: Rng, amount: bigint): string => (1n + BigInt(Math.floor(rng.next() * Number(amount - 1n)))).toString();

export class Workload {
  readonly beliefs = new Beliefs();
  readonly #byId: Map<string, Key>;
  #invoice = 0;
  #nonce = 0;
  readonly #tag: string;

  constructor(
    readonly cast: Cast,
    readonly operator: Key,
    seed: number,
  ) {
    this.#byId = new Map(cast.all.map((k) => [k.id, k]));
    this.#byId.set(operator.id, operator);
    this.#tag = new Rng(seed).fork('tag').u32().toString(36);
  }

  keyOf(id: string): Key | undefined {
    return this.#byId.get(id);
  }

  nonce(worker: number): string {
    this.#nonce += 1;
    return `${this.#tag}-w${worker}-${this.#nonce}`.padEnd(8, '0');
  }

  #fresh(): string {
    this.#invoice += 1;
    return `INV-${this.cast.label}-${this.#tag}-${this.#invoice}`;
  }

  /** The next op of a worker. */
  next(rng: Rng, worker: number): Intent {
    const i = this.#choose(rng);
    return { ...i, payload: { nonce: this.nonce(worker), ...i.payload } };
  }

  #issue(rng: Rng, reuse: boolean): Intent {
    const invoiceIds = [this.#fresh()];
    if (rng.chance(0.3)) invoiceIds.push(this.#fresh());
    const old = reuse ? this.beliefs.invoices.pick(rng) : undefined;
    if (old !== undefined) invoiceIds.push(old);
    const core = rng.pick(this.cast.cores);
    return {
      payload: {
        type: 'voucher.issue',
        issuer: core.id,
        to: rng.pick(this.cast.suppliers).id,
        amount: String(rng.int(2, 50_000_000)),
        currency: 'CNY',
        dueDate: dueIn(rng.int(30, 300)),
        invoiceIds,
        ...(rng.chance(0.1) ? { memo: `memo ${this.#invoice}` } : {}),
      },
      signers: [core],
      intent: old === undefined ? 'issue' : 'issue reusing an invoice',
    };
  }

  #k(id: string | null | undefined): Key {
    return (id && this.#byId.get(id)) || this.operator;
  }

  #choose(rng: Rng): Intent {
    const c = this.cast;
    const r = rng.next();
    if (r < 0.16) return this.#issue(rng, rng.chance(0.06));
    if (r < 0.34) {
      const v = this.beliefs.pick(rng, 'offered');
      if (!v) return this.#issue(rng, false);
      const q = rng.next();
      if (q < 0.75) return { payload: { type: 'voucher.accept', voucherId: v.id }, signers: [this.#k(v.offeredTo)], intent: 'accept' };
      if (q < 0.9)
        return {
          payload: { type: 'voucher.reject', voucherId: v.id, ...(rng.chance(0.5) ? { reason: 'wrong amount' } : {}) },
          signers: [this.#k(v.offeredTo)],
          intent: 'reject',
        };
      return { payload: { type: 'voucher.cancel', voucherId: v.id }, signers: [this.#k(v.holder)], intent: 'cancel' };
    }
    if (r < 0.78) {
      const v = this.beliefs.pick(rng, 'active');
      if (!v) return this.#issue(rng, false);
      const amount = BigInt(v.amount);
      const holder = this.#k(v.holder);
      const q = rng.next();
      if (q < 0.22 && amount >= 2n) {
        const parts = Math.min(rng.int(2, 4), Number(amount));
        return { payload: { type: 'voucher.split', voucherId: v.id, amounts: partsOf(rng, amount, parts) }, signers: [holder], intent: `split in ${parts}` };
      }
      if (q < 0.55) {
        const to = rng.pick([...c.suppliers, ...c.banks].filter((k) => k.id !== v.holder));
        const part = amount >= 2n && rng.chance(0.5);
        return {
          payload: { type: 'voucher.transfer', voucherId: v.id, to: to.id, ...(part ? { amount: partial(rng, amount) } : {}) },
          signers: [holder],
          intent: part ? 'partial transfer' : 'transfer',
        };
      }
      if (q < 0.88) {
        const bank = rng.pick(c.banks.filter((k) => k.id !== v.holder));
        const part = amount >= 2n && rng.chance(0.4);
        return {
          payload: { type: 'voucher.pledge', voucherId: v.id, bank: bank.id, loanRef: `L-${this.#nonce}`, ...(part ? { amount: partial(rng, amount) } : {}) },
          signers: rng.chance(0.5) ? [holder, bank] : [bank, holder],
          intent: part ? 'partial pledge' : 'pledge',
        };
      }
      return { payload: { type: 'voucher.settle', voucherId: v.id, paymentRef: `P-${this.#nonce}` }, signers: [this.#k(v.issuer)], intent: 'settle active' };
    }
    if (r < 0.88) {
      const v = this.beliefs.pick(rng, 'pledged');
      if (!v) return this.#issue(rng, false);
      if (rng.chance(0.7)) return { payload: { type: 'voucher.release', voucherId: v.id }, signers: [this.#k(v.pledge?.bank)], intent: 'release' };
      return { payload: { type: 'voucher.settle', voucherId: v.id, paymentRef: `P-${this.#nonce}` }, signers: [this.#k(v.issuer)], intent: 'settle pledged' };
    }
    if (r < 0.9) {
      // Suspend or reactivate the flaky supplier (its own ops are then refused PARTY_SUSPENDED).
      const suspend = !this.beliefs.suspended.has(c.flaky.id);
      return {
        payload: { type: 'party.update', partyId: c.flaky.id, status: suspend ? 'suspended' : 'active' },
        signers: [this.operator],
        intent: suspend ? 'suspend' : 'reactivate',
      };
    }
    return this.#wrong(rng);
  }

  /** An op that is wrong on purpose, or stale. */
  #wrong(rng: Rng): Intent {
    // Mostly on an active voucher, where the rules after the status check are reached.
    const v = (rng.chance(0.7) ? this.beliefs.pick(rng, 'active') : undefined) ?? this.beliefs.pick(rng);
    if (!v) return this.#issue(rng, true);
    const holder = this.#k(v.holder);
    const amount = BigInt(v.amount);
    const c = this.cast;
    switch (rng.int(0, 8)) {
      case 0: // any op on a voucher whatever its status: VOUCHER_STATE_CONFLICT, VOUCHER_PLEDGED …
        return {
          payload: { type: 'voucher.split', voucherId: v.id, amounts: amount >= 2n ? partsOf(rng, amount, 2) : ['1', '1'] },
          signers: [holder],
          intent: 'stale split',
        };
      case 1: {
        const a = this.beliefs.pick(rng, 'active') ?? v;
        return { payload: { type: 'voucher.transfer', voucherId: a.id, to: a.holder }, signers: [this.#k(a.holder)], intent: 'transfer to the holder' };
      }
      case 2:
        return { payload: { type: 'voucher.split', voucherId: v.id, amounts: [amount.toString(), '1'] }, signers: [holder], intent: 'split with a wrong sum' };
      case 3:
        return {
          payload: { type: 'voucher.transfer', voucherId: v.id, to: rng.pick(c.suppliers).id, expiresAt: new Date(Date.now() - 3_600_000).toISOString() },
          signers: [holder],
          intent: 'expired transfer',
        };
      case 4:
        return { payload: { type: 'voucher.accept', voucherId: v.id }, signers: [rng.pick(c.suppliers)], intent: 'accept by someone' };
      case 5: {
        const notBank = rng.pick(c.suppliers.filter((k) => k.id !== v.holder));
        return {
          payload: { type: 'voucher.pledge', voucherId: v.id, bank: notBank.id, loanRef: 'L-bad' },
          signers: [holder, notBank],
          intent: 'pledge to a supplier',
        };
      }
      case 6: {
        const bank = rng.pick(c.banks.filter((k) => k.id !== v.holder));
        return {
          payload: { type: 'voucher.pledge', voucherId: v.id, bank: bank.id, loanRef: 'L-half', amount: v.amount },
          signers: [holder, bank],
          intent: 'pledge with a partial amount equal to the whole',
        };
      }
      case 7:
        return { payload: { type: 'voucher.settle', voucherId: v.id, paymentRef: 'P-x' }, signers: [holder], intent: 'settle by the holder' };
      default:
        return this.#issue(rng, true);
    }
  }
}

export interface RunOptions {
  readonly workers: number;
  /** Stop after this many ops have been sent (over all workers). */
  readonly ops?: number;
  /** Stop at this performance.now() time. */
  readonly until?: number;
  /** Checked before each op; true stops the worker. */
  readonly stop?: () => boolean;
  readonly tag: string;
  /** Called after each answer (or failure). */
  readonly onCall?: (call: Call) => void;
}

/**
 * Runs `workers` concurrent workers against `target` until a stop condition holds. A worker
 * whose request got no answer stops (the service is gone).
 */
export const runWorkload = async (target: Target, w: Workload, history: History, rng: Rng, o: RunOptions): Promise<void> => {
  let sent = 0;
  const done = () => (o.ops !== undefined && sent >= o.ops) || (o.until !== undefined && performance.now() >= o.until) || (o.stop?.() ?? false);
  const worker = async (i: number) => {
    const r = rng.fork(`${o.tag}-worker-${i}`);
    while (!done()) {
      sent += 1;
      const intent = w.next(r, i);
      const env = sign(target.ledgerId, intent.payload, intent.signers);
      const call = await history.send(target, env, { worker: i, intent: intent.intent, tag: o.tag });
      if (call.answer && (call.answer.status === 201 || call.answer.status === 200)) w.beliefs.learnReceipt(call.answer.body);
      o.onCall?.(call);
      if (!call.answer) return;
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, i) => worker(i)));
};
