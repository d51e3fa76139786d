/**
 * Bearer-token authentication for reads (docs/protocol.md §8).
 *
 * A token is a compact JWS (RFC 7515) carrying a JWT (RFC 7519):
 *   - protected header: `alg` exactly "EdDSA" (RFC 8037), no `crit`, `typ` optional ("JWT");
 *   - claims: `iss` a party id (§2), `aud` a string equal to the ledger id (an array is refused),
 *     integer `iat` and `exp` with `iat < exp ≤ iat + 3600`;
 *   - refused when `iat` is more than 300 s ahead of the server's clock, or `exp ≤ now`;
 *   - signed by the party's *current* key (the caller's lookup), and the party must be active.
 *
 * Checks run cheapest first. Every refusal carries a stable `reason` (UNAUTHENTICATED_REASONS,
 * answered as the problem's `reason` member, for clients to branch on) and a `detail` for people. The header and claims
 * are decoded with the strict I-JSON parser, so a duplicate `alg` or `iss` cannot mean one thing here
 * and another to jose. The signature is then checked with jose (`jwtVerify`, algorithms pinned to
 * EdDSA, the clock given as `currentDate`), which also re-checks `iss`, `aud`, `exp` and `nbf`.
 *
 * `authenticate` never throws for any header value. It throws only for a programmer error (bad
 * options) or when `lookupParty` itself throws: a store failure is not a bad token, so it is left to
 * the error handler (500) instead of being reported as a 401.
 *
 * `makeToken`, the client side, lives in `src/client/token.ts` (portable: @noble/ed25519 and jose's
 * base64url helpers only) and is re-exported from here.
 */
import * as ed from '@noble/ed25519';
import { base64url, errors as joseErrors, importJWK, jwtVerify, type CryptoKey } from 'jose';

import type { UnauthenticatedReason } from '../domain/codes.js';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import { parseIJson } from './ijson.js';

export interface AuthParty {
  id: string;
  role: string;
  /** Lowercase hex, 64 chars: the party's current Ed25519 key. */
  publicKey: string;
  status: 'active' | 'suspended';
}

export type AuthResult = { ok: true; party: AuthParty } | { ok: false; reason: UnauthenticatedReason; detail: string };

/** Why a token is refused, and what to tell a person. */
interface AuthRefusal {
  readonly reason: UnauthenticatedReason;
  readonly detail: string;
}

const malformed = (detail: string): AuthRefusal => ({ reason: 'TOKEN_MALFORMED', detail });

export interface AuthOptions {
  /** §6: the hex hash of entry 0; the only accepted `aud`. */
  ledgerId: string;
  /** The server's clock, in seconds since the epoch. */
  nowSeconds: number;
  /** The party as it is now (its current key and status), or undefined if it is not registered. */
  lookupParty: (id: string) => Promise<AuthParty | undefined> | AuthParty | undefined;
}

/** The longest `Authorization` header read at all; a real token is about 300 chars. */
export const AUTHORIZATION_CHARS_MAX = 8 * 1024;

/** RFC 6750 §2.1, spelled exactly as docs/protocol.md §8 writes it (see the note in authenticate). */
const BEARER_PREFIX = 'Bearer ';

/** RFC 7515 §7.1: three base64url segments. Nothing else is allowed in the credentials. */
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/** RFC 8037 §3.1. */
const JWS_ALG = 'EdDSA';

/** RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes, 86 base64url chars without padding. */
const SIGNATURE_BASE64URL_CHARS = 86;

/** Imported verification keys, by public key hex. Bounded; the oldest entry goes first. */
const KEY_CACHE_ENTRIES_MAX = 4096;
const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * Tokens whose signature verified, by `${publicKey} ${token}` → true. A client reuses its token
 * for many reads (up to an hour), and a signature check is about a quarter of a millisecond of
 * CPU on libuv's pool: the result is a pure function of the token's bytes and the key, so it is
 * remembered. Every other check (header, claims, expiry against the clock, the party's current
 * key and status) still runs on every request; a rotated key misses the cache. Tokens with `nbf`
 * are not remembered (jose checks it against the clock, which the claim checks here do not).
 */
const VERIFIED_TOKENS_MAX = 10_000;
const verifiedTokens = new Set<string>();

const rememberVerified = (id: string): void => {
  if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) {
    const oldest = verifiedTokens.values().next();
    if (oldest.done !== true) verifiedTokens.delete(oldest.value);
  }
  verifiedTokens.add(id);
};

type JsonObject = Record<string, unknown>;

/**
 * Verifies `Authorization: Bearer <JWT>` and returns the party it authenticates, or why not.
 */
