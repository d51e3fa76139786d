import { createHmac, generateKeyPairSync } from 'node:crypto';

import * as ed from '@noble/ed25519';
import fc from 'fast-check';
import { SignJWT, base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import { AUTHORIZATION_CHARS_MAX, authenticate, makeToken, type AuthOptions, type AuthParty, type AuthResult } from '../../src/api/auth.js';

// given: a ledger, a clock, and parties with real Ed25519 keys
const LEDGER_ID = 'c0ffee'.padEnd(64, '0');
const NOW = 1_800_000_000;
const SEED_ALICE = '11'.repeat(32);
const SEED_ALICE_NEXT = '12'.repeat(32);
const SEED_BOB = '22'.repeat(32);
const SEED_MALLORY = '33'.repeat(32);

async function publicKeyHex(seedHex: string): Promise<string> {
  return ed.etc.bytesToHex(await ed.getPublicKeyAsync(ed.etc.hexToBytes(seedHex)));
}

let parties: Map<string, AuthParty>;

function options(overrides: Partial<AuthOptions> = {}): AuthOptions {
  return { ledgerId: LEDGER_ID, nowSeconds: NOW, lookupParty: (id) => parties.get(id), ...overrides };
}

beforeAll(async () => {
  parties = new Map([
    ['alice', { id: 'alice', role: 'supplier', publicKey: await publicKeyHex(SEED_ALICE), status: 'active' }],
    ['bob', { id: 'bob', role: 'bank', publicKey: await publicKeyHex(SEED_BOB), status: 'suspended' }],
  ]);
});

/** A compact JWS over any header and claims (objects are JSON-encoded, strings taken as raw JSON). */
async function signRaw(header: object | string, claims: object | string, seedHex = SEED_ALICE): Promise<string> {
  const encode = (part: object | string) => base64url.encode(typeof part === 'string' ? part : JSON.stringify(part));
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = await ed.signAsync(new TextEncoder().encode(signingInput), ed.etc.hexToBytes(seedHex));
  return `${signingInput}.${base64url.encode(signature)}`;
}

const HEADER = { alg: 'EdDSA', typ: 'JWT' };
const CLAIMS = { iss: 'alice', aud: LEDGER_ID, iat: NOW - 10, exp: NOW + 290 };

function expectRefused(result: AuthResult, detail: RegExp): void {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  if (!result.ok) expect(result.detail).toMatch(detail);
}

/** Flips one bit of the first byte of a base64url segment's decoded bytes, keeping it canonical. */
function tamperSegment(token: string, index: number): string {
  const segments = token.split('.');
  const bytes = base64url.decode(segments[index] ?? '');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  segments[index] = base64url.encode(bytes);
  return segments.join('.');
}

/** RFC 8032 §5.1.7: S must be below L; adding L gives the same point equation, a non-canonical S. */
function withNonCanonicalS(token: string): string {
  const [h = '', p = '', s = ''] = token.split('.');
  const sig = base64url.decode(s);
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let scalar = 0n;
  for (let i = 31; i >= 0; i--) scalar = (scalar << 8n) | BigInt(sig[32 + i] ?? 0);
  scalar += L;
  for (let i = 0; i < 32; i++) {
    sig[32 + i] = Number(scalar & 0xffn);
    scalar >>= 8n;
  }
  return `${h}.${p}.${base64url.encode(sig)}`;
}

describe('authenticate: accepts', () => {
  it('a token made by makeToken for an active party', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    const result = await authenticate(`Bearer ${token}`, options());
    expect(result).toStrictEqual({ ok: true, party: parties.get('alice') });
  });

  it('with an async lookup, as a store would give', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    const result = await authenticate(`Bearer ${token}`, options({ lookupParty: async (id) => parties.get(id) }));
    expect(result.ok).toBe(true);
  });

  const boundaries: Array<[string, object | string, object]> = [
    ['no typ', { alg: 'EdDSA' }, CLAIMS],
    ['typ "application/jwt"', { alg: 'EdDSA', typ: 'application/jwt' }, CLAIMS],
    ['exp = iat + 3600', HEADER, { ...CLAIMS, iat: NOW - 100, exp: NOW - 100 + 3600 }],
    ['iat exactly 300 s ahead', HEADER, { ...CLAIMS, iat: NOW + 300, exp: NOW + 600 }],
    ['exp one second ahead', HEADER, { ...CLAIMS, iat: NOW - 3599, exp: NOW + 1 }],
    ['extra claims and header fields', { ...HEADER, kid: 'alice-1' }, { ...CLAIMS, jti: 'x', sub: 'alice' }],
  ];
  it.each(boundaries)('%s', async (_name, header, claims) => {
    const result = await authenticate(`Bearer ${await signRaw(header, claims)}`, options());
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('a token whose lifetime is 1 … 3600 s from makeToken, at any moment before exp', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3600 }), fc.nat(), async (lifetimeSeconds, offset) => {
        const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW, lifetimeSeconds });
        const result = await authenticate(`Bearer ${token}`, options({ nowSeconds: NOW + (offset % lifetimeSeconds) }));
        expect(result.ok).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('authenticate: refuses', () => {
  type Case = [name: string, header: () => Promise<string | undefined> | string | undefined, detail: RegExp];
  const bearer = async (header: object | string, claims: object | string, seed?: string) => `Bearer ${await signRaw(header, claims, seed)}`;
  const valid = () => signRaw(HEADER, CLAIMS);

  const cases: Case[] = [
    // the header
    ['a missing header', () => undefined, /missing Authorization/],
    ['an empty header', () => '', /missing Authorization/],
    ['another scheme', async () => `Basic ${await valid()}`, /scheme must be "Bearer"/],
    ['"bearer" in lower case', async () => `bearer ${await valid()}`, /scheme must be "Bearer"/],
    ['"BEARER" in upper case', async () => `BEARER ${await valid()}`, /scheme must be "Bearer"/],
    ['"Bearer" with no token', () => 'Bearer', /scheme must be "Bearer"/],
    ['a bare token without a scheme', valid, /scheme must be "Bearer"/],
    ['an empty token', () => 'Bearer ', /empty bearer token/],
    ['two spaces after Bearer', async () => `Bearer  ${await valid()}`, /compact JWS/],
    ['a trailing space', async () => `Bearer ${await valid()} `, /compact JWS/],
    ['two parts', () => 'Bearer abc.def', /compact JWS/],
    ['four parts', async () => `Bearer ${await valid()}.abc`, /compact JWS/],
    ['an empty signature (alg none style)', async () => `Bearer ${(await valid()).split('.').slice(0, 2).join('.')}.`, /compact JWS/],
    ['base64 padding', async () => `Bearer ${await valid()}==`, /compact JWS/],
    ['standard base64 characters', () => 'Bearer ab+c.de/f.ghi', /compact JWS/],
    ['three parts of garbage', () => 'Bearer !!!.@@@.###', /compact JWS/],
    ['three parts that decode to garbage', () => 'Bearer abcd.efgh.ijkl', /token header is not I-JSON/],
    ['a non-canonical base64url header', () => `Bearer ${base64url.encode('{"alg":"EdDSA"}')}B.e30.${'A'.repeat(86)}`, /base64url/],
    ['a header with non-canonical trailing bits', () => `Bearer e31.e30.${'A'.repeat(86)}`, /token header is not canonical base64url/],
    ['a header over 8 KiB', async () => `Bearer ${await signRaw({ ...HEADER, pad: 'x'.repeat(AUTHORIZATION_CHARS_MAX) }, CLAIMS)}`, /longer than 8192/],
    ['a huge header of junk', () => `Bearer ${'a'.repeat(100_000)}`, /longer than 8192/],
    // the protected header
    ['a header that is an array', () => bearer('[]', CLAIMS), /token header is not a JSON object/],
    ['a header with a duplicate alg', () => bearer('{"alg":"none","alg":"EdDSA"}', CLAIMS), /duplicate key "alg"/],
    ['no alg', () => bearer({ typ: 'JWT' }, CLAIMS), /"alg" must be "EdDSA"/],
    ['alg none', () => bearer({ alg: 'none' }, CLAIMS), /"alg" must be "EdDSA"/],
    ['alg "eddsa" in lower case', () => bearer({ alg: 'eddsa' }, CLAIMS), /"alg" must be "EdDSA"/],
    ['alg "Ed25519" (RFC 9864 name, not §8)', () => bearer({ alg: 'Ed25519' }, CLAIMS), /"alg" must be "EdDSA"/],
    [
      'alg HS256 keyed with the public key (key confusion)',
      async () => {
        const alice = parties.get('alice');
        const signingInput = `${base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(CLAIMS))}`;
        const mac = createHmac('sha256', Buffer.from(alice?.publicKey ?? '', 'hex'))
          .update(signingInput)
          .digest();
        return `Bearer ${signingInput}.${base64url.encode(mac)}`;
      },
      /"alg" must be "EdDSA"/,
    ],
    [
      'alg ES256 with a valid P-256 signature',
      async () => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const token = await new SignJWT({ ...CLAIMS }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
        return `Bearer ${token}`;
      },
      /"alg" must be "EdDSA"/,
    ],
    ['crit, even one jose understands', () => bearer({ ...HEADER, crit: ['b64'], b64: true }, CLAIMS), /must not have "crit"/],
    ['an empty crit', () => bearer({ ...HEADER, crit: [] }, CLAIMS), /must not have "crit"/],
    ['a typ other than JWT', () => bearer({ ...HEADER, typ: 'at+jwt' }, CLAIMS), /"typ"/],
    ['a typ that is not a string', () => bearer({ ...HEADER, typ: 1 }, CLAIMS), /"typ"/],
    ['a short signature', async () => `Bearer ${(await valid()).slice(0, -2)}`, /signature is not 64/],
    // the claims
    ['claims that are not JSON', () => bearer(HEADER, 'not json'), /token claims is not I-JSON/],
    ['claims that are a string', () => bearer(HEADER, '"alice"'), /token claims is not a JSON object/],
    [
      'claims with a duplicate iss',
      () => bearer(HEADER, `{"iss":"bob","iss":"alice","aud":"${LEDGER_ID}","iat":${NOW},"exp":${NOW + 60}}`),
      /duplicate key "iss"/,
    ],
    ['a missing iss', () => bearer(HEADER, { ...CLAIMS, iss: undefined }), /no "iss"/],
    ['an iss that is not a party id', () => bearer(HEADER, { ...CLAIMS, iss: 'Alice!' }), /"iss" must be a party id/],
    ['an iss that is not a string', () => bearer(HEADER, { ...CLAIMS, iss: 7 }), /"iss" must be a party id/],
    ['an unknown iss', () => bearer(HEADER, { ...CLAIMS, iss: 'carol' }), /party carol is not registered on this ledger/],
    ['a missing aud', () => bearer(HEADER, { ...CLAIMS, aud: undefined }), /no "aud"/],
    ['a wrong aud', () => bearer(HEADER, { ...CLAIMS, aud: 'f'.repeat(64) }), /"aud" is not this ledger/],
    ['an aud array holding the ledger id', () => bearer(HEADER, { ...CLAIMS, aud: [LEDGER_ID] }), /not an array/],
    ['a missing iat', () => bearer(HEADER, { ...CLAIMS, iat: undefined }), /no "iat"/],
    ['a missing exp', () => bearer(HEADER, { ...CLAIMS, exp: undefined }), /no "exp"/],
    ['a non-integer iat', () => bearer(HEADER, { ...CLAIMS, iat: NOW - 10.5 }), /"iat" must be an integer/],
    ['an iat that is a string', () => bearer(HEADER, { ...CLAIMS, iat: String(NOW) }), /"iat" must be an integer/],
    ['a non-integer exp', () => bearer(HEADER, { ...CLAIMS, exp: NOW + 0.5 }), /"exp" must be an integer/],
    ['an exp that is null', () => bearer(HEADER, { ...CLAIMS, exp: null }), /"exp" must be an integer/],
    ['an unsafe iat', () => bearer(HEADER, `{"iss":"alice","aud":"${LEDGER_ID}","iat":1e300,"exp":${NOW + 60}}`), /I-JSON range/],
    ['exp equal to iat', () => bearer(HEADER, { ...CLAIMS, iat: NOW, exp: NOW }), /"exp" must be after "iat"/],
    ['exp before iat', () => bearer(HEADER, { ...CLAIMS, iat: NOW, exp: NOW - 1 }), /"exp" must be after "iat"/],
    ['exp more than 3600 s after iat', () => bearer(HEADER, { ...CLAIMS, iat: NOW - 10, exp: NOW - 10 + 3601 }), /lifetime/],
    ['an iat 6 minutes in the future', () => bearer(HEADER, { ...CLAIMS, iat: NOW + 360, exp: NOW + 660 }), /in the future/],
    ['an iat 301 s in the future', () => bearer(HEADER, { ...CLAIMS, iat: NOW + 301, exp: NOW + 900 }), /in the future/],
    ['an exp equal to now', () => bearer(HEADER, { ...CLAIMS, iat: NOW - 60, exp: NOW }), /expired/],
    ['an exp an hour ago', () => bearer(HEADER, { ...CLAIMS, iat: NOW - 7200, exp: NOW - 3600 }), /expired/],
    ['an nbf in the future', () => bearer(HEADER, { ...CLAIMS, nbf: NOW + 100 }), /nbf/],
    // the signature
    ['a token signed by another key', () => bearer(HEADER, CLAIMS, SEED_MALLORY), /signature does not verify/],
    ['a changed signature', async () => `Bearer ${tamperSegment(await valid(), 2)}`, /signature does not verify/],
    ['a non-canonical S (S + L)', async () => `Bearer ${withNonCanonicalS(await valid())}`, /signature/],
    [
      'claims changed after signing',
      async () => {
        const [h, , s] = (await valid()).split('.');
        const forged = base64url.encode(JSON.stringify({ ...CLAIMS, iss: 'alice', exp: NOW + 3000 }));
        return `Bearer ${h}.${forged}.${s}`;
      },
      /signature does not verify/,
    ],
    [
      'a header changed after signing',
      async () => {
        const [, p, s] = (await valid()).split('.');
        return `Bearer ${base64url.encode(JSON.stringify({ alg: 'EdDSA' }))}.${p}.${s}`;
      },
      /signature does not verify/,
    ],
    // the party
    ['a suspended party', () => bearer(HEADER, { ...CLAIMS, iss: 'bob' }, SEED_BOB), /party bob is suspended/],
  ];

  it.each(cases)('%s', async (_name, makeHeader, detail) => {
    const result = await authenticate(await makeHeader(), options());
    expectRefused(result, detail);
  });

  it("a suspended party's token with a bad signature says only that the signature is bad", async () => {
    const result = await authenticate(await bearer(HEADER, { ...CLAIMS, iss: 'bob' }, SEED_MALLORY), options());
    expectRefused(result, /signature does not verify/);
  });

  it('a token for another ledger, made by makeToken', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: 'a'.repeat(64), nowSeconds: NOW });
    expectRefused(await authenticate(`Bearer ${token}`, options()), /"aud" is not this ledger/);
  });

  it('a lookup that returns a party with an unusable key', async () => {
    const token = await valid();
    const broken = { id: 'alice', role: 'supplier', publicKey: 'zz', status: 'active' } as const;
    expectRefused(await authenticate(`Bearer ${token}`, options({ lookupParty: () => broken })), /no usable key/);
    const other = { ...broken, id: 'bob', publicKey: parties.get('alice')?.publicKey ?? '' };
    expectRefused(await authenticate(`Bearer ${token}`, options({ lookupParty: () => other })), /returned another party/);
  });
});

