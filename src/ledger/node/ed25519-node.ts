import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ED25519_L, leBytesToBigint, PUBLIC_KEY_BYTES, SEED_BYTES, SIGNATURE_BYTES } from '../ed25519.js';
import { LedgerError } from '../errors.js';
import { fromHex, parseHex, toHex } from '../hex.js';
import { LEDGER_LIMITS } from '../limits.js';

/**
 * Ed25519 on node:crypto (OpenSSL) — the service's path. Same rules as `ed25519.ts`, which it
 * must agree with on every input:
 *
 *  - OpenSSL checks S < L itself (3.x), but we check it first anyway: it is the malleability
 *    rule of docs/protocol.md §3 and must not depend on the OpenSSL version.
 *  - OpenSSL accepts any 32 bytes as a key, including small-order points: with the identity key,
 *    (R = identity, S = 0) verifies for every message. So keys are screened here: y (sign bit
 *    cleared) must be < p, must not be the y of one of the 8 small-order points, must be the y of
 *    a point on the curve, and that point must have no small-order component ([L]A = identity;
 *    docs/protocol.md, "Decisions where the contract is silent"). The last check is computed here
 *    independently of noble — an x-only Montgomery ladder — so the tests compare two
 *    implementations; it runs once per key (the screen is cached).
 *  - OpenSSL verifies with the cofactorless equation and compares R as bytes, which also refuses
 *    non-canonical R encodings.
 *
 * Public keys become cached `KeyObject`s (imported once via JWK; a Map with a size cap, least
 * recently used first out). Nothing here throws on garbage input: it returns false.
 */

/** RFC 8032 §5.1: p = 2^255 − 19. */
const FIELD_P = 2n ** 255n - 19n;

/**
 * y-coordinates (little-endian, sign bit clear) of the 8 points of small order: y = 1 (the
 * identity), y = p − 1 (order 2), y = 0 (order 4), and the two y of the order-8 points. Every
 * canonical encoding of a small-order point has one of these y; the non-canonical ones have
 * y ≥ p and are refused by the range check.
 */
const SMALL_ORDER_Y = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
]);

/** RFC 8410 §7: PKCS#8 DER of an Ed25519 private key is this prefix followed by the 32-byte seed. */
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

const PRIVATE_KEY_CACHE_MAX = 16;

const publicKeys = new Map<string, KeyObject>();
let publicKeyCacheMax: number = LEDGER_LIMITS.nodeKeyCacheMax;
const privateKeys = new Map<string, KeyObject>();

const remember = (cache: Map<string, KeyObject>, id: string, key: KeyObject, max: number): void => {
  cache.set(id, key);
  if (cache.size > max) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
};

const recall = (cache: Map<string, KeyObject>, id: string): KeyObject | undefined => {
  const key = cache.get(id);
  if (key !== undefined) {
    cache.delete(id); // move to the most recently used end
    cache.set(id, key);
  }
  return key;
};

const modP = (n: bigint): bigint => {
  const r = n % FIELD_P;
  return r < 0n ? r + FIELD_P : r;
};

const powModP = (base: bigint, exponent: bigint): bigint => {
  let result = 1n;
  let b = modP(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = modP(result * b);
    b = modP(b * b);
  }
  return result;
};

/** RFC 8032 §5.1: d = −121665 / 121666 of edwards25519. */
const EDWARDS_D = modP(-121665n * powModP(121666n, FIELD_P - 2n));

/** RFC 7748 §5: a24 = (486662 − 2) / 4 of curve25519, for the ladder's doubling. */
const MONTGOMERY_A24 = 121665n;

/**
 * Is y (< p, not the y of a small-order point) the y of a point A on edwards25519 with [L]A the
 * identity? On the curve: x² = (y² − 1) / (d·y² + 1) must be a square (Euler's criterion on
 * (y² − 1)(d·y² + 1), as d·y² + 1 is never 0). Torsion-free: the map u = (1 + y) / (1 − y) takes A
 * to curve25519, where an x-only Montgomery ladder (RFC 7748 §5, without clamping) computes
 * [L]A projectively; it is the identity exactly when its Z is 0. The difference point's u is kept
 * as the fraction (1 + y) : (1 − y), so nothing is inverted. y = ±1 (u = ∞ or 0) are small-order
 * and never reach here.
 */
