/**
 * Start-up at scale: the quick start checks the head, the checkpoint, the stored tree's
 * right edge and the last entries, then verifies the whole log in the background; a bad entry
 * found there makes the service read-only. The duplicate index fills in the background too, and
 * answers exactly once complete.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openLedger, StartupError } from '../../src/service/open.js';
import { OpIndex } from '../../src/service/op-index.js';
import { Harness, key } from '../support/harness.js';
import { editLevel, seqKey, sublevel } from '../support/level-edit.js';
import { until } from '../support/time.js';

/** A stopped ledger with `n` supplier registrations after genesis; returns its folder. */
const ledgerOf = async (n: number): Promise<{ dataDir: string; ops: unknown[] }> => {
  const h = await Harness.start();
  const ops: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const k = key(`supplier-${i}`, 'supplier');
    const e = h.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: 'supplier', publicKey: k.publicKey } }, [h.operator]);
    expect((await h.post(e)).statusCode).toBe(201);
    ops.push(e);
  }
  await h.close(false);
  return { dataDir: h.dataDir, ops };
};

/** Changes one character inside the stored text of entry `seq` (the service must be stopped). */
const alterEntry = (dataDir: string, seq: number): Promise<void> =>
  editLevel(dataDir, async (db) => {
    const entries = sublevel(db, 'e');
    const text = await entries.get(seqKey(seq));
    if (text === undefined) throw new Error(`no entry ${seq}`);
    const at = text.indexOf('"name":"') + '"name":"'.length;
    await entries.put(seqKey(seq), `${text.slice(0, at)}X${text.slice(at + 1)}`);
  });

describe('OpIndex', () => {
  it('never says absent for an added id, across growth, and says absent for others', () => {
    const index = new OpIndex(16);
    const ids = Array.from({ length: 50_000 }, () => randomBytes(32).toString('hex'));
    ids.forEach((id) => index.add(id));
    ids.forEach((id) => index.add(id)); // idempotent
    expect(index.size).toBe(ids.length);
    expect(ids.every((id) => index.mayContain(id))).toBe(true);
    const others = Array.from({ length: 50_000 }, () => randomBytes(32).toString('hex'));
    expect(others.filter((id) => index.mayContain(id)).length).toBe(0);
  });

  it('treats ids that share the first 52 bits as maybe present (the store decides)', () => {
    const index = new OpIndex();
    const id = 'a'.repeat(64);
    index.add(id);
    expect(index.mayContain(`${'a'.repeat(13)}${'b'.repeat(51)}`)).toBe(true);
    expect(index.mayContain(`${'a'.repeat(12)}b${'a'.repeat(51)}`)).toBe(false);
  });
});

describe('restart', () => {
  it('answers a replay of an old op as a duplicate, before and after the index is complete', async () => {
    const { dataDir, ops } = await ledgerOf(5);
    const h = await Harness.start({ dataDir });
    try {
      const early = await h.post(ops[0]);
      expect(early.statusCode).toBe(200);
      await until('the duplicate index', () => h.service.opIndex.complete);
      expect(h.service.opIndex.size).toBe(6); // genesis + 5
      for (const op of ops) expect((await h.post(op)).statusCode).toBe(200);
      const fresh = key('supplier-new', 'supplier');
      expect((await h.register(fresh)).seq).toBe(6);
      expect(h.service.opIndex.mayContain(h.opIdOf(h.envelope({ type: 'party.update', partyId: fresh.id, status: 'suspended' }, [h.operator])))).toBe(false);
    } finally {
      await h.close(true);
    }
  });

  it('starts quickly on an intact log and then passes the background check', async () => {
    const { dataDir } = await ledgerOf(12);
    const h = await Harness.start({ dataDir, tailEntries: 3 });
    try {
      await until('the background check', () => h.service.logCheck !== 'running');
      expect(h.service.logCheck).toBe('passed');
      expect((await h.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', logCheck: 'passed' });
      expect(h.service.unavailable).toBeUndefined();
      await h.register(key('after', 'supplier'));
    } finally {
      await h.close(true);
    }
  });

  it('finds an entry altered before the checked tail in the background, and stops writing', async () => {
    const { dataDir } = await ledgerOf(12);
    await alterEntry(dataDir, 3);
    const h = await Harness.start({ dataDir, tailEntries: 3 });
    try {
      await until('the background check', () => h.service.logCheck !== 'running');
      expect(h.service.logCheck).toBe('failed');
      expect(h.service.unavailable).toContain('seq 3');
      const k = key('late', 'supplier');
      const r = await h.post(h.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: 'supplier', publicKey: k.publicKey } }, [h.operator]));
      expect(r.statusCode).toBe(503);
      expect(r.json().code).toBe('LEDGER_UNAVAILABLE');
      expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect(h.service.size).toBe(13);
    } finally {
      await h.close(true);
    }
  });

  it('refuses to start on the same log with STARTUP_VERIFY=full, naming seq 3', async () => {
    const { dataDir } = await ledgerOf(12);
    await alterEntry(dataDir, 3);
    const open = openLedger({
      dataDir,
      ledgerName: 'test',
      operatorPublicKey: undefined,
      nodeKeyFile: path.join(dataDir, 'node.key'),
      logger: pino({ level: 'silent' }),
      startupVerify: 'full',
    });
    await expect(open).rejects.toBeInstanceOf(StartupError);
    await expect(open).rejects.toMatchObject({ seq: 3 });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('falls back to the whole log, naming the seq, when the tail itself is altered', async () => {
    const { dataDir } = await ledgerOf(12);
    await alterEntry(dataDir, 11);
    await expect(Harness.start({ dataDir, tailEntries: 3 })).rejects.toMatchObject({ seq: 11 });
    await rm(dataDir, { recursive: true, force: true });
  });
});
