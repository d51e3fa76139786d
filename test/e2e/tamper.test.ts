/**
 * The scenarios end to end, on the real compiled service: with the service stopped, an
 * attacker who can edit the data folder (but cannot read the node key) edits derived state, cuts
 * the log short, or removes the seal. The node must not decide or sign over any of it.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Level } from 'level';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, dueIn, key, operatorKey } from './client.js';
import { cleanup, REPO_ROOT, runToExit, startServer } from './server.js';
import { copyLedger, editLevel as edit, seqKey, sublevel as sub } from '../support/level-edit.js';

const meta = (db: Level<string, string>) => db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });

/** The reseal command of this run's build (beside main.js). */
const resealJs = (): string => {
  let main: string | undefined;
  try {
    main = inject('rvlMainJs');
  } catch {
    main = undefined;
  }
  return path.join(path.dirname(main ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js')), 'admin', 'reseal-main.js');
};

const core = key('tam-core', 'core');
const supplier = key('tam-sup', 'supplier');
const bankA = key('tam-bank-a', 'bank');
const bankB = key('tam-bank-b', 'bank');

describe('e2e: the node never decides or signs over an edited data folder', () => {
  let pristine = '';
  let voucherId = '';
  let size = 0;

  beforeAll(async () => {
    const server = await startServer();
    const c = await Client.connect(server.url);
    const operator = await operatorKey(server.dataDir);
    for (const k of [core, supplier, bankA, bankB]) {
      await c.ok({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [operator]);
    }
    const issued = await c.ok(
      { type: 'voucher.issue', issuer: core.id, to: supplier.id, amount: '800000', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['TAM-1'] },
      [core],
    );
    voucherId = issued.effects.vouchers[0]!.id;
    await c.ok({ type: 'voucher.accept', voucherId }, [supplier]);
    await c.ok({ type: 'voucher.pledge', voucherId, bank: bankA.id, loanRef: 'LOAN-A' }, [supplier, bankA]);
    size = (await c.info()).size;
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    pristine = server.dataDir;
  });
  afterAll(cleanup);

  const copy = (): Promise<string> => copyLedger(pristine);

  it('refuses a second pledge after the pledged voucher was edited back to active, and signs nothing', async () => {
    const dir = await copy();
    await edit(dir, async (db) => {
      const v = sub(db, 'v');
      const record = JSON.parse((await v.get(voucherId))!) as { state: { status: string; pledge: unknown } };
      record.state.status = 'active';
      record.state.pledge = null;
      await v.put(voucherId, JSON.stringify(record));
    });
    const server = await startServer({ dataDir: dir });
    const c = await Client.connect(server.url);
    const before = await c.checkpoint();
    const second = await c.submit({ type: 'voucher.pledge', voucherId, bank: bankB.id, loanRef: 'LOAN-B' }, [supplier, bankB]);
    expect(second.status).toBe(503);
    expect(second.body.code).toBe('LEDGER_UNAVAILABLE');
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toMatch(/does not match its seal.*voucher record/);
    expect(await c.checkpoint()).toBe(before);
    expect((await c.info()).size).toBe(size);
    await server.stop();
  });

  it('refuses to start on a log cut short with its stored checkpoint deleted, naming the checkpoint kept beside the node key', async () => {
    const dir = await copy();
    await edit(dir, async (db) => {
      for (let s = size - 2; s < size; s++) {
        await sub(db, 'e').del(seqKey(s));
        await sub(db, 'fx').del(seqKey(s));
      }
      await meta(db).del('checkpoint');
      await meta(db).del('seal');
    });
    const run = await runToExit({ dataDir: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refusing to start/);
    expect(run.stderr).toContain('node.key.checkpoint');
    expect(run.stderr).toMatch(/entries were removed/);
  });

  it('is read-only without a seal until `npm run reseal`, then takes writes', async () => {
    const dir = await copy();
    await edit(dir, (db) => meta(db).del('seal'));
    let server = await startServer({ dataDir: dir });
    let c = await Client.connect(server.url);
    const operator = await operatorKey(dir);
    const late = key('tam-late', 'supplier');
    const register = { type: 'party.register', party: { id: late.id, name: late.id, role: 'supplier', publicKey: late.publicKey } };
    const refused = await c.submit(register, [operator]);
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('npm run reseal');
    await server.stop();

    const { stdout } = await promisify(execFile)(process.execPath, [resealJs(), '--data-dir', dir], { cwd: REPO_ROOT });
    expect(stdout).toMatch(/resealed ledger [0-9a-f]{64}: \d+ entries replayed and checked/);

    server = await startServer({ dataDir: dir });
    c = await Client.connect(server.url);
    expect((await c.submit(register, [operator])).status).toBe(201);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