const isPrimeOrderY = (y: bigint): boolean => {
  const y2 = modP(y * y);
  const euler = powModP(modP((y2 - 1n) * (EDWARDS_D * y2 + 1n)), (FIELD_P - 1n) / 2n);
  if (euler !== 1n) return false; // not a square: no x, not a point of the curve
  const xd = modP(1n + y);
  const zd = modP(1n - y);
  let x2 = 1n;
  let z2 = 0n; // the identity
  let x3 = xd;
  let z3 = zd; // A
  for (let bit = 252; bit >= 0; bit--) {
    const swap = (ED25519_L >> BigInt(bit)) & 1n;
    if (swap) [x2, z2, x3, z3] = [x3, z3, x2, z2];
    const a = x2 + z2;
    const aa = modP(a * a);
    const b = x2 - z2;
    const bb = modP(b * b);
    const e = aa - bb;
    const c = x3 + z3;
    const d = x3 - z3;
    const da = modP(d * a);
    const cb = modP(c * b);
    const sum = da + cb;
    const diff = da - cb;
    x3 = modP(zd * modP(sum * sum));
    z3 = modP(xd * modP(diff * diff));
    x2 = modP(aa * bb);
    z2 = modP(e * (aa + MONTGOMERY_A24 * e));
    if (swap) [x2, z2, x3, z3] = [x3, z3, x2, z2];
  }
  return z2 === 0n;
};

/** The key-encoding screen described above (canonical y, not small order, prime order L). */
const isAcceptableKeyEncoding = (publicKey: Uint8Array): boolean => {
  const masked = Uint8Array.from(publicKey);
  masked[31] = masked[31]! & 0x7f;
  const y = leBytesToBigint(masked);
  if (y >= FIELD_P) return false;
  if (SMALL_ORDER_Y.has(toHex(masked))) return false;
  return isPrimeOrderY(y);
};

const publicKeyObject = (publicKeyHex: unknown): KeyObject | undefined => {
  if (typeof publicKeyHex !== 'string') return undefined;
  const cached = recall(publicKeys, publicKeyHex);
  if (cached !== undefined) return cached;
  const bytes = screenedKey(publicKeyHex);
  if (bytes === null) return undefined;
  const x = Buffer.from(bytes).toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  remember(publicKeys, publicKeyHex, key, publicKeyCacheMax);
  return key;
};

/** L as 32 little-endian bytes, for a byte-wise S < L (no bigint per signature). */
const L_BYTES = (() => {
  const out = new Uint8Array(32);
  let n = ED25519_L;
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
})();

/** S (32 little-endian bytes at `s`) < L, compared from the most significant byte. */
const isBelowL = (s: Uint8Array): boolean => {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! !== L_BYTES[i]!) return s[i]! < L_BYTES[i]!;
  }
  return false; // S = L
};

/** The signature bytes if `sigHex` is 64 hex bytes with S < L, else undefined. */
const canonicalSignature = (sigHex: unknown): Uint8Array | undefined => {
  const sig = parseHex(sigHex, SIGNATURE_BYTES);
  if (sig === undefined || !isBelowL(sig.subarray(32))) return undefined;
  return sig;
};

/** Keys that passed (bytes) or failed (null) the key screen, so a signer's key is screened once. */
const screenedKeys = new Map<string, Uint8Array | null>();
const SCREENED_KEYS_MAX = 100_000;

const screenedKey = (publicKeyHex: string): Uint8Array | null => {
  let bytes = screenedKeys.get(publicKeyHex);
  if (bytes === undefined) {
    const parsed = parseHex(publicKeyHex, PUBLIC_KEY_BYTES);
    bytes = parsed !== undefined && isAcceptableKeyEncoding(parsed) ? parsed : null;
    if (screenedKeys.size >= SCREENED_KEYS_MAX) screenedKeys.clear();
    screenedKeys.set(publicKeyHex, bytes);
  }
  return bytes;
};

/**
 * The strict screens of `verifyNode` without the curve arithmetic: the key's 32 bytes, the
 * message and the signature bytes if all pass, else undefined (the signature cannot verify).
 * For verifiers that run `crypto.verify` elsewhere (worker threads). Never throws.
 */
export const screenForNode = (publicKeyHex: unknown, msg: unknown, sigHex: unknown): { key: Uint8Array; msg: Uint8Array; sig: Uint8Array } | undefined => {
  try {
    if (!(msg instanceof Uint8Array)) return undefined;
    const sig = canonicalSignature(sigHex);
    if (sig === undefined || typeof publicKeyHex !== 'string') return undefined;
    const key = screenedKey(publicKeyHex);
    return key === null ? undefined : { key, msg, sig };
  } catch {
    return undefined;
  }
};

