/**
 * Read tokens (docs/protocol.md §8), the client side: a compact JWS (RFC 7515) carrying a JWT
 * (RFC 7519), `alg: "EdDSA"` (RFC 8037), claims `iss` (party id), `aud` (the ledger id), integer
 * `iat` and `exp` with `iat < exp ≤ iat + 3600`, signed with the party's Ed25519 seed.
 *
 * Portable: @noble/ed25519 and jose's base64url helpers only, no `node:*`, so it runs in a
 * browser. The server side (`authenticate`) lives in `src/api/auth.ts`, which re-exports this.
 */
import * as ed from '@noble/ed25519';
import { base64url } from 'jose';

import { LIMITS, PATTERNS } from '../domain/limits.js';

/** RFC 8037 §3.1. */
const JWS_ALG = 'EdDSA';

export interface TokenRequest {
  /** The party id, which becomes `iss`. */
  partyId: string;
  /** The party's 32-byte Ed25519 seed, lowercase hex (the `secretKey` of a §3 key file). */
  secretKeyHex: string;
  /** The ledger id, which becomes `aud`. */
  ledgerId: string;
  /** The client's clock in seconds since the epoch; `iat` is its floor. */
  nowSeconds: number;
  /** `exp - iat`, 1 … 3600; default 300. */
  lifetimeSeconds?: number;
}

/** Default token lifetime: short, since a token cannot be revoked before `exp`. */
export const TOKEN_LIFETIME_SECONDS_DEFAULT = 300;

/**
 * Signs a §8 read token. Throws on malformed arguments (a programmer error); the result always
 * passes `authenticate` for an active party whose current key matches, while it is fresh.
 */
export async function makeToken(request: TokenRequest): Promise<string> {
  const { partyId, secretKeyHex, ledgerId, nowSeconds } = request;
  const lifetimeSeconds = request.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS_DEFAULT;
  if (!PATTERNS.partyId.test(partyId)) throw new TypeError('makeToken: partyId is not a party id');
  if (!PATTERNS.seed.test(secretKeyHex)) throw new TypeError('makeToken: secretKeyHex must be 64 lowercase hex chars');
  if (typeof ledgerId !== 'string' || ledgerId.length === 0) throw new TypeError('makeToken: ledgerId required');
  if (!Number.isFinite(nowSeconds) || nowSeconds < 0) throw new RangeError('makeToken: nowSeconds out of range');
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > LIMITS.jwtLifetimeSecondsMax) {
    throw new RangeError(`makeToken: lifetimeSeconds must be 1 … ${LIMITS.jwtLifetimeSecondsMax}`);
  }
  const iat = Math.floor(nowSeconds);
  const header = base64url.encode(JSON.stringify({ alg: JWS_ALG, typ: 'JWT' }));
  const claims = base64url.encode(JSON.stringify({ iss: partyId, aud: ledgerId, iat, exp: iat + lifetimeSeconds }));
  const signingInput = `${header}.${claims}`;
  const signature = await ed.signAsync(new TextEncoder().encode(signingInput), ed.etc.hexToBytes(secretKeyHex));
  return `${signingInput}.${base64url.encode(signature)}`;
}
