/**
 * Every 401 UNAUTHENTICATED problem says why, in the RFC 9457 extension member `reason`, so that
 * the CLI and the console can tell an unregistered party from a wrong clock or a rotated key.
 * One case per reason (the Record does not compile until a new reason has its case), over HTTP
 * with real LevelDB; the code stays UNAUTHENTICATED and the status 401 for every one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToken } from '../../src/api/auth.js';
import type { UnauthenticatedReason } from '../../src/domain/codes.js';
import { Harness, key } from '../support/harness.js';
import { expectProblem } from './helpers.js';

const s1 = key('dongguan-parts', 'supplier');
const idle = key('idle-parts', 'supplier'); // suspended in beforeAll
const rotor = key('rotor-parts', 'supplier'); // its key is rotated away in beforeAll
const rotorNext = key('rotor-parts', 'supplier', '-next');
const ghost = key('ghost-co', 'supplier'); // never registered

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('401 UNAUTHENTICATED: the `reason` member', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [s1, idle, rotor]) await h.register(k);
    await h.ok({ type: 'party.update', partyId: idle.id, status: 'suspended' }, [h.operator]);
    await h.ok({ type: 'party.update', partyId: rotor.id, publicKey: rotorNext.publicKey }, [h.operator]);
  });
  afterAll(async () => {
    await h.close();
  });

  /** The Authorization header of each case (undefined: none), and what its detail must say. */
  const CASES: Record<UnauthenticatedReason, { header: () => Promise<string | undefined>; detail: RegExp }> = {
    TOKEN_MISSING: { header: async () => undefined, detail: /Authorization header/ },
    TOKEN_MALFORMED: { header: async () => 'Bearer not-a-token', detail: /compact JWS/ },
    PARTY_UNKNOWN: { header: async () => `Bearer ${await h.token(ghost)}`, detail: /^party ghost-co is not registered on this ledger$/ },
    PARTY_SUSPENDED: { header: async () => `Bearer ${await h.token(idle)}`, detail: /idle-parts is suspended/ },
    KEY_NOT_CURRENT: { header: async () => `Bearer ${await h.token(rotor)}`, detail: /current key/ },
    TOKEN_EXPIRED: { header: async () => `Bearer ${await h.token(s1, { nowSeconds: nowSeconds() - 7200, lifetimeSeconds: 3600 })}`, detail: /expired/ },
    TOKEN_NOT_YET_VALID: { header: async () => `Bearer ${await h.token(s1, { nowSeconds: nowSeconds() + 600 })}`, detail: /clock/ },
    WRONG_AUDIENCE: { header: async () => `Bearer ${await h.token(s1, { ledgerId: 'f'.repeat(64) })}`, detail: /another ledger/ },
  };

  it.each(Object.entries(CASES) as [UnauthenticatedReason, (typeof CASES)[UnauthenticatedReason]][])('%s', async (reason, c) => {
    const header = await c.header();
    const res = await h.app.inject({ method: 'GET', url: '/v1/parties', headers: header === undefined ? {} : { authorization: header } });
    const body = expectProblem(res, 401, 'UNAUTHENTICATED');
    expect(body.reason).toBe(reason);
    expect(body.detail).toMatch(c.detail);
  });

  it('a good token still reads, and other problems carry no `reason`', async () => {
    expect((await h.get('/v1/parties', s1)).statusCode).toBe(200);
    const notFound = await h.get('/v1/vouchers/v000000000000000000000000', s1);
    const body = expectProblem(notFound, 404, 'NOT_FOUND');
    expect(Object.hasOwn(body, 'reason')).toBe(false);
  });

  it('a token signed by an unregistered key with an unregistered iss is PARTY_UNKNOWN, not a clock problem', async () => {
    const token = await makeToken({ partyId: 'new-supplier', secretKeyHex: ghost.seed, ledgerId: h.ledgerId, nowSeconds: nowSeconds() });
    const res = await h.app.inject({ method: 'GET', url: '/v1/vouchers/v000000000000000000000000', headers: { authorization: `Bearer ${token}` } });
    expect(expectProblem(res, 401, 'UNAUTHENTICATED')).toMatchObject({
      reason: 'PARTY_UNKNOWN',
      detail: 'party new-supplier is not registered on this ledger',
    });
  });
});
