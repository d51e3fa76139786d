/**
 * A §9 proof bundle as plain, writable JSON, for tests that tamper with one: look an entry up by
 * seq, re-hash it after an edit, re-sign an op with a party's key (what a forger holding that key
 * could do).
 */
import { sign } from '../../src/ledger/ed25519.js';
import { entryHash } from '../../src/ledger/entry.js';
import { opPreimage } from '../../src/ledger/op.js';

export interface MEntry {
  v: 1;
  seq: number;
  time: string;
  prev: string;
  op: { payload: Record<string, unknown>; signatures: { signer: string; sig: string }[] };
}

export interface MBundle {
  ledger: Record<string, unknown>;
  checkpoint: string;
  voucherId: string;
  entries: { entry: MEntry; hash: string; inclusion: string[] }[];
  state: Record<string, unknown>;
}

/** The bundle's item of entry `seq`; throws if the bundle has none. */
export const entryAt = (b: MBundle, seq: number): MBundle['entries'][number] => {
  const item = b.entries.find((e) => e.entry.seq === seq);
  if (!item) throw new Error(`no entry ${seq} in the bundle`);
  return item;
};

/** Sets the item's hash to its (edited) entry's hash. */
export const rehash = (item: { entry: MEntry; hash: string }): void => {
  item.hash = entryHash(item.entry as never);
};

/** Replaces `key.party`'s signature on the entry's op with a fresh one over the (edited) payload. */
export const resign = (entry: MEntry, key: { party: string; secretKey: string }): void => {
  const s = entry.op.signatures.find((x) => x.signer === key.party);
  if (!s) throw new Error(`${key.party} did not sign entry ${entry.seq}`);
  s.sig = sign(key.secretKey, opPreimage(entry.op.payload));
};
