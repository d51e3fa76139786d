/**
 * The per-party rate limit counts what a party provably did, exactly once, and cannot be passed
 * by concurrency. Over real sockets to the real app (real LevelDB, the real writer), each request
 * from a source address of its own on 127.0.0.0/8: the app does not trust X-Forwarded-For, so
 * only real addresses spread requests past the per-address limit, as an attacker would.
 *
 * - A signed op replayed by whoever holds it, from many addresses, counts once against its
 *   signer; a holder's pledge request replayed without the bank's signature (SIGNERS_MISMATCH, a
 *   refusal the holder cannot have caused) counts not at all.
 * - Ops are counted before they are decided, atomically: 100 concurrent valid ops of one party
 *   against a limit of 30 get exactly 30 receipts, and the rest 429 RATE_LIMITED; a co-signed op
 *   refused because one signer is at its limit charges no signer.
 */
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, dueIn, key, type Key } from '../support/harness.js';
import { assertProblem } from './support.js';

const MINUTE = 60_000;

interface Answer {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a new socket from `from` (a loopback address), to the app at `port`. */
const send = (port: number, o: { method: 'GET' | 'POST'; path: string; from: string; body?: unknown; token?: string }): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: o.method,
        path: o.path,
        localAddress: o.from,
        agent: false,
        headers: {
          ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) }),
          ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });

/** Starts a harness on a fake clock at the start of a minute, listening on a real port. */
const start = async (limit: number): Promise<{ h: Harness; port: number; clock: { ms: number } }> => {
  const clock = { ms: Math.ceil(Date.now() / MINUTE) * MINUTE + 1_000 };
  const h = await Harness.start({ rateLimitPerMin: limit, now: () => clock.ms });
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return { h, port: Number(new URL(url).port), clock };
};

describe('RATE_LIMIT_PER_MIN = 5: an op counts once against its signers, and only for what they caused', () => {
  const LIMIT = 5;
  let h: Harness;
  let port: number;
  let clock: { ms: number };
  const core = key('gz-motors', 'core');
  const holder = key('dongguan-parts', 'supplier');
  const bank = key('icbc-gz', 'bank');
  const mallory = key('mallory-trading', 'supplier');
  let voucherId: string;

  /** The i-th of many source addresses (none of them reaches the per-address limit). */
  const spread = (i: number) => `127.0.0.${10 + (i % 8)}`;
  const read = async (k: Key, from: string) =>
    send(port, { method: 'GET', path: '/v1/parties', from, token: await h.token(k, { nowSeconds: Math.floor(clock.ms / 1000) }) });
  /** `k` has exactly `left` requests left in this window: that many reads pass, the next is 429. */
  const expectLeft = async (k: Key, left: number) => {
    for (let i = 0; i < left; i++) expect((await read(k, '127.0.0.2')).statusCode, `read ${i + 1} of ${left}`).toBe(200);
    const over = await read(k, '127.0.0.3');
    assertProblem(over, 429, 'RATE_LIMITED');
    expect(JSON.parse(over.body).detail).toContain(k.id);
  };

  beforeAll(async () => {
    ({ h, port, clock } = await start(LIMIT));
    for (const k of [core, holder, bank, mallory]) {
      clock.ms += MINUTE;
      await h.register(k);
    }
    clock.ms += MINUTE;
    const issued = await h.ok(
      { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '500000', currency: 'CNY', dueDate: dueIn(90, clock.ms), invoiceIds: ['INV-RL-1'] },
      [core],
    );
    voucherId = issued.effects.vouchers[0]!.id;
    await h.ok({ type: 'voucher.accept', voucherId }, [holder]);
  });
  afterAll(async () => {
    await h.close();
  });

  it('a pledge request signed by the holder alone, replayed from many addresses (SIGNERS_MISMATCH), does not lock the holder out', async () => {
    const request = h.envelope(
      { type: 'voucher.pledge', voucherId, bank: bank.id, loanRef: 'LOAN-RL-1', expiresAt: new Date(clock.ms + 86_400_000).toISOString() },
      [holder],
    );
    clock.ms += MINUTE;
    // Anyone holding the request (the bank, or whoever it leaked to) sends it as it is.
    for (let i = 0; i < 4 * LIMIT; i++)
      assertProblem(await send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: request }), 403, 'SIGNERS_MISMATCH');
    await expectLeft(holder, LIMIT);
    // Concurrent replays too.
    clock.ms += MINUTE;
    const answers = await Promise.all(
      Array.from({ length: 4 * LIMIT }, (_, i) => send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: request })),
    );
    for (const a of answers) assertProblem(a, 403, 'SIGNERS_MISMATCH');
    await expectLeft(holder, LIMIT);
    // The request still works once the bank signs it: the holder was never charged for it.
    clock.ms += MINUTE;
    const full = { payload: request.payload, signatures: [...request.signatures, ...h.envelope(request.payload, [bank]).signatures] };
    expect((await send(port, { method: 'POST', path: '/v1/ops', from: '127.0.0.4', body: full })).statusCode).toBe(201);
    await expectLeft(holder, LIMIT - 1);
  });

  it('an op its signer did sign, refused and replayed from many addresses, counts once against the signer', async () => {
    clock.ms += MINUTE;
    // The invoice is used already: a refusal that follows from what the core signed.
    const op = h.envelope(
      { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '100', currency: 'CNY', dueDate: dueIn(30, clock.ms), invoiceIds: ['INV-RL-1'] },
      [core],
    );
    for (let i = 0; i < 4 * LIMIT; i++)
      assertProblem(await send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: op }), 409, 'INVOICE_ALREADY_USED');
    await expectLeft(core, LIMIT - 1);

    clock.ms += MINUTE;
    const again = await Promise.all(Array.from({ length: 4 * LIMIT }, (_, i) => send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: op })));
    for (const a of again) assertProblem(a, 409, 'INVOICE_ALREADY_USED');
    await expectLeft(core, LIMIT - 1);
  });

  it('an expired op replayed from many addresses counts nothing against its signer', async () => {
    clock.ms += MINUTE;
    const op = h.envelope({ type: 'voucher.transfer', voucherId, to: mallory.id, expiresAt: new Date(clock.ms - 1_000).toISOString() }, [holder]);
    for (let i = 0; i < 4 * LIMIT; i++) assertProblem(await send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: op }), 422, 'OP_EXPIRED');
    await expectLeft(holder, LIMIT);
  });

  it('a co-signed op refused 429 because one signer is at its limit charges the other nothing', async () => {
    clock.ms += MINUTE;
    const v = (
      await h.ok(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: holder.id,
          amount: '1000',
          currency: 'CNY',
          dueDate: dueIn(90, clock.ms),
          invoiceIds: [`INV-${h.nonce()}`],
        },
        [core],
      )
    ).effects.vouchers[0]!.id;
    await h.ok({ type: 'voucher.accept', voucherId: v }, [holder]);
    clock.ms += MINUTE;
    for (let i = 0; i < LIMIT; i++) expect((await read(bank, spread(i))).statusCode).toBe(200);
    const pledge = h.envelope({ type: 'voucher.pledge', voucherId: v, bank: bank.id, loanRef: 'LOAN-RL-2' }, [holder, bank]);
    const size = h.service.size;
    const res = await send(port, { method: 'POST', path: '/v1/ops', from: '127.0.0.5', body: pledge });
    assertProblem(res, 429, 'RATE_LIMITED');
    expect(JSON.parse(res.body).detail).toContain(bank.id);
    expect(h.service.size).toBe(size);
    await expectLeft(holder, LIMIT);
  });

  it('distinct ops each count: the signer is refused 429 past its limit, and nothing is written', async () => {
    clock.ms += MINUTE;
    const issue = () =>
      h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: holder.id,
          amount: '100',
          currency: 'CNY',
          dueDate: dueIn(30, clock.ms),
          invoiceIds: [`INV-${h.nonce()}`],
        },
        [core],
      );
    for (let i = 0; i < LIMIT; i++) expect((await send(port, { method: 'POST', path: '/v1/ops', from: spread(i), body: issue() })).statusCode).toBe(201);
    const size = h.service.size;
    const over = await send(port, { method: 'POST', path: '/v1/ops', from: spread(LIMIT), body: issue() });
    assertProblem(over, 429, 'RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(h.service.size).toBe(size);
  });
});

