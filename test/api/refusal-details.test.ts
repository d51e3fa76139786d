/**
 * A refusal's `detail` never names a party or an amount that the caller may not see
 * (docs/protocol.md §8 visibility). The caller of an op is any of its signers, so a detail may name
 * only what every signer may see, besides the op's own fields. One case (or more) per refusal
 * code, over HTTP with real LevelDB: the `Record<RefusalCode, …>` below does not compile until a
 * new code has its case.
 *
 * Every case is built so that something is hidden from the caller: mostly the voucher P, issued by
 * gz-motors for ¥400,000.00 to dongguan-parts, transferred to chen-electronics, and pledged by it
 * to icbc-gz. A second bank, cmb-sz, may see none of that.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefusalCode } from '../../src/domain/codes.js';
import { formatAmount } from '../../src/domain/money.js';
import { Harness, dueIn, key, type Key } from '../support/harness.js';
import { REFUSAL_CAST, wrapStore } from './helpers.js';

const { core, core2, s1, s2, s3, bank, bank2 } = REFUSAL_CAST;
const frozen = key('frozen-bank', 'bank');
const ghost = key('ghost-bank', 'bank'); // never registered

const AMOUNT = '40000000'; // ¥400,000.00

/** The ways an amount could appear in a detail: raw fen, or formatted with or without the sign. */
const amountForms = (fen: string): string[] => [fen, formatAmount(fen), formatAmount(fen).slice(1)];

interface Case {
  /** What the case shows, for the test's name. */
  readonly what: string;
  readonly send: () => Promise<LightMyRequestResponse>;
  /** Strings the detail must not contain: what the caller may not see. */
  readonly hidden: () => readonly string[];
}

