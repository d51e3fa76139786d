/**
 * The operator's or auditor's full check of a ledger (docs/protocol.md §3–§7), over `GET /v1/entries`.
 *
 * It reads the signed checkpoint first and audits exactly the entries it covers, page by page
 * (1000 a request), checking for each entry in seq order:
 *
 *  - shape, hash (SHA-256(0x00 ‖ JCS(entry))), seq continuity, `prev` link and time order
 *    (`verifyChain`);
 *  - entry 0: hashes to the ledger id and is a genesis op (which gives the node key that must
 *    have signed the checkpoint, the operator key, the currency and the tenor);
 *  - every signature under the signer's key in force at that entry (genesis's operator key, then
 *    the party.register / party.update entries before it);
 *  - optionally (default on) a replay: every op, decided by the domain's `decide` against the
 *    state of the entries before it, must be accepted;
 * and at the end that the RFC 9162 root over all entries is the checkpoint's root.
 *
 * It stops at the first discrepancy and reports its code and seq. A broken link or a wrong root
 * means some entry as served is not the entry the checkpoint covers; the audit then finds which
 * one with inclusion or consistency proofs against the checkpoint (O(log n) requests), so the
 * report names the altered entry rather than its successor.
 *
 * I/O failures (no answer, a refusal) are thrown as the client's errors: they are not findings.
 */
import { decide } from '../domain/decide.js';
import { OPERATOR_ID } from '../domain/limits.js';
import { parseOp } from '../domain/schema.js';
import { MemoryState } from '../domain/state.js';
import { verify as verifyPortable } from '../ledger/ed25519.js';
import { verifyCheckpoint, type VerifyFn } from '../ledger/checkpoint.js';
import { verifyChain, ZERO_HASH, type Entry, type HashedEntry } from '../ledger/entry.js';
import { fromHex, toHex } from '../ledger/hex.js';
import { MerkleTree, verifyConsistency, verifyInclusion } from '../ledger/merkle.js';
import { opPreimage, opPreimageFromJcs } from '../ledger/op.js';
import { sha256Hex } from '../ledger/sha256.js';
import type { LedgerClient } from './client.js';
import { genesisOf, type Genesis } from './genesis.js';

/**
 * | code                | meaning                                                                 |
 * |---------------------|-------------------------------------------------------------------------|
 * | GENESIS_MISMATCH    | entry 0 does not hash to the ledger id, or is not a genesis op          |
 * | BAD_CHECKPOINT      | the checkpoint is not signed by genesis's node key for this ledger      |
 * | MALFORMED_ENTRY     | an entry that is not the shape of §5                                    |
 * | ENTRY_HASH_MISMATCH | an entry that does not hash to the hash served with it                  |
 * | MISSING_ENTRY       | a gap: an entry's seq is not the next one, or the log ends early        |
 * | CHAIN_BROKEN        | an entry whose `prev` is not the previous entry's hash                  |
 * | TIME_DECREASED      | an entry whose time is before the previous entry's                      |
 * | UNKNOWN_SIGNER      | a signer with no key in force at that entry                             |
 * | BAD_SIGNATURE       | a signature that does not verify under the signer's key at that entry   |
 * | REPLAY_REFUSED      | an op that §7 refuses against the state of the entries before it        |
 * | ENTRY_NOT_IN_TREE   | an entry as served is not the one the signed checkpoint covers          |
 * | ROOT_MISMATCH       | the root over all entries is not the checkpoint's (and no entry found)  |
 */
export type AuditFailureCode =
  | 'GENESIS_MISMATCH'
  | 'BAD_CHECKPOINT'
  | 'MALFORMED_ENTRY'
  | 'ENTRY_HASH_MISMATCH'
  | 'MISSING_ENTRY'
  | 'CHAIN_BROKEN'
  | 'TIME_DECREASED'
  | 'UNKNOWN_SIGNER'
  | 'BAD_SIGNATURE'
  | 'REPLAY_REFUSED'
  | 'ENTRY_NOT_IN_TREE'
  | 'ROOT_MISMATCH';

export interface AuditFailure {
  readonly code: AuditFailureCode;
  readonly seq?: number;
  readonly signer?: string;
  readonly detail: string;
}

export interface AuditProgress {
  readonly checked: number;
  readonly total: number;
  readonly entriesPerSecond: number;
}

export interface AuditOptions {
  /** The ledger id to trust; default the one the service states (genesis must hash to it). */
  readonly ledgerId?: string;
  /** Signature verifier; default the portable one. The CLI passes node:crypto's `verifyNode`. */
  readonly verify?: VerifyFn;
  /** Entries a request, 1–1000; default 1000. */
  readonly pageLimit?: number;
  /** Replay every op under §7 with `decide` (default true). Needs memory for the whole state. */
  readonly replay?: boolean;
  readonly onProgress?: (p: AuditProgress) => void;
  /**
   * Verifies many signatures at once (e.g. on worker threads: `VerifyPool` of
   * src/ledger/node/verify-pool.ts); results in the order given. When set, each page's signatures are
   * verified together, under the keys in force at each entry, while the next page is fetched.
   */
  readonly verifyMany?: VerifyMany;
}