describe('authenticate: key rotation and suspension', () => {
  it("refuses a token signed by the party's previous key once the lookup returns the new one", async () => {
    const alice = parties.get('alice');
    if (alice === undefined) throw new Error('fixture');
    const current = new Map(parties);
    const opts = options({ lookupParty: (id) => current.get(id) });
    const oldToken = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    expect((await authenticate(`Bearer ${oldToken}`, opts)).ok).toBe(true);

    // when: party.update rotates alice's key
    current.set('alice', { ...alice, publicKey: await publicKeyHex(SEED_ALICE_NEXT) });

    // then: the old key's token (still fresh) is refused, a new key's token accepted
    expectRefused(await authenticate(`Bearer ${oldToken}`, opts), /signature does not verify under the party's current key/);
    const newToken = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE_NEXT, ledgerId: LEDGER_ID, nowSeconds: NOW });
    expect(await authenticate(`Bearer ${newToken}`, opts)).toStrictEqual({ ok: true, party: current.get('alice') });
  });

  it('refuses a fresh token as soon as its party is suspended, and accepts it again once reactivated', async () => {
    const alice = parties.get('alice');
    if (alice === undefined) throw new Error('fixture');
    const current = new Map(parties);
    const opts = options({ lookupParty: (id) => current.get(id) });
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    current.set('alice', { ...alice, status: 'suspended' });
    expectRefused(await authenticate(`Bearer ${token}`, opts), /suspended/);
    current.set('alice', { ...alice, status: 'active' });
    expect((await authenticate(`Bearer ${token}`, opts)).ok).toBe(true);
  });

  it('a token accepted before (its signature remembered) is still refused once expired, or for another ledger', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW, lifetimeSeconds: 60 });
    expect((await authenticate(`Bearer ${token}`, options())).ok).toBe(true);
    expect((await authenticate(`Bearer ${token}`, options({ nowSeconds: NOW + 59 }))).ok).toBe(true);
    expectRefused(await authenticate(`Bearer ${token}`, options({ nowSeconds: NOW + 60 })), /expired/);
    expectRefused(await authenticate(`Bearer ${token}`, options({ ledgerId: 'ab'.repeat(32) })), /aud/);
  });

  it('a token with nbf is checked by jose every time (not remembered): refused while nbf is ahead', async () => {
    const token = await signRaw(HEADER, { ...CLAIMS, nbf: NOW });
    expect((await authenticate(`Bearer ${token}`, options())).ok).toBe(true);
    expectRefused(await authenticate(`Bearer ${token}`, options({ nowSeconds: NOW - 5 })), /nbf/);
  });

  it('asks the lookup for the token issuer only, and passes its failure on', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    const asked: string[] = [];
    await authenticate(`Bearer ${token}`, options({ lookupParty: (id) => (asked.push(id), parties.get(id)) }));
    expect(asked).toStrictEqual(['alice']);
    const failing = options({ lookupParty: () => Promise.reject(new Error('store down')) });
    await expect(authenticate(`Bearer ${token}`, failing)).rejects.toThrow('store down');
  });

  it('does not ask the lookup about a token that fails the cheap checks', async () => {
    const asked: string[] = [];
    const opts = options({ lookupParty: (id) => (asked.push(id), parties.get(id)) });
    await authenticate(await bearer(HEADER, { ...CLAIMS, exp: NOW - 1, iat: NOW - 100 }), opts);
    await authenticate(await bearer({ alg: 'none' }, CLAIMS), opts);
    expect(asked).toStrictEqual([]);
  });

  async function bearer(header: object, claims: object): Promise<string> {
    return `Bearer ${await signRaw(header, claims)}`;
  }
});

