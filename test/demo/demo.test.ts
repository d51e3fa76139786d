/**
 * `npm run demo` (scripts/demo.ts) as a user runs it: a child process through tsx. In-process mode
 * on a fresh temporary ledger (which it must remove), remote mode (`--url`) against the compiled
 * service that the test starts itself (and whose log the test then reads independently, so the
 * demo's story is checked against what is really on the ledger), and the ways it must fail
 * loudly and still clean up: a wrong operator key, Ctrl-C halfway, a bad command line.
 *
 * The story is checked in the order a bank lives it (its check of the proof bundle before the
 * pledge, the pledge before settlement), in plain words with Chinese first, and without jargon: no
 * protocol sections, no check names, and codes only as bracketed technical details.
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

/** The docs/protocol.md §10 variables, and colour settings: never inherited from the runner. */
const STRIPPED = [
  'HOST',
  'PORT',
  'LEDGER_DATA_DIR',
  'LEDGER_NAME',
  'LEDGER_OPERATOR_PUBLIC_KEY',
  'LEDGER_NODE_KEY_FILE',
  'LOG_LEVEL',
  'RATE_LIMIT_PER_MIN',
  'NO_COLOR',
  'FORCE_COLOR',
];
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

/** Escapes a literal for a RegExp. */
const lit = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The output with every bracketed aside removed: technical details, entry numbers, notes. */
const outsideBrackets = (out: string): string => {
  let s = out;
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/\([^()]*\)|（[^（）]*）/g, '');
  }
  return s;
};