export interface VerifyItem {
  readonly publicKey: string;
  readonly msg: Uint8Array;
  readonly sig: string;
}

export type VerifyMany = (items: readonly VerifyItem[]) => Promise<readonly boolean[]>;

export interface AuditReport {
  readonly ok: boolean;
  readonly ledgerId: string;
  /** The audited checkpoint. */
  readonly checkpointSize: number;
  readonly checkpointRoot: string;
  readonly entriesChecked: number;
  readonly signaturesChecked: number;
  readonly seconds: number;
  readonly entriesPerSecond: number;
  readonly firstFailure?: AuditFailure;
}

const PAGE_LIMIT_DEFAULT = 1000;

const CHAIN_CODES = {
  BAD_ENTRY: 'MALFORMED_ENTRY',
  HASH_MISMATCH: 'ENTRY_HASH_MISMATCH',
  SEQ_GAP: 'MISSING_ENTRY',
  CHAIN_BROKEN: 'CHAIN_BROKEN',
  TIME_DECREASED: 'TIME_DECREASED',
} as const satisfies Record<string, AuditFailureCode>;

class Found extends Error {
  constructor(readonly failure: AuditFailure) {
    super(failure.detail);
  }
}

/** [partyId, new key] if the payload registers a party or changes its key. */
const keyChange = (payload: unknown): [string, string] | undefined => {
  const p = payload as Record<string, unknown>;
  const party = p.party as Record<string, unknown> | undefined;
  if (p.type === 'party.register' && typeof party?.id === 'string' && typeof party.publicKey === 'string') return [party.id, party.publicKey];
  if (p.type === 'party.update' && typeof p.partyId === 'string' && typeof p.publicKey === 'string') return [p.partyId, p.publicKey];
  return undefined;
};

