/**
 * Races: hundreds of concurrent ops on one asset, each valid on its own. Exactly
 * one wins; every other is refused with the code §7 gives once the winner is applied, which the
 * race predicts from the winner alone and the domain model confirms:
 *
 * | mix                  | attempts                                             | losers' code, by winner                    |
 * |----------------------|------------------------------------------------------|--------------------------------------------|
 * | `pledges`            | co-signed pledges of one voucher to different banks, | whole pledge won: 409 VOUCHER_PLEDGED;     |
 * |                      | some whole, some partial                             | partial won (it split): 409 VOUCHER_STATE_CONFLICT |
 * | `transfers`          | whole transfers of one voucher to different parties  | 409 VOUCHER_STATE_CONFLICT (it is offered) |
 * | `splits-and-pledges` | splits into 2–5 parts and pledges, whole or partial  | whole pledge won: VOUCHER_PLEDGED; a split |
 * |                      |                                                      | or a partial pledge won: VOUCHER_STATE_CONFLICT |
 * | `issues`             | issues by several cores, each citing one invoice id  | 409 INVOICE_ALREADY_USED                   |
 * |                      | (with another id of its own)                         |                                            |
 *
 * The ledger grows by exactly one entry, the asset is in the winner's state, and a loser's own
 * invoice ids stay free (a refusal consumes nothing).
 */
import { decide } from '../../../src/domain/decide.js';
import { parseOp } from '../../../src/domain/schema.js';
import type { MemoryState } from '../../../src/domain/state.js';
import { verifyNode } from '../../../src/ledger/node/ed25519-node.js';
import { opPreimage } from '../../../src/ledger/op.js';
import type { Rng } from '../../support/faults.js';
import { dueIn } from '../../support/time.js';
import { getOk, opIdOf, sign, type Envelope, type Key, type Target } from './target.js';
import type { Call } from './workload.js';

export const MIXES = ['pledges', 'transfers', 'splits-and-pledges', 'issues'] as const;
export type Mix = (typeof MIXES)[number];

export interface RaceCast {
  readonly operator: Key;
  readonly cores: readonly Key[];
  readonly holder: Key;
  readonly banks: readonly Key[];
  readonly suppliers: readonly Key[];
}

export const raceCast = (label: string, n: number, mk: (id: string, role: Key['role']) => Key, operator: Key): RaceCast => ({
  operator,
  cores: Array.from({ length: 4 }, (_, i) => mk(`${label}-core-${i}`, 'core')),
  holder: mk(`${label}-holder`, 'supplier'),
  banks: Array.from({ length: n }, (_, i) => mk(`${label}-bank-${i}`, 'bank')),
  suppliers: Array.from({ length: n }, (_, i) => mk(`${label}-sup-${i}`, 'supplier')),
});

export interface RaceResult {
  readonly mix: Mix;
  readonly attempts: number;
  readonly winner: string;
  /** Losers' answers, "status code" → count. */
  readonly losers: Record<string, number>;
  readonly expected: string;
  readonly findings: string[];
  /** Every request of the race, for the model check. */
  readonly calls: Call[];
}

interface Attempt {
  readonly env: Envelope;
  /** What the losers get if this one wins. */
  readonly losersGet: 'VOUCHER_PLEDGED' | 'VOUCHER_STATE_CONFLICT' | 'INVOICE_ALREADY_USED';
  readonly describe: string;
}

let raceNo = 0;

/** Splits `amount` into `parts` random positive parts. */
const parts = (rng: Rng, amount: bigint, k: number): string[] => {
  const cuts = new Set<bigint>();
  while (cuts.size < k - 1) cuts.add(1n + BigInt(rng.int(0, Number(amount - 2n))));
  let prev = 0n;
  return [...[...cuts].sort((a, b) => (a < b ? -1 : 1)), amount].map((c) => {
    const d = c - prev;
    prev = c;
    return d.toString();
  });
};