/** The key facts of every step of the story, in the order a banker lives it. */
const expectTheStory = (out: string): void => {
  // Steps 1–8, each headed in Chinese first, then English, numbered, in order.
  const at = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => out.search(new RegExp(`^第${n}步 \\S[^\\n]* · Step ${n}\\. `, 'm')));
  expect(
    at.every((i) => i >= 0),
    out,
  ).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  const summary = out.indexOf('\n小结 · Summary');
  expect(summary).toBeGreaterThan(at[7]!);
  const step = (n: number): string => out.slice(at[n - 1], n < 8 ? at[n] : summary);
  // Every sentence is Chinese first: a ✓/✗/→ line in Chinese, its English under it.
  for (const m of out.matchAll(/^ {2}[✓✗→] (.*)\n {4}(.*)$/gm)) {
    expect(m[1], m[0]).toMatch(/[\u4e00-\u9fff]/);
    expect(m[2], m[0]).toMatch(/^[\x20-\x7e¥→…·]+$/);
  }

  // 1. The operator registers the core enterprise, both suppliers, both banks and the auditor.
  expect(step(1)).toMatch(/^第1步 运营方登记参与方 · Step 1\. The operator registers the parties$/m);
  for (const [zh, en, id] of [
    ['广州汽车（核心企业）', 'Guangzhou Motors (core enterprise)', 'gz-motors'],
    ['东莞零件（一级供应商）', 'Dongguan Parts (tier-1 supplier)', 'dongguan-parts'],
    ['陈氏电子（二级供应商）', 'Chen Electronics (tier-2 supplier)', 'chen-electronics'],
    ['工商银行广州分行（银行）', 'ICBC Guangzhou (bank)', 'icbc-gz'],
    ['招商银行深圳分行（银行）', 'CMB Shenzhen (bank)', 'cmb-sz'],
    ['信诚会计师事务所（审计师）', 'Xincheng Auditors (auditor)', 'xincheng-audit'],
  ] as const) {
    expect(step(1)).toMatch(new RegExp(`✓ ${lit(zh)}登记为 ${id}(-[0-9a-f]{6})?（记录 #\\d+）\\n {4}${lit(en)} registered as ${id}\\S* \\(entry #\\d+\\)`));
  }

  // 2. Issued against invoices, accepted, split, part transferred up the chain and accepted.
  expect(step(2)).toMatch(/发票 GZM-INV-0417\S*、GZM-INV-0418/);
  expect(step(2)).toMatch(/Guangzhou Motors issues ¥1,000,000\.00 to Dongguan Parts, due \d{4}-\d\d-\d\d \(entry #\d+\)/);
  expect(step(2)).toMatch(/v[0-9a-f]{24}\s+¥1,000,000\.00\s+待东莞零件接受 · offered to Dongguan Parts/);
  expect(step(2)).toContain('Dongguan Parts accepts the voucher');
  expect(step(2)).toContain('Dongguan Parts splits it into ¥600,000.00 and ¥400,000.00');
  expect(step(2)).toMatch(/Dongguan Parts transfers ¥100,000\.00 of it to Chen Electronics \(entry #\d+\)/);
  expect(step(2)).toMatch(/:70000000-100000000\s+¥300,000\.00\s+东莞零件持有 · held by Dongguan Parts/);
  expect(step(2)).toMatch(/Chen Electronics accepts ¥100,000\.00 \(entry #\d+\)/);

  // 3. The bank checks the voucher BEFORE it lends: every check, then both signatures, then the pledge.
  const s3 = step(3);
  expect(s3).toMatch(/^第3步 银行放款前核验凭证 · Step 3\. The bank checks the voucher before it lends$/m);
  const checks = [
    /✓ 出自运营方公布的那本账.*\n {4}It comes from the ledger the operator published \(ledger id [0-9a-f]{12}…[0-9a-f]{4}\)/,
    /Its history goes back to issuance: issued #(\d+) → accepted #\d+ → split #\d+ → transferred #\d+ → accepted #\d+/,
    /Guangzhou Motors issued it against invoices GZM-INV-0417\S* and GZM-INV-0418\S*, due \d{4}-\d\d-\d\d/,
    /Every step it shows is signed by the firm that took it, and none was edited/,
    /The state these entries give: ¥100,000\.00, held by Chen Electronics \(as of entry #\d+/,
    /✓ 这些记录中没有质押；现在是否已被质押，提交时由账本判断\n {4}These entries show no pledge on it; whether it is pledged now, the ledger decides when the pledge is submitted/,
    /The pledge request is signed by its holder, Chen Electronics/,
    /all 12 technical checks passed/,
  ].map((re) => {
    const i = s3.search(re);
    expect(i, String(re)).toBeGreaterThanOrEqual(0);
    return i;
  });
  const signed1 = s3.indexOf('Chen Electronics signs the pledge request (signature 1 of 2)');
  const signed2 = s3.indexOf('ICBC Guangzhou co-signs the pledge (signature 2 of 2), and will lend once the ledger accepts it');
  const pledged = s3.search(/¥100,000\.00 pledged to ICBC Guangzhou, loan ICBC-GZ-LN-0001\S* \(entry #\d+\)/);
  expect(signed1).toBeGreaterThanOrEqual(0);
  expect(Math.min(...checks)).toBeGreaterThan(signed1);
  expect(signed2).toBeGreaterThan(Math.max(...checks));
  expect(pledged).toBeGreaterThan(signed2);
  expect(s3).toMatch(/¥100,000\.00\s+陈氏电子持有，已质押给工商银行广州分行 · held by Chen Electronics, pledged to ICBC Guangzhou/);
  // The history the bank checked starts at the issuance of step 2.
  const issuedAt = /issues ¥1,000,000\.00 to Dongguan Parts, due \S+ \(entry #(\d+)\)/.exec(step(2))?.[1];
  expect(/issuance: issued #(\d+)/.exec(s3)?.[1]).toBe(issuedAt);
  // …and all of it before the second bank, and long before settlement.
  expect(out.indexOf('These entries show no pledge on it')).toBeLessThan(at[3]!);

  // 4. The second bank is refused, in a banker's words, the code only in brackets.
  expect(step(4)).toMatch(/^第4步 另一家银行想用同一笔钱放款：被拒绝 · Step 4\. A second bank tries to lend against the same money: refused$/m);
  expect(step(4)).toMatch(
    /✗ 招商银行深圳分行会签并提交同一笔 ¥100,000\.00 的质押：账本拒绝\n {4}CMB Shenzhen co-signs and submits a pledge of the same ¥100,000\.00: the ledger refuses\n/,
  );
  expect(step(4)).toMatch(
    / {4}这笔钱已经为另一笔贷款作担保。\n {4}This money already secures another loan\.\n {4}\(技术细节 · technical detail: VOUCHER_PLEDGED\)/,
  );
  expect(step(4)).toContain("ICBC Guangzhou's pledge is untouched; nothing was written");

  // 5. The reused invoice is refused.
  expect(step(5)).toMatch(/✗ 广州汽车凭发票 GZM-INV-0418\S*、GZM-INV-0420\S* 向东莞零件签发 ¥250,000\.00：账本拒绝/);
  expect(step(5)).toMatch(/An invoice can back only one live voucher, and this one already does\.\n {4}\(技术细节 · technical detail: INVOICE_ALREADY_USED\)/);

  // 6. Settlement: the pledged part to the bank, the rest to the holder.
  expect(step(6)).toMatch(/合计 total\s+¥1,000,000\.00/);
  expect(step(6)).toMatch(
    /→ 付给工商银行广州分行：这部分已质押，钱付给银行，不付给陈氏电子\n {4}Paid to ICBC Guangzhou: this part is pledged, so the money goes to the bank, not to Chen Electronics/,
  );
  expect(step(6).match(/Paid to its holder, Dongguan Parts/g)).toHaveLength(2);
  expect(step(6)).toContain('In all: ¥900,000.00 to Dongguan Parts, ¥100,000.00 to ICBC Guangzhou.');

  // 7. The tampered bundle is caught, explained in plain words, the code only in brackets.
  expect(step(7)).toContain('from ¥100,000.00 to ¥1,000,000.00');
  expect(step(7)).toMatch(
    /✗ 银行核验不通过：历史记录加起来不是所示的状态：有人改动过。\n {4}The bank's check fails: the history does not add up to the state shown: someone edited it\.\n {4}\(技术细节 · technical detail: STATE_MISMATCH\)/,
  );

  // 8. The auditor's check of the whole ledger.
  expect(step(8)).toMatch(
    /✓ 全部 \d+ 条记录、\d+ 个签名核对无误.*\n {4}All \d+ entries and \d+ signatures check out and match the seal: the ledger was never rewritten/,
  );

  // Summary.
  expect(out).toMatch(/15 entries written; 2 attempts refused/);
  expect(out).toContain('演示按剧情完成 · The story went as told.');
  // The crosses: the two refusals and the tampered bundle.
  expect(out.match(/✗/g)?.length).toBe(3);

  // No jargon: no protocol sections, no "replay", no check names, no codes outside brackets.
  expect(out).not.toContain('§');
  expect(out).not.toMatch(/replay/i);
  expect(out).not.toMatch(/\((?:state|replay|signatures|inclusion|completeness|hash links|entry hashes)\)/);
  expect(outsideBrackets(out)).not.toMatch(/\b[A-Z]{2,}(?:_[A-Z]+)+\b/);
  // Every amount is ¥1,000,000.00-shaped.
  for (const m of out.matchAll(/¥\S*/g)) expect(m[0]).toMatch(/^¥\d{1,3}(,\d{3})*\.\d\d/);
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
    // A fresh ledger: genesis + the demo's 15 entries, nothing else, all audited.
    expect(r.stdout).toMatch(/All 16 entries and \d+ signatures check out/);
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
    expect(first.stdout).toMatch(new RegExp(`service\\s+${lit(server.url)} \\(already running\\)`));
    expect(first.stdout).not.toMatch(/data dir/);

    // What the demo told is what the ledger holds, read independently as the operator.
    const op = new LedgerClient({ baseUrl: server.url, key: operator });
    const entries = [];
    for await (const e of op.iterateEntries()) entries.push(e);
    expect(entries).toHaveLength(16);
    const types = entries.map((e) => (e.entry.op.payload as { type: string }).type);
    expect(types).toEqual([
      'ledger.genesis',
      ...Array<string>(6).fill('party.register'),
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
    const roles = entries.slice(1, 7).map((e) => (e.entry.op.payload as { party: { role: string } }).party.role);
    expect(roles).toEqual(['core', 'supplier', 'supplier', 'bank', 'bank', 'auditor']);
    const pledge = entries[12]!.entry.op;
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
    expect((await op.ledger()).size).toBe(16 + 15);
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
