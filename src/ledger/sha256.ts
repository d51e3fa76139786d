import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from './hex.js';

/** SHA-256 of the concatenation of some byte strings. */
export type Sha256 = (parts: readonly Uint8Array[]) => Uint8Array;

/** The portable implementation (@noble/hashes): runs in a browser. */
export const nobleSha256Of: Sha256 = (parts) => {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
};

let impl: Sha256 = nobleSha256Of;

/**
 * Replaces the implementation behind `sha256` for this process. The service and the CLI install
 * node:crypto's (`installNodeSha256` in `node/sha256-node.ts`), several times faster on the short inputs
 * of Merkle nodes; a browser keeps @noble. Both are pinned to the same vectors by the tests.
 */
export const installSha256 = (fn: Sha256): void => {
  impl = fn;
};

/** SHA-256 of the concatenation of `parts`. */
export const sha256 = (...parts: readonly Uint8Array[]): Uint8Array => impl(parts);

export const sha256Hex = (...parts: readonly Uint8Array[]): string => toHex(sha256(...parts));
