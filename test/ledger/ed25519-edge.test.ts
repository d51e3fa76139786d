import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clearNodeKeyCache,
  nodeKeyCacheSize,
  screenForNode,
  setNodeKeyCacheMax,
  signNode,
  verifyNode,
  verifyNodeAsync,
} from '../../src/ledger/node/ed25519-node.js';
import { ED25519_L, generateSeed, isStrictPublicKey, leBytesToBigint, publicKeyFromSeed, sign, verify } from '../../src/ledger/ed25519.js';
import { concatBytes, fromHex, toHex } from '../../src/ledger/hex.js';
import { LEDGER_LIMITS } from '../../src/ledger/limits.js';
import { ascii, expectLedgerError, loadVectors, SMALL_ORDER } from './helpers.js';

const { tests } = loadVectors<{ tests: Array<{ secretKey: string; publicKey: string; message: string; signature: string }> }>('rfc8032.json');
const TEST1 = tests[0]!;

const P = 2n ** 255n - 19n;
const toLe32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};

/** Raw OpenSSL verification with no screening of keys or S (to document what we add). */
const rawOpenssl = (publicKeyHex: string, msg: Uint8Array, sigHex: string): boolean => {
  const x = Buffer.from(fromHex(publicKeyHex)).toString('base64url');
  return opensslVerify(null, msg, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), fromHex(sigHex));
};
/** Raw noble strict mode (cofactored equation). */
const rawNobleStrict = (publicKeyHex: string, msg: Uint8Array, sigHex: string): boolean =>
  ed.verify(fromHex(sigHex), msg, fromHex(publicKeyHex), { zip215: false });

const agree = (publicKeyHex: string, msg: Uint8Array, sigHex: string): boolean => {
  const a = verify(publicKeyHex, msg, sigHex);
  expect(verifyNode(publicKeyHex, msg, sigHex)).toBe(a);
  return a;
};

/** Non-canonical encodings: y = p, p + 1 (small-order y = 0, 1 plus p), and x = 0 with the sign bit set. */
const NON_CANONICAL_SMALL = [
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
];

describe('S must be canonical (S < L)', () => {
  it('S + L is refused by both, though it satisfies the group equation', async () => {
    const sig = fromHex(TEST1.signature);
    const s = leBytesToBigint(sig.subarray(32));
    const malleated = toHex(concatBytes(sig.subarray(0, 32), toLe32(s + ED25519_L)));
    expect(agree(TEST1.publicKey, new Uint8Array(), malleated)).toBe(false);
    await expect(verifyNodeAsync(TEST1.publicKey, new Uint8Array(), malleated)).resolves.toBe(false);
  });

  it('S = L and S = 2^256 − 1 are refused by both', () => {
    const r = fromHex(TEST1.signature).subarray(0, 32);
    for (const s of [toLe32(ED25519_L), new Uint8Array(32).fill(0xff)]) {
      expect(agree(TEST1.publicKey, new Uint8Array(), toHex(concatBytes(r, s)))).toBe(false);
    }
  });
});

describe('keys: small order and non-canonical encodings are refused (docs/protocol.md §3)', () => {
  it('the 8 small-order encodings are small order (noble agrees) and not strict keys', () => {
    for (const hex of SMALL_ORDER) {
      expect(ed.Point.fromBytes(fromHex(hex)).isSmallOrder()).toBe(true);
      expect(isStrictPublicKey(hex)).toBe(false);
    }
    expect(new Set(SMALL_ORDER.map((h) => ed.Point.fromBytes(fromHex(h)).toHex())).size).toBe(8);
  });

  it('non-canonical encodings (y ≥ p, x = 0 with the sign bit) are not strict keys', () => {
    for (const hex of NON_CANONICAL_SMALL) expect(isStrictPublicKey(hex)).toBe(false);
    // Every y in [p, 2^255) with either sign bit.
    for (let y = P; y < 2n ** 255n; y++) {
      const b = toLe32(y);
      expect(isStrictPublicKey(toHex(b))).toBe(false);
      b[31] = b[31]! | 0x80;
      expect(isStrictPublicKey(toHex(b))).toBe(false);
    }
  });

  it('raw OpenSSL accepts (R = identity, S = 0) under the identity key for any message; both verifiers refuse', () => {
    const identity = SMALL_ORDER[0]!;
    const sig = identity + '00'.repeat(32);
    expect(rawOpenssl(identity, ascii('any message at all'), sig)).toBe(true);
    expect(agree(identity, ascii('any message at all'), sig)).toBe(false);
  });

  it('every small-order key × small-order R with S = 0 is refused by both', () => {
    for (const key of [...SMALL_ORDER, ...NON_CANONICAL_SMALL]) {
      for (const r of [...SMALL_ORDER, ...NON_CANONICAL_SMALL]) {
        expect(agree(key, ascii('msg'), r + '00'.repeat(32))).toBe(false);
      }
    }
  });

  it('keys that are not on the curve, or not 32 bytes, are not strict keys', () => {
    const offCurve = toHex(toLe32(2n)); // y = 2 has no x on edwards25519
    expect(() => ed.Point.fromBytes(fromHex(offCurve))).toThrow();
    expect(isStrictPublicKey(offCurve)).toBe(false);
    expect(agree(offCurve, new Uint8Array(), TEST1.signature)).toBe(false);
    for (const bad of ['', TEST1.publicKey.slice(2), TEST1.publicKey + '00', TEST1.publicKey.toUpperCase(), 5, null]) {
      expect(isStrictPublicKey(bad)).toBe(false);
    }
  });
});