/** Strict verification on node:crypto. Never throws. */
export const verifyNode = (publicKeyHex: unknown, msg: unknown, sigHex: unknown): boolean => {
  try {
    if (!(msg instanceof Uint8Array)) return false;
    const sig = canonicalSignature(sigHex);
    if (sig === undefined) return false;
    const key = publicKeyObject(publicKeyHex);
    if (key === undefined) return false;
    return cryptoVerify(null, msg, key, sig);
  } catch {
    return false;
  }
};

/**
 * As `verifyNode`, but the curve arithmetic runs on libuv's thread pool (the callback form of
 * crypto.verify), so the event loop stays free. Never rejects.
 */
export const verifyNodeAsync = (publicKeyHex: unknown, msg: unknown, sigHex: unknown): Promise<boolean> =>
  new Promise<boolean>((resolve) => {
    try {
      if (!(msg instanceof Uint8Array)) return resolve(false);
      const sig = canonicalSignature(sigHex);
      if (sig === undefined) return resolve(false);
      const key = publicKeyObject(publicKeyHex);
      if (key === undefined) return resolve(false);
      cryptoVerify(null, msg, key, sig, (err, ok) => resolve(err === null && ok === true));
    } catch {
      resolve(false);
    }
  });

/**
 * Private keys are imported from PKCS#8 DER (RFC 8410), not JWK: a JWK needs `x` beside `d`, and
 * OpenSSL silently ignores a wrong `x`, so the DER form (seed only) leaves nothing to get wrong.
 */
const importPrivateKey = (seedHex: string): KeyObject => {
  const seed = fromHex(seedHex, SEED_BYTES);
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new LedgerError('BAD_HEX', 'seed rejected by node:crypto', { cause: err });
  }
};

/** The seed's KeyObject, kept for the next signature (a signing key is used again and again). */
const privateKeyObject = (seedHex: string): KeyObject => {
  const cached = recall(privateKeys, seedHex);
  if (cached !== undefined) return cached;
  const key = importPrivateKey(seedHex);
  remember(privateKeys, seedHex, key, PRIVATE_KEY_CACHE_MAX);
  return key;
};

/** RFC 8032 deterministic signature, hex, on node:crypto. Throws `LedgerError('BAD_HEX')` on a bad seed. */
export const signNode = (seedHex: string, msg: Uint8Array): string => toHex(cryptoSign(null, msg, privateKeyObject(seedHex)));

/**
 * `signNode` on libuv's thread pool (node:crypto's callback form): the same signature, without
 * holding the calling thread for the curve arithmetic. Rejects with `LedgerError('BAD_HEX')` on a
 * bad seed.
 */
export const signNodeAsync = (seedHex: string, msg: Uint8Array): Promise<string> => {
  let key: KeyObject;
  try {
    key = privateKeyObject(seedHex);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    cryptoSign(null, msg, key, (err, sig) => (err ? reject(err) : resolve(toHex(sig))));
  });
};

/**
 * The public key of a hex seed, on node:crypto. The seed's KeyObject is not kept: a key only
 * checked here (the operator's key file, read once at genesis) must not stay in the process.
 */
export const publicKeyFromSeedNode = (seedHex: string): string => {
  const jwk = createPublicKey(importPrivateKey(seedHex)).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new LedgerError('BAD_KEY', 'node:crypto exported no public key');
  return toHex(Buffer.from(jwk.x, 'base64url'));
};

/** For tests and key rotation: forget every cached KeyObject. */
export const clearNodeKeyCache = (): void => {
  publicKeys.clear();
  privateKeys.clear();
};

export const nodeKeyCacheSize = (): number => publicKeys.size;

/** Changes the public-key cache cap (default `LEDGER_LIMITS.nodeKeyCacheMax`); evicts down to it. */
export const setNodeKeyCacheMax = (max: number): void => {
  if (!Number.isSafeInteger(max) || max < 1) throw new LedgerError('BAD_SIZE', 'cache cap must be a positive integer');
  publicKeyCacheMax = max;
  for (const id of publicKeys.keys()) {
    if (publicKeys.size <= max) break;
    publicKeys.delete(id);
  }
};
