/**
 * Backup under load, crash, restore (docs/operations.md): the real compiled service on a real
 * port takes ops from many workers; `rvl backup` (the compiled CLI) saves a backup while the ops
 * go on; the service is then SIGKILLed; `restore` (the compiled entry) rebuilds the ledger in a
 * fresh folder; the service starts on it with STARTUP_VERIFY=full. Every op acknowledged before
 * the backup began must be there with its seq and hash (a resubmission is a 200 duplicate), and
 * the SDK's audit (chain, signatures, replay under the rules, root) must pass. Damaged backups are
 * refused by restore; only the operator may take a backup.
 *
 * It prints the backup's throughput, the restore's time, and the op rate before and during the
 * backup. Knobs: RVL_E2E_BACKUP_OPS (ops before the backup, default 1500), RVL_E2E_BACKUP_WIDTH
 * (requests in flight, default 16).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/client/audit.js';
import { LedgerClient } from '../../src/client/client.js';
import { verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { Client, dueIn, operatorKey, pool, type Envelope, type Key, type Receipt } from './client.js';
import { cleanup, REPO_ROOT, startServer, tempDir } from './server.js';
import { loadCast } from '../support/cast.js';
import { envInt } from '../support/time.js';

const OPS_BEFORE = envInt('RVL_E2E_BACKUP_OPS', 1500);
const WIDTH = envInt('RVL_E2E_BACKUP_WIDTH', 16);

const { core, suppliers, bank, auditor } = loadCast('bk', 6);

/** The compiled entries beside main.js: this run's private build, else dist/. */
const built = (rel: string): string => {
  let main: string | undefined;
  try {
    main = inject('rvlMainJs');
  } catch {
    main = undefined;
  }
  return path.join(path.dirname(main ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js')), rel);
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const node = async (script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> => {
  const started = performance.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '', ms: performance.now() - started };
  }
};

interface Acked {
  readonly env: Envelope;
  readonly receipt: Receipt;
  /** performance.now() when the 201 arrived. */
  readonly at: number;
}

/**
 * WIDTH workers, each running its own chain of ops on vouchers only it touches (issue → accept →
 * partial transfer → accept of the part → co-signed pledge of the rest), until `stop()`.
 */
const drive = (c: Client, label: string) => {
  const acked: Acked[] = [];
  const failures: string[] = [];
  let stopping = false;
  const send = async (payload: Record<string, unknown>, signers: Key[]): Promise<Receipt | undefined> => {
    if (stopping) return undefined;
    const env = c.envelope(payload, signers);
    let res;
    try {
      res = await c.post(env);
    } catch {
      return undefined; // the service was killed under it
    }
    if (res.status !== 201) {
      if (!stopping) failures.push(`${String(payload.type)}: ${res.status} ${res.text.slice(0, 200)}`);
      return undefined;
    }
    acked.push({ env, receipt: res.body, at: performance.now() });
    return res.body;
  };
  const worker = async (w: number): Promise<void> => {
    const holder = suppliers[w % suppliers.length]!;
    const next = suppliers[(w + 1) % suppliers.length]!;
    for (let i = 0; !stopping; i++) {
      const issued = await send(
        { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '1000000', currency: 'CNY', dueDate: dueIn(120), invoiceIds: [`${label}-${w}-${i}`] },
        [core],
      );
      if (!issued) return;
      const v = issued.effects.vouchers[0]!.id;
      if (!(await send({ type: 'voucher.accept', voucherId: v }, [holder]))) return;
      if (!(await send({ type: 'voucher.transfer', voucherId: v, to: next.id, amount: '400000' }, [holder]))) return;
      if (!(await send({ type: 'voucher.accept', voucherId: `${v}:0-400000` }, [next]))) return;
      if (!(await send({ type: 'voucher.pledge', voucherId: `${v}:400000-1000000`, bank: bank.id, loanRef: `L-${label}-${w}-${i}` }, [holder, bank]))) return;
    }
  };
  const done = Promise.all(Array.from({ length: WIDTH }, (_, w) => worker(w)));
  return {
    acked,
    failures,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
};

/** Acks a second in [from, to). */
const rate = (acked: readonly Acked[], from: number, to: number): number => acked.filter((a) => a.at >= from && a.at < to).length / ((to - from) / 1000);

describe('e2e: backup under load, crash, restore', () => {
  afterAll(cleanup);

  it(`keeps every op acknowledged before the backup (${OPS_BEFORE} ops first, ${WIDTH} in flight)`, { timeout: 240_000 }, async () => {
    const server = await startServer();
    const c = await Client.connect(server.url);
    const operator = await operatorKey(server.dataDir);
    for (const k of [core, bank, auditor, ...suppliers]) await c.register(operator, k);

    // Only the operator may take a backup.
    expect((await c.get('/admin/backup', suppliers[0])).status).toBe(404);
    expect((await c.get('/admin/backup', auditor)).body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await c.get('/admin/backup')).status).toBe(401);

    const load = drive(c, 'bk');
    while (load.acked.length < OPS_BEFORE && load.failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    // A backup timed from the request to its last byte, to measure how much it slows the writes.
    const measureStarted = performance.now();
    const measured = await fetch(`${server.url}/admin/backup`, { headers: { authorization: `Bearer ${await c.token(operator)}` } });
    expect(measured.status).toBe(200);
    let measuredBytes = 0;
    for await (const chunk of measured.body!) measuredBytes += chunk.byteLength;
    const measureEnded = performance.now();
    const measureMs = measureEnded - measureStarted;

    // Everything acknowledged up to now was answered before the backup's request was even sent.
    const beforeBackup = load.acked.slice();
    const backupStarted = performance.now();
    const work = await tempDir('rvl-e2e-backup-');
    const file = path.join(work, 'ledger.rvlb.gz');
    const backup = await node(built('cli/main.js'), [
      '--url',
      server.url,
      '--key',
      path.join(server.dataDir, 'operator.key'),
      '--json',
      'backup',
      '--out',
      file,
    ]);
    const backupEnded = performance.now();
    const acksDuringBackup = load.acked.filter((a) => a.at >= backupStarted && a.at < backupEnded).length;
    // Writes go on a little after the backup, then the service crashes under them.
    await new Promise((r) => setTimeout(r, 200));
    await server.kill();
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(backup.code, backup.stderr).toBe(0);
    const saved = JSON.parse(backup.stdout) as { ledgerId: string; size: number; records: number; bytes: number; rawBytes: number; ms: number };
    expect(saved.ledgerId).toBe(c.ledgerId);
    const maxSeqBefore = Math.max(...beforeBackup.map((a) => a.receipt.seq));
    expect(saved.size).toBeGreaterThan(maxSeqBefore);
    expect(acksDuringBackup, 'writes went on during the backup').toBeGreaterThan(0);
    expect((await stat(`${file}.partial`).catch(() => undefined)) === undefined, 'no .partial left').toBe(true);

    // Damaged copies are refused, and leave their folder empty.
    const gz = await readFile(file);
    const damaged: [string, Buffer, string][] = [
      ['truncated', gz.subarray(0, Math.floor(gz.length * 0.7)), 'TRUNCATED'],
      ['flipped', Buffer.from(gz).fill(gz[gz.length >> 1]! ^ 0x04, gz.length >> 1, (gz.length >> 1) + 1), 'CORRUPT'],
    ];
    for (const [name, bytes, code] of damaged) {
      const bad = path.join(work, `${name}.gz`);
      await writeFile(bad, bytes);
      const into = await tempDir('rvl-e2e-restore-bad-');
      const r = await node(built('admin/restore-main.js'), ['--from', bad, '--data-dir', into, '--node-key', path.join(server.dataDir, 'node.key')]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(code);
      expect(await readdir(into), name).toEqual([]);
    }

    // Restore into a fresh folder, then serve it with the whole log checked before serving.
    const restored = path.join(await tempDir('rvl-e2e-restored-'), 'data');
    const rs = await node(built('admin/restore-main.js'), [
      '--from',
      file,
      '--data-dir',
      restored,
      '--node-key',
      path.join(server.dataDir, 'node.key'),
      '--ledger',
      c.ledgerId,
    ]);
    expect(rs.code, rs.stderr).toBe(0);
    expect(rs.stdout).toContain(`Restored ledger ${c.ledgerId}`);
    expect(rs.stdout).toContain('Ready.');
    const again = await startServer({ dataDir: restored, env: { STARTUP_VERIFY: 'full' } });
    const c2 = await Client.connect(again.url);
    expect(c2.ledger).toMatchObject({ ledgerId: c.ledgerId, size: saved.size });

    // Every op acknowledged before the backup began is there, at its seq, with its hash.
    const missing = (
      await pool(beforeBackup, 32, async ({ env, receipt }) => {
        const res = await c2.post(env);
        return res.status === 200 && res.body.duplicate === true && res.body.seq === receipt.seq && res.body.entryHash === receipt.entryHash
          ? undefined
          : `seq ${receipt.seq}: ${res.status} ${res.text.slice(0, 160)}`;
      })
    ).filter((x) => x !== undefined);
    expect(missing).toEqual([]);
    expect((await c2.info()).size, 'resubmissions wrote nothing').toBe(saved.size);

    // The SDK's audit: every entry, signature, rule and the root under the signed checkpoint.
    const sdk = new LedgerClient({ baseUrl: again.url, key: { party: auditor.id, secretKey: auditor.seed }, ledgerId: c.ledgerId });
    const report = await audit(sdk, { ledgerId: c.ledgerId, verify: verifyNode });
    expect(report.firstFailure).toBeUndefined();
    expect(report).toMatchObject({ ok: true, checkpointSize: saved.size, entriesChecked: saved.size });
    await again.stop();

    const restoreLine = /(\d+\.\d) s to load, (\d+\.\d) s to verify/.exec(rs.stdout);
    const seconds = saved.ms / 1000;
    console.info(
      `[e2e backup] backup of ${saved.size} entries (${saved.records} records): ${(saved.bytes / 1e6).toFixed(2)} MB gzip'd, ${(saved.rawBytes / 1e6).toFixed(2)} MB raw, ` +
        `${seconds.toFixed(2)} s (CLI fetch+write; ${Math.round(saved.size / seconds)} entries/s, ${(saved.rawBytes / 1e6 / seconds).toFixed(1)} MB/s raw); ` +
        `restore ${(rs.ms / 1000).toFixed(2)} s in all (${restoreLine?.[1]} s load, ${restoreLine?.[2]} s verify); ` +
        `direct GET /admin/backup ${(measuredBytes / 1e6).toFixed(2)} MB in ${Math.round(measureMs)} ms; ` +
        `ops/s in the ${Math.round(Math.max(measureMs, 2000))} ms before it ${Math.round(rate(load.acked, measureStarted - Math.max(measureMs, 2000), measureStarted))}, ` +
        `during it ${Math.round(rate(load.acked, measureStarted, measureEnded))}; during the CLI's backup ${Math.round(acksDuringBackup / ((backupEnded - backupStarted) / 1000))} ` +
        `(${Math.round(backupEnded - backupStarted)} ms incl. the CLI's start and read-back check)`,
    );
  });
});
