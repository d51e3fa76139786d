/**
 * A 401 `UNAUTHENTICATED` problem names which check of the read token failed in its `reason`
 * extension member (RFC 9457 §3.2); the SDK's `LedgerRefusal` carries it, against the real
 * service over loopback HTTP.
 */
import { describe, expect, it } from 'vitest';

import { generateKeyFile, LedgerClient, signEnvelope, partyUpdate } from '../../src/client/index.js';
import { lyingFetch, refusalOf, worldPerFile, type Server, type World } from './support.js';

let server: Server;
let w: World;

worldPerFile((s, world) => {
  server = s;
  w = world;
});

describe('LedgerRefusal.reason from the real service', () => {
  it('PARTY_UNKNOWN for a party that is not registered', async () => {
    const stranger = generateKeyFile('not-registered-here');
    const r = await refusalOf(w.as(stranger).party(w.core.party));
    expect({ code: r.code, status: r.status, reason: r.reason }).toEqual({ code: 'UNAUTHENTICATED', status: 401, reason: 'PARTY_UNKNOWN' });
  });

  it("KEY_NOT_CURRENT for a key that is not the party's registered one", async () => {
    const impostor = { ...generateKeyFile(w.tier2.party) };
    const r = await refusalOf(w.as(impostor).party(w.core.party));
    expect(r.reason).toBe('KEY_NOT_CURRENT');
  });

  it('TOKEN_NOT_YET_VALID for a clock an hour ahead, TOKEN_EXPIRED for one two hours behind', async () => {
    const ahead = await refusalOf(w.as(w.tier1, { now: () => Date.now() + 3_600_000 }).party(w.core.party));
    expect(ahead.reason).toBe('TOKEN_NOT_YET_VALID');
    const behind = await refusalOf(w.as(w.tier1, { now: () => Date.now() - 7_200_000 }).party(w.core.party));
    expect(behind.reason).toBe('TOKEN_EXPIRED');
  });

  it('WRONG_AUDIENCE for a token made for another ledger', async () => {
    const other = new LedgerClient({ baseUrl: server.baseUrl, key: w.tier1, ledgerId: 'ab'.repeat(32), retryDelayMs: 1 });
    // The pinned id is only checked by ledger(); reads use it as the token's audience.
    const r = await refusalOf(other.party(w.core.party));
    expect(r.reason).toBe('WRONG_AUDIENCE');
  });

  it('PARTY_SUSPENDED for a suspended party', async () => {
    const auditor = w.auditor;
    await w.op.submit(signEnvelope(partyUpdate({ ledger: w.ledgerId, partyId: auditor.party, status: 'suspended' }), [server.operator]));
    try {
      const r = await refusalOf(w.as(auditor).party(w.core.party));
      expect(r.reason).toBe('PARTY_SUSPENDED');
    } finally {
      await w.op.submit(signEnvelope(partyUpdate({ ledger: w.ledgerId, partyId: auditor.party, status: 'active' }), [server.operator]));
    }
  });

  it('TOKEN_MISSING and TOKEN_MALFORMED, as a plain HTTP client meets them', async () => {
    const none = await fetch(`${server.baseUrl}/v1/parties`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { reason?: string }).reason).toBe('TOKEN_MISSING');
    const junk = await fetch(`${server.baseUrl}/v1/parties`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(((await junk.json()) as { reason?: string }).reason).toBe('TOKEN_MALFORMED');
  });
});

describe("how the client reads a problem's reason (fault injection)", () => {
  const withReason = (reason: unknown) =>
    lyingFetch(
      (url) => url.includes('/v1/parties/'),
      (body) => ({ ...(body as object), reason }),
    );

  it('keeps a reason that is a code', async () => {
    const r = await refusalOf(w.as(generateKeyFile('nobody-at-all'), { fetch: withReason('SOMETHING_NEW') }).party(w.core.party));
    expect(r.reason).toBe('SOMETHING_NEW');
  });

  it('drops a reason that is not a code, and still gives the refusal', async () => {
    for (const odd of [42, 'not a code\u001b[31m', 'X'.repeat(65), null]) {
      const r = await refusalOf(w.as(generateKeyFile('nobody-at-all'), { fetch: withReason(odd) }).party(w.core.party));
      expect(r.code).toBe('UNAUTHENTICATED');
      expect(r.reason).toBeUndefined();
    }
  });
});
