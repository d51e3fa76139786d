/**
 * The ledger layer's public API: docs/protocol.md §2–§6, pure and portable (runs in a browser).
 *
 * The node-only code (node:crypto Ed25519, node:crypto SHA-256, the worker-thread verifier) lives in
 * `./node/` and is not re-exported here, so that importing this index never pulls in `node:*`.
 */
export * from './errors.js';
export * from './limits.js';
export * from './hex.js';
export * from './base64.js';
export * from './utf8.js';
export * from './jcs.js';
export * from './sha256.js';
export * from './op.js';
export * from './ed25519.js';
export * from './merkle.js';
export {
  ENTRY_VERSION,
  ZERO_HASH,
  entryHash,
  entryHashBytes,
  entryHashOfText,
  entryShapeProblem,
  isLedgerTime,
  verifyChain,
  type ChainFailure,
  type ChainHead,
  type ChainStart,
  type Entry,
  type Envelope,
  type HashedEntry,
  type OpSignature,
} from './entry.js';
export * from './checkpoint.js';
