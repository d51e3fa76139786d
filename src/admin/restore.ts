/**
 * Restores a backup (`rvl-backup/1`, src/backup/format.ts) into a new data folder, and proves it
 * before saying it is ready:
 *
 *  1. the data folder must be empty (or not exist): a restore never merges into a ledger;
 *  2. the node key file must be readable and whole (its public key is its seed's);
 *  3. the file is read once, gunzip'd and decoded; its records go into a fresh LevelDB in a
 *     staging folder inside the data folder (`restore-in-progress/`), the last batch fsync'd;
 *  4. the file's trailer must match (record count, SHA-256 of every byte before it), so a
 *     truncated or altered file is refused;
 *  5. the backup's checkpoint must be signed by the node key, and the stored ledger id, head and
 *     checkpoint must be the header's;
 *  6. the ledger is opened as the service opens it with STARTUP_VERIFY=full: the whole log
 *     against the signed checkpoint (every entry's hash, seq, `prev` link and time, the Merkle
 *     root, the stored tree), naming the first bad seq on a mismatch, and the stored parties,
 *     keys, vouchers and invoices against their seal (a backup without a seal restores, and
 *     stays read-only until `npm run reseal`);
 *  7. only then are the database and the node key moved into place, and the folder fsync'd.
 *
 * On any failure what it wrote is removed (the data folder is left as it was found) and the
 * error says why; the backup file is only ever read.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { BackupFormatError, decodeBackup, gunzipBackup, type BackupFormatErrorCode, type BackupHeader } from '../backup/format.js';
import { verifyCheckpoint } from '../ledger/checkpoint.js';
import { verifyNode } from '../ledger/node/ed25519-node.js';
import { installNodeSha256 } from '../ledger/node/sha256-node.js';
import { openStore } from '../store/open-store.js';
import type { RawRecord, Store } from '../store/port.js';
import { KeyFileError, readKeyFile, writeKeyFile, type KeyFile } from '../service/keyfile.js';
import { openLedger, StartupError } from '../service/open.js';

/** The folder inside the data folder where a restore builds the database before it is proven. */
export const RESTORE_STAGING = 'restore-in-progress';

/**
 * | code          | meaning                                                                  |
 * |---------------|--------------------------------------------------------------------------|
 * | DIR_NOT_EMPTY | the data folder holds something already                                  |
 * | NO_FILE       | the backup file cannot be read                                           |
 * | NODE_KEY      | the node key file is unreadable, or did not sign this ledger's checkpoint |
 * | NOT_A_BACKUP  | the file is not an `rvl-backup/1` backup                                 |
 * | TRUNCATED     | the file was cut short                                                   |
 * | CORRUPT       | the file's bytes were altered (its SHA-256 or a gzip check failed)      |
 * | WRONG_LEDGER  | the backup is of another ledger than `--ledger`                          |
 * | MISMATCH      | the records disagree with the header (ledger id, size or checkpoint)     |
 * | LOG_INVALID   | the restored log does not verify against its checkpoint (`seq`: the first bad one) |
 */
export type RestoreErrorCode = 'DIR_NOT_EMPTY' | 'NO_FILE' | 'NODE_KEY' | BackupFormatErrorCode | 'WRONG_LEDGER' | 'MISMATCH' | 'LOG_INVALID';

export class RestoreError extends Error {
  override readonly name = 'RestoreError';
  constructor(
    readonly code: RestoreErrorCode,
    readonly detail: string,
    /** The first bad seq, when the log is at fault. */
    readonly seq?: number,
  ) {
    super(`${code}: ${detail}`);
  }
}

export interface RestoreOptions {
  /** The backup file (as saved by `rvl backup`). */
  readonly from: string;
  /** The new data folder: empty or missing. */
  readonly dataDir: string;
  /**
   * The node key: `copy` puts a copy of that key file at `<dataDir>/node.key` (mode 0600), where
   * the service looks by default; `at` leaves it where it is (the service's LEDGER_NODE_KEY_FILE).
   */
  readonly nodeKey: { readonly copy: string } | { readonly at: string };
  /** Refuse a backup of any other ledger. */
  readonly expectLedgerId?: string;
  readonly logger: Logger;
  /** Called as the file is read: records written, file bytes read. */
  readonly onProgress?: (records: number, fileBytes: number) => void;
  /** Called when the file is in and the whole log is being checked. */
  readonly onVerifying?: (size: number) => void;
}