/*
 * Keys and R with a small-order component. Honest keys never have one, but a signer can craft
 * one. noble's strict mode checks the cofactored equation and accepts such signatures; OpenSSL
 * checks the cofactorless one and refuses them. Both our verifiers refuse a key with a
 * small-order component outright, and require the cofactorless equation for R.
 */
describe('mixed-order keys and R: the cofactored/cofactorless difference is closed', () => {
  const a = 0x1234567890abcdefn * 0x1000000000000001n; // a private scalar
  const T = ed.Point.fromBytes(fromHex(SMALL_ORDER[4]!)); // a point of order 8
  const B = ed.Point.BASE;
  const challenge = (r: Uint8Array, key: Uint8Array, msg: Uint8Array): bigint => leBytesToBigint(sha512(concatBytes(r, key, msg))) % ED25519_L;
  const signWith = (key: Uint8Array, rPoint: ed.Point, r: bigint, msg: Uint8Array): string => {
    const rBytes = rPoint.toBytes();
    const s = (r + challenge(rBytes, key, msg) * a) % ED25519_L;
    return toHex(concatBytes(rBytes, toLe32(s)));
  };

  it('key A + T: valid cofactored, invalid cofactorless → both refuse (when 8 ∤ k)', () => {
    const mixedKey = B.multiply(a).add(T).toBytes();
    const keyHex = toHex(mixedKey);
    expect(isStrictPublicKey(keyHex)).toBe(false); // it has a small-order component
    let msg = ascii('m0');
    for (let i = 1; challenge(B.multiply(7n).toBytes(), mixedKey, msg) % 8n === 0n; i++) msg = ascii(`m${i}`);
    const sig = signWith(mixedKey, B.multiply(7n), 7n, msg);
    expect(rawNobleStrict(keyHex, msg, sig)).toBe(true);
    expect(rawOpenssl(keyHex, msg, sig)).toBe(false);
    expect(agree(keyHex, msg, sig)).toBe(false);
  });

  it('key A + T: when 8 | k both equations hold, so raw OpenSSL and noble accept → both refuse the key', async () => {
    const mixedKey = B.multiply(a).add(T).toBytes();
    const keyHex = toHex(mixedKey);
    let msg = ascii('n0');
    for (let i = 1; challenge(B.multiply(9n).toBytes(), mixedKey, msg) % 8n !== 0n; i++) msg = ascii(`n${i}`);
    const sig = signWith(mixedKey, B.multiply(9n), 9n, msg);
    expect(rawOpenssl(keyHex, msg, sig)).toBe(true);
    expect(rawNobleStrict(keyHex, msg, sig)).toBe(true);
    expect(agree(keyHex, msg, sig)).toBe(false);
    await expect(verifyNodeAsync(keyHex, msg, sig)).resolves.toBe(false);
    expect(screenForNode(keyHex, msg, sig)).toBeUndefined();
  });

  it('the same signature scheme under the honest key A (no T) is accepted by both', () => {
    const key = B.multiply(a).toBytes();
    const msg = ascii('honest');
    expect(agree(toHex(key), msg, signWith(key, B.multiply(9n), 9n, msg))).toBe(true);
  });

  it('R + T under an honest key: valid cofactored, invalid cofactorless → both refuse', () => {
    const key = B.multiply(a).toBytes();
    const keyHex = toHex(key);
    const msg = ascii('mixed R');
    const sig = signWith(key, B.multiply(11n).add(T), 11n, msg);
    expect(rawNobleStrict(keyHex, msg, sig)).toBe(true);
    expect(rawOpenssl(keyHex, msg, sig)).toBe(false);
    expect(agree(keyHex, msg, sig)).toBe(false);
  });
});