export async function authenticate(authorizationHeader: string | undefined, opts: AuthOptions): Promise<AuthResult> {
  assertOptions(opts);

  // 1. The header. The scheme is matched exactly: "bearer" or "BEARER" are refused, although
  //    RFC 9110 §11.1 calls schemes case-insensitive (our clients always send "Bearer").
  if (typeof authorizationHeader !== 'string' || authorizationHeader.length === 0) {
    return refuse({ reason: 'TOKEN_MISSING', detail: 'missing Authorization header: this read needs a bearer token (`rvl token` prints one)' });
  }
  if (authorizationHeader.length > AUTHORIZATION_CHARS_MAX) {
    return refuse(malformed(`Authorization header longer than ${AUTHORIZATION_CHARS_MAX} chars`));
  }
  if (!authorizationHeader.startsWith(BEARER_PREFIX)) {
    return refuse(malformed('Authorization scheme must be "Bearer" followed by one space'));
  }
  const token = authorizationHeader.slice(BEARER_PREFIX.length);
  if (token.length === 0) return refuse(malformed('empty bearer token'));
  const segments = COMPACT_JWS.exec(token);
  if (segments === null) return refuse(malformed('bearer token is not a compact JWS (three base64url segments)'));
  const [, headerSegment = '', claimsSegment = '', signatureSegment = ''] = segments;

  // 2. The protected header.
  const header = decodeJsonSegment(headerSegment);
  if (typeof header === 'string') return refuse(malformed(`token header ${header}`));
  if (header.alg !== JWS_ALG) return refuse(malformed(`token "alg" must be "${JWS_ALG}"`));
  if (Object.hasOwn(header, 'crit')) return refuse(malformed('token header must not have "crit"'));
  if (Object.hasOwn(header, 'typ') && !isJwtTyp(header.typ)) return refuse(malformed('token "typ", when present, must be "JWT"'));
  if (signatureSegment.length !== SIGNATURE_BASE64URL_CHARS || decodeSegment(signatureSegment) === undefined) {
    return refuse(malformed('token signature is not 64 base64url-encoded bytes'));
  }

  // 3. The claims, before any lookup or signature work.
  const claims = decodeJsonSegment(claimsSegment);
  if (typeof claims === 'string') return refuse(malformed(`token claims ${claims}`));
  const claimsProblem = checkClaims(claims, opts);
  if (claimsProblem !== undefined) return refuse(claimsProblem);
  const partyId = claims.iss as string;

  // 4. The party's current key. A lookup failure is not caught (see the module comment).
  const party = await opts.lookupParty(partyId);
  if (party === undefined || party === null) {
    return refuse({ reason: 'PARTY_UNKNOWN', detail: `party ${partyId} is not registered on this ledger` });
  }
  if (party.id !== partyId) return refuse({ reason: 'PARTY_UNKNOWN', detail: `the lookup for "${partyId}" returned another party` });
  if (typeof party.publicKey !== 'string' || !PATTERNS.publicKey.test(party.publicKey)) {
    return refuse({ reason: 'KEY_NOT_CURRENT', detail: 'the party has no usable key' });
  }
  // 5. The signature (and jose's own claim checks, redundant with step 3 by design), unless this
  //    very token verified under this very key before.
  const verifiedId = `${party.publicKey} ${token}`;
  if (!verifiedTokens.has(verifiedId)) {
    const refusal = await verifySignature(token, party.publicKey, partyId, opts);
    if (refusal !== undefined) return refuse(refusal);
    if (!Object.hasOwn(claims, 'nbf')) rememberVerified(verifiedId);
  }

  // 6. Only a holder of the key learns that the party is suspended.
  if (party.status !== 'active') {
    return refuse({ reason: 'PARTY_SUSPENDED', detail: `party ${partyId} is suspended on this ledger; the operator can reactivate it` });
  }
  return { ok: true, party };
}

/** jose's verification of the token under the key; what is wrong, or undefined. */
async function verifySignature(token: string, publicKey: string, partyId: string, opts: AuthOptions): Promise<AuthRefusal | undefined> {
  let key: CryptoKey;
  try {
    key = await verificationKey(publicKey);
  } catch {
    return { reason: 'KEY_NOT_CURRENT', detail: 'the party has no usable key' };
  }
  try {
    await jwtVerify(token, key, {
      algorithms: [JWS_ALG],
      issuer: partyId,
      audience: opts.ledgerId,
      requiredClaims: ['iss', 'aud', 'iat', 'exp'],
      currentDate: new Date(opts.nowSeconds * 1000),
    });
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return {
        reason: 'KEY_NOT_CURRENT',
        detail: `token signature does not verify under the party's current key: sign in with the current key file of ${partyId}`,
      };
    }
    // jose re-checks the claims: its verdicts map onto the same reasons as checkClaims'.
    if (error instanceof joseErrors.JWTExpired) return { reason: 'TOKEN_EXPIRED', detail: `token refused: ${error.message}` };
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      const reason: UnauthenticatedReason =
        error.claim === 'aud' ? 'WRONG_AUDIENCE' : error.claim === 'nbf' || error.claim === 'iat' ? 'TOKEN_NOT_YET_VALID' : 'TOKEN_MALFORMED';
      return { reason, detail: `token refused: ${error.message}` };
    }
    if (error instanceof joseErrors.JOSEError) return malformed(`token refused: ${error.message}`);
    return malformed('token could not be verified');
  }
  return undefined;
}

