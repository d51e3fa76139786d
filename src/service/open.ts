/**
 * Start-up (docs/protocol.md §6, §10). On an empty data folder: write genesis and the key files. On a
 * non-empty one: check the stored log against the last signed checkpoint without replaying any op
 * — quickly (the head, the tree's right edge, the last entries; the whole log then in the
 * background) or wholly before serving (every entry's hash, seq, `prev` link and time, and the
 * Merkle root) — refuse to start on any mismatch naming the first bad seq, and sign a checkpoint
 * over entries a crash left uncovered.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CURRENCY_DEFAULT, OPERATOR_ID, operatorParty } from '../domain/index.js';
import { signCheckpoint, verifyCheckpoint } from '../ledger/checkpoint.js';
import { signNode, verifyNode } from '../ledger/ed25519-node.js';
import { ZERO_HASH } from '../ledger/entry.js';
import { bytesEqual, toHex } from '../ledger/hex.js';
import { installNodeSha256 } from '../ledger/sha256-node.js';
import { canonicalize } from '../ledger/jcs.js';
import { opId } from '../ledger/op.js';
import { LevelStore } from '../store/level-store.js';
import { nodeKey, partySeqKey } from '../store/keys.js';
import type { CommitBatch, Head, LedgerMeta, Store } from '../store/port.js';
import type { Config } from './config.js';
import { newKeyFile, readKeyFile, writeKeyFile, type KeyFile } from './keyfile.js';
import { LedgerService, hashEntryText, type LedgerServiceOptions } from './ledger-service.js';
import { Frontier } from './merkle-log.js';
import type { Metrics } from './metrics.js';

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
};

export type StartupVerify = 'full' | 'tail';

/** Entries the quick start checks one by one. */
export const STARTUP_TAIL_ENTRIES = 1000;

const emptyBatch = (head: Head, checkpoint: string): CommitBatch => ({
  entries: [],
  parties: [],
  keyOwners: [],
  vouchers: [],
  invoicesUsed: [],
  invoicesFreed: [],
  partyVouchersPut: [],
  partyVouchersDel: [],
  partySeqs: [],
  merkleNodes: [],
  head,
  checkpoint,
});