describe('refusal details name only what every signer may see', () => {
  let h: Harness;
  let clockOffsetMs = 0;
  /** Pledged by chen-electronics to icbc-gz; issued by gz-motors to dongguan-parts, for AMOUNT. */
  let P: string;
  /** Active, held by foshan-metal, AMOUNT; cmb-sz has never seen it. */
  let W: string;
  /** Split by foshan-metal into ¥100,000.00 and ¥300,000.00. */
  let Y: string;
  /** Active, held by foshan-metal, due tomorrow. */
  let Z: string;
  let zDue: string;

  const env = (payload: Record<string, unknown>, signers: readonly Key[]) => h.envelope(payload, signers);
  const post = (body: unknown) => h.post(body);
  const pledge = (voucherId: string, b: Key, extra: Record<string, unknown> = {}) => ({
    type: 'voucher.pledge',
    voucherId,
    bank: b.id,
    loanRef: 'LOAN-2',
    ...extra,
  });
  const issue = (issuer: Key, extra: Record<string, unknown> = {}) => ({
    type: 'voucher.issue',
    issuer: issuer.id,
    to: s3.id,
    amount: '1000',
    currency: 'CNY',
    dueDate: dueIn(60),
    invoiceIds: [`INV-${h.nonce()}`],
    ...extra,
  });
  /** What cmb-sz may not see of P, beyond the parties named in the op itself. */
  const secretsOfP = (...named: Key[]): string[] => [...[core, s1, s2, bank].filter((k) => !named.includes(k)).map((k) => k.id), ...amountForms(AMOUNT), P];
  /** GET as `k`, with a token for the test's clock. */
  const getAs = async (url: string, k: Key): Promise<LightMyRequestResponse> => {
    const token = await h.token(k, { nowSeconds: Math.floor((Date.now() + clockOffsetMs) / 1000) });
    return h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  };

  beforeAll(async () => {
    h = await Harness.start({ now: () => Date.now() + clockOffsetMs });
    for (const k of [core, core2, s1, s2, s3, bank, bank2, frozen]) await h.register(k);
    await h.ok({ type: 'party.update', partyId: frozen.id, status: 'suspended' }, [h.operator]);

    P = await h.issueAccepted(core, s1, AMOUNT, ['INV-P']);
    await h.ok({ type: 'voucher.transfer', voucherId: P, to: s2.id }, [s1]);
    await h.ok({ type: 'voucher.accept', voucherId: P }, [s2]);
    await h.ok(pledge(P, bank, { loanRef: 'LOAN-1' }), [s2, bank]);

    W = await h.issueAccepted(core, s3, AMOUNT);
    Y = await h.issueAccepted(core, s3, AMOUNT);
    await h.ok({ type: 'voucher.split', voucherId: Y, amounts: ['10000000', '30000000'] }, [s3]);
    zDue = dueIn(1);
    const z = await h.ok({ ...issue(core), amount: '2500000', dueDate: zDue }, [core]);
    Z = z.effects.vouchers[0]?.id ?? '';
    await h.ok({ type: 'voucher.accept', voucherId: Z }, [s3]);
  });
  afterAll(async () => {
    await h.close();
  });

  const CASES: Record<RefusalCode, readonly Case[]> = {
    PAYLOAD_TOO_LARGE: [
      {
        what: 'an oversized body',
        send: () =>
          h.app.inject({
            method: 'POST',
            url: '/v1/ops',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify({ voucherId: P, pad: 'x'.repeat(70_000) }),
          }),
        hidden: () => secretsOfP().filter((s) => s !== P),
      },
    ],
    MALFORMED_REQUEST: [
      {
        what: "cmb-sz's pledge of P with an unknown field",
        send: () => post(env(pledge(P, bank2, { priority: 'high' }), [s2, bank2])),
        hidden: () => secretsOfP(s2, bank2).filter((s) => s !== P),
      },
    ],
    WRONG_LEDGER: [
      {
        what: "cmb-sz's pledge of P for another ledger",
        send: () => post(env(pledge(P, bank2, { ledger: 'f'.repeat(64) }), [s2, bank2])),
        hidden: () => secretsOfP(s2, bank2).filter((s) => s !== P),
      },
    ],
    OP_EXPIRED: [
      {
        what: "cmb-sz's expired pledge of P",
        send: () => post(env(pledge(P, bank2, { expiresAt: '2020-01-01T00:00:00.000Z' }), [s2, bank2])),
        hidden: () => secretsOfP(s2, bank2).filter((s) => s !== P),
      },
    ],
    UNKNOWN_PARTY: [
      {
        what: 'a pledge of P to an unregistered bank',
        send: () => post(env(pledge(P, ghost), [s2, ghost])),
        hidden: () => secretsOfP(s2, ghost).filter((s) => s !== P),
      },
    ],
    BAD_SIGNATURE: [
      {
        what: "cmb-sz's pledge of P with a forged signature",
        send: () => {
          const e = env(pledge(P, bank2), [s2, bank2]);
          const sigs = e.signatures.map((s) => (s.signer === bank2.id ? { ...s, sig: `${s.sig[0] === '0' ? '1' : '0'}${s.sig.slice(1)}` } : s));
          return post({ ...e, signatures: sigs });
        },
        hidden: () => secretsOfP(s2, bank2).filter((s) => s !== P),
      },
    ],
    PARTY_SUSPENDED: [
      {
        what: 'a pledge of P to a suspended bank',
        send: () => post(env(pledge(P, frozen), [s2, frozen])),
        hidden: () => secretsOfP(s2, frozen).filter((s) => s !== P),
      },
    ],
    VOUCHER_NOT_FOUND: [
      {
        what: 'cmb-sz releasing P, which it may not see',
        send: () => post(env({ type: 'voucher.release', voucherId: P }, [bank2])),
        hidden: () => secretsOfP(bank2).filter((s) => s !== P),
      },
    ],
    VOUCHER_STATE_CONFLICT: [
      {
        what: 'an accept of P (pledged) cosigned by cmb-sz: no required signer in its status',
        send: () => post(env({ type: 'voucher.accept', voucherId: P }, [s2, bank2])),
        hidden: () => [...secretsOfP(s2, bank2).filter((s) => s !== P), 'is pledged'],
      },
      {
        what: 'a pledge of the split voucher Y to cmb-sz',
        send: () => post(env(pledge(Y, bank2), [s3, bank2])),
        hidden: () => [core.id, ...amountForms(AMOUNT), ...amountForms('10000000'), ...amountForms('30000000'), 'is split'],
      },
    ],
    SIGNERS_MISMATCH: [
      {
        // dongguan-parts may see P (a former holder); cmb-sz may not, so not its holder either.
        what: 'a pledge of P by a former holder and cmb-sz',
        send: () => post(env(pledge(P, bank2), [s1, bank2])),
        hidden: () => secretsOfP(s1, bank2).filter((s) => s !== P),
      },
    ],
    ROLE_NOT_ALLOWED: [
      { what: 'a pledge of P to a supplier', send: () => post(env(pledge(P, s3), [s2, s3])), hidden: () => secretsOfP(s2, s3).filter((s) => s !== P) },
    ],
    PARTY_EXISTS: [
      {
        // The operator signs party ops and may see everything: nothing is hidden from it.
        what: "registering a new id with chen-electronics's key",
        send: () => post(env({ type: 'party.register', party: { id: 'copy-cat', name: 'copy', role: 'supplier', publicKey: s2.publicKey } }, [h.operator])),
        hidden: () => [],
      },
    ],
    VOUCHER_PLEDGED: [
      {
        what: "cmb-sz's pledge of P, already pledged to icbc-gz",
        send: () => post(env(pledge(P, bank2), [s2, bank2])),
        hidden: () => secretsOfP(s2, bank2).filter((s) => s !== P),
      },
    ],
    VOUCHER_OVERDUE: [
      {
        what: 'a pledge of the overdue Z to cmb-sz',
        send: async () => {
          clockOffsetMs = 3 * 86_400_000;
          try {
            return await post(env(pledge(Z, bank2), [s3, bank2]));
          } finally {
            clockOffsetMs = 0;
          }
        },
        hidden: () => [core.id, ...amountForms('2500000'), zDue],
      },
    ],
    INVALID_RECIPIENT: [
      {
        what: 'a transfer of W to its own holder',
        send: () => post(env({ type: 'voucher.transfer', voucherId: W, to: s3.id }, [s3])),
        hidden: () => secretsOfP(s3),
      },
    ],
    AMOUNT_INVALID: [
      {
        what: 'a partial pledge of W to cmb-sz above its amount',
        send: () => post(env(pledge(W, bank2, { amount: '50000000' }), [s3, bank2])),
        hidden: () => [core.id, ...amountForms(AMOUNT)],
      },
    ],
    DUE_DATE_INVALID: [
      { what: 'an issue by sz-auto due today', send: () => post(env(issue(core2, { dueDate: dueIn(0) }), [core2])), hidden: () => secretsOfP(core2, s3) },
    ],
    CURRENCY_INVALID: [
      { what: 'an issue by sz-auto in USD', send: () => post(env(issue(core2, { currency: 'USD' }), [core2])), hidden: () => secretsOfP(core2, s3) },
    ],
    INVOICE_ALREADY_USED: [
      {
        what: "an issue by sz-auto against the invoice behind gz-motors's P",
        send: () => post(env(issue(core2, { invoiceIds: ['INV-P'] }), [core2])),
        hidden: () => secretsOfP(core2, s3),
      },
    ],
    UNAUTHENTICATED: [
      {
        what: 'a read of P with the token of an unregistered party',
        send: () => getAs(`/v1/vouchers/${P}`, ghost),
        hidden: () => secretsOfP(ghost).filter((s) => s !== P),
      },
    ],
    NOT_FOUND: [{ what: 'cmb-sz reading P', send: () => getAs(`/v1/vouchers/${P}`, bank2), hidden: () => secretsOfP(bank2).filter((s) => s !== P) }],
    RATE_LIMITED: [
      {
        what: 'cmb-sz reading past its limit (a ledger of its own, limited to 1 a minute)',
        send: async () => {
          const limited = await Harness.start({ rateLimitPerMin: 1 });
          try {
            await limited.get('/v1/ledger');
            return await limited.get('/v1/ledger');
          } finally {
            await limited.close();
          }
        },
        hidden: () => secretsOfP().filter((s) => s !== P),
      },
    ],
    LEDGER_UNAVAILABLE: [
      {
        what: "cmb-sz's pledge after a failed commit (a ledger of its own)",
        send: async () => {
          let failing = false;
          const broken = await Harness.start({
            wrapStore: wrapStore((real) => ({
              commit: async (batch) => {
                if (failing) throw new Error('disk full (test)');
                return real.commit(batch);
              },
            })),
          });
          try {
            failing = true;
            await broken.submit({ type: 'party.register', party: { id: bank2.id, name: bank2.id, role: bank2.role, publicKey: bank2.publicKey } }, [
              broken.operator,
            ]);
            return await broken.submit({ type: 'party.register', party: { id: s2.id, name: s2.id, role: s2.role, publicKey: s2.publicKey } }, [
              broken.operator,
            ]);
          } finally {
            await broken.close();
          }
        },
        hidden: () => secretsOfP().filter((s) => s !== P),
      },
    ],
  };

  const rows = (Object.entries(CASES) as [RefusalCode, readonly Case[]][]).flatMap(([code, cases]) => cases.map((c) => [code, c.what, c] as const));

  it.each(rows)('%s: %s', async (code, _what, c) => {
    const res = await c.send();
    const body = res.json() as { code: string; detail: string };
    expect(body.code, res.body).toBe(code);
    expect(body.detail.length).toBeGreaterThan(0);
    for (const secret of c.hidden()) expect(body.detail, `the detail names "${secret}"`).not.toContain(secret);
  });

  describe('what every signer may see is still named, and amounts read as ¥', () => {
    it("VOUCHER_PLEDGED to P's holder alone names the pledgee", async () => {
      const res = await post(env({ type: 'voucher.transfer', voucherId: P, to: s3.id }, [s2]));
      expect(res.json()).toMatchObject({ code: 'VOUCHER_PLEDGED', detail: `${P} is pledged to ${bank.id}` });
    });

    it("AMOUNT_INVALID to W's holder: the voucher's amount and the op's, formatted", async () => {
      const res = await post(env({ type: 'voucher.transfer', voucherId: W, to: s1.id, amount: '50000000' }, [s3]));
      expect(res.json()).toMatchObject({ code: 'AMOUNT_INVALID', detail: "a partial amount must be below the voucher's ¥400,000.00; ¥500,000.00 is not" });
    });

    it('AMOUNT_INVALID for split parts: both sums formatted', async () => {
      const res = await post(env({ type: 'voucher.split', voucherId: W, amounts: ['100', '250000'] }, [s3]));
      expect(res.json()).toMatchObject({ code: 'AMOUNT_INVALID', detail: "the parts sum to ¥2,501.00, not the voucher's ¥400,000.00" });
    });

    it('MALFORMED_REQUEST for an amount out of range gives the range in ¥', async () => {
      const res = await post(env(issue(core, { amount: '1000000000000001' }), [core]));
      expect(res.json()).toMatchObject({ code: 'MALFORMED_REQUEST' });
      expect((res.json() as { detail: string }).detail).toContain('from ¥0.01 to ¥10,000,000,000,000.00');
    });

    it('SIGNERS_MISMATCH among parties that all see P names its holder', async () => {
      const res = await post(env({ type: 'voucher.split', voucherId: P, amounts: ['1', String(BigInt(AMOUNT) - 1n)] }, [s1]));
      expect(res.json()).toMatchObject({ code: 'SIGNERS_MISMATCH', detail: `voucher.split must be signed by exactly ${s2.id}; got ${s1.id}` });
    });

    it('INVOICE_ALREADY_USED names the root to the issuer that issued it', async () => {
      const res = await post(env(issue(core, { invoiceIds: ['INV-P'] }), [core]));
      expect(res.json()).toMatchObject({ code: 'INVOICE_ALREADY_USED', detail: `invoice INV-P already backs ${P}` });
    });
  });
});