/** §8 claim rules; returns what is wrong, or undefined. */
function checkClaims(claims: JsonObject, opts: AuthOptions): AuthRefusal | undefined {
  const { iss, aud, iat, exp } = claims;
  if (iss === undefined) return malformed('token has no "iss" claim');
  if (typeof iss !== 'string' || !PATTERNS.partyId.test(iss)) return malformed('token "iss" must be a party id');
  if (aud === undefined) return malformed('token has no "aud" claim');
  if (Array.isArray(aud)) return malformed('token "aud" must be a single string, not an array');
  if (aud !== opts.ledgerId) {
    return { reason: 'WRONG_AUDIENCE', detail: 'token "aud" is not this ledger\'s id: the token was made for another ledger' };
  }
  if (iat === undefined) return malformed('token has no "iat" claim');
  if (exp === undefined) return malformed('token has no "exp" claim');
  if (!Number.isSafeInteger(iat)) return malformed('token "iat" must be an integer');
  if (!Number.isSafeInteger(exp)) return malformed('token "exp" must be an integer');
  const iatSeconds = iat as number;
  const expSeconds = exp as number;
  if (expSeconds <= iatSeconds) return malformed('token "exp" must be after "iat"');
  if (expSeconds - iatSeconds > LIMITS.jwtLifetimeSecondsMax) {
    return malformed(`token lifetime (exp - iat) exceeds ${LIMITS.jwtLifetimeSecondsMax} s`);
  }
  if (iatSeconds > opts.nowSeconds + LIMITS.jwtIatFutureSkewSecondsMax) {
    return {
      reason: 'TOKEN_NOT_YET_VALID',
      detail: `token "iat" is more than ${LIMITS.jwtIatFutureSkewSecondsMax} s in the future by the ledger's clock: check the clock of the computer that made it`,
    };
  }
  if (expSeconds <= opts.nowSeconds) return { reason: 'TOKEN_EXPIRED', detail: 'token has expired: make a new one' };
  return undefined;
}

function isJwtTyp(typ: unknown): boolean {
  // RFC 7515 §4.1.9: a media type, compared case-insensitively, "application/" optional.
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'jwt' || lower === 'application/jwt';
}

/** Strict base64url: no padding, and only the canonical encoding of the bytes. */
function decodeSegment(segment: string): Uint8Array | undefined {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(segment);
  } catch {
    return undefined;
  }
  return base64url.encode(bytes) === segment ? bytes : undefined;
}

/** A segment holding a JSON object, or a description of what is wrong with it. */
function decodeJsonSegment(segment: string): JsonObject | string {
  const bytes = decodeSegment(segment);
  if (bytes === undefined) return 'is not canonical base64url';
  const parsed = parseIJson(bytes);
  if (!parsed.ok) return `is not I-JSON: ${parsed.detail}`;
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  return value as JsonObject;
}

function verificationKey(publicKeyHex: string): Promise<CryptoKey> {
  const cached = keyCache.get(publicKeyHex);
  if (cached !== undefined) return cached;
  const imported = importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64url.encode(ed.etc.hexToBytes(publicKeyHex)) }, JWS_ALG) as Promise<CryptoKey>;
  if (keyCache.size >= KEY_CACHE_ENTRIES_MAX) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  keyCache.set(publicKeyHex, imported);
  imported.catch(() => keyCache.delete(publicKeyHex));
  return imported;
}

function refuse(refusal: AuthRefusal): AuthResult {
  return { ok: false, reason: refusal.reason, detail: refusal.detail };
}

function assertOptions(opts: AuthOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('authenticate: options required');
  if (typeof opts.ledgerId !== 'string' || opts.ledgerId.length === 0) {
    throw new TypeError('authenticate: ledgerId must be a non-empty string');
  }
  if (!Number.isFinite(opts.nowSeconds)) throw new TypeError('authenticate: nowSeconds must be a finite number');
  if (typeof opts.lookupParty !== 'function') throw new TypeError('authenticate: lookupParty must be a function');
}

// ---------------------------------------------------------------------------------------------
// Client side: `makeToken` lives in the portable client SDK; re-exported here for existing callers.

export { makeToken, TOKEN_LIFETIME_SECONDS_DEFAULT, type TokenRequest } from '../client/token.js';