/** Audits the ledger behind `client` (whose key must be the operator's or an auditor's). */
export async function audit(client: LedgerClient, options: AuditOptions = {}): Promise<AuditReport> {
  const started = performance.now();
  const verify = options.verify ?? verifyPortable;
  const pageLimit = options.pageLimit ?? PAGE_LIMIT_DEFAULT;
  const replay = options.replay ?? true;

  const info = await client.ledger();
  const ledgerId = options.ledgerId ?? info.ledgerId;
  const note = await client.checkpoint();
  // The checkpoint's size and root are read unverified until genesis gives the node key.
  const claimed = /^[^\n]*\n(0|[1-9][0-9]{0,15})\n/.exec(note);
  // At least genesis is read, which then verifies the note and fixes the size.
  let size = Math.max(claimed ? Number(claimed[1]) : 0, 1);
  let root = '';

  const tree = new MerkleTree();
  let keys = new Map<string, string>();
  let state: MemoryState | undefined;
  let genesis: Genesis | undefined;
  let checked = 0;
  let signatures = 0;

  const elapsed = (): number => (performance.now() - started) / 1000;
  const report = (failure?: AuditFailure): AuditReport => {
    const seconds = elapsed();
    return {
      ok: failure === undefined,
      ledgerId,
      checkpointSize: size,
      checkpointRoot: root,
      entriesChecked: checked,
      signaturesChecked: signatures,
      seconds,
      entriesPerSecond: seconds > 0 ? checked / seconds : 0,
      ...(failure ? { firstFailure: failure } : {}),
    };
  };

  /**
   * A page's signatures verified ahead (`verifyMany`, on worker threads) while the page before it
   * is replayed: for entry seq, `${key}|${sig}` → result, under the keys the entries before it
   * leave in force (`scanKeys` follows the log page by page, ahead of `keys`). Only a cache:
   * checkEntry verifies anything missing from it, and unknown signers are left to checkEntry.
   */
  type Verified = Map<number, Map<string, boolean>>;
  let ahead: Verified = new Map();
  const scanKeys = new Map<string, string>();
  /** Each entry's op preimage, made once (canonicalizing a payload is not free). */
  const preimages = new WeakMap<Entry, Uint8Array>();
  /** JCS(payload) of each entry, left by verifyChain, which built the entry's text around it. */
  const payloadJcs = new WeakMap<Entry, string>();
  const preimageOf = (entry: Entry): Uint8Array => {
    let p = preimages.get(entry);
    if (p === undefined) {
      const jcs = payloadJcs.get(entry);
      p = jcs === undefined ? opPreimage(entry.op.payload) : opPreimageFromJcs(jcs);
      preimages.set(entry, p);
    }
    return p;
  };
  const verifyAhead = async (items: readonly HashedEntry[]): Promise<Verified> => {
    const verified: Verified = new Map();
    if (!options.verifyMany) return verified;
    const wanted: VerifyItem[] = [];
    const where: [number, string][] = [];
    for (const { entry } of items) {
      if (entry.seq === 0) {
        const g = genesisOf(entry);
        if (g) scanKeys.set(OPERATOR_ID, g.operatorKey);
        continue;
      }
      const preimage = preimageOf(entry);
      for (const s of entry.op.signatures) {
        const key = typeof s?.signer === 'string' ? scanKeys.get(s.signer) : undefined;
        if (key === undefined || typeof s.sig !== 'string') continue;
        wanted.push({ publicKey: key, msg: preimage, sig: s.sig });
        where.push([entry.seq, `${key}|${s.sig}`]);
      }
      const change = keyChange(entry.op.payload);
      if (change) scanKeys.set(change[0], change[1]);
    }
    const results = await options.verifyMany(wanted);
    where.forEach(([seq, id], i) => {
      let m = verified.get(seq);
      if (!m) verified.set(seq, (m = new Map()));
      m.set(id, results[i] === true);
    });
    return verified;
  };

  /** Checks one entry whose shape, hash, seq and link verifyChain has already checked. */
  const checkEntry = ({ entry, hash }: HashedEntry): void => {
    const seq = entry.seq;
    if (seq === 0) {
      if (hash !== ledgerId) throw new Found({ code: 'GENESIS_MISMATCH', seq, detail: `entry 0 hashes to ${hash}, not to the ledger id ${ledgerId}` });
      genesis = genesisOf(entry);
      if (!genesis) throw new Found({ code: 'GENESIS_MISMATCH', seq, detail: 'entry 0 is not a ledger.genesis op' });
      const cp = verifyCheckpoint(note, { ledgerId, nodePublicKey: genesis.nodeKey, verify });
      if (!cp.ok) throw new Found({ code: 'BAD_CHECKPOINT', detail: `${cp.code}: ${cp.detail}` });
      size = cp.size;
      root = cp.root;
      keys = new Map([[OPERATOR_ID, genesis.operatorKey]]);
      if (replay) state = new MemoryState({ operatorPublicKey: genesis.operatorKey });
      tree.append(fromHex(hash, 32));
      checked += 1;
      return;
    }
    const g = genesis!;
    const payload = entry.op.payload;
    const preimage = preimageOf(entry);
    const results = new Map<string, boolean>();
    for (const s of entry.op.signatures) {
      const key = typeof s?.signer === 'string' ? keys.get(s.signer) : undefined;
      if (key === undefined) {
        throw new Found({
          code: 'UNKNOWN_SIGNER',
          seq,
          signer: String(s?.signer),
          detail: `entry ${seq} is signed by ${String(s?.signer)}, who has no key at that entry`,
        });
      }
      signatures += 1;
      const ok = ahead.get(seq)?.get(`${key}|${String(s.sig)}`) ?? verify(key, preimage, String(s.sig));
      if (!ok) throw new Found({ code: 'BAD_SIGNATURE', seq, signer: s.signer, detail: `the signature of ${s.signer} on entry ${seq} does not verify` });
      results.set(`${key}|${s.sig}`, true);
    }
    if (state) {
      const parsed = parseOp(entry.op);
      if (!parsed.ok) throw new Found({ code: 'REPLAY_REFUSED', seq, detail: `entry ${seq} is not a valid op: ${parsed.detail}` });
      let decision: ReturnType<typeof decide>;
      try {
        decision = decide(state, parsed.op, {
          ledgerId,
          currency: g.currency,
          maxTenorDays: g.maxTenorDays,
          seq,
          time: entry.time,
          opId: sha256Hex(preimage),
          nodeKey: g.nodeKey,
          verifySignature: (publicKey, sig) => results.get(`${publicKey}|${sig}`) ?? verify(publicKey, preimage, sig),
        });
      } catch (err) {
        throw new Found({ code: 'REPLAY_REFUSED', seq, detail: `entry ${seq} breaks an invariant: ${err instanceof Error ? err.message : String(err)}` });
      }
      if (!decision.ok) {
        throw new Found({
          code: 'REPLAY_REFUSED',
          seq,
          detail: `entry ${seq} (${parsed.op.payload.type}) would be refused: ${decision.code}: ${decision.detail}`,
        });
      }
      state.apply(decision.effects);
    }
    const change = keyChange(payload);
    if (change) keys.set(change[0], change[1]);
    tree.append(fromHex(hash, 32));
    checked += 1;
  };

  try {
    let prev = ZERO_HASH;
    let lastTime: string | undefined;
    let next = 0;
    // Three stages overlap: the next page is fetched, this page's signatures are verified on the
    // workers, and the page before it is replayed here.
    const fetchPage = (from: number) => client.entries(from, Math.min(pageLimit, Math.max(size - from, 1)));
    let pending: ReturnType<LedgerClient['entries']> | undefined;
    /** A page whose chain is checked and whose signatures are being verified, waiting for replay. */
    let queued: { items: readonly HashedEntry[]; verified: Promise<Verified> } | undefined;
    const replayQueued = async (): Promise<void> => {
      if (!queued) return;
      const q = queued;
      queued = undefined;
      ahead = await q.verified;
      for (const item of q.items) checkEntry(item);
      const seconds = elapsed();
      options.onProgress?.({ checked, total: size, entriesPerSecond: seconds > 0 ? checked / seconds : 0 });
    };
    while (next < size) {
      const page = await (pending ?? fetchPage(next));
      pending = undefined;
      const items = page.entries.slice(0, size - next);
      if (items.length === 0) {
        await replayQueued(); // an earlier finding wins
        throw new Found({ code: 'MISSING_ENTRY', seq: next, detail: `the log ends at ${next}; the checkpoint covers ${size}` });
      }
      const chain = verifyChain(items, prev, { startSeq: next, payloadJcs, ...(lastTime === undefined ? {} : { startTime: lastTime }) });
      if (!chain.ok) {
        // The entries before the bad one are fine: check them first, so the first finding wins.
        await replayQueued();
        ahead = new Map();
        const at = 'position' in chain ? chain : { ...chain, seq: next, position: 0 };
        for (const item of items.slice(0, at.position)) checkEntry(item);
        if (at.code === 'CHAIN_BROKEN') throw new Found(await locateBrokenLink(client, at.seq, tree, size, root));
        const code = CHAIN_CODES[at.code as keyof typeof CHAIN_CODES] ?? 'MALFORMED_ENTRY';
        throw new Found({ code, seq: at.seq, detail: at.detail });
      }
      const following = chain.nextSeq;
      if (following < size && genesis !== undefined) pending = fetchPage(following);
      pending?.catch(() => undefined); // a failed prefetch is thrown when awaited
      const verified = verifyAhead(items);
      verified.catch(() => undefined); // thrown when awaited
      await replayQueued();
      queued = { items, verified };
      prev = chain.head;
      lastTime = chain.lastTime;
      next = chain.nextSeq;
      // The first page holds genesis, which fixes the size and the first keys: replay it now.
      if (genesis === undefined) await replayQueued();
    }
    await replayQueued();
    const computed = toHex(tree.root(size));
    if (computed !== root) throw new Found(await locateDivergence(client, tree, size, root));
  } catch (err) {
    if (err instanceof Found) return report(err.failure);
    throw err;
  }
  return report();
}

