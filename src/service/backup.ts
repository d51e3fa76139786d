/**
 * A backup of a running ledger: one consistent snapshot of the whole database (the store's
 * `snapshot`), streamed as an `rvl-backup/1` file (src/backup/format.ts), gzip'd.
 *
 * The snapshot is taken when `startBackup` is called; every op answered before then is in it, and
 * nothing committed after. Records are read `BACKUP_CHUNK_RECORDS` at a time and only as fast as
 * the stream is read (backpressure), so the writer goes on between chunks and a slow reader costs
 * the service nothing but the old data the snapshot pins. The node's secret key is not in the
 * database, so it is not in a backup.
 */
import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { constants as zlib, createGzip } from 'node:zlib';
import type { Logger } from 'pino';
import { BackupEncoder } from '../backup/format.js';
import type { Store } from '../store/port.js';

/** Records read from the snapshot per step. */
export const BACKUP_CHUNK_RECORDS = 1024;

/**
 * gzip level 1: the records are JSON and hex, which compress about 3× even at the fastest level,
 * and a backup shares the CPU with the writer (measured in docs/operations.md).
 */
const GZIP_LEVEL = zlib.Z_BEST_SPEED;

export interface BackupStats {
  readonly ledgerId: string;
  /** The log's size in the snapshot. */
  readonly size: number;
  readonly records: number;
  /** Bytes sent (gzip'd) and before compression. */
  readonly bytes: number;
  readonly rawBytes: number;
  readonly ms: number;
}

export interface BackupRun {
  readonly ledgerId: string;
  readonly size: number;
  readonly createdAt: string;
  /** The gzip'd backup file. */
  readonly stream: Readable;
  /** Settles when the stream has ended (with the stats) or failed or was abandoned (rejects). */
  readonly done: Promise<BackupStats>;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Takes the snapshot now and returns the stream that reads it. */
export const startBackup = async (store: Store, o: { readonly logger: Logger; readonly now?: () => number }): Promise<BackupRun> => {
  const started = performance.now();
  const snapshot = await store.snapshot();
  const { meta, head, checkpoint } = snapshot;
  if (!meta || !head || checkpoint === undefined) {
    await snapshot.close();
    throw new BackupError('the store holds no ledger to back up');
  }
  const createdAt = new Date((o.now ?? Date.now)()).toISOString();
  const encoder = new BackupEncoder();
  const log = o.logger.child({ backup: { ledgerId: meta.ledgerId, size: head.size } });
  log.info('backup started');

  async function* frames(): AsyncGenerator<Buffer> {
    try {
      yield encoder.header({ ledgerId: meta!.ledgerId, size: head!.size, checkpoint: checkpoint!, createdAt });
      for await (const chunk of snapshot.records(BACKUP_CHUNK_RECORDS)) yield encoder.records(chunk);
      yield encoder.trailer();
    } finally {
      await snapshot.close();
    }
  }

  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const out = new PassThrough();
  const done = new Promise<BackupStats>((resolve, reject) => {
    pipeline(Readable.from(frames(), { objectMode: false }), createGzip({ level: GZIP_LEVEL }), counter, out, (err) => {
      const ms = Math.round(performance.now() - started);
      if (err) {
        log.warn({ records: encoder.recordCount, bytes, ms, err: { message: err.message } }, 'backup not completed');
        reject(err);
        return;
      }
      const stats: BackupStats = { ledgerId: meta.ledgerId, size: head.size, records: encoder.recordCount, bytes, rawBytes: encoder.bytes, ms };
      log.info({ entries: head.size, records: stats.records, bytes, rawBytes: stats.rawBytes, ms }, 'backup finished');
      resolve(stats);
    });
  });
  // The caller may only watch the stream; an abandoned backup is logged above, not thrown.
  done.catch(() => undefined);
  return { ledgerId: meta.ledgerId, size: head.size, createdAt, stream: out, done };
};
