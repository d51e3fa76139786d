/**
 * `npm run demo` (scripts/demo.ts) as a user runs it: a child process through tsx. In-process mode
 * on a fresh temporary ledger (which it must remove), remote mode (`--url`) against the compiled
 * service that the test starts itself (and whose log the test then reads independently, so the
 * demo's story is checked against what is really on the ledger), and the ways it must fail
 * loudly and still clean up: a wrong operator key, Ctrl-C halfway, a bad command line.
 *
 * The runs are independent (each remote run gets its own server), so they run concurrently.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { generateKeyFile, keyFileText, LedgerClient, parseKeyFile, type KeyFile } from '../../src/client/index.js';
import { cleanup, REPO_ROOT, startServer, type Server } from '../e2e/server.js';

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The PROTOCOL §10 variables, and colour settings: never inherited from the runner. */
const STRIPPED = ['HOST', 'PORT', 'LEDGER_DATA_DIR', 'LEDGER_NAME', 'LEDGER_OPERATOR_PUBLIC_KEY', 'LEDGER_NODE_KEY_FILE', 'LOG_LEVEL', 'RATE_LIMIT_PER_MIN', 'NO_COLOR', 'FORCE_COLOR'];
const RUN_TIMEOUT_MS = 25_000;

const runDemo = (
  args: readonly string[],
  o: { env?: Record<string, string>; onStdout?: (soFar: string, signal: (s: NodeJS.Signals) => void) => void } = {},
): Promise<DemoRun> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of STRIPPED) delete env[name];
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the demo did not finish within ${RUN_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      o.onStdout?.(stdout, (s) => proc.kill(s));
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });

