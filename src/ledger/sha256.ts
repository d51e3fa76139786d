import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from './hex.js';

/** SHA-256 of the concatenation of `parts` (portable: @noble/hashes, runs in a browser). */
export const sha256 = (...parts: readonly Uint8Array[]): Uint8Array => {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
};

export const sha256Hex = (...parts: readonly Uint8Array[]): string => toHex(sha256(...parts));
