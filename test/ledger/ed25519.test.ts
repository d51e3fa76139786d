import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clearNodeKeyCache, publicKeyFromSeedNode, signNode, verifyNode, verifyNodeAsync } from '../../src/ledger/node/ed25519-node.js';
import { isStrictPublicKey, publicKeyFromSeed, sign, verify } from '../../src/ledger/ed25519.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { flipBit, loadVectors } from './helpers.js';

interface Rfc8032Vectors {
  tests: Array<{ name: string; secretKey: string; publicKey: string; message: string; signature: string }>;
  sBoundTests: { tests: Array<{ name: string; valid: boolean; publicKey: string; message: string; signature: string }> };
}
const V = loadVectors<Rfc8032Vectors>('rfc8032.json');

/** Both verifiers; asserts they agree and returns the common answer. */
const verifyBoth = (publicKey: string, msg: Uint8Array, sig: string): boolean => {
  const portable = verify(publicKey, msg, sig);
  const node = verifyNode(publicKey, msg, sig);
  expect({ publicKey, sig, portable }).toEqual({ publicKey, sig, portable: node });
  return portable;
};

describe('RFC 8032 §7.1 test vectors, through both implementations', () => {
  it.each(V.tests)('$name: public key, exact signature, verification', async (t) => {
    const msg = fromHex(t.message);
    expect(publicKeyFromSeed(t.secretKey)).toBe(t.publicKey);
    expect(publicKeyFromSeedNode(t.secretKey)).toBe(t.publicKey);
    expect(sign(t.secretKey, msg)).toBe(t.signature);
    expect(signNode(t.secretKey, msg)).toBe(t.signature);
    expect(isStrictPublicKey(t.publicKey)).toBe(true);
    expect(verifyBoth(t.publicKey, msg, t.signature)).toBe(true);
    await expect(verifyNodeAsync(t.publicKey, msg, t.signature)).resolves.toBe(true);
  });

  it.each(V.sBoundTests.tests)('BoringSSL $name: valid = $valid in both', (t) => {
    expect(verifyBoth(t.publicKey, fromHex(t.message), t.signature)).toBe(t.valid);
  });

  it('a cached KeyObject and a fresh one give the same answers', () => {
    const t = V.tests[0]!;
    clearNodeKeyCache();
    expect(verifyNode(t.publicKey, new Uint8Array(), t.signature)).toBe(true);
    expect(verifyNode(t.publicKey, new Uint8Array(), t.signature)).toBe(true);
    expect(verifyNode(t.publicKey, new Uint8Array([0]), t.signature)).toBe(false);
  });

  it('both derive the same public key from any seed (the service derives with node:crypto)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const hex = toHex(seed);
        expect(publicKeyFromSeedNode(hex)).toBe(publicKeyFromSeed(hex));
      }),
      { numRuns: 300 },
    );
  });
});

/*
 * Single-bit flips must fail, in both implementations, and they must agree. node:crypto takes
 * ~0.3 ms a verification and checks every bit of every signature and key, and of the messages up
 * to 64 bytes (256 spread bits of TEST 1024's 1023 bytes); the portable verifier (~3 ms here)
 * checks one bit of every byte (the bit position rotating through the byte), alongside.
 */
const allBits = (bytes: number): number[] => [...Array(bytes * 8).keys()];
const bitPerByte = (bytes: number): number[] => Array.from({ length: bytes }, (_, i) => i * 8 + (i % 8));
const spread = (bits: number[], max: number): number[] =>
  bits.length <= max ? bits : Array.from({ length: max }, (_, i) => bits[Math.floor((i * bits.length) / max)]!);

describe('single-bit flips fail in both implementations', () => {
  for (const t of V.tests) {
    const msg = fromHex(t.message);
    const sig = fromHex(t.signature);
    const key = fromHex(t.publicKey);

    it(`${t.name}: signature bits`, () => {
      for (const bit of allBits(64)) expect(verifyNode(t.publicKey, msg, toHex(flipBit(sig, bit)))).toBe(false);
      for (const bit of bitPerByte(64)) expect(verifyBoth(t.publicKey, msg, toHex(flipBit(sig, bit)))).toBe(false);
    });

    it(`${t.name}: public key bits`, () => {
      for (const bit of allBits(32)) expect(verifyNode(toHex(flipBit(key, bit)), msg, t.signature)).toBe(false);
      for (const bit of bitPerByte(32)) expect(verifyBoth(toHex(flipBit(key, bit)), msg, t.signature)).toBe(false);
    });

    if (msg.length > 0) {
      it(`${t.name}: message bits`, () => {
        const nodeBits = msg.length <= 64 ? allBits(msg.length) : spread(bitPerByte(msg.length), 256);
        for (const bit of nodeBits) expect(verifyNode(t.publicKey, flipBit(msg, bit), t.signature)).toBe(false);
        for (const bit of spread(bitPerByte(msg.length), 32)) {
          expect(verifyBoth(t.publicKey, flipBit(msg, bit), t.signature)).toBe(false);
        }
      });
    }
  }

  it('dropping or adding a message byte fails in both', () => {
    const t = V.tests[1]!; // TEST 2, one-byte message
    expect(verifyBoth(t.publicKey, new Uint8Array(), t.signature)).toBe(false);
    expect(verifyBoth(t.publicKey, Uint8Array.of(0x72, 0x00), t.signature)).toBe(false);
  });
});
