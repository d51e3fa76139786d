/**
 * The genesis entry's shape (docs/protocol.md §6), checked once for every client-side verifier:
 * the bank's bundle check and the audit both read the operator key, node key, currency and tenor
 * limit they trust from entry 0 through `genesisOf`.
 */
import { isStrictPublicKey } from '../ledger/ed25519.js';
import { ZERO_HASH, type Entry } from '../ledger/entry.js';

/** What a verifier takes from genesis. */
export interface Genesis {
  readonly name: string;
  readonly operatorKey: string;
  readonly nodeKey: string;
  readonly currency: string;
  readonly maxTenorDays: number;
}

/** The payload members of a `ledger.genesis` op, exactly these and no others. */
const GENESIS_PAYLOAD_KEYS = ['type', 'name', 'operatorKey', 'nodeKey', 'currency', 'maxTenorDays', 'createdAt'];

/**
 * The facts of `entry` if it is a genesis entry of §6: a `ledger.genesis` payload with exactly its
 * members, strict public keys, an ISO 4217 style currency and a positive tenor limit, no
 * signatures, and the zero hash as `prev`. Undefined otherwise. Whether it hashes to the ledger
 * id is the caller's check.
 */
export const genesisOf = (entry: Entry): Genesis | undefined => {
  const { payload, signatures } = entry.op;
  const p = payload as Record<string, unknown>;
  const keys = Object.keys(p);
  if (
    p.type !== 'ledger.genesis' ||
    keys.length !== GENESIS_PAYLOAD_KEYS.length ||
    !GENESIS_PAYLOAD_KEYS.every((k) => Object.hasOwn(p, k)) ||
    typeof p.name !== 'string' ||
    !isStrictPublicKey(p.operatorKey) ||
    !isStrictPublicKey(p.nodeKey) ||
    typeof p.currency !== 'string' ||
    !/^[A-Z]{3}$/.test(p.currency) ||
    typeof p.maxTenorDays !== 'number' ||
    !Number.isSafeInteger(p.maxTenorDays) ||
    p.maxTenorDays < 1 ||
    signatures.length !== 0 ||
    entry.prev !== ZERO_HASH
  ) {
    return undefined;
  }
  return { name: p.name, operatorKey: p.operatorKey as string, nodeKey: p.nodeKey as string, currency: p.currency, maxTenorDays: p.maxTenorDays };
};
