/**
 * Start-up (PROTOCOL.md §6, §10). On an empty data folder: write genesis and the key files. On a
 * non-empty one: check the stored log against the last signed checkpoint without replaying any op
 * (every entry's hash, seq, `prev` link and time, and the Merkle root), refuse to start on any
 * mismatch naming the first bad seq, and sign a checkpoint over entries a crash left uncovered.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CURRENCY_DEFAULT, OPERATOR_ID, operatorParty } from '../domain/index.js';
import { signCheckpoint, verifyCheckpoint } from '../ledger/checkpoint.js';
import { signNode, verifyNode } from '../ledger/ed25519-node.js';
import { ZERO_HASH } from '../ledger/entry.js';
import { bytesEqual, toHex } from '../ledger/hex.js';
import { canonicalize } from '../ledger/jcs.js';
import { opId } from '../ledger/op.js';
import { LevelStore } from '../store/level-store.js';
import { nodeKey, voucherSeqKey } from '../store/keys.js';
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
};

const emptyBatch = (head: Head, checkpoint: string): CommitBatch => ({
  entries: [],
  parties: [],
  keyOwners: [],
  vouchers: [],
  invoicesUsed: [],
  invoicesFreed: [],
  partyVouchersPut: [],
  partyVouchersDel: [],
  children: [],
  voucherSeqs: [],
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
  return new LedgerService({
    ...state,
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
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
    partySeqs: [voucherSeqKey(OPERATOR_ID, 0)],
    merkleNodes: nodes.map((n) => [n.key, n.hash] as const),
  });
  o.logger.info({ ledgerId, name: o.ledgerName }, 'genesis written');
  const service = serve(o, { store, meta, head, frontier, checkpoint, nodeSeed: node.key.secretKey });
  return { service, created: true, operatorKeyFile, nodeKeyFile: o.nodeKeyFile };
};

/** The tail of an entry's JCS text: keys sort as op, prev, seq, time, v, so these come last. */
const ENTRY_TAIL = /,"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]*),"time":"([^"]{24})","v":1}$/;

const recover = async (store: Store, meta: LedgerMeta, o: OpenOptions): Promise<Opened> => {
  const node = await loadOrCreateKey(o.nodeKeyFile, 'node', false);
  if (node.key.publicKey !== meta.nodeKey) {
    throw new StartupError(`node key file ${o.nodeKeyFile} holds ${node.key.publicKey}, but this ledger's node key is ${meta.nodeKey}`);
  }
  const storedHead = await store.head();
  const note = await store.checkpoint();
  let checkpointSize = 0;
  let checkpointRoot: string | undefined;
  if (note !== undefined) {
    const cp = verifyCheckpoint(note, { ledgerId: meta.ledgerId, nodePublicKey: meta.nodeKey, verify: verifyNode });
    if (!cp.ok) throw new StartupError(`the stored checkpoint does not verify under the node key: ${cp.code} ${cp.detail}`);
    checkpointSize = cp.size;
    checkpointRoot = cp.root;
  }

  const started = performance.now();
  const frontier = new Frontier();
  let prev = ZERO_HASH;
  let lastTime = '';
  let rootAtCheckpoint: Uint8Array | undefined = checkpointSize === 0 ? frontier.root() : undefined;
  for await (const { seq, text } of store.allEntries()) {
    if (seq !== frontier.size) {
      throw new StartupError(`the log has no entry ${frontier.size} (the next stored entry is ${seq})`, frontier.size);
    }
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
    if (seq === 0 && toHex(hash) !== meta.ledgerId) throw new StartupError('entry 0 does not hash to the ledger id', 0);
    frontier.append(hash);
    prev = toHex(hash);
    lastTime = time;
    if (frontier.size === checkpointSize) rootAtCheckpoint = frontier.root();
  }
  const size = frontier.size;
  if (size < checkpointSize || rootAtCheckpoint === undefined) {
    throw new StartupError(`the log has ${size} entries but the checkpoint covers ${checkpointSize}: entries were removed`, size);
  }
  if (checkpointRoot !== undefined && toHex(rootAtCheckpoint) !== checkpointRoot) {
    const bad = await firstBadLeaf(store, checkpointSize);
    throw new StartupError(
      `the log's Merkle root at size ${checkpointSize} does not match the signed checkpoint` +
        (bad === undefined ? '' : `; the first bad entry is ${bad}`),
      bad,
    );
  }
  if (!storedHead || storedHead.size !== size || storedHead.lastHash !== prev) {
    o.logger.warn({ stored: storedHead, size }, 'the stored head disagrees with the log; using the log');
  }
  // The stored tree must agree with the entries where proofs will read it.
  const frontierStored = await Frontier.load(size, (keys) => store.merkleNodes(keys)).catch(() => undefined);
  if (!frontierStored || !bytesEqual(frontierStored.root(), frontier.root())) {
    throw new StartupError('the stored Merkle nodes do not match the log', size - 1);
  }

  const head: Head = { size, lastHash: prev, lastTime };
  let checkpoint = note ?? '';
  if (size > checkpointSize || note === undefined) {
    // A crash after a commit but before its checkpoint cannot happen (they are one batch), but a
    // missing checkpoint counts as size 0 (§6): cover the log before serving.
    checkpoint = signCheckpoint({ ledgerId: meta.ledgerId, size, root: frontier.root() }, node.key.secretKey, signNode, node.key.publicKey);
    await store.commit(emptyBatch(head, checkpoint));
    o.logger.info({ size, covered: checkpointSize }, 'signed a checkpoint over entries the last one did not cover');
  }
  o.logger.info({ ledgerId: meta.ledgerId, size, ms: Math.round(performance.now() - started) }, 'log verified against the checkpoint');
  const service = serve(o, { store, meta, head, frontier, checkpoint, nodeSeed: node.key.secretKey });
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