/** The writer over a verified (or new) ledger. */
const serve = (
  o: OpenOptions,
  state: Pick<LedgerServiceOptions, 'store' | 'meta' | 'head' | 'frontier' | 'checkpoint' | 'nodeSeed'>,
): LedgerService => {
  o.metrics?.setSize(state.head.size);
  const service = new LedgerService({
    ...state,
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  void service.fillOpIndex();
  return service;
};

/** Reads a key file, or creates one (0600) if it does not exist and `create` allows. */
const loadOrCreateKey = async (file: string, party: string, create: boolean): Promise<{ key: KeyFile; created: boolean }> => {
  if (existsSync(file)) return { key: await readKeyFile(file), created: false };
  if (!create) throw new StartupError(`key file ${file} is missing`);
  const key = newKeyFile(party);
  await writeKeyFile(file, key);
  return { key, created: true };
};

export const openLedger = async (o: OpenOptions): Promise<Opened> => {
  installNodeSha256();
  await fs.mkdir(o.dataDir, { recursive: true });
  const raw = new LevelStore(path.join(o.dataDir, 'db'));
  const store = o.wrapStore ? o.wrapStore(raw) : raw;
  await store.open();
  try {
    const meta = await store.meta();
    return meta ? await recover(store, meta, o) : await genesis(store, o);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
};

const genesis = async (store: Store, o: OpenOptions): Promise<Opened> => {
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', true);
  let operatorKey = o.operatorPublicKey;
  let operatorKeyFile: string | undefined;
  if (operatorKey === undefined) {
    operatorKeyFile = path.join(o.dataDir, 'operator.key');
    // A key file left by a start that crashed before genesis was durable is reused.
    operatorKey = (await loadOrCreateKey(operatorKeyFile, OPERATOR_ID, true)).key.publicKey;
  }
  const createdAt = new Date((o.now ?? Date.now)()).toISOString();
  const payload = {
    type: 'ledger.genesis',
    name: o.ledgerName,
    operatorKey,
    nodeKey: node.key.publicKey,
    currency: CURRENCY_DEFAULT,
    maxTenorDays: MAX_TENOR_DAYS,
    createdAt,
  };
  const entry = { v: 1, seq: 0, time: createdAt, prev: ZERO_HASH, op: { payload, signatures: [] } };
  const text = canonicalize(entry);
  const hash = hashEntryText(text);
  const ledgerId = toHex(hash);
  const meta: LedgerMeta = {
    ledgerId,
    name: o.ledgerName,
    nodeKey: node.key.publicKey,
    operatorKey,
    currency: CURRENCY_DEFAULT,
    maxTenorDays: MAX_TENOR_DAYS,
    createdAt,
  };
  const operator = operatorParty({ operatorPublicKey: operatorKey });
  const frontier = new Frontier();
  const nodes = frontier.append(hash);
  const head: Head = { size: 1, lastHash: ledgerId, lastTime: createdAt };
  const checkpoint = signCheckpoint({ ledgerId, size: 1, root: frontier.root() }, node.key.secretKey, signNode, node.key.publicKey);
  await store.commit({
    ...emptyBatch(head, checkpoint),
    meta,
    entries: [{ seq: 0, text, opId: opId(payload), effects: JSON.stringify({ vouchers: [], parties: [operator] }) }],
    parties: [operator],
    keyOwners: [[operatorKey, OPERATOR_ID]],
    partySeqs: [partySeqKey(OPERATOR_ID, 0)],
    merkleNodes: nodes.map((n) => [n.key, n.hash] as const),
  });
  o.logger.info({ ledgerId, name: o.ledgerName }, 'genesis written');
  const service = serve(o, { store, meta, head, frontier, checkpoint, nodeSeed: node.key.secretKey });
  return { service, created: true, operatorKeyFile, nodeKeyFile: o.nodeKeyFile };
};

/** The tail of an entry's JCS text: keys sort as op, prev, seq, time, v, so these come last. */
const ENTRY_TAIL = /,"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]*),"time":"([^"]{24})","v":1}$/;

/** Entries read per store call while verifying. */
const VERIFY_CHUNK = 2048;

/** What a verification of stored entries establishes: the log's end and its tree. */
interface Verified {
  readonly head: Head;
  readonly frontier: Frontier;
}

/** The signed checkpoint's claims, or size 0 when there is none (§6). */
interface Claimed {
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
  const tail = ENTRY_TAIL.exec(text);
  if (!tail || Number(tail[2]) !== seq) throw new StartupError(`entry ${seq} is not a well-formed entry`, seq);
  if (tail[1] !== prev) {
    // Either entry seq-1 changed (so its hash did) or entry seq's prev did: the stored leaf of
    // seq-1, written when it was appended, tells which.
    const leaf = seq === 0 ? undefined : await store.merkleNode(nodeKey(0, seq - 1));
    const bad = seq > 0 && leaf !== undefined && toHex(leaf) === prev ? seq : Math.max(seq - 1, 0);
    throw new StartupError(`entry ${seq}'s prev is not the hash of entry ${seq - 1}: the log was altered at seq ${bad}`, bad);
  }
  const time = tail[3] ?? '';
  if (time < lastTime) throw new StartupError(`entry ${seq} goes back in time`, seq);
  const hash = hashEntryText(text);
  return { hash, hex: toHex(hash), time };
};

/**
 * The whole log against the checkpoint, without replaying any op: every entry's seq, shape,
 * `prev` link, time and hash, the Merkle root at the checkpoint's size, and the stored right edge
 * of the tree. Throws a `StartupError` naming the first bad seq. `onProgress` sees the count.
 */
export const verifyWholeLog = async (
  store: Store,
  meta: LedgerMeta,
  claimed: Claimed,
  onProgress?: (verified: number) => void,
): Promise<Verified> => {
  const frontier = new Frontier();
  let prev = ZERO_HASH;
  let lastTime = '';
  let rootAtCheckpoint: Uint8Array | undefined = claimed.size === 0 ? frontier.root() : undefined;
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
      if (frontier.size === claimed.size) rootAtCheckpoint = frontier.root();
    }
    onProgress?.(frontier.size);
    if (chunk.length < VERIFY_CHUNK) break;
  }
  const size = frontier.size;
  if (size < claimed.size || rootAtCheckpoint === undefined) {
    throw new StartupError(`the log has ${size} entries but the checkpoint covers ${claimed.size}: entries were removed`, size);
  }
  if (claimed.root !== undefined && toHex(rootAtCheckpoint) !== claimed.root) {
    const bad = await firstBadLeaf(store, claimed.size);
    throw new StartupError(
      `the log's Merkle root at size ${claimed.size} does not match the signed checkpoint` +
        (bad === undefined ? '' : `; the first bad entry is ${bad}`),
      bad,
    );
  }
  // The stored tree must agree with the entries where proofs will read it.
  const frontierStored = await Frontier.load(size, (keys) => store.merkleNodes(keys)).catch(() => undefined);
  if (!frontierStored || !bytesEqual(frontierStored.root(), frontier.root())) {
    const bad = await firstBadLeaf(store, size);
    throw new StartupError('the stored Merkle nodes do not match the log', bad ?? size - 1);
  }
  return { head: { size, lastHash: prev, lastTime }, frontier };
};

/**
 * The quick start (STARTUP_VERIFY=tail): O(log n + tail) reads instead of the whole log. The
 * stored head must match the checkpoint's size, the stored right edge of the tree must give the
 * checkpoint's root, and the last `tail` entries must hash to their stored leaves, link up by
 * `prev`, keep time, and end at the head. Any doubt returns undefined: the caller then verifies the
 * whole log, which names the first bad seq.
 */
const verifyTail = async (store: Store, storedHead: Head | undefined, claimed: Claimed, tail: number): Promise<Verified | undefined> => {
  if (!storedHead || storedHead.size !== claimed.size || claimed.root === undefined || storedHead.size < 1) return undefined;
  const size = storedHead.size;
  const frontier = await Frontier.load(size, (keys) => store.merkleNodes(keys)).catch(() => undefined);
  if (!frontier || toHex(frontier.root()) !== claimed.root) return undefined;
  if ((await store.entry(size)) !== undefined) return undefined; // entries past the head
  const from = Math.max(0, size - tail);
  const entries = await store.entries(from, size - from);
  const leaves = await store.merkleNodes(entries.map((e) => nodeKey(0, e.seq)));
  const before = from === 0 ? undefined : await store.merkleNode(nodeKey(0, from - 1));
  if (from > 0 && before === undefined) return undefined;
  let prev = before === undefined ? ZERO_HASH : toHex(before);
  let lastTime = '';
  for (const [i, { seq, text }] of entries.entries()) {
    if (seq !== from + i) return undefined;
    const tailMatch = ENTRY_TAIL.exec(text);
    if (!tailMatch || Number(tailMatch[2]) !== seq || tailMatch[1] !== prev) return undefined;
    const time = tailMatch[3] ?? '';
    if (time < lastTime) return undefined;
    const hash = hashEntryText(text);
    const leaf = leaves[i];
    if (!leaf || !bytesEqual(leaf, hash)) return undefined;
    prev = toHex(hash);
    lastTime = time;
  }
  if (entries.length !== size - from || prev !== storedHead.lastHash || lastTime !== storedHead.lastTime) return undefined;
  return { head: storedHead, frontier };
};

const recover = async (store: Store, meta: LedgerMeta, o: OpenOptions): Promise<Opened> => {
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', false);
  if (node.key.publicKey !== meta.nodeKey) {
    throw new StartupError(`node key file ${o.nodeKeyFile} holds ${node.key.publicKey}, but this ledger's node key is ${meta.nodeKey}`);
  }
  const storedHead = await store.head();
  const note = await store.checkpoint();
  let claimed: Claimed = { size: 0, root: undefined };
  if (note !== undefined) {
    const cp = verifyCheckpoint(note, { ledgerId: meta.ledgerId, nodePublicKey: meta.nodeKey, verify: verifyNode });
    if (!cp.ok) throw new StartupError(`the stored checkpoint does not verify under the node key: ${cp.code} ${cp.detail}`);
    claimed = { size: cp.size, root: cp.root };
  }

  const started = performance.now();
  const mode = o.startupVerify ?? 'tail';
  const quick = mode === 'tail' ? await verifyTail(store, storedHead, claimed, o.tailEntries ?? STARTUP_TAIL_ENTRIES) : undefined;
  const { head, frontier } = quick ?? (await verifyWholeLog(store, meta, claimed));
  if (!quick && (!storedHead || storedHead.size !== head.size || storedHead.lastHash !== head.lastHash)) {
    o.logger.warn({ stored: storedHead, size: head.size }, 'the stored head disagrees with the log; using the log');
  }

  let checkpoint = note ?? '';
  if (head.size > claimed.size || note === undefined) {
    // A crash after a commit but before its checkpoint cannot happen (they are one batch), but a
    // missing checkpoint counts as size 0 (§6): cover the log before serving.
    checkpoint = signCheckpoint({ ledgerId: meta.ledgerId, size: head.size, root: frontier.root() }, node.key.secretKey, signNode, node.key.publicKey);
    await store.commit(emptyBatch(head, checkpoint));
    o.logger.info({ size: head.size, covered: claimed.size }, 'signed a checkpoint over entries the last one did not cover');
  }
  const ms = Math.round(performance.now() - started);
  o.logger.info({ ledgerId: meta.ledgerId, size: head.size, ms, verified: quick ? 'tail' : 'whole log' }, 'log checked against the checkpoint');
  const service = serve(o, { store, meta, head, frontier, checkpoint, nodeSeed: node.key.secretKey });
  if (quick) {
    const signed: Claimed = { size: head.size, root: toHex(frontier.root()) };
    service.verifyInBackground((progress) => verifyWholeLog(store, meta, signed, progress).then(() => undefined));
  }
  return { service, created: false, operatorKeyFile: undefined, nodeKeyFile: o.nodeKeyFile };
};

/** The first entry whose recomputed hash differs from its stored leaf node, if any. */
const firstBadLeaf = async (store: Store, size: number): Promise<number | undefined> => {
  for await (const { seq, text } of store.allEntries()) {
    if (seq >= size) return undefined;
    const leaf = await store.merkleNode(nodeKey(0, seq));
    if (!leaf || !bytesEqual(leaf, hashEntryText(text))) return seq;
  }
  return undefined;
};
