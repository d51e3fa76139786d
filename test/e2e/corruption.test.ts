/**
 * Tampering with the stored log (docs/protocol.md §6, §10): the service checks the stored log against the
 * last signed checkpoint before it serves and refuses to start — exit code 1, "refusing to start"
 * on stderr, the first bad seq named — on any mismatch. Each case works on its own copy of one
 * stopped ledger, changed directly in LevelDB (sublevel 'e': entry JCS text keyed by 12-hex seq).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, dueIn, key, operatorKey } from './client.js';
import { cleanup, logLines, runToExit, startServer } from './server.js';
import { copyLedger, editLevel, seqKey, sublevel } from '../support/level-edit.js';

/** Opens `<data>/db` (the service must be stopped) and hands its entries sublevel to `change`. */
const tamper = (dataDir: string, change: (entries: ReturnType<typeof sublevel>) => Promise<void>): Promise<void> =>
  editLevel(dataDir, (db) => change(sublevel(db, 'e')));

/** One character of the entry's nonce changed: still well-formed JSON, a different hash. */
const alterNonce = (text: string): string => {
  const at = text.indexOf('"nonce":"') + '"nonce":"'.length;
  if (at < '"nonce":"'.length) throw new Error(`no nonce in ${text.slice(0, 80)}`);
  const ch = text[at] === 'A' ? 'B' : 'A';
  return `${text.slice(0, at)}${ch}${text.slice(at + 1)}`;
};

interface Refusal {
  code: number | null;
  stderr: string;
  /** The `seq` field of the fatal log line (pino, on stdout). */
  fatalSeq: unknown;
}

const startRefused = async (dataDir: string): Promise<Refusal> => {
  const run = await runToExit({ dataDir });
  const fatal = logLines(run.stdout).find((l) => l.level === 60);
  return { code: run.code, stderr: run.stderr, fatalSeq: fatal?.seq };
};

describe('e2e: a tampered log is refused at start', () => {
  let pristine = '';
  let size = 0;

  beforeAll(async () => {
    const server = await startServer();
    const c = await Client.connect(server.url);
    const operator = await operatorKey(server.dataDir);
    const core = key('tamper-core', 'core');
    const s1 = key('tamper-s1', 'supplier');
    const s2 = key('tamper-s2', 'supplier');
    for (const k of [core, s1, s2]) await c.register(operator, k);
    const issued = await c.ok({ type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '5000', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['T-1'] }, [
      core,
    ]);
    await c.ok({ type: 'voucher.accept', voucherId: issued.effects.vouchers[0]!.id }, [s1]);
    await c.ok({ type: 'voucher.transfer', voucherId: issued.effects.vouchers[0]!.id, to: s2.id }, [s1]);
    size = (await c.info()).size;
    expect(size).toBe(7);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    pristine = server.dataDir;
  });
  afterAll(cleanup);

  /** A copy of the stopped ledger to spoil. */
  const copy = (): Promise<string> => copyLedger(pristine);

  it('starts from an untouched copy (the control case)', async () => {
    const dir = await copy();
    const server = await startServer({ dataDir: dir });
    const c = await Client.connect(server.url);
    expect(c.ledger.size).toBe(size);
    await server.stop();
  });

  it('refuses a log with one character changed inside entry 3, naming seq 3', async () => {
    const dir = await copy();
    await tamper(dir, async (e) => {
      const text = await e.get(seqKey(3));
      expect(text).toContain('"seq":3');
      await e.put(seqKey(3), alterNonce(text!));
    });
    const r = await startRefused(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stderr).toMatch(/\bseq 3\b/);
    expect(r.fatalSeq).toBe(3);
  });

  it('refuses a change inside the last entry, which only the checkpoint covers', async () => {
    const dir = await copy();
    const last = size - 1;
    await tamper(dir, async (e) => {
      await e.put(seqKey(last), alterNonce((await e.get(seqKey(last)))!));
    });
    const r = await startRefused(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stderr).toContain(`entry is ${last}`);
    expect(r.fatalSeq).toBe(last);
  });

  it('refuses a log with entry 3 deleted, naming seq 3', async () => {
    const dir = await copy();
    await tamper(dir, (e) => e.del(seqKey(3)));
    const r = await startRefused(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stderr).toMatch(/\bentry 3\b/);
    expect(r.fatalSeq).toBe(3);
  });

  it('refuses a log cut short of its checkpoint (the last entry deleted)', async () => {
    const dir = await copy();
    await tamper(dir, (e) => e.del(seqKey(size - 1)));
    const r = await startRefused(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stderr).toMatch(/entries were removed/);
    expect(r.fatalSeq).toBe(size - 1);
  });
});
