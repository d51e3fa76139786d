import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, fromHex, parseHex, toHex } from './hex.js';

/**
 * Ed25519 (RFC 8032) with strict verification (docs/protocol.md §3) — the portable implementation:
 * @noble/ed25519 + @noble/hashes only, no `node:*`, so it runs in a browser. The service's hot
 * path uses `node/ed25519-node.ts` (node:crypto); the two agree on every input (see the tests).
 *
 * Verification rules, all of which must hold:
 *  1. the key, 32 bytes, decodes under RFC 8032 §5.1.3 with y < p and is not x = 0 with the sign
 *     bit set (a canonical encoding), is not of small order (docs/protocol.md §3), and has no
 *     small-order component: [L]A is the identity (torsion-free). An honest key, [a]B, always is.
 *     A mixed-order key A + T (T of order 2, 4 or 8) is refused: under it, whether a crafted
 *     signature verifies depends on which equation a verifier checks (cofactored or not), so
 *     verifiers in other languages could disagree; refused, no verifier is ever asked;
 *  2. S < L (RFC 8032 §5.1.7: a non-canonical S is invalid);
 *  3. the cofactorless equation [S]B = R + [k]A, k = SHA-512(R ‖ A ‖ M) mod L, compared as
 *     encodings: encode([S]B − [k]A) = R (so R must also be a canonical encoding).
 *     RFC 8032 §5.1.7 allows this or the cofactored [8][S]B = [8]R + [8][k]A; OpenSSL
 *     (node:crypto), Go and libsodium use this one. noble's strict mode uses the cofactored one,
 *     which also accepts crafted signatures whose R or key has a small-order component; requiring
 *     (3) makes both implementations accept exactly the same signatures. Honest signatures pass both.
 *  4. noble's own strict verification (`zip215: false`), as a second opinion. (3) implies it
 *     mathematically; it runs only when (3) passed, so invalid signatures cost one check.
 */

// noble needs SHA-512 wired in for its synchronous API.
ed.hashes.sha512 = sha512;

/** RFC 8032 §5.1: the order of the base point, L = 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const SEED_BYTES = 32;

/** Little-endian bytes to an integer (RFC 8032 encodes S and hash outputs little-endian). */
export const leBytesToBigint = (bytes: Uint8Array): bigint => {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
};

/**
 * Keys already screened: their point, or null if refused. The torsion check costs about a
 * quarter of a verification and a log has few keys and many signatures, so it runs once per key.
 */
const strictKeyPoints = new Map<string, ed.Point | null>();
const STRICT_KEY_POINTS_MAX = 4096;

/**
 * The point of a canonically encoded key of prime order L (not small order, no small-order
 * component), else undefined.
 */
const strictKeyPoint = (publicKey: Uint8Array): ed.Point | undefined => {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return undefined;
  const id = toHex(publicKey);
  const known = strictKeyPoints.get(id);
  if (known !== undefined) return known ?? undefined;
  let point: ed.Point | null = null;
  try {
    const decoded = ed.Point.fromBytes(publicKey, false); // strict RFC 8032 decoding
    // isTorsionFree: [L]P is the identity. The identity itself passes it, so isSmallOrder goes first.
    if (!decoded.isSmallOrder() && decoded.isTorsionFree()) point = decoded;
  } catch {
    point = null;
  }
  if (strictKeyPoints.size >= STRICT_KEY_POINTS_MAX) strictKeyPoints.clear();
  strictKeyPoints.set(id, point);
  return point ?? undefined;
};

/**
 * docs/protocol.md §3: true only for 64 lowercase hex chars encoding a canonically encoded Ed25519
 * point of prime order L: not of small order, and with no small-order component. Keys failing
 * this are refused wherever a key enters.
 */
export const isStrictPublicKey = (publicKeyHex: unknown): boolean => {
  const bytes = parseHex(publicKeyHex, PUBLIC_KEY_BYTES);
  return bytes !== undefined && strictKeyPoint(bytes) !== undefined;
};

/** Strict verification over raw bytes. Returns false, never throws, on any malformed input. */
export const verifyBytes = (publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
  try {
    if (!(msg instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) {
      return false;
    }
    if (!(publicKey instanceof Uint8Array)) return false;
    const a = strictKeyPoint(publicKey); // rule 1
    if (a === undefined) return false;
    const r = sig.subarray(0, 32);
    const s = leBytesToBigint(sig.subarray(32));
    if (s >= ED25519_L) return false; // rule 2
    const k = leBytesToBigint(sha512(concatBytes(r, publicKey, msg))) % ED25519_L;
    const rCheck = ed.Point.BASE.multiply(s, false).subtract(a.multiply(k, false));
    if (!bytesEqual(rCheck.toBytes(), r)) return false; // rule 3
    return ed.verify(sig, msg, publicKey, { zip215: false }); // rule 4
  } catch {
    return false;
  }
};

/** Strict verification of a hex signature by a hex key over `msg`. Never throws. */
export const verify = (publicKeyHex: unknown, msg: unknown, sigHex: unknown): boolean => {
  if (!(msg instanceof Uint8Array)) return false;
  const publicKey = parseHex(publicKeyHex, PUBLIC_KEY_BYTES);
  const sig = parseHex(sigHex, SIGNATURE_BYTES);
  if (publicKey === undefined || sig === undefined) return false;
  return verifyBytes(publicKey, msg, sig);
};

/** A fresh 32-byte secret seed, hex (crypto.getRandomValues). */
export const generateSeed = (): string => toHex(ed.utils.randomSecretKey());

/** The public key of a hex seed. Throws `LedgerError('BAD_HEX')` on a malformed seed. */
export const publicKeyFromSeed = (seedHex: string): string => toHex(ed.getPublicKey(fromHex(seedHex, SEED_BYTES)));

/** RFC 8032 deterministic signature, hex. Throws `LedgerError('BAD_HEX')` on a malformed seed. */
export const sign = (seedHex: string, msg: Uint8Array): string => toHex(ed.sign(msg, fromHex(seedHex, SEED_BYTES)));