/**
 * `verifyChain` found entry `seq`'s `prev` is not entry `seq - 1`'s hash. If entry `seq - 1` as
 * served is not in the checkpoint's tree, it is the altered one; otherwise entry `seq` is.
 */
async function locateBrokenLink(client: LedgerClient, seq: number, tree: MerkleTree, size: number, root: string): Promise<AuditFailure> {
  const before = seq - 1;
  const proof = await client.inclusion(before, size);
  const ours = tree.node(0, before);
  if (!verifyInclusion(ours, before, size, proof.hashes, root).ok) {
    return { code: 'ENTRY_NOT_IN_TREE', seq: before, detail: `entry ${before} as served is not the entry the checkpoint of size ${size} covers` };
  }
  return { code: 'CHAIN_BROKEN', seq, detail: `entry ${seq}'s prev is not entry ${before}'s hash` };
}

/**
 * The root over all entries is not the checkpoint's: find the first entry whose prefix is not
 * consistent with the checkpoint, by bisection over consistency proofs (O(log n) requests).
 */
async function locateDivergence(client: LedgerClient, tree: MerkleTree, size: number, root: string): Promise<AuditFailure> {
  const consistent = async (m: number): Promise<boolean> => {
    const proof = await client.consistency(m, size);
    return verifyConsistency(m, size, proof.hashes, tree.root(m), root).ok;
  };
  // Invariant: prefix `lo` is consistent (0 always is), prefix `hi` is not (`size` is not).
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await consistent(mid)) lo = mid;
    else hi = mid;
  }
  const seq = hi - 1;
  if (seq >= 0) {
    return { code: 'ENTRY_NOT_IN_TREE', seq, detail: `entry ${seq} as served is not the entry the checkpoint of size ${size} covers` };
  }
  return { code: 'ROOT_MISMATCH', detail: `the root over ${size} entries is not the checkpoint's root` };
}