describe('authenticate: properties', () => {
  it('never throws, and never accepts, an arbitrary string as the header', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ maxLength: 300 }).map((s) => `Bearer ${s}`),
      fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/), { minLength: 1, maxLength: 4 }).map((parts) => `Bearer ${parts.join('.')}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const result = await authenticate(value, options());
        expect(result.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses any single-character change to a valid token (one already accepted, so remembered)', async () => {
    const token = await makeToken({ partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW });
    expect((await authenticate(`Bearer ${token}`, options())).ok).toBe(true);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.= ';
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet.split('')), async (at, char) => {
        fc.pre(token[at] !== char);
        const changed = token.slice(0, at) + char + token.slice(at + 1);
        const result = await authenticate(`Bearer ${changed}`, options());
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('makeToken', () => {
  it('writes the §8 header and claims', async () => {
    const token = await makeToken({
      partyId: 'alice',
      secretKeyHex: SEED_ALICE,
      ledgerId: LEDGER_ID,
      nowSeconds: NOW + 0.9,
      lifetimeSeconds: 60,
    });
    const [h = '', p = ''] = token.split('.');
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(h)))).toStrictEqual({ alg: 'EdDSA', typ: 'JWT' });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(p)))).toStrictEqual({
      iss: 'alice',
      aud: LEDGER_ID,
      iat: NOW,
      exp: NOW + 60,
    });
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['a bad party id', { partyId: 'Alice' }],
    ['a short seed', { secretKeyHex: 'ab' }],
    ['an upper-case seed', { secretKeyHex: SEED_ALICE.toUpperCase().replace(/1/g, 'A') }],
    ['an empty ledger id', { ledgerId: '' }],
    ['a NaN clock', { nowSeconds: Number.NaN }],
    ['a zero lifetime', { lifetimeSeconds: 0 }],
    ['a lifetime over 3600', { lifetimeSeconds: 3601 }],
    ['a fractional lifetime', { lifetimeSeconds: 1.5 }],
  ];
  it.each(bad)('throws on %s', async (_name, change) => {
    const request = { partyId: 'alice', secretKeyHex: SEED_ALICE, ledgerId: LEDGER_ID, nowSeconds: NOW, ...change };
    await expect(makeToken(request as Parameters<typeof makeToken>[0])).rejects.toThrow();
  });
});
