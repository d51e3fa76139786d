/**
 * Opening a node in cluster mode (docs/protocol.md §11.6): the database reached (with retries),
 * genesis taken from the log of record or written there by the first node, this node's store
 * opened and checked against the log of record, and its controller started.
 */
import type { Logger } from 'pino';
import { signCheckpoint } from '../ledger/checkpoint.js';
import { entryHashOfText } from '../ledger/entry.js';
import { toHex } from '../ledger/hex.js';
import { signNode } from '../ledger/node/ed25519-node.js';
import { Frontier } from '../service/merkle-log.js';
import { loadOrCreateKey, makeGenesis, openLedger, StartupError, type OpenOptions, type Opened } from '../service/open.js';
import type { LogOfRecord } from '../service/ledger-service.js';
import type { Store } from '../store/port.js';
import { ClusterNode } from './node.js';
import { FencedError, PgLog } from './pg-log.js';

export interface ClusterOptions {
  /** LEDGER_CLUSTER_URL. */
  readonly url: string;
  /** LEDGER_NODE_URL. */
  readonly nodeUrl: string;
  readonly mode: 'auto' | 'follower';
  /** Told each failed attempt to reach the database (for /readyz while it retries). */
  readonly onWaiting?: (why: string, attempt: number) => void;
}

export interface OpenedCluster {
  readonly opened: Opened;
  readonly node: ClusterNode;
  readonly log: PgLog;
}

/** Retries `f` with backoff (0.25 s doubling to 5 s) until it succeeds; StartupErrors are final. */
const untilItAnswers = async <T>(f: () => Promise<T>, logger: Logger, onWaiting?: ClusterOptions['onWaiting']): Promise<T> => {
  for (let attempt = 1, delay = 250; ; attempt += 1, delay = Math.min(delay * 2, 5000)) {
    try {
      return await f();
    } catch (err) {
      if (err instanceof StartupError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      logger.warn({ err, attempt, retryMs: delay }, 'the cluster database cannot be reached; retrying');
      onWaiting?.(why, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
};

/** The genesis the log of record holds, written there first if it holds none (the first node). */
const genesisOfCluster = async (log: PgLog, o: OpenOptions, c: ClusterOptions): Promise<string> => {
  // A read-only follower may read from a standby: it creates and writes nothing there.
  if (c.mode === 'follower') {
    const there = await log.genesis().catch((err: unknown) => {
      if ((err as { code?: unknown }).code === '42P01') return undefined; // no tables yet
      throw err;
    });
    if (there === undefined) throw new StartupError('the cluster database holds no ledger, and a read-only follower never writes genesis');
    return there;
  }
  await log.ensureSchema();
  const there = await log.genesis();
  if (there !== undefined) return there;
  if (o.operatorPublicKey === undefined) throw new StartupError('the cluster database holds no ledger: LEDGER_OPERATOR_PUBLIC_KEY is needed to create one');
  const node = (await loadOrCreateKey(o.nodeKeyFile, 'node', true)).key;
  const createdAt = new Date((o.now ?? Date.now)()).toISOString();
  const { text, meta } = makeGenesis({ ledgerName: o.ledgerName, operatorKey: o.operatorPublicKey, nodeKey: node.publicKey, createdAt });
  const frontier = new Frontier();
  frontier.append(entryHashOfText(text));
  const checkpoint = signCheckpoint({ ledgerId: meta.ledgerId, size: 1, root: frontier.root() }, node.secretKey, signNode, node.publicKey);
  const written = await log.writeGenesis(text, meta.ledgerId, checkpoint);
  o.logger.info({ ledgerId: toHex(entryHashOfText(written)), mine: written === text }, 'genesis in the log of record');
  return written;
};

/** Hashes compared per database read when checking this node's store against the log of record. */
const CHECK_CHUNK = 8192;

/**
 * Every entry this node's store holds must be the log of record's (same hash at every seq), and
 * the store may not be longer than the log: a node never serves a history the cluster does not.
 */
const checkAgainstLog = async (store: Store, log: PgLog, size: number): Promise<void> => {
  for (let from = 0; from < size; from += CHECK_CHUNK) {
    const theirs = await log.hashes(from, Math.min(CHECK_CHUNK, size - from));
    const leaves = await store.treeNodes(theirs.map((e) => ({ level: 0, index: e.seq })));
    for (const [i, e] of theirs.entries()) {
      const mine = leaves[i];
      if (!mine || toHex(mine) !== e.hash) {
        throw new StartupError(
          `entry ${e.seq} in this node's data folder differs from the log of record: the folder was edited or belongs to another history; move it aside and start again to rebuild it from the log`,
          e.seq,
        );
      }
    }
    if (theirs.length < Math.min(CHECK_CHUNK, size - from)) {
      const end = from + theirs.length;
      throw new StartupError(
        `this node's data folder holds ${size} entries, but the log of record only ${end}: it holds entries the cluster never acknowledged`,
        end,
      );
    }
  }
};

export const openCluster = async (o: OpenOptions, c: ClusterOptions): Promise<OpenedCluster> => {
  const log = new PgLog(c.url, o.logger);
  try {
    const genesisText = await untilItAnswers(() => genesisOfCluster(log, o, c), o.logger, c.onWaiting);
    // The writer appends through the controller, which knows the lease's term.
    let node: ClusterNode | undefined;
    const logOfRecord: LogOfRecord = {
      append: (batch) => (node ? node.append(batch) : Promise.reject(new FencedError('the node is not started'))),
    };
    const opened = await openLedger({ ...o, clusterLog: { log: logOfRecord, genesisText } });
    try {
      await untilItAnswers(() => checkAgainstLog(opened.service.store, log, opened.service.size), o.logger, c.onWaiting);
      node = new ClusterNode({ service: opened.service, log, url: c.nodeUrl, mode: c.mode, logger: o.logger });
      await node.start();
      return { opened, node, log };
    } catch (err) {
      await opened.service.close();
      await opened.service.store.close();
      throw err;
    }
  } catch (err) {
    await log.close().catch(() => undefined);
    throw err;
  }
};