const explain = (r: DemoRun): string => `exit ${r.code} (${r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** The key facts of every step of the story, in order. */
const expectTheStory = (out: string): void => {
  const bankA = 'ICBC Guangzhou (bank A)';
  // Steps 1–8, numbered, in order.
  const at = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => out.indexOf(`Step ${n}. `));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  const step = (n: number): string => out.slice(at[n - 1], n < 8 ? at[n] : out.indexOf('\nSummary'));

  // 1. five parties, each registered with its own key, each an entry.
  for (const name of ['Guangzhou Motors (core enterprise)', 'Dongguan Parts (tier-1 supplier)', 'Chen Electronics (tier-2 supplier)', bankA, 'CMB Shenzhen (bank B)']) {
    expect(step(1)).toMatch(new RegExp(`✓ ${name.replace(/[()]/g, '\\$&')} registered as "[a-z0-9-]+", key [0-9a-f]{12}…[0-9a-f]{4} — accepted, entry #\\d+`));
  }
  // 2. ¥1,000,000.00 against two invoices, offered to tier 1.
  expect(step(2)).toMatch(/issues ¥1,000,000\.00 to Dongguan Parts \(tier-1 supplier\), due \d{4}-\d\d-\d\d — accepted, entry #\d+/);
  expect(step(2)).toMatch(/v[0-9a-f]{24}\s+¥1,000,000\.00\s+offered to Dongguan Parts/);
  expect(step(2)).toMatch(/invoices GZM-INV-0417\S* and GZM-INV-0418/);
  // 3. accept, split 600k + 400k, partial transfer of ¥100,000.00.
  expect(step(3)).toMatch(/accepts the voucher — accepted, entry #\d+/);
  expect(step(3)).toContain('splits it into ¥600,000.00 + ¥400,000.00');
  expect(step(3)).toMatch(/transfers ¥100,000\.00 of it to Chen Electronics \(tier-2 supplier\) \(partial transfer\) — accepted, entry #\d+/);
  expect(step(3)).toMatch(/:60000000-70000000\s+¥100,000\.00\s+offered to Chen Electronics/);
  expect(step(3)).toMatch(/:70000000-100000000\s+¥300,000\.00\s+active, held by Dongguan Parts/);
  // 4. co-signed pledge: two signatures.
  expect(step(4)).toContain('signature 1 of 2');
  expect(step(4)).toContain('signature 2 of 2');
  expect(step(4)).toMatch(/¥100,000\.00\s+pledged to ICBC Guangzhou/);
  // 5. the double pledge refused.
  expect(step(5)).toMatch(/✗ .*CMB Shenzhen \(bank B\) — refused\n\s+VOUCHER_PLEDGED: /);
  // 6. the duplicate invoice refused.
  expect(step(6)).toMatch(/✗ .* — refused\n\s+INVOICE_ALREADY_USED: /);
  // 7. settlement: the pledged voucher pays bank A, the active ones their holder.
  expect(step(7)).toMatch(/settled: paid to ICBC Guangzhou/);
  expect(step(7)).toContain(`→ paid to ${bankA}: the voucher is pledged, so the money goes to the bank`);
  expect(step(7)).toContain('→ paid to its holder, Dongguan Parts (tier-1 supplier)');
  expect(step(7)).toContain('In all: ¥900,000.00 to Dongguan Parts, ¥100,000.00 to ICBC Guangzhou.');
  // 8. the offline verification: twelve checks passed, and the verdict.
  expect(step(8).match(/^ {2}✓ /gm)?.length).toBe(12 + 1); // the 12 checks, and the forged copy caught
  expect(step(8)).toContain('Verdict: the bundle is valid.');
  expect(step(8)).toMatch(/holder\s+Chen Electronics \(tier-2 supplier\)/);
  expect(step(8)).toMatch(/amount\s+¥100,000\.00 \(CNY\)/);
  expect(step(8)).toMatch(/status\s+settled/);
  expect(step(8)).toMatch(new RegExp(`payee\\s+${bankA.replace(/[()]/g, '\\$&')}, payment GZM-PAY-`));
  expect(step(8)).toMatch(/path\s+v[0-9a-f]{24} \(root\) → v[0-9a-f]{24}:60000000-100000000 → v[0-9a-f]{24}:60000000-70000000/);
  expect(step(8)).toContain('is caught: ✗ STATE_MISMATCH');
  // Summary.
  expect(out).toMatch(/entries written\s+14 by this demo \(2 attempts refused/);
  expect(out).toMatch(/checkpoint\s+\d+ entries, root [0-9a-f]{64}, signed by the node key ✓/);
  expect(out).toContain('The story went as told.');
  // Only the two refusals and the forged copy are crosses.
  expect(out.match(/✗/g)?.length).toBe(3);
};

const tmpRoots: string[] = [];
const tmpRoot = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-demo-test-'));
  tmpRoots.push(dir);
  return dir;
};

afterAll(async () => {
  await cleanup();
  await Promise.all(tmpRoots.map((d) => rm(d, { recursive: true, force: true })));
});

const operatorOf = async (server: Server): Promise<KeyFile> => parseKeyFile(await readFile(path.join(server.dataDir, 'operator.key'), 'utf8'));

// Each run takes a few seconds alone (tsx compiles the script); concurrent runs on a small box, or
// the whole suite running beside them, can stretch that, so the limit is generous.
describe.concurrent('npm run demo', { timeout: 60_000 }, () => {
  it('tells the whole story on a fresh in-process ledger, exits 0, and removes its temporary folder', async () => {
    const r = await runDemo([]);
    expect(r.code, explain(r)).toBe(0);
    expectTheStory(r.stdout);
    // Not a terminal: no colours, even without NO_COLOR.
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/service\s+http:\/\/127\.0\.0\.1:\d+ \(started in this process, on a fresh ledger\)/);
    // A fresh ledger: genesis + the demo's 14 entries, nothing else.
    expect(r.stdout).toMatch(/checkpoint\s+15 entries/);
    const dir = /data dir\s+(\S+)/.exec(r.stdout)?.[1];
    expect(dir).toBeDefined();
    expect(r.stdout).toContain(`Cleaned up: stopped the service, removed ${dir}.`);
    expect(existsSync(dir!)).toBe(false);
    expect(r.stderr).toBe('');
  });

  it('uses --data-dir when given one, removes it afterwards, and refuses one that exists', async () => {
    const root = await tmpRoot();
    const dir = path.join(root, 'ledger');
    const r = await runDemo(['--data-dir', dir], { env: { NO_COLOR: '1' } });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`data dir\\s+${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`));
    expect(r.stdout).toContain('¥1,000,000.00');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(root)).toBe(true);

    // An existing folder is not the demo's to use or remove.
    await mkdir(dir);
    await writeFile(path.join(dir, 'keep-me'), 'mine');
    const refused = await runDemo(['--data-dir', dir]);
    expect(refused.code, explain(refused)).toBe(2);
    expect(refused.stderr).toMatch(/--data-dir .* exists/);
    expect(await readdir(dir)).toEqual(['keep-me']);
  });

  it('runs against a service the test started (--url, --operator-key), repeatably, and writes exactly what it tells', async () => {
    const server = await startServer();
    const operator = await operatorOf(server);
    const args = ['--url', server.url, '--operator-key', path.join(server.dataDir, 'operator.key')];
    const first = await runDemo(args);
    expect(first.code, explain(first)).toBe(0);
    expectTheStory(first.stdout);
    expect(first.stdout).toContain(`service    ${server.url} (already running)`);
    expect(first.stdout).not.toMatch(/data dir/);

    // What the demo told is what the ledger holds, read independently as the operator.
    const op = new LedgerClient({ baseUrl: server.url, key: operator });
    const entries = [];
    for await (const e of op.iterateEntries()) entries.push(e);
    expect(entries).toHaveLength(15);
    const types = entries.map((e) => (e.entry.op.payload as { type: string }).type);
    expect(types).toEqual([
      'ledger.genesis',
      ...Array<string>(5).fill('party.register'),
      'voucher.issue',
      'voucher.accept',
      'voucher.split',
      'voucher.transfer',
      'voucher.accept',
      'voucher.pledge',
      'voucher.settle',
      'voucher.settle',
      'voucher.settle',
    ]);
    const pledge = entries[11]!.entry.op;
    expect(pledge.signatures).toHaveLength(2);
    const bankA = (pledge.payload as { bank: string }).bank;
    expect(bankA).toMatch(/^icbc-gz-[0-9a-f]{6}$/);
    const pledged = (pledge.payload as { voucherId: string }).voucherId;
    const settled = await op.voucher(pledged);
    expect(settled).toMatchObject({ status: 'settled', amount: '10000000', settlement: { payee: bankA } });
    expect(settled.holder).toMatch(/^chen-electronics-/);

    // A second run on the same ledger: new party ids and invoices, the same story.
    const second = await runDemo(args, { env: { NO_COLOR: '1' } });
    expect(second.code, explain(second)).toBe(0);
    expectTheStory(second.stdout);
    expect((await op.ledger()).size).toBe(15 + 14);
    await server.stop();
  });

  it('fails loudly, writing nothing, when the operator key is not the ledger’s', async () => {
    const server = await startServer();
    const root = await tmpRoot();
    const wrongKey = path.join(root, 'operator.key');
    await writeFile(wrongKey, keyFileText(generateKeyFile('operator')), { mode: 0o600 });
    const r = await runDemo(['--url', server.url, '--operator-key', wrongKey]);
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toMatch(/demo FAILED at connecting: the operator key file does not hold this ledger's operator key/);
    expect(r.stdout).not.toContain('The story went as told.');
    const op = new LedgerClient({ baseUrl: server.url, key: await operatorOf(server) });
    expect((await op.ledger()).size).toBe(1);
    await server.stop();
  });

  it('stops the service and removes its folder when interrupted halfway (Ctrl-C)', async () => {
    let sent = false;
    const r = await runDemo([], {
      onStdout: (soFar, signal) => {
        if (!sent && soFar.includes('Step 3. ')) {
          sent = true;
          signal('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code, explain(r)).toBe(130);
    expect(r.stdout).not.toContain('The story went as told.');
    expect(r.stderr).toContain('demo: SIGINT: stopping and cleaning up');
    const dir = /data dir\s+(\S+)/.exec(r.stdout)?.[1];
    expect(r.stderr).toContain(`removed ${dir}`);
    expect(existsSync(dir!)).toBe(false);
  });

  it('explains a bad command line with exit code 2', async () => {
    const r = await runDemo(['--url', 'http://127.0.0.1:1']);
    expect(r.code, explain(r)).toBe(2);
    expect(r.stderr).toContain('--url and --operator-key go together');
    expect(r.stderr).toContain('usage: npm run demo');
  });
});
