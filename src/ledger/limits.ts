/**
 * Limits of the ledger layer. Untrusted input (proofs, notes, JSON values) is bounded by these
 * before any work proportional to its size is done.
 */
export const LEDGER_LIMITS = {
  /** JCS: nesting depth of arrays/objects (our payloads nest about 5 deep). */
  jsonDepthMax: 64,
  /** Tree sizes and indexes are JS safe integers (2^53 − 1); a proof is at most 2·53 hashes. */
  treeSizeMax: Number.MAX_SAFE_INTEGER,
  proofHashesMax: 128,
  /** C2SP signed-note: "MUST accept at least up to 16 signatures"; we accept up to 100. */
  noteSignaturesMax: 100,
  /** Whole signed note, UTF-8 bytes (100 Ed25519 lines are under 10 KiB). */
  noteBytesMax: 64 * 1024,
  /** Public-key KeyObjects kept by the node:crypto verifier. */
  nodeKeyCacheMax: 10_000,
} as const;