export interface Restored {
  readonly ledgerId: string;
  readonly name: string;
  readonly size: number;
  readonly checkpoint: string;
  readonly createdAt: string;
  readonly records: number;
  readonly fileBytes: number;
  /** Where the node key the restored ledger uses is. */
  readonly nodeKeyFile: string;
  /** Reading and writing the records, then checking the whole log. */
  readonly loadMs: number;
  readonly verifyMs: number;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** True if the folder exists and holds anything. */
const nonEmpty = async (dir: string): Promise<boolean> => {
  try {
    const info = await fs.stat(dir);
    if (!info.isDirectory()) throw new RestoreError('DIR_NOT_EMPTY', `${dir} is a file, not a folder`);
    return (await fs.readdir(dir)).length > 0;
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw err;
  }
};

const syncDir = async (dir: string): Promise<void> => {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

const loadKey = async (file: string): Promise<KeyFile> => {
  try {
    return await readKeyFile(file);
  } catch (err) {
    if (err instanceof KeyFileError) throw new RestoreError('NODE_KEY', err.message);
    throw err;
  }
};

/** Bytes of the file as read, counted. */
async function* counted(file: string, seen: (bytes: number) => void): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    bytes += (chunk as Buffer).length;
    seen(bytes);
    yield chunk as Buffer;
  }
}

/** Reads the file into the store; returns the verified header and the record count. */
const load = async (o: RestoreOptions, store: Store, seen: { bytes: number }): Promise<{ header: BackupHeader; records: number }> => {
  let header: BackupHeader | undefined;
  let records = 0;
  // Each chunk is written as a batch without fsync while the next one is decoded; the last one
  // is written with fsync, which makes every batch before it durable too (one write-ahead log).
  let held: readonly RawRecord[] = [];
  try {
    for await (const item of decodeBackup(gunzipBackup(counted(o.from, (b) => (seen.bytes = b))))) {
      switch (item.kind) {
        case 'header':
          header = item.header;
          if (o.expectLedgerId !== undefined && header.ledgerId !== o.expectLedgerId) {
            throw new RestoreError('WRONG_LEDGER', `${o.from} is a backup of ledger ${header.ledgerId}, not of ${o.expectLedgerId}`);
          }
          break;
        case 'records':
          if (held.length > 0) await store.importRecords(held, { sync: false });
          held = item.records;
          records += item.records.length;
          o.onProgress?.(records, seen.bytes);
          break;
        case 'end':
          await store.importRecords(held, { sync: true });
          held = [];
          break;
      }
    }
  } catch (err) {
    if (err instanceof BackupFormatError) throw new RestoreError(err.code, `${o.from}: ${err.detail}`);
    if (errno(err) === 'ENOENT' || errno(err) === 'EACCES' || errno(err) === 'EISDIR') {
      throw new RestoreError('NO_FILE', `cannot read ${o.from} (${errno(err)})`);
    }
    throw err;
  }
  if (!header) throw new RestoreError('NOT_A_BACKUP', `${o.from} has no header`);
  return { header, records };
};