/*
 * The key screens of the two implementations, and a third definition to check them against: a
 * key is accepted exactly when it decodes strictly (RFC 8032 §5.1.3) to a point P ≠ identity with
 * [L]P = identity, i.e. P has prime order L. The node screen computes this with its own
 * arithmetic (a Montgomery ladder); the oracle and the portable screen use noble's.
 */
describe('keys with a small-order component are refused, and both screens agree', () => {
  const B = ed.Point.BASE;
  const primeOrder = (hex: string): boolean => {
    try {
      const p = ed.Point.fromBytes(fromHex(hex), false);
      return (
        !p.is0() &&
        p
          .multiplyUnsafe(ED25519_L - 1n)
          .add(p)
          .is0()
      );
    } catch {
      return false;
    }
  };
  const nodeAccepts = (hex: string): boolean => screenForNode(hex, new Uint8Array(), '00'.repeat(64)) !== undefined;
  /** Both screens give `expected`, and so does the oracle. */
  const screensSay = (hex: string, expected: boolean): void => {
    expect([hex, primeOrder(hex), isStrictPublicKey(hex), nodeAccepts(hex)]).toEqual([hex, expected, expected, expected]);
  };
  const smallOrderPoints = SMALL_ORDER.map((h) => ed.Point.fromBytes(fromHex(h)));
  const withSignBit = (hex: string): string => {
    const b = fromHex(hex);
    b[31] = b[31]! ^ 0x80;
    return toHex(b);
  };

  it('an honest key plus each of the 8 small-order points: only + identity is accepted (both signs of x)', () => {
    for (let i = 0; i < 12; i++) {
      const a = B.multiply((leBytesToBigint(sha512(ascii(`scalar ${i}`))) % (ED25519_L - 1n)) + 1n);
      for (const [j, t] of smallOrderPoints.entries()) {
        const hex = a.add(t).toHex();
        screensSay(hex, j === 0); // SMALL_ORDER[0] is the identity
        screensSay(withSignBit(hex), j === 0); // −x: the negated point, just as mixed
      }
    }
  });

  it('random 32-byte strings: both screens and the oracle agree, and some of each kind occur', () => {
    let accepted = 0;
    let refusedOnCurve = 0;
    for (let i = 0; i < 400; i++) {
      const hex = toHex(sha512(ascii(`random key ${i}`)).subarray(0, 32));
      const ok = primeOrder(hex);
      screensSay(hex, ok);
      if (ok) accepted += 1;
      else if (
        (() => {
          try {
            ed.Point.fromBytes(fromHex(hex), false);
            return true;
          } catch {
            return false;
          }
        })()
      )
        refusedOnCurve += 1;
    }
    // About half of all y are on the curve, and one point in 8 of those has prime order.
    expect(accepted).toBeGreaterThan(5);
    expect(refusedOnCurve).toBeGreaterThan(100);
  });

  it('random honest and random mixed keys agree (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(7), (seed, t) => {
        const honest = ed.Point.fromBytes(fromHex(publicKeyFromSeed(toHex(seed))));
        screensSay(honest.toHex(), true);
        screensSay(honest.add(smallOrderPoints[t]!).toHex(), t === 0);
      }),
      { numRuns: 40 },
    );
  });

  it('the small-order and non-canonical encodings are refused by both screens', () => {
    for (const hex of [...SMALL_ORDER, ...NON_CANONICAL_SMALL]) screensSay(hex, false);
    screensSay(toHex(toLe32(2n)), false); // not on the curve
  });

  it('"Taming the many EdDSAs" (ed25519-speccheck): every vector is refused by both; raw OpenSSL and noble accept some', () => {
    const { tests: cases } = loadVectors<{
      tests: Array<{ index: number; keyOrder: 'small' | 'mixed' | 'L'; message: string; publicKey: string; signature: string }>;
    }>('ed25519-speccheck.json');
    expect(cases).toHaveLength(12);
    for (const c of cases) {
      const msg = fromHex(c.message);
      expect([c.index, agree(c.publicKey, msg, c.signature)]).toEqual([c.index, false]);
      // The keys of the vectors published as canonical: a screen refuses exactly the small and mixed ones.
      if (c.index < 10) expect([c.index, isStrictPublicKey(c.publicKey)]).toEqual([c.index, c.keyOrder === 'L']);
    }
    // Vectors 2 and 3 (mixed-order key, both equations hold) are what refusing mixed keys adds:
    // OpenSSL alone and noble's strict mode accept them.
    for (const i of [2, 3]) {
      const c = cases[i]!;
      expect(c.keyOrder).toBe('mixed');
      expect(rawOpenssl(c.publicKey, fromHex(c.message), c.signature)).toBe(true);
      expect(rawNobleStrict(c.publicKey, fromHex(c.message), c.signature)).toBe(true);
      screensSay(c.publicKey, false);
    }
  });
});