describe('RATE_LIMIT_PER_MIN = 30: ops are counted before they are decided', () => {
  const LIMIT = 30;
  const core = key('gz-motors', 'core');
  const supplier = key('dongguan-parts', 'supplier');
  let h: Harness;
  let port: number;
  let clock: { ms: number };

  beforeAll(async () => {
    ({ h, port, clock } = await start(LIMIT));
    for (const k of [core, supplier]) await h.register(k);
  });
  afterAll(async () => {
    await h.close();
  });

  it('100 concurrent valid ops of one party, from 5 addresses: exactly 30 accepted, 70 refused 429 RATE_LIMITED', { timeout: 60_000 }, async () => {
    clock.ms += MINUTE;
    const ops = Array.from({ length: 100 }, () =>
      h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: supplier.id,
          amount: '100',
          currency: 'CNY',
          dueDate: dueIn(30, clock.ms),
          invoiceIds: [`INV-${h.nonce()}`],
        },
        [core],
      ),
    );
    const size = h.service.size;
    // 20 requests per address: under the per-address limit, so only the per-party limit bites.
    const answers = await Promise.all(ops.map((body, i) => send(port, { method: 'POST', path: '/v1/ops', from: `127.0.0.${20 + (i % 5)}`, body })));
    const accepted = answers.filter((a) => a.statusCode === 201).length;
    const limited = answers.filter((a) => a.statusCode === 429);
    expect({ accepted, limited: limited.length }).toEqual({ accepted: LIMIT, limited: 100 - LIMIT });
    for (const a of limited) {
      assertProblem(a, 429, 'RATE_LIMITED');
      // The party's limit, not an address's.
      expect(JSON.parse(a.body).detail).toContain(core.id);
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(h.service.size).toBe(size + LIMIT);
  });
});