export const restore = async (o: RestoreOptions): Promise<Restored> => {
  installNodeSha256();
  const dataDir = path.resolve(o.dataDir);
  if (await nonEmpty(dataDir)) {
    throw new RestoreError('DIR_NOT_EMPTY', `${dataDir} is not empty; restore only into a new or empty folder (it never merges into a ledger)`);
  }
  try {
    if (!(await fs.stat(o.from)).isFile()) throw new RestoreError('NO_FILE', `${o.from} is not a file`);
  } catch (err) {
    if (err instanceof RestoreError) throw err;
    throw new RestoreError('NO_FILE', `cannot read ${o.from} (${errno(err) ?? String(err)})`);
  }
  const key = await loadKey('copy' in o.nodeKey ? o.nodeKey.copy : o.nodeKey.at);

  const createdDir = (await fs.mkdir(dataDir, { recursive: true })) !== undefined;
  const staging = path.join(dataDir, RESTORE_STAGING);
  await fs.mkdir(staging);
  const started = performance.now();
  let store: Store | undefined;
  try {
    store = openStore({ kind: 'level', dataDir: staging });
    await store.open();
    const seen = { bytes: 0 };
    const { header, records } = await load(o, store, seen);

    // The file is whole. Is it this node's ledger, and do its records say what its header says?
    const cp = verifyCheckpoint(header.checkpoint, { ledgerId: header.ledgerId, nodePublicKey: key.publicKey, verify: verifyNode });
    if (!cp.ok) {
      throw new RestoreError(
        'NODE_KEY',
        `the backup's checkpoint is not signed by the node key ${key.publicKey} (${cp.code}): give this ledger's node key file`,
      );
    }
    const [meta, head, checkpoint] = [await store.meta(), await store.head(), await store.checkpoint()];
    if (!meta || meta.ledgerId !== header.ledgerId)
      throw new RestoreError('MISMATCH', `the records hold ledger ${meta?.ledgerId ?? '(none)'}, the header ${header.ledgerId}`);
    if (!head || head.size !== header.size || cp.size !== header.size) {
      throw new RestoreError('MISMATCH', `the records hold ${head?.size ?? 0} entries, the header ${header.size}, the checkpoint ${cp.size}`);
    }
    if (checkpoint !== header.checkpoint) throw new RestoreError('MISMATCH', 'the stored checkpoint is not the header’s');
    await store.close();
    store = undefined;
    const loadMs = Math.round(performance.now() - started);

    // Open it as the service does with STARTUP_VERIFY=full: the whole log against the checkpoint.
    const stagedKey = path.join(staging, 'node.key');
    if ('copy' in o.nodeKey) await writeKeyFile(stagedKey, key);
    o.onVerifying?.(header.size);
    const verifyStarted = performance.now();
    try {
      const opened = await openLedger({
        dataDir: staging,
        ledgerName: meta.name,
        operatorPublicKey: meta.operatorKey,
        nodeKeyFile: 'copy' in o.nodeKey ? stagedKey : path.resolve(o.nodeKey.at),
        logger: o.logger,
        startupVerify: 'full',
        keepCheckpoint: false,
      });
      const { service } = opened;
      const sealed = (await service.store.seal()) !== undefined;
      const unavailable = service.unavailable;
      await service.close();
      await service.store.close();
      if (service.stateCheck === 'failed' && sealed) {
        throw new RestoreError('LOG_INVALID', `the restored state does not verify against its seal: ${unavailable ?? ''}`);
      }
      if (!sealed) o.logger.warn('the backup has no state seal (taken by an older version): the restored ledger is read-only until `npm run reseal`');
    } catch (err) {
      if (err instanceof StartupError) {
        throw new RestoreError('LOG_INVALID', `the restored log does not verify against its checkpoint: ${err.message}`, err.seq);
      }
      throw err;
    }
    const verifyMs = Math.round(performance.now() - verifyStarted);

    // Proven: move it into place.
    await fs.rename(path.join(staging, 'db'), path.join(dataDir, 'db'));
    const nodeKeyFile = 'copy' in o.nodeKey ? path.join(dataDir, 'node.key') : path.resolve(o.nodeKey.at);
    if ('copy' in o.nodeKey) await fs.rename(stagedKey, nodeKeyFile);
    await fs.rmdir(staging);
    await syncDir(dataDir);
    return {
      ledgerId: header.ledgerId,
      name: meta.name,
      size: header.size,
      checkpoint: header.checkpoint,
      createdAt: header.createdAt,
      records,
      fileBytes: seen.bytes,
      nodeKeyFile,
      loadMs,
      verifyMs,
    };
  } catch (err) {
    await store?.close().catch(() => undefined);
    await fs.rm(staging, { recursive: true, force: true });
    await fs.rm(path.join(dataDir, 'db'), { recursive: true, force: true });
    if ('copy' in o.nodeKey) await fs.rm(path.join(dataDir, 'node.key'), { force: true }).catch(() => undefined);
    if (createdDir) await fs.rmdir(dataDir).catch(() => undefined);
    throw err;
  }
};
