/**
 * RATE_LIMIT_PER_MIN on @fastify/rate-limit, beyond the basic cases in
 * test/api/refusals.test.ts: per address on every route (unknown ones and the docs included, IPv6
 * per /64), per party for reads and ops sharing one quota, parties isolated from one another,
 * nobody able to spend another party's quota with forged tokens or forged envelopes, a 429 that is
 * a problem with `retry-after` and writes nothing, and 0 turning it all off. How ops are counted
 * (once per op id, before the decision, over real sockets from many addresses):
 * test/security/rate-limit-admission.test.ts.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/ledger/ed25519.js';
import { Harness, dueIn, key, type Key } from '../support/harness.js';
import { assertProblem } from './support.js';

const LIMIT = 5;
const MINUTE = 60_000;

describe(`RATE_LIMIT_PER_MIN = ${LIMIT}`, () => {
  let h: Harness;
  // The clock sits at the start of a minute; each test moves it to the next one.
  let clockMs = Math.ceil(Date.now() / MINUTE) * MINUTE + 1_000;
  let ip = 0;
  /** A fresh client address per call, so that only the per-party limit can bite. */
  const freshIp = () => `192.0.2.${(ip++ % 250) + 1}`;
  const core = key('gz-motors', 'core');
  const s1 = key('dongguan-parts', 'supplier');
  const s2 = key('chen-electronics', 'supplier');
  const bank = key('icbc-gz', 'bank');
  const victim = key('victim-parts', 'supplier');

  const getAs = async (url: string, k: Key | undefined, remoteAddress = freshIp()): Promise<LightMyRequestResponse> =>
    h.app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: k ? { authorization: `Bearer ${await h.token(k, { nowSeconds: Math.floor(clockMs / 1000) })}` } : {},
    });
  const postFrom = (body: unknown, remoteAddress = freshIp()) => h.app.inject({ method: 'POST', url: '/v1/ops', remoteAddress, payload: body as object });
  const expect429 = (res: LightMyRequestResponse) => {
    assertProblem(res, 429, 'RATE_LIMITED');
    const retry = Number(res.headers['retry-after']);
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${res.headers['retry-after']}`).toBe(true);
  };

  beforeAll(async () => {
    h = await Harness.start({ rateLimitPerMin: LIMIT, now: () => clockMs });
    // Registrations spread over minutes: the operator signs them all.
    for (const k of [core, s1, s2, bank, victim]) {
      clockMs += MINUTE;
      expect(
        (await postFrom(h.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [h.operator])))
          .statusCode,
      ).toBe(201);
    }
  });
  afterEach(() => {
    clockMs += MINUTE;
  });
  afterAll(async () => {
    await h.close();
  });

  it('per address, on every route: known, unknown, docs, health; the 429 is a problem with retry-after', async () => {
    const urls = ['/v1/ledger', '/nowhere', '/docs/json', '/healthz', '/v1/checkpoint'];
    for (let i = 0; i < LIMIT; i++) expect((await getAs(urls[i]!, undefined, '198.51.100.7')).statusCode).toBeLessThan(429);
    for (const url of [...urls, '/openapi.json', '/metrics']) expect429(await getAs(url, undefined, '198.51.100.7'));
    expect((await getAs('/v1/ledger', undefined, '198.51.100.8')).statusCode).toBe(200);
  });

  it('IPv6 addresses count per /64', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await getAs('/v1/ledger', undefined, `2001:db8:1:2::${i + 1}`)).statusCode).toBe(200);
    expect429(await getAs('/v1/ledger', undefined, '2001:db8:1:2:ffff::9'));
    expect((await getAs('/v1/ledger', undefined, '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('per party: reads from many addresses share one quota; another party is not affected', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await getAs('/v1/parties', s1)).statusCode).toBe(200);
    expect429(await getAs('/v1/parties', s1));
    expect429(await getAs(`/v1/parties/${s1.id}/vouchers`, s1));
    expect((await getAs('/v1/parties', s2)).statusCode).toBe(200);
  });

  it('a party’s reads and the ops it signs share one quota', async () => {
    for (let i = 0; i < LIMIT - 1; i++) expect((await getAs('/v1/parties', core)).statusCode).toBe(200);
    const issue = () =>
      h.envelope(
        { type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '100', currency: 'CNY', dueDate: dueIn(30, clockMs), invoiceIds: [`INV-${h.nonce()}`] },
        [core],
      );
    expect((await postFrom(issue())).statusCode).toBe(201);
    const size = h.service.size;
    expect429(await postFrom(issue()));
    expect(h.service.size, 'a 429 op was written').toBe(size);
    expect429(await getAs('/v1/parties', core));
  });

  it('a co-signed op counts for both signers', async () => {
    clockMs += MINUTE;
    const v = (
      await h.ok(
        { type: 'voucher.issue', issuer: core.id, to: s2.id, amount: '100', currency: 'CNY', dueDate: dueIn(30, clockMs), invoiceIds: [`INV-${h.nonce()}`] },
        [core],
      )
    ).effects.vouchers[0]!.id;
    await h.ok({ type: 'voucher.accept', voucherId: v }, [s2]);
    clockMs += MINUTE;
    expect((await postFrom(h.envelope({ type: 'voucher.pledge', voucherId: v, bank: bank.id, loanRef: 'L-1' }, [s2, bank]))).statusCode).toBe(201);
    for (let i = 0; i < LIMIT - 1; i++) expect((await getAs('/v1/parties', bank)).statusCode).toBe(200);
    expect429(await getAs('/v1/parties', bank));
    for (let i = 0; i < LIMIT - 1; i++) expect((await getAs('/v1/parties', s2)).statusCode).toBe(200);
    expect429(await getAs('/v1/parties', s2));
  });

  it('nobody spends a party’s quota with tokens that name it but do not verify', async () => {
    const nowS = Math.floor(clockMs / 1000);
    const forged = await h.token({ ...victim, seed: key('mallory', 'supplier').seed }, { nowSeconds: nowS });
    for (let i = 0; i < 3 * LIMIT; i++) {
      const res = await h.app.inject({ method: 'GET', url: '/v1/parties', remoteAddress: freshIp(), headers: { authorization: `Bearer ${forged}` } });
      assertProblem(res, 401, 'UNAUTHENTICATED');
    }
    for (let i = 0; i < LIMIT; i++) expect((await getAs('/v1/parties', victim)).statusCode).toBe(200);
  });

  it('nobody spends a party’s quota with envelopes that name it as signer but do not verify', async () => {
    const forged = () => {
      const e = h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: victim.id,
          amount: '100',
          currency: 'CNY',
          dueDate: dueIn(30, clockMs),
          invoiceIds: [`INV-${h.nonce()}`],
        },
        [core],
      );
      e.signatures[0]!.sig = sign(key('mallory', 'supplier').seed, new TextEncoder().encode('not the preimage'));
      return e;
    };
    for (let i = 0; i < 3 * LIMIT; i++) assertProblem(await postFrom(forged()), 401, 'BAD_SIGNATURE');
    // Refusals decided before any signature is checked (§7 precedence) do not count either: an op
    // for another ledger, or one already expired, proves nothing about who sent it.
    const unverified = (extra: Record<string, unknown>) => {
      const e = h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: victim.id,
          amount: '100',
          currency: 'CNY',
          dueDate: dueIn(30, clockMs),
          invoiceIds: [`INV-${h.nonce()}`],
          ...extra,
        },
        [core],
      );
      e.signatures[0]!.sig = 'ab'.repeat(64);
      return e;
    };
    for (let i = 0; i < 3 * LIMIT; i++) assertProblem(await postFrom(unverified({ ledger: 'f'.repeat(64) })), 422, 'WRONG_LEDGER');
    for (let i = 0; i < 3 * LIMIT; i++) assertProblem(await postFrom(unverified({ expiresAt: new Date(clockMs - 1000).toISOString() })), 422, 'OP_EXPIRED');
    for (let i = 0; i < 3 * LIMIT; i++) {
      const e = h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: 'nobody-at-all',
          amount: '100',
          currency: 'CNY',
          dueDate: dueIn(30, clockMs),
          invoiceIds: [`INV-${h.nonce()}`],
        },
        [core],
      );
      e.signatures[0]!.sig = 'ab'.repeat(64);
      assertProblem(await postFrom(e), 422, 'UNKNOWN_PARTY');
    }
    // Malformed envelopes naming the party do not count either.
    for (let i = 0; i < 3 * LIMIT; i++)
      assertProblem(await postFrom({ payload: { type: 'voucher.issue' }, signatures: [{ signer: core.id, sig: 'x' }] }), 400, 'MALFORMED_REQUEST');
    for (let i = 0; i < LIMIT; i++) expect((await getAs('/v1/parties', core)).statusCode).toBe(200);
  });

  it('the next window allows requests again', async () => {
    for (let i = 0; i < LIMIT; i++) await getAs('/v1/parties', s1, '198.51.100.20');
    expect429(await getAs('/v1/parties', s1, '198.51.100.20'));
    clockMs += MINUTE;
    expect((await getAs('/v1/parties', s1, '198.51.100.20')).statusCode).toBe(200);
  });
});

describe('RATE_LIMIT_PER_MIN = 0 turns limiting off', () => {
  it('hundreds of requests from one address and one party all pass, with no rate-limit headers', async () => {
    const h = await Harness.start({ rateLimitPerMin: 0 });
    try {
      const s = key('dongguan-parts', 'supplier');
      await h.register(s);
      const token = await h.token(s);
      for (let i = 0; i < 300; i++) {
        const res = await h.app.inject({
          method: 'GET',
          url: i % 2 ? '/v1/ledger' : '/v1/parties',
          remoteAddress: '203.0.113.1',
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await h.close();
    }
  });
});