export const runRace = async (t: Target, cast: RaceCast, mix: Mix, n: number, rng: Rng, nonceTag: string): Promise<RaceResult> => {
  raceNo += 1;
  const tag = `${nonceTag}-${raceNo}`;
  const findings: string[] = [];
  const amount = BigInt(rng.int(1_000_000, 90_000_000));
  const nonce = (i: number | string) => `race-${tag}-${i}`;
  const ok = async (payload: Record<string, unknown>, signers: Key[]): Promise<any> => {
    const a = await t.post(sign(t.ledgerId, { nonce: nonce(`setup-${String(payload.type).replace('.', '_')}`), ...payload }, signers));
    if (a.status !== 201) throw new Error(`race setup ${String(payload.type)}: ${a.status} ${a.text.slice(0, 300)}`);
    return a.body;
  };
  const holder = cast.holder;
  const core = rng.pick(cast.cores);
  let voucherId = '';
  const shared = `RACE-${tag}`;
  if (mix !== 'issues') {
    const issued = await ok(
      { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: amount.toString(), currency: 'CNY', dueDate: dueIn(90), invoiceIds: [`SETUP-${tag}`] },
      [core],
    );
    voucherId = issued.effects.vouchers[0].id as string;
    await ok({ type: 'voucher.accept', voucherId }, [holder]);
  }

  const attempts: Attempt[] = [];
  for (let i = 0; i < n; i++) {
    const bank = cast.banks[i % cast.banks.length] as Key;
    const partial = (): string => (1n + BigInt(rng.int(0, Number(amount - 2n)))).toString();
    const pledge = (): Attempt => {
      const part = rng.chance(0.25);
      return {
        env: sign(
          t.ledgerId,
          { type: 'voucher.pledge', nonce: nonce(i), voucherId, bank: bank.id, loanRef: `LOAN-${tag}-${i}`, ...(part ? { amount: partial() } : {}) },
          rng.chance(0.5) ? [holder, bank] : [bank, holder],
        ),
        losersGet: part ? 'VOUCHER_STATE_CONFLICT' : 'VOUCHER_PLEDGED',
        describe: `${part ? 'partial ' : ''}pledge to ${bank.id}`,
      };
    };
    switch (mix) {
      case 'pledges':
        attempts.push(pledge());
        break;
      case 'transfers': {
        const to = i % 5 === 4 ? bank : (cast.suppliers[i % cast.suppliers.length] as Key);
        attempts.push({
          env: sign(t.ledgerId, { type: 'voucher.transfer', nonce: nonce(i), voucherId, to: to.id }, [holder]),
          losersGet: 'VOUCHER_STATE_CONFLICT',
          describe: `transfer to ${to.id}`,
        });
        break;
      }
      case 'splits-and-pledges':
        if (rng.chance(0.5)) {
          const k = rng.int(2, 5);
          attempts.push({
            env: sign(t.ledgerId, { type: 'voucher.split', nonce: nonce(i), voucherId, amounts: parts(rng, amount, k) }, [holder]),
            losersGet: 'VOUCHER_STATE_CONFLICT',
            describe: `split in ${k}`,
          });
        } else attempts.push(pledge());
        break;
      case 'issues': {
        const c = cast.cores[i % cast.cores.length] as Key;
        const to = cast.suppliers[i % cast.suppliers.length] as Key;
        const own = `OWN-${tag}-${i}`;
        attempts.push({
          env: sign(
            t.ledgerId,
            {
              type: 'voucher.issue',
              nonce: nonce(i),
              issuer: c.id,
              to: to.id,
              amount: String(rng.int(1, 1_000_000_000)),
              currency: 'CNY',
              dueDate: dueIn(rng.int(10, 300)),
              invoiceIds: rng.chance(0.5) ? [shared, own] : [own, shared],
            },
            [c],
          ),
          losersGet: 'INVOICE_ALREADY_USED',
          describe: `issue by ${c.id} to ${to.id}`,
        });
        break;
      }
    }
  }

  // Sent in a seeded random order, so that any kind of attempt may win.
  for (let i = attempts.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [attempts[i], attempts[j]] = [attempts[j] as Attempt, attempts[i] as Attempt];
  }
  const sizeBefore = (await getOk(t, '/v1/ledger')).size as number;
  const calls: Call[] = attempts.map((a, i) => ({
    n: i,
    worker: i,
    intent: `${mix}: ${a.describe}`,
    tag: `race ${tag}`,
    env: a.env,
    opId: opIdOf(a.env),
    start: 0,
    end: 0,
    answer: undefined,
  }));
  await Promise.all(
    calls.map(async (c) => {
      c.start = performance.now();
      try {
        c.answer = await t.post(c.env);
      } catch (err) {
        c.error = (err as Error).message;
      }
      c.end = performance.now();
    }),
  );
  const sizeAfter = (await getOk(t, '/v1/ledger')).size as number;
  const answers = calls.map((c) => c.answer);
  const winners = answers.flatMap((a, i) => (a?.status === 201 ? [i] : []));
  if (winners.length !== 1) findings.push(`${mix}: ${winners.length} winners among ${n}`);
  if (sizeAfter - sizeBefore !== 1) findings.push(`${mix}: the ledger grew by ${sizeAfter - sizeBefore} entries, not 1`);
  const w = winners[0];
  const winner = w === undefined ? undefined : (attempts[w] as Attempt);
  const expected = winner ? winner.losersGet : 'n/a';
  const losers: Record<string, number> = {};
  answers.forEach((a, i) => {
    if (i === w) return;
    const k = a ? `${a.status} ${a.body?.code}` : 'no answer';
    losers[k] = (losers[k] ?? 0) + 1;
    if (a && !a.contentType.startsWith('application/problem+json')) findings.push(`${mix}: a refusal answered as ${a.contentType}, not problem+json`);
  });
  if (winner) {
    const want = `409 ${expected}`;
    const wrong = Object.entries(losers).filter(([k]) => k !== want);
    if (wrong.length > 0) findings.push(`${mix}: the winner was a ${winner.describe}, so every loser must get ${want}; got ${JSON.stringify(losers)}`);
    // The asset is in the winner's state.
    const receipt = answers[w as number]?.body;
    const winEnv = winner.env.payload as Record<string, unknown>;
    if (mix === 'issues') {
      const root = receipt?.effects?.vouchers?.[0];
      if (!root || !root.invoiceIds.includes(shared)) findings.push(`${mix}: the winning issue does not hold the shared invoice`);
    } else {
      const state = await getOk(t, `/v1/vouchers/${voucherId}`, holder);
      const wantStatus = winEnv.type === 'voucher.transfer' ? 'offered' : winEnv.type === 'voucher.split' || winEnv.amount !== undefined ? 'split' : 'pledged';
      if (state.status !== wantStatus) findings.push(`${mix}: after a winning ${winner.describe} the voucher is ${state.status}, not ${wantStatus}`);
      if (wantStatus === 'pledged' && state.pledge?.bank !== winEnv.bank)
        findings.push(`${mix}: pledged to ${state.pledge?.bank}, not the winner ${String(winEnv.bank)}`);
      if (wantStatus === 'offered' && state.offeredTo !== winEnv.to)
        findings.push(`${mix}: offered to ${state.offeredTo}, not the winner ${String(winEnv.to)}`);
    }
  }
  return { mix, attempts: n, winner: winner?.describe ?? 'none', losers, expected, findings, calls };
};