describe('both implementations agree on random keys and messages', () => {
  it('sign = signNode, both verify, and a random corruption fails in both (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(63),
        fc.integer({ min: 1, max: 255 }),
        (seedBytes, msg, at, xor) => {
          const seed = toHex(seedBytes);
          const pub = publicKeyFromSeed(seed);
          const sig = sign(seed, msg);
          expect(signNode(seed, msg)).toBe(sig);
          expect(isStrictPublicKey(pub)).toBe(true);
          expect(agree(pub, msg, sig)).toBe(true);
          const bad = fromHex(sig);
          bad[at] = bad[at]! ^ xor;
          expect(agree(pub, msg, toHex(bad))).toBe(false);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('random 64-byte "signatures" under a real key fail in both (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (sig) => !agree(TEST1.publicKey, new Uint8Array(), toHex(sig))),
      { numRuns: 40 },
    );
  });
});

describe('garbage input never throws', () => {
  it('verify / verifyNode return false for any argument types (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (k, m, s) => verify(k, m, s) === false && verifyNode(k, m, s) === false),
      { numRuns: 300 },
    );
  });

  it('verifyNodeAsync resolves false, never rejects', async () => {
    for (const args of [
      [1, 2, 3],
      [TEST1.publicKey, 'not bytes', TEST1.signature],
      [TEST1.publicKey, new Uint8Array(), 'zz'],
      [null, null, null],
    ] as const) {
      await expect(verifyNodeAsync(args[0], args[1], args[2])).resolves.toBe(false);
    }
  });

  it('wrong-length signatures and keys are false, not exceptions', () => {
    const msg = new Uint8Array();
    expect(agree(TEST1.publicKey, msg, TEST1.signature.slice(0, 126))).toBe(false);
    expect(agree(TEST1.publicKey, msg, TEST1.signature + '00')).toBe(false);
    expect(agree(TEST1.publicKey.slice(0, 62), msg, TEST1.signature)).toBe(false);
  });

  it('signing with a malformed seed throws a coded error in both', () => {
    expectLedgerError(() => sign('12', new Uint8Array()), 'BAD_HEX');
    expectLedgerError(() => signNode('zz'.repeat(32), new Uint8Array()), 'BAD_HEX');
    expectLedgerError(() => publicKeyFromSeed('00'.repeat(31)), 'BAD_HEX');
  });
});

describe('keys and the KeyObject cache', () => {
  it('generateSeed gives distinct 32-byte seeds with strict public keys', () => {
    const a = generateSeed();
    const b = generateSeed();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(isStrictPublicKey(publicKeyFromSeed(a))).toBe(true);
  });

  it('the public-key cache stays within its cap (least recently used out)', () => {
    clearNodeKeyCache();
    setNodeKeyCacheMax(50);
    try {
      const msg = new Uint8Array();
      expect(verifyNode(TEST1.publicKey, msg, TEST1.signature)).toBe(true);
      // Fill past the cap with distinct acceptable keys.
      for (let i = 0; i < 60; i++) verifyNode(publicKeyFromSeed(toHex(sha512(ascii(`cache ${i}`)).subarray(0, 32))), msg, TEST1.signature);
      expect(nodeKeyCacheSize()).toBe(50);
      expect(verifyNode(TEST1.publicKey, msg, TEST1.signature)).toBe(true); // evicted, re-imported
      setNodeKeyCacheMax(10);
      expect(nodeKeyCacheSize()).toBe(10);
      // Refused keys are never cached.
      clearNodeKeyCache();
      verifyNode(SMALL_ORDER[0]!, msg, TEST1.signature);
      expect(nodeKeyCacheSize()).toBe(0);
    } finally {
      setNodeKeyCacheMax(LEDGER_LIMITS.nodeKeyCacheMax);
    }
  });
});
