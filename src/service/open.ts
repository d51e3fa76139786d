/**
 * Start-up (docs/protocol.md §6, §10). On an empty data folder: write genesis, its state seal and
 * the key files. On a non-empty one:
 *
 *  1. the log against what the node signed before — the stored checkpoint, the state seal
 *     (src/service/state-seal.ts) and the checkpoint kept beside the node key
 *     (src/service/outside-checkpoint.ts) — without replaying any op: quickly (the head, the
 *     tree's right edge, the last entries; the whole log then in the background) or wholly
 *     before serving (every entry's hash, seq, `prev` link and time, and the Merkle root at each
 *     signed size). A log that is shorter than any of them, or whose root differs at their size,
 *     or that leaves receipts past its end, is refused: start-up stops naming the first bad seq;
 *  2. the decision state against its seal: every party, key owner, voucher and invoice record is
 *     hashed again and the sum compared with the sealed digest. Reads are served meanwhile;
 *     writes are held until it passes, and refused (read-only) if it fails or if there is no
 *     valid seal (`npm run reseal` rebuilds one after replaying the whole log);
 *  3. entries stored past the sealed state (which no crash leaves: a commit, its checkpoint and
 *     its seal are one atomic write) are verified in full — signatures, §7, the entry text — and
 *     applied before the node signs a checkpoint over them; the first that fails makes the
 *     service read-only naming its seq.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CURRENCY_DEFAULT, OPERATOR_ID, operatorParty } from '../domain/index.js';
import { signCheckpoint, verifyCheckpoint } from '../ledger/checkpoint.js';
import { signNode, verifyNode } from '../ledger/node/ed25519-node.js';
import { entryHashOfText, entryTail, ZERO_HASH } from '../ledger/entry.js';
import { bytesEqual, toHex } from '../ledger/hex.js';
import { installNodeSha256 } from '../ledger/node/sha256-node.js';
import { canonicalize } from '../ledger/jcs.js';
import { opId } from '../ledger/op.js';
import { ANY_HEAD, emptyBatch, sameHead, type Head, type LedgerMeta, type StateSeal, type Store } from '../store/port.js';
import { openStore } from '../store/open-store.js';
import type { Config } from './config.js';
import { newKeyFile, readKeyFile, writeKeyFile, type KeyFile } from './keyfile.js';
import { LedgerService, type LedgerServiceOptions, type LogOfRecord } from './ledger-service.js';
import { Frontier } from './merkle-log.js';
import type { Metrics } from './metrics.js';
import { outsideCheckpointFile, readOutsideCheckpoint } from './outside-checkpoint.js';
import { applyWrites, Digest, findBadRecord, scanState, SealKey } from './state-seal.js';

/** §6: the tenor limit every ledger of protocol v1 is created with. */
export const MAX_TENOR_DAYS = 365;

export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    /** The first sequence number found bad, when the log itself is at fault. */
    readonly seq?: number,
  ) {
    super(message);
  }
}

export interface Opened {
  readonly service: LedgerService;
  /** True when this start wrote genesis. */
  readonly created: boolean;
  /** Where the generated operator key was written, if it was. */
  readonly operatorKeyFile: string | undefined;
  readonly nodeKeyFile: string;
}

export type OpenOptions = Pick<Config, 'dataDir' | 'ledgerName' | 'operatorPublicKey' | 'nodeKeyFile'> & {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  /** Wraps the store (fault injection in tests). */
  readonly wrapStore?: (store: Store) => Store;
  /**
   * `tail` (the default): check the head, the checkpoint, the stored tree's right edge and the
   * last `tailEntries` entries before serving, then the whole log in the background (a failure
   * there makes the service read-only). `full`: the whole log before serving.
   */
  readonly startupVerify?: StartupVerify;
  readonly tailEntries?: number;
  /**
   * Keep the newest signed checkpoint beside the node key (default true). The check of that file
   * at start happens either way; a restore's trial open only checks.
   */
  readonly keepCheckpoint?: boolean;
  /**
   * Cluster mode (src/cluster): the log of record the writer appends to, and the genesis entry it
   * holds (a node on an empty folder writes this one rather than making its own). The checkpoint
   * beside the node key is neither kept nor checked: every node shares that key, and the log of
   * record, checked against this node's store at start, plays its part.
   */
  readonly clusterLog?: { readonly log: LogOfRecord; readonly genesisText: string | undefined };
};

