/**
 * The log of record (src/cluster/pg-log.ts) against a real PostgreSQL 15: the append's two
 * guards (the lease at its term, the head the batch was decided on), the lease's life, and the
 * durable mark followers read below.
 */
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgInstance } from '../../scripts/lib/pg-local.js';
import { FencedError, LEASE_MS, PgLog } from '../../src/cluster/pg-log.js';
import { emptyBatch, HeadMovedError, type CommitBatch, type Head } from '../../src/store/port.js';
import { cleanup } from '../support/service-process.js';
import { newDatabase, pgDir } from './support.js';

let pg: PgInstance;
const logs: PgLog[] = [];
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  pg = await startPrimary({ dir: path.join(await pgDir(), 'primary') });
}, 60_000);

afterAll(async () => {
  for (const log of logs) await log.close().catch(() => undefined);
  await cleanup();
  await pg?.stop();
}, 60_000);

const fresh = async (): Promise<PgLog> => {
  const url = await newDatabase(pg);
  const log = new PgLog(url, logger);
  logs.push(log);
  await log.ensureSchema();
  return log;
};

const hash = (n: number): string => n.toString(16).padStart(64, '0');
const head = (size: number): Head => ({ size, lastHash: hash(size - 1), lastTime: '2026-12-08T00:00:00.000Z' });

/** A batch of entries `from`..`to - 1` over the head at `from`. */
const batch = (from: number, to: number, expectedHead: Head = head(from)): CommitBatch => ({
  ...emptyBatch(expectedHead, head(to), `checkpoint ${to}\n`, { size: to, root: hash(0), digest: hash(0), mac: hash(0) }),
  entries: Array.from({ length: to - from }, (_, i) => ({
    seq: from + i,
    text: `{"seq":${from + i}}`,
    hash: hash(from + i),
    opId: `op${from + i}`,
    effects: '{}',
  })),
});

const seqs = async (log: PgLog, durable: boolean): Promise<number[]> => (await log.entries(0, 100, { durable })).map((e) => e.seq);

describe('the log of record in PostgreSQL', () => {
  it('genesis is written once: a second node gets the first one', async () => {
    const log = await fresh();
    expect(await log.genesis()).toBeUndefined();
    expect(await log.writeGenesis('{"seq":0}', hash(0), 'cp 1\n')).toBe('{"seq":0}');
    expect(await log.writeGenesis('{"seq":0,"other":true}', hash(9), 'cp other\n')).toBe('{"seq":0}');
    expect(await log.head()).toEqual({ size: 1, lastHash: hash(0), checkpoint: 'cp 1\n' });
  });

  it('an append lands only under a live lease at its term and on the head it names; otherwise nothing lands', async () => {
    const log = await fresh();
    await log.writeGenesis('{"seq":0}', hash(0), 'cp 1\n');
    const term = await log.acquire('http://a');
    expect(term).toBe(1);
    expect(await log.acquire('http://b')).toBeUndefined();
    await log.append(batch(1, 4), 'http://a', term!);
    expect(await log.head()).toEqual({ size: 4, lastHash: hash(3), checkpoint: 'checkpoint 4\n' });
    // Another holder, a stale term, a head that moved, a head from the future: refused whole.
    await expect(log.append(batch(4, 6), 'http://b', term!)).rejects.toBeInstanceOf(FencedError);
    await expect(log.append(batch(4, 6), 'http://a', term! + 1)).rejects.toBeInstanceOf(FencedError);
    await expect(log.append(batch(1, 3), 'http://a', term!)).rejects.toBeInstanceOf(HeadMovedError);
    await expect(log.append(batch(4, 6, { ...head(4), lastHash: hash(77) }), 'http://a', term!)).rejects.toBeInstanceOf(HeadMovedError);
    await expect(log.append(batch(6, 8), 'http://a', term!)).rejects.toBeInstanceOf(HeadMovedError);
    expect(await seqs(log, false)).toEqual([0, 1, 2, 3]);
    expect((await log.head())?.size).toBe(4);
  });

  it('a lease lapses without renewal and goes to the next node at a higher term; the old holder is fenced', async () => {
    const log = await fresh();
    await log.writeGenesis('{"seq":0}', hash(0), 'cp 1\n');
    const a = await log.acquire('http://a');
    expect(await log.renew('http://a', a!)).toBe(true);
    expect((await log.lease()).holder).toBe('http://a');
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    expect((await log.lease()).live).toBe(false);
    const b = await log.acquire('http://b');
    expect(b).toBe(a! + 1);
    expect(await log.renew('http://a', a!)).toBe(false);
    await expect(log.append(batch(1, 2), 'http://a', a!)).rejects.toBeInstanceOf(FencedError);
    await log.append(batch(1, 2), 'http://b', b!);
    // Resigning frees the lease at once.
    await log.resign('http://b', b!);
    expect(await log.acquire('http://c')).toBe(b! + 1);
  }, 20_000);

  it('followers read only below the durable mark, which the leader raises after each append and a new leader raises to the whole log', async () => {
    const log = await fresh();
    await log.writeGenesis('{"seq":0}', hash(0), 'cp 1\n');
    const term = await log.acquire('http://a');
    await log.append(batch(1, 3), 'http://a', term!);
    expect(await seqs(log, true)).toEqual([0]);
    expect(await seqs(log, false)).toEqual([0, 1, 2]);
    log.markDurable(3);
    await expect.poll(() => seqs(log, true)).toEqual([0, 1, 2]);
    await log.append(batch(3, 5), 'http://a', term!);
    expect(await seqs(log, true)).toEqual([0, 1, 2]);
    // A lower mark never lowers it; the next leader takes the whole log as the log of record.
    log.markDurable(2);
    await log.markAllDurable();
    expect(await seqs(log, true)).toEqual([0, 1, 2, 3, 4]);
  });
});
