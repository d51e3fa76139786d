/**
 * Backup and restore in one process, on real LevelDB: `GET /admin/backup` (who may take one, and
 * that it is one consistent snapshot), the file format's seal, and `restore` (what it refuses, and
 * that it leaves the data folder as it found it when it refuses).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restore, RestoreError, type RestoreOptions } from '../../src/admin/restore.js';
import { BackupEncoder, BackupFormatError, decodeBackup, type BackupHeader } from '../../src/backup/format.js';
import { startBackup } from '../../src/service/backup.js';
import { newKeyFile, writeKeyFile } from '../../src/service/keyfile.js';
import { openLedger } from '../../src/service/open.js';
import { Harness, key } from '../support/harness.js';
import { cleanup, tempDir } from '../support/service-process.js';

const core = key('bk-core', 'core');
const supplier = key('bk-supplier', 'supplier');
const auditor = key('bk-auditor', 'auditor');
const silent = pino({ level: 'silent' });

interface Decoded {
  header: BackupHeader;
  records: (readonly [Buffer, Buffer])[];
}

const decode = async (raw: Buffer): Promise<Decoded> => {
  let header: BackupHeader | undefined;
  const records: (readonly [Buffer, Buffer])[] = [];
  async function* one(): AsyncGenerator<Buffer> {
    yield raw;
  }
  for await (const item of decodeBackup(one())) {
    if (item.kind === 'header') header = item.header;
    else if (item.kind === 'records') records.push(...item.records);
  }
  return { header: header!, records };
};

const decodeError = async (raw: Buffer): Promise<BackupFormatError> => {
  try {
    await decode(raw);
  } catch (err) {
    if (err instanceof BackupFormatError) return err;
    throw err;
  }
  throw new Error('decoded without an error');
};

/** Stored entry keys: the `e` sublevel. */
const ENTRY_PREFIX = '!e!';
const entryKeys = (d: Decoded): string[] => d.records.map(([k]) => k.toString('utf8')).filter((k) => k.startsWith(ENTRY_PREFIX));

let h: Harness;
let file: string;
let work: string;

beforeAll(async () => {
  h = await Harness.start();
  for (const k of [core, supplier, auditor]) await h.register(k);
  for (let i = 0; i < 5; i++) await h.issueAccepted(core, supplier, '1000000');
  work = await tempDir('rvl-backup-test-');
  const res = await h.get('/admin/backup', h.operator);
  expect(res.statusCode).toBe(200);
  file = path.join(work, 'ledger.rvlb.gz');
  await writeFile(file, res.rawPayload);
});

afterAll(async () => {
  await h.close();
  await cleanup();
});

const options = (o: Partial<RestoreOptions> & { dataDir: string }): RestoreOptions => ({
  from: file,
  nodeKey: { copy: path.join(h.dataDir, 'node.key') },
  logger: silent,
  ...o,
});

const restoreError = async (o: RestoreOptions): Promise<RestoreError> => {
  try {
    await restore(o);
  } catch (err) {
    if (err instanceof RestoreError) return err;
    throw err;
  }
  throw new Error('restored without an error');
};