/**
 * The domain model's view of the losers: decided against the state after the race (the winner
 * applied), each must be refused with the code it got. And a loser's own invoice ids stay free.
 */
export const modelAgrees = (model: MemoryState, ctx: { ledgerId: string; nodeKey: string; seq: number; time: string }, race: RaceResult): string[] => {
  const f: string[] = [];
  for (const c of race.calls) {
    if (!c.answer || c.answer.status === 201) continue;
    const parsed = parseOp(c.env);
    if (!parsed.ok) {
      f.push(`${c.intent}: the model cannot parse it`);
      continue;
    }
    const preimage = opPreimage(c.env.payload);
    const d = decide(model, parsed.op, {
      ledgerId: ctx.ledgerId,
      currency: 'CNY',
      maxTenorDays: 365,
      seq: ctx.seq,
      time: ctx.time,
      opId: c.opId,
      nodeKey: ctx.nodeKey,
      verifySignature: (pk, sig) => verifyNode(pk, preimage, sig),
    });
    const got = d.ok ? 'accepted' : d.code;
    if (got !== c.answer.body?.code) f.push(`${c.intent}: refused ${c.answer.body?.code}, the model says ${got}`);
    if (race.mix === 'issues') {
      const own = (c.env.payload.invoiceIds as string[]).find((x) => x.startsWith('OWN-'));
      if (own && model.invoiceRoot(own) !== undefined) f.push(`${c.intent}: a refused issue used its invoice ${own}`);
    }
  }
  return f;
};
