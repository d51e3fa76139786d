/**
 * No secret in the logs. The compiled service runs with LOG_LEVEL=trace, its
 * stdout captured, through a full story: genesis with a generated operator key, registrations,
 * issue, accept, split, transfer, a co-signed pledge, release, settle, reads by every role, and
 * the unhappy paths where a careless implementation would log what it was sent: bad and expired
 * bearer tokens, a suspended party's token, a token in the query string, a refused op (bad
 * signature, double pledge), a malformed op, a key file posted by mistake, an op that makes the
 * service fail. Then no secret key (the operator's, the node's, any party's seed; hex, base64 or
 * base64url) and no bearer token or JWT may appear anywhere in what the service wrote.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, dueIn, key, operatorKey, type Key } from '../e2e/client.js';
import { cleanup, logLines, startServer, type Server } from '../e2e/server.js';

const forms = (hex: string): string[] => {
  const b = Buffer.from(hex, 'hex');
  return [hex, hex.toUpperCase(), b.toString('base64'), b.toString('base64url'), b.toString('base64').replace(/=+$/, '')];
};

/** A compact JWS: three base64url segments, the first a JSON object (`eyJ` is `{"`). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/;

describe('the service logs no secret key and no bearer token', () => {
  let server: Server;
  let c: Client;
  let operator: Key;
  const secrets: { what: string; value: string }[] = [];
  const tokens: string[] = [];
  const core = key('gz-motors', 'core');
  const s1 = key('dongguan-parts', 'supplier');
  const s2 = key('chen-electronics', 'supplier');
  const bank = key('icbc-gz', 'bank');
  const auditor = key('csrc-audit', 'auditor');
  const napping = key('napping-parts', 'supplier');

  beforeAll(async () => {
    server = await startServer({ env: { LOG_LEVEL: 'trace' } });
    c = await Client.connect(server.url);
    operator = await operatorKey(server.dataDir);
    const node = JSON.parse(await readFile(path.join(server.dataDir, 'node.key'), 'utf8')) as { secretKey: string };
    secrets.push({ what: 'operator secret key', value: operator.seed }, { what: 'node secret key', value: node.secretKey });
    for (const k of [core, s1, s2, bank, auditor, napping]) secrets.push({ what: `${k.id} seed`, value: k.seed });

    const t = async (k: Key) => {
      const token = await c.token(k);
      tokens.push(token);
      return token;
    };
    const raw = (url: string, init: RequestInit = {}) => fetch(`${server.url}${url}`, init).then(async (r) => ({ status: r.status, body: await r.text() }));
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    // The story.
    for (const k of [core, s1, s2, bank, auditor, napping]) await c.register(operator, k);
    const root = (
      await c.ok({ type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '100000', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['INV-LOG-1'] }, [
        core,
      ])
    ).effects.vouchers[0]!.id;
    await c.ok({ type: 'voucher.accept', voucherId: root }, [s1]);
    await c.ok({ type: 'voucher.split', voucherId: root, amounts: ['40000', '60000'] }, [s1]);
    const part = `${root}:0-40000`;
    await c.ok({ type: 'voucher.transfer', voucherId: part, to: s2.id }, [s1]);
    await c.ok({ type: 'voucher.accept', voucherId: part }, [s2]);
    await c.ok({ type: 'voucher.pledge', voucherId: part, bank: bank.id, loanRef: 'LN-LOG' }, [s2, bank]);
    for (const [k, url] of [
      [bank, `/v1/vouchers/${part}/proof`],
      [auditor, '/v1/entries'],
      [s2, `/v1/parties/${s2.id}/vouchers`],
      [core, `/v1/vouchers/${root}/tree`],
    ] as const) {
      expect((await raw(url, { headers: bearer(await t(k)) })).status).toBe(200);
    }

    // Bad tokens: tampered, expired, another ledger's, a suspended party's, one in the query.
    const good = await t(s1);
    const [h, p, s] = good.split('.') as [string, string, string];
    // Change a middle character of the signature: every bit of it is significant (the last
    // characters carry padding bits, so replacing them can leave the signature unchanged).
    const tampered = `${h}.${p}.${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
    tokens.push(tampered);
    expect((await raw('/v1/parties', { headers: bearer(tampered) })).status).toBe(401);
    const { makeToken } = await import('../../src/api/auth.js');
    const expired = await makeToken({
      partyId: s1.id,
      secretKeyHex: s1.seed,
      ledgerId: c.ledgerId,
      nowSeconds: Math.floor(Date.now() / 1000) - 4000,
      lifetimeSeconds: 60,
    });
    const foreign = await makeToken({ partyId: s1.id, secretKeyHex: s1.seed, ledgerId: 'f'.repeat(64), nowSeconds: Math.floor(Date.now() / 1000) });
    tokens.push(expired, foreign);
    expect((await raw('/v1/parties', { headers: bearer(expired) })).status).toBe(401);
    expect((await raw('/v1/parties', { headers: bearer(foreign) })).status).toBe(401);
    const nappingToken = await t(napping);
    await c.ok({ type: 'party.update', partyId: napping.id, status: 'suspended' }, [operator]);
    expect((await raw(`/v1/vouchers/${root}`, { headers: bearer(nappingToken) })).status).toBe(401);
    expect((await raw(`/v1/parties?token=${good}`)).status).toBe(400);
    expect((await raw(`/no/such/route/${good}`, { headers: bearer(good) })).status).toBe(404);

    // Refused ops.
    const forged = c.envelope({ type: 'voucher.transfer', voucherId: root + ':40000-60000', to: s2.id }, [s1]);
    forged.signatures[0]!.sig = 'ab'.repeat(64);
    expect((await c.post(forged)).status).toBe(401);
    expect((await c.submit({ type: 'voucher.pledge', voucherId: part, bank: bank.id, loanRef: 'LN-TWICE' }, [s2, bank])).status).toBe(409);
    // A key file posted instead of an envelope (a user's slip), and malformed JSON holding a seed.
    const keyFile = JSON.stringify({ party: s1.id, publicKey: s1.publicKey, secretKey: s1.seed });
    expect((await raw('/v1/ops', { method: 'POST', headers: { 'content-type': 'application/json' }, body: keyFile })).status).toBe(400);
    expect((await raw('/v1/ops', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"secretKey":"${core.seed}",` })).status).toBe(400);
    expect(
      (await raw('/v1/ops', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"${core.seed}":1,"${core.seed}":2}` })).status,
    ).toBe(400);
    // A leap second in expiresAt: a time Date cannot hold, refused as malformed.
    const leap = c.envelope(
      {
        type: 'voucher.issue',
        issuer: core.id,
        to: s1.id,
        amount: '1',
        currency: 'CNY',
        dueDate: dueIn(30),
        invoiceIds: ['INV-LEAP'],
        expiresAt: '2098-12-31T23:59:60.000Z',
      },
      [core],
    );
    expect((await c.post(leap)).status).toBe(400);
    // Settle the pledged part, paying the bank.
    await c.ok({ type: 'voucher.release', voucherId: part }, [bank]);
    await c.ok({ type: 'voucher.settle', voucherId: part, paymentRef: 'PAY-LOG' }, [core]);
    await server.stop();
  }, 120_000);

  afterAll(cleanup);

  it('the logs are there to look at (one line per op and per request, refusals included)', () => {
    const lines = logLines(server.stdout());
    const ops = lines.filter((l) => l.msg === 'op');
    expect(ops.map((l) => l.outcome)).toEqual(expect.arrayContaining(['accepted', 'BAD_SIGNATURE', 'VOUCHER_PLEDGED', 'MALFORMED_REQUEST']));
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.map((l) => l.status)).toEqual(expect.arrayContaining([200, 201, 400, 401, 404, 409]));
    expect(lines.some((l) => l.msg === 'genesis written')).toBe(true);
  });

  it('no secret key, in any encoding, anywhere in stdout or stderr', () => {
    const out = server.stdout() + server.stderr();
    for (const { what, value } of secrets) {
      for (const form of forms(value)) expect(out.includes(form), `${what} (${form.slice(0, 8)}…) is in the logs`).toBe(false);
    }
  });

  it('no bearer token, no JWT, no Authorization header', () => {
    const out = server.stdout() + server.stderr();
    expect(tokens.length).toBeGreaterThan(5);
    for (const token of tokens) {
      for (const segment of token.split('.').filter((x) => x.length > 20))
        expect(out.includes(segment), `a token segment (${segment.slice(0, 12)}…) is in the logs`).toBe(false);
    }
    expect(out).not.toMatch(JWT);
    expect(out).not.toMatch(/bearer/i);
    expect(out.toLowerCase()).not.toContain('authorization');
  });
});
