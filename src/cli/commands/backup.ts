/**
 * `rvl backup --out FILE [--force]`: saves a consistent backup of the running ledger
 * (`GET /admin/backup`, the operator's key), from any machine that reaches the service.
 *
 * The file is written as `FILE.partial`, fsync'd, then read back and checked whole (gzip, header,
 * record count and SHA-256 in its trailer) before it takes its name, so a `FILE` that exists is a
 * complete backup. It holds every record of the ledger's database but no secret key: restore
 * needs the node key file besides (docs/operations.md).
 */
import { createReadStream } from 'node:fs';
import { link, open, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

import { decodeBackup, gunzipBackup, BackupFormatError, type BackupHeader } from '../../backup/format.js';
import { LedgerHttpError, LedgerNetworkError, LedgerRefusal, makeToken, type RefusalCode } from '../../client/index.js';
import { OPERATOR_ID } from '../../domain/limits.js';
import type { Context } from '../context.js';
import { refusedError, usageError } from '../errors.js';
import { count, keyValues } from '../format.js';
import { progress } from '../progress.js';

export interface BackupOptions {
  readonly out: string;
  readonly force?: boolean;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

const mb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

/** The error for an answer other than 200: the problem's code when it is one. */
const answerError = async (res: Response): Promise<Error> => {
  const text = (await res.text()).slice(0, 4096);
  try {
    const p = JSON.parse(text) as { code?: unknown; detail?: unknown; title?: unknown };
    if (typeof p.code === 'string' && /problem\+json/.test(res.headers.get('content-type') ?? '')) {
      return new LedgerRefusal(
        p.code as RefusalCode,
        res.status,
        typeof p.detail === 'string' ? p.detail : '',
        typeof p.title === 'string' ? p.title : undefined,
      );
    }
  } catch {
    // not JSON: below
  }
  return new LedgerHttpError('NOT_PROBLEM', res.status, `HTTP ${res.status} without a problem body`, text);
};

/** Reads a saved backup back and checks it whole; returns its header and record count. */
const check = async (file: string): Promise<{ header: BackupHeader; records: number; rawBytes: number }> => {
  let header: BackupHeader | undefined;
  let records = 0;
  let rawBytes = 0;
  async function* raw(): AsyncGenerator<Buffer> {
    for await (const chunk of gunzipBackup(createReadStream(file, { highWaterMark: 256 * 1024 }))) {
      rawBytes += chunk.length;
      yield chunk;
    }
  }
  for await (const item of decodeBackup(raw())) {
    if (item.kind === 'header') header = item.header;
    else if (item.kind === 'records') records += item.records.length;
  }
  if (!header) throw new BackupFormatError('NOT_A_BACKUP', 'no header');
  return { header, records, rawBytes };
};

export const backup = async (ctx: Context, o: BackupOptions): Promise<void> => {
  const out = path.resolve(o.out);
  const partial = `${out}.partial`;
  if (!o.force) {
    const exists = await stat(out).then(
      () => true,
      (err: unknown) => errno(err) !== 'ENOENT',
    );
    if (exists) throw usageError(`${o.out} already exists; choose another --out, or add --force to replace it`);
  }
  const key = await ctx.key('a backup');
  if (key.party !== OPERATOR_ID) throw usageError(`a backup needs the operator's key; ${ctx.keyPath()} is the key of ${key.party}`);
  const info = await ctx.ledger();
  if (!/^https?:\/\/[^\s/]+/.test(ctx.url)) throw usageError(`--url must be an http(s) URL, not "${ctx.url}"`);
  const token = await makeToken({ partyId: key.party, secretKeyHex: key.secretKey, ledgerId: info.ledgerId, nowSeconds: Date.now() / 1000 });

  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(`${ctx.url.replace(/\/+$/, '')}/admin/backup`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/gzip, application/problem+json' },
    });
  } catch (err) {
    throw new LedgerNetworkError(`GET /admin/backup: no answer: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
  if (res.status !== 200 || res.body === null) throw await answerError(res);

  let handle;
  try {
    handle = await open(partial, 'w', 0o600);
  } catch (err) {
    await res.body.cancel().catch(() => undefined);
    if (errno(err) === 'ENOENT') throw usageError(`cannot create ${partial}: its folder does not exist`);
    if (errno(err) === 'EACCES') throw usageError(`cannot create ${partial} (permission denied)`);
    throw err;
  }
  const bar = progress(ctx.io.stderr, ctx.interactive ? 'bar' : 'off', `saving the backup of ${info.name}`, 'KB');
  let bytes = 0;
  try {
    try {
      for await (const chunk of res.body) {
        await handle.write(chunk);
        bytes += chunk.byteLength;
        bar.update(Math.floor(bytes / 1000));
      }
      await handle.sync();
    } finally {
      await handle.close();
      bar.finish();
    }
  } catch (err) {
    await rm(partial, { force: true });
    throw new LedgerNetworkError(`GET /admin/backup: the answer broke off after ${mb(bytes)}: ${err instanceof Error ? err.message : String(err)}`, 1, {
      cause: err,
    });
  }
  const downloadMs = performance.now() - started;

  let checked;
  try {
    checked = await check(partial);
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof BackupFormatError) throw refusedError(`the backup received is not whole, so it was not kept: ${err.code}: ${err.detail}`, err.code);
    throw err;
  }
  const { header, records, rawBytes } = checked;
  if (header.ledgerId !== info.ledgerId) {
    await rm(partial, { force: true });
    throw refusedError(`the backup is of ledger ${header.ledgerId}, but ${ctx.url} serves ${info.ledgerId}; it was not kept`);
  }
  if (o.force) {
    await rename(partial, out);
  } else {
    try {
      await link(partial, out); // fails if FILE appeared meanwhile: never overwritten without --force
    } catch (err) {
      await rm(partial, { force: true });
      if (errno(err) === 'EEXIST') throw usageError(`${o.out} appeared while the backup was saved; it was not replaced (use --force)`);
      throw err;
    }
    await unlink(partial);
  }
  const dir = await open(path.dirname(out), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }

  if (ctx.json) {
    ctx.emit({
      file: o.out,
      ledgerId: header.ledgerId,
      size: header.size,
      records,
      bytes,
      rawBytes,
      createdAt: header.createdAt,
      checkpoint: header.checkpoint,
      ms: Math.round(downloadMs),
    });
    return;
  }
  ctx.out(
    `Saved a backup of ledger ${header.ledgerId} (${info.name}) to ${o.out}\n` +
      keyValues(
        [
          ['entries', `${count(header.size)}, all under the signed checkpoint, as of ${header.createdAt}`],
          ['file', `${mb(bytes)} (${mb(rawBytes)} before gzip), ${count(records)} records, checked whole (SHA-256)`],
          ['time', `${(downloadMs / 1000).toFixed(1)} s`],
        ],
        '  ',
      ) +
      'It holds no secret key: keep the node key file (node.key) safe on its own.\n' +
      'Restore it on the server, into a new folder, with:\n' +
      `  npm run restore -- --from ${o.out} --data-dir NEW_DATA_DIR --node-key NODE_KEY_FILE\n`,
  );
};