export type StartupVerify = 'full' | 'tail';

/** Entries the quick start checks one by one. */
export const STARTUP_TAIL_ENTRIES = 1000;

/** The writer over a verified (or new) ledger. */
const serve = (
  o: OpenOptions,
  state: Pick<LedgerServiceOptions, 'store' | 'meta' | 'head' | 'frontier' | 'checkpoint' | 'nodeSeed' | 'sealKey' | 'digest'>,
): LedgerService => {
  o.metrics?.setSize(state.head.size);
  const service = new LedgerService({
    ...state,
    ...(o.keepCheckpoint === false || o.clusterLog ? {} : { checkpointFile: outsideCheckpointFile(o.nodeKeyFile) }),
    ...(o.clusterLog ? { log: o.clusterLog.log } : {}),
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  void service.fillOpIndex();
  return service;
};

/** Reads a key file, or creates one (0600) if it does not exist and `create` allows. */
export const loadOrCreateKey = async (file: string, party: string, create: boolean): Promise<{ key: KeyFile; created: boolean }> => {
  if (existsSync(file)) return { key: await readKeyFile(file), created: false };
  if (!create) throw new StartupError(`key file ${file} is missing`);
  const key = newKeyFile(party);
  await writeKeyFile(file, key);
  return { key, created: true };
};

export const openLedger = async (o: OpenOptions): Promise<Opened> => {
  installNodeSha256();
  await fs.mkdir(o.dataDir, { recursive: true });
  // A cluster node's store is rebuilt from the log of record after a crash: no fsync per commit.
  const raw = openStore({ kind: 'level', dataDir: o.dataDir, sync: o.clusterLog === undefined });
  const store = o.wrapStore ? o.wrapStore(raw) : raw;
  await store.open();
  try {
    const meta = await store.meta();
    const given = o.clusterLog?.genesisText;
    if (meta && given !== undefined) {
      const theirs = toHex(entryHashOfText(given));
      if (theirs !== meta.ledgerId) {
        throw new StartupError(
          `the data folder ${o.dataDir} holds ledger ${meta.ledgerId}, but the cluster database holds ledger ${theirs}: refusing to start`,
        );
      }
    }
    if (meta) return await recover(store, meta, o);
    return given === undefined ? await genesis(store, o) : await joinGenesis(store, o, given);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
};

/** The genesis entry (§6) a new ledger starts with: its text, hash (the ledger id) and facts. */
export const makeGenesis = (o: { ledgerName: string; operatorKey: string; nodeKey: string; createdAt: string }): { text: string; meta: LedgerMeta } => {
  const payload = {
    type: 'ledger.genesis',
    name: o.ledgerName,
    operatorKey: o.operatorKey,
    nodeKey: o.nodeKey,
    currency: CURRENCY_DEFAULT,
    maxTenorDays: MAX_TENOR_DAYS,
    createdAt: o.createdAt,
  };
  const text = canonicalize({ v: 1, seq: 0, time: o.createdAt, prev: ZERO_HASH, op: { payload, signatures: [] } });
  const meta: LedgerMeta = {
    ledgerId: toHex(entryHashOfText(text)),
    name: o.ledgerName,
    nodeKey: o.nodeKey,
    operatorKey: o.operatorKey,
    currency: CURRENCY_DEFAULT,
    maxTenorDays: MAX_TENOR_DAYS,
    createdAt: o.createdAt,
  };
  return { text, meta };
};

/** The ledger's facts from a genesis entry's text, or why it is not one this node can take. */
const genesisFacts = (text: string): LedgerMeta | string => {
  let entry: { seq?: unknown; prev?: unknown; op?: { payload?: Record<string, unknown>; signatures?: unknown } };
  try {
    entry = JSON.parse(text) as typeof entry;
  } catch {
    return 'it is not JSON';
  }
  const p = entry.op?.payload;
  if (entry.seq !== 0 || entry.prev !== ZERO_HASH || !p || p.type !== 'ledger.genesis') return 'it is not a genesis entry';
  const { name, operatorKey, nodeKey, currency, maxTenorDays, createdAt } = p;
  if (
    typeof name !== 'string' ||
    typeof operatorKey !== 'string' ||
    typeof nodeKey !== 'string' ||
    typeof currency !== 'string' ||
    typeof maxTenorDays !== 'number' ||
    typeof createdAt !== 'string'
  ) {
    return 'its payload lacks a field';
  }
  if (canonicalize(entry) !== text) return 'it is not in canonical form';
  return { ledgerId: toHex(entryHashOfText(text)), name, operatorKey, nodeKey, currency, maxTenorDays, createdAt };
};

/**
 * A node on an empty folder joining a ledger whose genesis the log of record holds: that genesis,
 * written locally, if this node's key is the one it names and the configured operator key (if
 * any) is its operator's.
 */
const joinGenesis = async (store: Store, o: OpenOptions, text: string): Promise<Opened> => {
  const meta = genesisFacts(text);
  if (typeof meta === 'string') throw new StartupError(`the log of record's first entry is not a genesis this node can take: ${meta}`, 0);
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', false);
  if (node.key.publicKey !== meta.nodeKey) {
    throw new StartupError(
      `node key file ${o.nodeKeyFile} holds ${node.key.publicKey}, but ledger ${meta.ledgerId} in the log of record names node key ${meta.nodeKey}: refusing to join`,
    );
  }
  if (o.operatorPublicKey !== undefined && o.operatorPublicKey !== meta.operatorKey) {
    throw new StartupError(
      `LEDGER_OPERATOR_PUBLIC_KEY is ${o.operatorPublicKey}, but ledger ${meta.ledgerId} in the log of record has operator key ${meta.operatorKey}: refusing to join`,
    );
  }
  return commitGenesis(store, o, node.key, text, meta, undefined);
};

const genesis = async (store: Store, o: OpenOptions): Promise<Opened> => {
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', true);
  const kept = outsideCheckpointFile(o.nodeKeyFile);
  const keptNote = await readOutsideCheckpoint(kept);
  if (keptNote !== undefined) {
    throw new StartupError(
      `${kept} holds a checkpoint this node signed (${keptNote.split('\n', 1)[0]}), but the data folder has no ledger: ` +
        'its database was removed or moved. Restore it, or move that file aside to start a new ledger with this node key',
    );
  }
  let operatorKey = o.operatorPublicKey;
  let operatorKeyFile: string | undefined;
  if (operatorKey === undefined) {
    operatorKeyFile = path.join(o.dataDir, 'operator.key');
    // A key file left by a start that crashed before genesis was durable is reused.
    operatorKey = (await loadOrCreateKey(operatorKeyFile, OPERATOR_ID, true)).key.publicKey;
  }
  const createdAt = new Date((o.now ?? Date.now)()).toISOString();
  const { text, meta } = makeGenesis({ ledgerName: o.ledgerName, operatorKey, nodeKey: node.key.publicKey, createdAt });
  return commitGenesis(store, o, node.key, text, meta, operatorKeyFile);
};

/** Writes genesis (`text`, whose facts are `meta`) to an empty store and starts serving on it. */
const commitGenesis = async (
  store: Store,
  o: OpenOptions,
  node: KeyFile,
  text: string,
  meta: LedgerMeta,
  operatorKeyFile: string | undefined,
): Promise<Opened> => {
  const { ledgerId, operatorKey, createdAt } = meta;
  const payload = (JSON.parse(text) as { op: { payload: unknown } }).op.payload;
  const operator = operatorParty({ operatorPublicKey: operatorKey });
  const frontier = new Frontier();
  const nodes = frontier.append(entryHashOfText(text));
  const head: Head = { size: 1, lastHash: ledgerId, lastTime: createdAt };
  const checkpoint = signCheckpoint({ ledgerId, size: 1, root: frontier.root() }, node.secretKey, signNode, node.publicKey);
  const sealKey = SealKey.fromSeed(node.secretKey);
  const digest = Digest.zero();
  const sealed = { parties: [operator], keyOwners: [[operatorKey, OPERATOR_ID]] as const, vouchers: [], invoicesUsed: [], invoicesFreed: [] };
  applyWrites(sealKey, digest, sealed, { party: () => null, keyOwner: () => null, voucher: () => null, invoice: () => null });
  await store.commit({
    ...emptyBatch(undefined, head, checkpoint, sealKey.seal(1, toHex(frontier.root()), digest)),
    meta,
    entries: [{ seq: 0, text, hash: ledgerId, opId: opId(payload), effects: JSON.stringify({ vouchers: [], parties: [operator] }) }],
    parties: [operator],
    keyOwners: [[operatorKey, OPERATOR_ID]],
    partySeqs: [[OPERATOR_ID, 0]],
    treeNodes: nodes,
  });
  o.logger.info({ ledgerId, name: meta.name }, 'genesis written');
  const service = serve(o, { store, meta, head, frontier, checkpoint, nodeSeed: node.secretKey, sealKey, digest });
  service.keepCheckpoint();
  return { service, created: true, operatorKeyFile, nodeKeyFile: o.nodeKeyFile };
};

/** Entries read per store call while verifying. */
const VERIFY_CHUNK = 2048;

/** What a verification of stored entries establishes: the log's end and its tree. */
interface Verified {
  readonly head: Head;
  readonly frontier: Frontier;
}

/** Something the node signed or sealed about the log: its size, and its root at that size (§6). */
export interface Claim {
  /** What it is, for messages: "the checkpoint", "the state seal", … */
  readonly what: string;
  readonly size: number;
  readonly root: string | undefined;
}

/**
 * Checks one stored entry against the one before it: seq, shape, `prev` link and time, and
 * returns its hash. On a broken link the stored leaf of the previous entry tells whether that
 * entry or this one changed.
 */
const checkEntry = async (
  store: Store,
  seq: number,
  text: string,
  prev: string,
  lastTime: string,
): Promise<{ hash: Uint8Array; hex: string; time: string }> => {
  const tail = entryTail(text);
  if (!tail || tail.seq !== seq) throw new StartupError(`entry ${seq} is not a well-formed entry`, seq);
  if (tail.prev !== prev) {
    // Either entry seq-1 changed (so its hash did) or entry seq's prev did: the stored leaf of
    // seq-1, written when it was appended, tells which.
    const leaf = seq === 0 ? undefined : await store.treeNode({ level: 0, index: seq - 1 });
    const bad = seq > 0 && leaf !== undefined && toHex(leaf) === prev ? seq : Math.max(seq - 1, 0);
    throw new StartupError(`entry ${seq}'s prev is not the hash of entry ${seq - 1}: the log was altered at seq ${bad}`, bad);
  }
  const time = tail.time;
  if (time < lastTime) throw new StartupError(`entry ${seq} goes back in time`, seq);
  const hash = entryHashOfText(text);
  return { hash, hex: toHex(hash), time };
};

/**
 * The whole log against what the node signed, without replaying any op: every entry's seq, shape,
 * `prev` link, time and hash, the Merkle root at each claim's size, and the stored right edge of
 * the tree. Throws a `StartupError` naming the first bad seq. Returns the log's end and, for each
 * claim's size, the head and tree there. `onProgress` sees the count.
 */
export const verifyWholeLog = async (
  store: Store,
  meta: LedgerMeta,
  claims: readonly Claim[],
  onProgress?: (verified: number) => void,
): Promise<Verified & { readonly at: ReadonlyMap<number, Verified> }> => {
  const frontier = new Frontier();
  let prev = ZERO_HASH;
  let lastTime = '';
  const sizes = new Set(claims.map((c) => c.size));
  const at = new Map<number, Verified>();
  if (sizes.has(0)) at.set(0, { head: { size: 0, lastHash: ZERO_HASH, lastTime: '' }, frontier: frontier.fork() });
  for (;;) {
    const chunk = await store.entries(frontier.size, VERIFY_CHUNK);
    for (const { seq, text } of chunk) {
      if (seq !== frontier.size) {
        throw new StartupError(`the log has no entry ${frontier.size} (the next stored entry is ${seq})`, frontier.size);
      }
      const { hash, hex, time } = await checkEntry(store, seq, text, prev, lastTime);
      if (seq === 0 && hex !== meta.ledgerId) throw new StartupError('entry 0 does not hash to the ledger id', 0);
      frontier.append(hash);
      prev = hex;
      lastTime = time;
      if (sizes.has(frontier.size)) at.set(frontier.size, { head: { size: frontier.size, lastHash: prev, lastTime }, frontier: frontier.fork() });
    }
    onProgress?.(frontier.size);
    if (chunk.length < VERIFY_CHUNK) break;
  }
  const size = frontier.size;
  for (const claim of claims) {
    const there = at.get(claim.size);
    if (size < claim.size || there === undefined) {
      throw new StartupError(`the log has ${size} entries but ${claim.what} covers ${claim.size}: entries were removed`, size);
    }
    if (claim.root !== undefined && toHex(there.frontier.root()) !== claim.root) {
      const bad = await firstBadLeaf(store, claim.size);
      throw new StartupError(
        `the log's Merkle root at size ${claim.size} does not match ${claim.what}` +
          (bad === undefined ? ': the log was rewritten' : `; the first bad entry is ${bad}`),
        bad,
      );
    }
  }
  // The stored tree must agree with the entries where proofs will read it.
  const frontierStored = await Frontier.load(size, (at) => store.treeNodes(at)).catch(() => undefined);
  if (!frontierStored || !bytesEqual(frontierStored.root(), frontier.root())) {
    const bad = await firstBadLeaf(store, size);
    throw new StartupError('the stored Merkle nodes do not match the log', bad ?? size - 1);
  }
  return { head: { size, lastHash: prev, lastTime }, frontier, at };
};

/**
 * The quick start (STARTUP_VERIFY=tail): O(log n + tail) reads instead of the whole log. The
 * stored head must match the checkpoint's size, the stored right edge of the tree must give the
 * checkpoint's root, and the last `tail` entries must hash to their stored leaves, link up by
 * `prev`, keep time, and end at the head. Any doubt returns undefined: the caller then verifies the
 * whole log, which names the first bad seq.
 */
const verifyTail = async (store: Store, storedHead: Head | undefined, claimed: Claim, tail: number): Promise<Verified | undefined> => {
  if (!storedHead || storedHead.size !== claimed.size || claimed.root === undefined || storedHead.size < 1) return undefined;
  const size = storedHead.size;
  const frontier = await Frontier.load(size, (at) => store.treeNodes(at)).catch(() => undefined);
  if (!frontier || toHex(frontier.root()) !== claimed.root) return undefined;
  if ((await store.entry(size)) !== undefined) return undefined; // entries past the head
  const from = Math.max(0, size - tail);
  const entries = await store.entries(from, size - from);
  const leaves = await store.treeNodes(entries.map((e) => ({ level: 0, index: e.seq })));
  const before = from === 0 ? undefined : await store.treeNode({ level: 0, index: from - 1 });
  if (from > 0 && before === undefined) return undefined;
  let prev = before === undefined ? ZERO_HASH : toHex(before);
  let lastTime = '';
  for (const [i, { seq, text }] of entries.entries()) {
    if (seq !== from + i) return undefined;
    const tailOf = entryTail(text);
    if (!tailOf || tailOf.seq !== seq || tailOf.prev !== prev) return undefined;
    const time = tailOf.time;
    if (time < lastTime) return undefined;
    const hash = entryHashOfText(text);
    const leaf = leaves[i];
    if (!leaf || !bytesEqual(leaf, hash)) return undefined;
    prev = toHex(hash);
    lastTime = time;
  }
  if (entries.length !== size - from || prev !== storedHead.lastHash || lastTime !== storedHead.lastTime) return undefined;
  return { head: storedHead, frontier };
};

/** Why a folder without a valid seal is read-only, and what the operator does about it. */
const RESEAL_HINT =
  'stop the service and run `npm run reseal -- --data-dir <data folder>`, which replays and checks the whole log before it seals the state again';

/** The checkpoint kept beside the node key, verified, as a claim; undefined if there is none. */
export const keptClaim = async (nodeKeyFile: string, meta: LedgerMeta): Promise<Claim | undefined> => {
  const file = outsideCheckpointFile(nodeKeyFile);
  const note = await readOutsideCheckpoint(file);
  if (note === undefined) return undefined;
  const origin = note.split('\n', 1)[0] ?? '';
  if (origin !== `rvl/${meta.ledgerId}`) {
    throw new StartupError(
      `${file} holds a checkpoint of another ledger (${origin}); this is ledger ${meta.ledgerId}. Move that file aside if this is deliberate`,
    );
  }
  const cp = verifyCheckpoint(note, { ledgerId: meta.ledgerId, nodePublicKey: meta.nodeKey, verify: verifyNode });
  if (!cp.ok) throw new StartupError(`${file} does not verify under the node key: ${cp.code} ${cp.detail}`);
  return { what: `the checkpoint kept in ${file}`, size: cp.size, root: cp.root };
};

/**
 * The ledger's facts as stored (which `decide` reads: currency, tenor) must be genesis's: entry 0
 * must hash to the ledger id (which every checkpoint's origin line binds) and state them.
 */
export const checkMeta = async (store: Store, meta: LedgerMeta): Promise<void> => {
  const text = await store.entry(0);
  if (text === undefined || toHex(entryHashOfText(text)) !== meta.ledgerId) throw new StartupError('entry 0 does not hash to the ledger id', 0);
  const g = (JSON.parse(text) as { op: { payload: Record<string, unknown> } }).op.payload;
  const stated = { name: g.name, nodeKey: g.nodeKey, operatorKey: g.operatorKey, currency: g.currency, maxTenorDays: g.maxTenorDays, createdAt: g.createdAt };
  const stored = {
    name: meta.name,
    nodeKey: meta.nodeKey,
    operatorKey: meta.operatorKey,
    currency: meta.currency,
    maxTenorDays: meta.maxTenorDays,
    createdAt: meta.createdAt,
  };
  if (JSON.stringify(stated) !== JSON.stringify(stored)) {
    throw new StartupError("the stored ledger facts (name, keys, currency, tenor) are not genesis's: the data folder was edited", 0);
  }
};

/** Hashes every sealed record again and compares the sum with the seal's digest. */
const stateCheck =
  (store: Store, sealKey: SealKey, seal: StateSeal) =>
  async (progress: (records: number) => void): Promise<void> => {
    const { digest } = await scanState(store, sealKey, progress);
    if (digest.hex() === seal.digest) return;
    const bad = await findBadRecord(store, seal.size).catch(() => undefined);
    throw new StartupError(
      `the stored state (parties, keys, vouchers, invoices) does not match its seal at size ${seal.size}: ` +
        (bad ? bad.detail : 'a record was changed, added or removed'),
      bad?.seq,
    );
  };

const recover = async (store: Store, meta: LedgerMeta, o: OpenOptions): Promise<Opened> => {
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', false);
  if (node.key.publicKey !== meta.nodeKey) {
    throw new StartupError(`node key file ${o.nodeKeyFile} holds ${node.key.publicKey}, but this ledger's node key is ${meta.nodeKey}`);
  }
  const sealKey = SealKey.fromSeed(node.key.secretKey);
  const storedHead = await store.head();
  const note = await store.checkpoint();
  const storedSeal = await store.seal();
  let signed: Claim | undefined;
  if (note !== undefined) {
    const cp = verifyCheckpoint(note, { ledgerId: meta.ledgerId, nodePublicKey: meta.nodeKey, verify: verifyNode });
    if (!cp.ok) throw new StartupError(`the stored checkpoint does not verify under the node key: ${cp.code} ${cp.detail}`);
    signed = { what: 'the checkpoint', size: cp.size, root: cp.root };
  }
  const seal = storedSeal !== undefined && sealKey.verify(storedSeal) ? storedSeal : undefined;
  const kept = o.clusterLog ? undefined : await keptClaim(o.nodeKeyFile, meta);
  await checkMeta(store, meta);
  const claims = [signed, seal && { what: 'the state seal', size: seal.size, root: seal.root }, kept].filter((c): c is Claim => c !== undefined);

  const started = performance.now();
  const mode = o.startupVerify ?? 'tail';
  // The quick start needs the stored checkpoint, the seal and the kept checkpoint to agree with
  // the stored head; anything else is checked wholly before serving.
  const agree =
    signed !== undefined &&
    (seal === undefined ? storedSeal === undefined : seal.size === signed.size && seal.root === signed.root) &&
    (kept === undefined || kept.size <= signed.size);
  const quick = mode === 'tail' && agree && signed ? await verifyTail(store, storedHead, signed, o.tailEntries ?? STARTUP_TAIL_ENTRIES) : undefined;
  const whole = quick ? undefined : await verifyWholeLog(store, meta, claims);
  const end: Verified = quick ?? whole!;
  if (!quick && (!storedHead || storedHead.size !== end.head.size || storedHead.lastHash !== end.head.lastHash)) {
    o.logger.warn({ stored: storedHead, size: end.head.size }, 'the stored head disagrees with the log; using the log');
  }
  // A log cut short leaves the receipts of the entries removed.
  const stray = await store.effectsFrom(end.head.size);
  if (stray !== undefined) {
    throw new StartupError(`the receipt of entry ${stray} is stored, but the log ends at size ${end.head.size}: entries were removed`, end.head.size);
  }
  if (quick && kept && kept.size < end.head.size) {
    // The whole-log check later verifies this from the entries themselves.
    const there = await Frontier.load(kept.size, (at) => store.treeNodes(at)).catch(() => undefined);
    if (!there || toHex(there.root()) !== kept.root) {
      throw new StartupError(`the log's Merkle root at size ${kept.size} does not match ${kept.what}: the log was rewritten`);
    }
  }
  const at = (size: number): Verified => {
    const v = size === end.head.size ? end : whole?.at.get(size);
    if (!v) throw new StartupError(`the log has no verified state at size ${size}`, size);
    return v;
  };
  const nodeSeed = node.key.secretKey;
  const done = (service: LedgerService, verified: string): Opened => {
    const ms = Math.round(performance.now() - started);
    o.logger.info({ ledgerId: meta.ledgerId, size: service.size, ms, verified }, 'log checked against the checkpoint');
    if (quick) {
      const now: Claim = { what: 'the checkpoint', size: service.size, root: toHex(end.frontier.root()) };
      service.verifyInBackground((progress) => verifyWholeLog(store, meta, kept ? [now, kept] : [now], progress).then(() => undefined));
    }
    service.keepCheckpoint();
    return { service, created: false, operatorKeyFile: undefined, nodeKeyFile: o.nodeKeyFile };
  };

  if (!seal) {
    // Nothing vouches for the decision state: serve what the checkpoint covers, and decide nothing.
    if (!signed || note === undefined) {
      throw new StartupError(`the data folder has neither a signed checkpoint nor a valid state seal, so nothing the node signed covers it; ${RESEAL_HINT}`);
    }
    const there = at(signed.size);
    const service = serve(o, { store, meta, head: there.head, frontier: there.frontier, checkpoint: note, nodeSeed, sealKey, digest: Digest.zero() });
    service.refuseWrites(
      storedSeal === undefined
        ? `the data folder has no state seal (written by an older version, or the seal was removed): its parties, keys and vouchers are not known to be the log's; ${RESEAL_HINT}`
        : `the state seal does not verify under the node key: the data folder was edited; ${RESEAL_HINT}`,
    );
    return done(service, quick ? 'tail' : 'whole log');
  }

  // The state as of the seal's size: the seal's digest, that size's head and tree.
  const sealed = at(seal.size);
  const digest = Digest.fromHex(seal.digest)!;
  const checkpointAtSeal = signed?.size === seal.size && note !== undefined ? note : undefined;
  const checkpoint =
    checkpointAtSeal ??
    // The node sealed this size and root itself (the seal's MAC); a deleted or older stored
    // checkpoint is signed again over exactly that.
    signCheckpoint({ ledgerId: meta.ledgerId, size: seal.size, root: sealed.frontier.root() }, nodeSeed, signNode, node.key.publicKey);
  const service = serve(o, { store, meta, head: sealed.head, frontier: sealed.frontier, checkpoint, nodeSeed, sealKey, digest });
  const check = stateCheck(store, sealKey, seal);

  if (end.head.size > seal.size) {
    // Entries past the sealed state: the state must be the sealed one before they are decided on it.
    o.logger.warn({ sealed: seal.size, size: end.head.size }, 'the log holds entries past the sealed state; verifying them in full');
    await service.checkState(check);
    if (service.stateCheck === 'passed') {
      const stored = await store.entries(seal.size, end.head.size - seal.size);
      const bad = await service.adoptUncovered(stored);
      if (bad) {
        if (signed && signed.size > seal.size) {
          throw new StartupError(`entry ${bad.seq}, which the stored checkpoint covers, fails verification: ${bad.detail}`, bad.seq);
        }
        service.refuseWrites(`entry ${bad.seq} past the sealed state fails verification (${bad.detail}); the node signs nothing over it`, bad.seq);
      }
    }
    return done(service, 'whole log');
  }
  // A repair when the stored checkpoint is missing or older, or the head record disagrees with
  // the log the checks proved: the writer's first commit then extends the head the store holds.
  if (checkpointAtSeal === undefined || !sameHead(storedHead, sealed.head)) {
    await store.commit(emptyBatch(ANY_HEAD, sealed.head, checkpoint, seal));
    if (checkpointAtSeal === undefined) {
      o.logger.info({ size: seal.size, covered: signed?.size ?? 0 }, 'signed a checkpoint over the sealed log again (the stored one was missing or older)');
    }
  }
  const checking = service.checkState(check);
  if (mode === 'full') await checking;
  return done(service, quick ? 'tail' : 'whole log');
};

/** The first entry whose recomputed hash differs from its stored leaf node, if any. */
const firstBadLeaf = async (store: Store, size: number): Promise<number | undefined> => {
  for await (const { seq, text } of store.allEntries()) {
    if (seq >= size) return undefined;
    const leaf = await store.treeNode({ level: 0, index: seq });
    if (!leaf || !bytesEqual(leaf, entryHashOfText(text))) return seq;
  }
  return undefined;
};