describe('GET /admin/backup', () => {
  it('gives the operator a gzip’d backup whose header is the ledger’s head and checkpoint', async () => {
    const res = await h.get('/admin/backup', h.operator);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    const d = await decode(gunzipSync(res.rawPayload));
    expect(d.header).toMatchObject({ format: 'rvl-backup/1', ledgerId: h.ledgerId, size: h.service.size, checkpoint: h.service.checkpoint });
    expect(entryKeys(d)).toHaveLength(h.service.size);
    // No secret: neither the node's nor the operator's seed is anywhere in it.
    const nodeSeed = (JSON.parse(await readFile(path.join(h.dataDir, 'node.key'), 'utf8')) as { secretKey: string }).secretKey;
    const text = gunzipSync(res.rawPayload).toString('latin1');
    expect(text).not.toContain(nodeSeed);
    expect(text).not.toContain(h.operator.seed);
  });

  it('is refused to every other party (404) and without a token (401)', async () => {
    for (const k of [core, supplier, auditor]) {
      const res = await h.get('/admin/backup', k);
      expect(res.statusCode, k.id).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    const anonymous = await h.get('/admin/backup');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('is one snapshot: ops committed after it starts are not in it, and the header matches the records', async () => {
    const before = h.service.size;
    const run = await startBackup(h.service.store, { logger: silent });
    // Commits while the backup has not been read at all yet.
    for (let i = 0; i < 3; i++) await h.issueAccepted(core, supplier, '500000');
    expect(h.service.size).toBe(before + 6);
    const chunks: Buffer[] = [];
    for await (const c of run.stream) chunks.push(c as Buffer);
    const stats = await run.done;
    const d = await decode(gunzipSync(Buffer.concat(chunks)));
    expect(d.header.size).toBe(before);
    expect(entryKeys(d)).toHaveLength(before);
    expect(stats).toMatchObject({ size: before, records: d.records.length });
    const head = d.records.find(([k]) => k.toString() === '!meta!head');
    expect(JSON.parse(head![1].toString()) as { size: number }).toMatchObject({ size: before });
  });
});

describe('the backup format', () => {
  it('refuses a stream with any single byte changed, and any cut', async () => {
    const raw = gunzipSync(await readFile(file));
    const step = Math.max(1, Math.floor(raw.length / 97));
    for (let at = 0; at < raw.length; at += step) {
      const bad = Buffer.from(raw);
      bad[at] = bad[at]! ^ 0x01;
      const err = await decodeError(bad);
      expect(['CORRUPT', 'NOT_A_BACKUP', 'TRUNCATED'], `byte ${at}`).toContain(err.code);
    }
    for (const cut of [0, 10, Math.floor(raw.length / 2), raw.length - 1]) {
      expect((await decodeError(raw.subarray(0, cut))).code, `cut at ${cut}`).toBe('TRUNCATED');
    }
  });
});

describe('restore', () => {
  it('restores into a new folder, verified, and the ledger opens with the same id and size', async () => {
    const original = await decode(gunzipSync(await readFile(file)));
    const dataDir = path.join(await tempDir(), 'restored');
    const r = await restore(options({ dataDir }));
    expect(r).toMatchObject({ ledgerId: h.ledgerId, size: original.header.size, checkpoint: original.header.checkpoint, records: original.records.length });
    expect((await readdir(dataDir)).sort()).toEqual(['db', 'node.key']);
    const opened = await openLedger({
      dataDir,
      ledgerName: 'x',
      operatorPublicKey: undefined,
      nodeKeyFile: path.join(dataDir, 'node.key'),
      logger: silent,
      startupVerify: 'full',
    });
    try {
      expect(opened.created).toBe(false);
      expect(opened.service.meta.ledgerId).toBe(h.ledgerId);
      expect(opened.service.size).toBe(original.header.size);
      expect(opened.service.checkpoint).toBe(original.header.checkpoint);
    } finally {
      await opened.service.close();
      await opened.service.store.close();
    }
  });

  it('refuses a folder that is not empty, and touches nothing in it', async () => {
    const dataDir = await tempDir();
    await writeFile(path.join(dataDir, 'keep.txt'), 'x');
    expect((await restoreError(options({ dataDir }))).code).toBe('DIR_NOT_EMPTY');
    expect(await readdir(dataDir)).toEqual(['keep.txt']);
  });

  it('refuses a truncated file and a flipped byte, and leaves the folder empty', async () => {
    const gz = await readFile(file);
    const truncated = path.join(work, 'truncated.gz');
    await writeFile(truncated, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const flipped = path.join(work, 'flipped.gz');
    const f = Buffer.from(gz);
    f[Math.floor(f.length / 2)] = f[Math.floor(f.length / 2)]! ^ 0x10;
    await writeFile(flipped, f);
    for (const [from, code] of [
      [truncated, 'TRUNCATED'],
      [flipped, 'CORRUPT'],
    ] as const) {
      const dataDir = await tempDir();
      const err = await restoreError(options({ dataDir, from }));
      expect(err.code, from).toBe(code);
      expect(await readdir(dataDir), from).toEqual([]);
    }
  });

  it('refuses a node key that did not sign the ledger', async () => {
    const other = path.join(work, 'other-node.key');
    await writeKeyFile(other, newKeyFile('node'));
    const dataDir = path.join(await tempDir(), 'new');
    const err = await restoreError(options({ dataDir, nodeKey: { copy: other } }));
    expect(err.code).toBe('NODE_KEY');
    expect(await readdir(path.dirname(dataDir))).toEqual([]); // the folder it made is gone too
  });

  it('refuses a resealed backup whose log was altered, naming the first bad seq', async () => {
    const original = await decode(gunzipSync(await readFile(file)));
    const target = `${ENTRY_PREFIX}${(4).toString(16).padStart(12, '0')}`;
    const enc = new BackupEncoder();
    const parts = [enc.header(original.header)];
    parts.push(
      enc.records(
        original.records.map(([k, v]) =>
          k.toString() === target ? ([k, Buffer.from(v.toString().replace('"nonce":"', '"nonce":"x'))] as const) : ([k, v] as const),
        ),
      ),
    );
    parts.push(enc.trailer());
    const forged = path.join(work, 'forged.gz');
    await writeFile(forged, gzipSync(Buffer.concat(parts)));
    const dataDir = await tempDir();
    const err = await restoreError(options({ dataDir, from: forged }));
    expect(err.code).toBe('LOG_INVALID');
    expect(err.seq).toBe(4);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('refuses a backup of another ledger than --ledger', async () => {
    const dataDir = await tempDir();
    await mkdir(dataDir, { recursive: true });
    const err = await restoreError(options({ dataDir, expectLedgerId: 'f'.repeat(64) }));
    expect(err.code).toBe('WRONG_LEDGER');
    expect(await readdir(dataDir)).toEqual([]);
  });
});
