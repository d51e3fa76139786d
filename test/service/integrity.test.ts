/**
 * The node decides and signs only over state it has verified: the stored parties, keys, vouchers
 * and invoices are checked against their seal at start (writes held meanwhile), entries stored
 * past the sealed state are verified in full before anything is signed over them, and a log cut
 * short is refused even when its stored checkpoint was deleted too. Each ledger is real LevelDB
 * on disk, edited with `level` while the service is stopped, as an attacker with access to the
 * data folder (but not to the node key) would.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/ledger/jcs.js';
import { sign } from '../../src/ledger/ed25519.js';
import { opPreimage } from '../../src/ledger/op.js';
import { nodeKey } from '../../src/store/keys.js';
import { entryHashOfText } from '../../src/ledger/entry.js';
import { Frontier } from '../../src/service/merkle-log.js';
import { StartupError } from '../../src/service/open.js';
import { reseal, ResealError } from '../../src/admin/reseal.js';
import { outsideCheckpointFile } from '../../src/service/outside-checkpoint.js';
import { Digest } from '../../src/service/state-seal.js';
import { dueIn, Harness, key, type Key } from '../support/harness.js';
import { editLevel as edit, seqKey, sublevel as sub } from '../support/level-edit.js';
import { until } from '../support/time.js';

const core = key('int-core', 'core');
const supplier = key('int-sup', 'supplier');
const bankA = key('int-bank-a', 'bank');
const bankB = key('int-bank-b', 'bank');
const attacker = key('int-attacker', 'operator', '-evil');

/** A stopped ledger with a voucher pledged to bank A (and other kinds of record written). */
const pledgedLedger = async (): Promise<{ dataDir: string; voucherId: string; size: number; h: Harness }> => {
  const h = await Harness.start();
  for (const k of [core, supplier, bankA, bankB]) await h.register(k);
  const voucherId = await h.issueAccepted(core, supplier, '500000');
  // An issue rejected (its invoice freed), a party updated without a key change and with one.
  const offered = await h.ok(
    { type: 'voucher.issue', issuer: core.id, to: supplier.id, amount: '100', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INT-FREED'] },
    [core],
  );
  await h.ok({ type: 'voucher.reject', voucherId: offered.effects.vouchers[0]!.id }, [supplier]);
  await h.ok({ type: 'party.update', partyId: bankB.id, status: 'active' }, [h.operator]);
  const rotating = key('int-rot', 'supplier');
  await h.register(rotating);
  await h.ok({ type: 'party.update', partyId: rotating.id, publicKey: key('int-rot', 'supplier', '-2').publicKey }, [h.operator]);
  await h.ok({ type: 'voucher.pledge', voucherId, bank: bankA.id, loanRef: 'LOAN-1' }, [supplier, bankA]);
  const size = h.service.size;
  await h.close(false);
  return { dataDir: h.dataDir, voucherId, size, h };
};

const pledgeToB = (h: Harness, voucherId: string) => h.submit({ type: 'voucher.pledge', voucherId, bank: bankB.id, loanRef: 'LOAN-2' }, [supplier, bankB]);

describe('the state seal', () => {
  it('passes on an untouched ledger, in both start modes, and writes flow (no false alarm)', async () => {
    const { dataDir, voucherId } = await pledgedLedger();
    for (const startupVerify of ['tail', 'full'] as const) {
      const h = await Harness.start({ dataDir, startupVerify, tailEntries: 2 });
      try {
        await until('the state check', () => h.service.stateCheck !== 'running');
        expect(h.service.stateCheck).toBe('passed');
        expect((await h.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', stateCheck: 'passed' });
        const refused = await pledgeToB(h, voucherId);
        expect(refused.statusCode).toBe(409);
        await h.ok({ type: 'party.update', partyId: bankB.id, status: 'active' }, [h.operator]);
      } finally {
        await h.close(false);
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds a write sent right at start until the check passes, then decides it', async () => {
    const { dataDir } = await pledgedLedger();
    const h = await Harness.start({ dataDir });
    try {
      const r = await h.register(key('int-early', 'supplier'));
      expect(h.service.stateCheck).toBe('passed');
      expect(r.seq).toBeGreaterThan(0);
    } finally {
      await h.close(true);
    }
  });

  it('refuses writes when a voucher record was edited from pledged to active, and signs nothing over a second pledge', async () => {
    const { dataDir, voucherId, size } = await pledgedLedger();
    await edit(dataDir, async (db) => {
      const v = sub(db, 'v');
      const record = JSON.parse((await v.get(voucherId))!) as { state: { status: string; pledge: unknown } };
      expect(record.state.status).toBe('pledged');
      record.state.status = 'active';
      record.state.pledge = null;
      await v.put(voucherId, JSON.stringify(record));
    });
    const h = await Harness.start({ dataDir });
    try {
      const checkpointBefore = h.service.checkpoint;
      const second = await pledgeToB(h, voucherId);
      expect(second.statusCode).toBe(503);
      expect(second.json().code).toBe('LEDGER_UNAVAILABLE');
      expect(h.service.stateCheck).toBe('failed');
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().detail).toContain('does not match its seal');
      expect(ready.json().detail).toContain(`voucher record ${voucherId}`);
      expect(h.service.size).toBe(size);
      expect(h.service.checkpoint).toBe(checkpointBefore);
    } finally {
      await h.close(false);
    }
    // The database holds no entry past the old size either.
    await edit(dataDir, async (db) => expect(await sub(db, 'e').get(seqKey(size))).toBeUndefined());
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses an attacker's op after the operator's party record was given the attacker's key", async () => {
    const { dataDir } = await pledgedLedger();
    await edit(dataDir, async (db) => {
      const p = sub(db, 'p');
      const operator = JSON.parse((await p.get('operator'))!) as { publicKey: string };
      operator.publicKey = attacker.publicKey;
      await p.put('operator', JSON.stringify(operator));
      await sub(db, 'k').put(attacker.publicKey, 'operator');
    });
    const h = await Harness.start({ dataDir, startupVerify: 'full' });
    try {
      const evil = key('int-evil-bank', 'bank');
      const asOperator: Key = { ...attacker, id: 'operator' };
      const r = await h.submit({ type: 'party.register', party: { id: evil.id, name: evil.id, role: 'bank', publicKey: evil.publicKey } }, [asOperator]);
      expect(r.statusCode).toBe(503);
      expect(h.service.unavailable).toContain('party record operator');
    } finally {
      await h.close(true);
    }
  });

  it('refuses writes on a folder whose seal was deleted, naming the way out', async () => {
    const { dataDir } = await pledgedLedger();
    await edit(dataDir, (db) => db.sublevel('meta', { valueEncoding: 'json' }).del('seal'));
    const h = await Harness.start({ dataDir });
    try {
      const r = await h.register(key('int-after', 'supplier')).catch((err: Error) => err);
      expect(String(r)).toContain('503');
      expect(h.service.unavailable).toContain('npm run reseal');
    } finally {
      await h.close(true);
    }
  });
});

/** The seal, head and checkpoint as stored. */
const metaOf = async (dataDir: string) => {
  let out: { head: { size: number; lastHash: string; lastTime: string }; checkpoint: string } | undefined;
  await edit(dataDir, async (db) => {
    const m = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
    out = { head: (await m.get('head')) as never, checkpoint: (await m.get('checkpoint')) as string };
  });
  return out!;
};

/**
 * Appends an entry past the checkpoint as an attacker would: well-formed, hash-linked, with its
 * tree nodes, but without its derived records (the attacker cannot seal them).
 */
const appendEntry = async (dataDir: string, payload: Record<string, unknown>, signatures: { signer: string; sig: string }[]): Promise<number> => {
  const { head } = await metaOf(dataDir);
  const seq = head.size;
  const time = new Date(Math.max(Date.parse(head.lastTime) + 1000, Date.now())).toISOString();
  const text = canonicalize({ v: 1, seq, time, prev: head.lastHash, op: { payload, signatures } });
  await edit(dataDir, async (db) => {
    const nodes = db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' });
    const frontier = await Frontier.load(seq, async (at) => Promise.all(at.map((n) => nodes.get(nodeKey(n.level, n.index)))));
    const hash = entryHashOfText(text);
    for (const n of frontier.append(hash)) await nodes.put(nodeKey(n.level, n.index), n.hash);
    await sub(db, 'e').put(seqKey(seq), text);
    await db
      .sublevel<string, unknown>('meta', { valueEncoding: 'json' })
      .put('head', { size: seq + 1, lastHash: Buffer.from(hash).toString('hex'), lastTime: time });
  });
  return seq;
};

describe('entries past the sealed state', () => {
  it('does not sign over an appended entry with an all-zero signature, and names its seq', async () => {
    const { dataDir, size, h: old } = await pledgedLedger();
    const payload = {
      type: 'party.register',
      party: { id: 'int-ghost', name: 'ghost', role: 'bank', publicKey: key('int-ghost', 'bank').publicKey },
      ledger: old.ledgerId,
      nonce: 'ghost-nonce-1',
    };
    const seq = await appendEntry(dataDir, payload, [{ signer: 'operator', sig: '0'.repeat(128) }]);
    expect(seq).toBe(size);
    const h = await Harness.start({ dataDir });
    try {
      expect(h.service.unavailable).toContain(`entry ${seq}`);
      expect(h.service.unavailable).toContain('does not verify');
      expect(h.service.size).toBe(size);
      expect(h.service.checkpoint.split('\n')[1]).toBe(String(size));
      expect((await h.register(key('int-x', 'supplier')).catch((e: Error) => e)).toString()).toContain('503');
    } finally {
      await h.close(true);
    }
  });

  it('verifies, applies and signs over an appended entry that is validly signed and decidable', async () => {
    const { dataDir, size, h: old } = await pledgedLedger();
    const operatorSeed = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')).secretKey as string;
    const fresh = key('int-late', 'supplier');
    const payload = {
      type: 'party.register',
      party: { id: fresh.id, name: fresh.id, role: 'supplier', publicKey: fresh.publicKey },
      ledger: old.ledgerId,
      nonce: 'late-nonce-1',
    };
    const seq = await appendEntry(dataDir, payload, [{ signer: 'operator', sig: sign(operatorSeed, opPreimage(payload)) }]);
    const h = await Harness.start({ dataDir });
    try {
      expect(h.service.unavailable).toBeUndefined();
      expect(h.service.size).toBe(size + 1);
      expect(h.service.checkpoint.split('\n')[1]).toBe(String(size + 1));
      // Its derived records were written: the new party signs, and its receipt is served.
      await h.issueAccepted(core, fresh, '1000');
      expect((await h.get(`/v1/entries/${seq}`, h.operator)).statusCode).toBe(200);
    } finally {
      await h.close(false);
    }
    // And the state sealed after it passes the next start.
    const again = await Harness.start({ dataDir, startupVerify: 'full' });
    try {
      expect(again.service.stateCheck).toBe('passed');
    } finally {
      await again.close(true);
    }
  });
});

describe('a log cut short', () => {
  /** Deletes the last `n` entries (and their leaves), rolls the head back, deletes the stored checkpoint. */
  const truncate = async (dataDir: string, n: number, o: { keepDerived: boolean }): Promise<number> => {
    const { head } = await metaOf(dataDir);
    const size = head.size - n;
    await edit(dataDir, async (db) => {
      const e = sub(db, 'e');
      const prevText = (await e.get(seqKey(size - 1)))!;
      for (let s = size; s < head.size; s++) {
        await e.del(seqKey(s));
        await db.sublevel('m', { valueEncoding: 'view' }).del(nodeKey(0, s));
        if (!o.keepDerived) await sub(db, 'fx').del(seqKey(s));
      }
      const time = /"time":"([^"]+)"/.exec(prevText)![1]!;
      const meta = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
      await meta.put('head', { size, lastHash: Buffer.from(entryHashOfText(prevText)).toString('hex'), lastTime: time });
      await meta.del('checkpoint');
    });
    return size;
  };

  it('is refused at start by the checkpoint kept beside the node key', async () => {
    const { dataDir } = await pledgedLedger();
    const kept = outsideCheckpointFile(path.join(dataDir, 'node.key'));
    const note = await readFile(kept, 'utf8');
    await truncate(dataDir, 2, { keepDerived: false });
    // Without the seal too: the kept checkpoint alone stops it.
    await edit(dataDir, (db) => db.sublevel('meta', { valueEncoding: 'json' }).del('seal'));
    const err = await Harness.start({ dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/entries were removed/);
    expect((err as Error).message).toContain(kept);
    expect(note.split('\n')[0]).toMatch(/^rvl\//);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is refused without the kept checkpoint: by the seal, and by receipts left past the end', async () => {
    const { dataDir } = await pledgedLedger();
    await rm(outsideCheckpointFile(path.join(dataDir, 'node.key')));
    await truncate(dataDir, 2, { keepDerived: true });
    const err = await Harness.start({ dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/the state seal covers .*entries were removed/);
    // With the seal deleted as well, the receipts past the end still stop it.
    await edit(dataDir, (db) => db.sublevel('meta', { valueEncoding: 'json' }).del('seal'));
    const err2 = await Harness.start({ dataDir }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(StartupError);
    expect((err2 as Error).message).toMatch(/receipt of entry \d+ is stored, but the log ends/);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps a kept checkpoint of another ledger from being overwritten by a new genesis', async () => {
    const { dataDir } = await pledgedLedger();
    await rm(path.join(dataDir, 'db'), { recursive: true, force: true });
    const err = await Harness.start({ dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain('the data folder has no ledger');
    await rm(dataDir, { recursive: true, force: true });
  });
});

describe('npm run reseal', () => {
  it('brings a folder whose seal was deleted back to taking writes, after checking it all', async () => {
    const { dataDir } = await pledgedLedger();
    await edit(dataDir, (db) => db.sublevel('meta', { valueEncoding: 'json' }).del('seal'));
    const r = await reseal({ dataDir, nodeKeyFile: path.join(dataDir, 'node.key') });
    expect(r.records).toBeGreaterThan(10);
    const h = await Harness.start({ dataDir, startupVerify: 'full' });
    try {
      expect(h.service.stateCheck).toBe('passed');
      await h.register(key('int-resealed', 'supplier'));
    } finally {
      await h.close(true);
    }
  });

  it('refuses to reseal an edited voucher record, naming it, and writes nothing', async () => {
    const { dataDir, voucherId } = await pledgedLedger();
    await edit(dataDir, async (db) => {
      const v = sub(db, 'v');
      const record = JSON.parse((await v.get(voucherId))!) as { state: { status: string; pledge: unknown } };
      record.state.status = 'active';
      record.state.pledge = null;
      await v.put(voucherId, JSON.stringify(record));
      await db.sublevel('meta', { valueEncoding: 'json' }).del('seal');
    });
    const err = await reseal({ dataDir, nodeKeyFile: path.join(dataDir, 'node.key') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResealError);
    expect((err as Error).message).toContain(`voucher record "${voucherId}" differs`);
    await edit(dataDir, async (db) => expect(await db.sublevel('meta', { valueEncoding: 'json' }).get('seal')).toBeUndefined());
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a log holding an entry with a bad signature, naming its seq', async () => {
    const { dataDir, h: old } = await pledgedLedger();
    const payload = {
      type: 'party.register',
      party: { id: 'int-ghost2', name: 'ghost', role: 'bank', publicKey: key('int-ghost2', 'bank').publicKey },
      ledger: old.ledgerId,
      nonce: 'ghost-nonce-2',
    };
    const seq = await appendEntry(dataDir, payload, [{ signer: 'operator', sig: '0'.repeat(128) }]);
    const err = await reseal({ dataDir, nodeKeyFile: path.join(dataDir, 'node.key') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResealError);
    expect((err as ResealError).seq).toBe(seq);
    expect((err as Error).message).toContain('does not verify');
    await rm(dataDir, { recursive: true, force: true });
  });
});

describe('Digest', () => {
  it('adds and subtracts mod 2^256 as bigint arithmetic does', () => {
    const d = Digest.zero();
    let expected = 0n;
    const mod = 1n << 256n;
    const terms = [Buffer.alloc(32, 0xff), Buffer.alloc(32, 0x01), Buffer.from('80'.repeat(32), 'hex'), Buffer.alloc(32, 0xff)];
    for (const [i, t] of terms.entries()) {
      const v = BigInt(`0x${t.toString('hex')}`);
      if (i % 3 === 2) {
        d.sub(t);
        expected = (((expected - v) % mod) + mod) % mod;
      } else {
        d.add(t);
        expected = (expected + v) % mod;
      }
      expect(d.hex()).toBe(expected.toString(16).padStart(64, '0'));
    }
    expect(Digest.fromHex(d.hex())!.hex()).toBe(d.hex());
  });
});
