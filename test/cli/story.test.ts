/**
 * The whole story of CONTEXT.md through the real `rvl` binary against the real compiled service:
 * keys made with `rvl keygen`, parties registered by the operator from their public files, a
 * voucher issued, accepted, split and passed on in part, a pledge prepared by the holder and
 * co-signed by the bank from two key files, a second bank refused, release and settlement; then
 * every read (with --json parsed), offline bundle checks against tampering, the trusted
 * checkpoint, and the audit.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateKeyFile, parseKeyFile, signEnvelope, voucherIdsOf, voucherIssue, type KeyFile } from '../../src/client/index.js';
import { entryHash } from '../../src/ledger/entry.js';
import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { dueIn, json, rvl, type Result } from './support.js';
import { entryAt as at, resign, type MBundle, type MEntry } from '../support/bundle-edit.js';

const CORE = 'gz-motors';
const TIER1 = 'dongguan-parts';
const TIER2 = 'chen-electronics';
const BANK = 'icbc-gz';
const BANK2 = 'cmb-sz';
const AUDITOR = 'csrc-audit';
const ROLES: Record<string, string> = { [CORE]: 'core', [TIER1]: 'supplier', [TIER2]: 'supplier', [BANK]: 'bank', [BANK2]: 'bank', [AUDITOR]: 'auditor' };

interface Voucher {
  id: string;
  status: string;
  holder: string;
  offeredTo: string | null;
  amount: string;
  pledge: { bank: string; loanRef: string } | null;
  settlement: { payee: string; paymentRef: string } | null;
  children?: Voucher[];
}
interface Receipt {
  seq: number;
  duplicate: boolean;
  effects: { vouchers: Voucher[]; parties: { id: string; role: string; status: string }[] };
}

let server: Server;
let dir: string;
let home: string;
let operatorKey: string;
let ledgerId = '';
const keys: Record<string, KeyFile> = {};

/** Runs rvl in the story's folder, which is also its key folder (RVL_KEY_DIR), so keys land beside the files. */
const run = (args: readonly string[]): Promise<Result> => rvl(args, { cwd: dir, home, url: server.url, env: { RVL_KEY_DIR: dir } });
/** `rvl --key <party>.key …` */
const as = (party: string, ...args: string[]): Promise<Result> => run(['--key', party === 'operator' ? operatorKey : `${party}.key`, ...args]);
const ok = (r: Result): Result => {
  expect(r.stderr, `exit ${r.code}\n${r.stdout}`).not.toMatch(/rvl: (?!warning)/);
  expect(r.code, r.stderr).toBe(0);
  return r;
};
const noStack = (r: Result): void => {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('rvl: ') && !l.startsWith('rvl: warning')),
  ).toHaveLength(1);
};

// Voucher ids of the story.
let root = '';
const part = (start: number, end: number): string => `${root}:${start}-${end}`;
let pledged = ''; // root:0-20000000, tier 2's, pledged to BANK
let seqs = { registerTier2: 0, transfer: 0, pledge: 0, settle: 0 };

beforeAll(async () => {
  server = await startServer();
  [dir, home] = await Promise.all([tempDir('rvl-cli-'), tempDir('rvl-cli-home-')]);
  operatorKey = path.join(server.dataDir, 'operator.key');
}, 30_000); // the service may take a while to start on a busy machine
afterAll(cleanup);

describe('rvl keygen', () => {
  it('writes a §3 key file with mode 0600 and a public file, and never prints the secret', async () => {
    const results = await Promise.all(Object.keys(ROLES).map((p) => run(['keygen', '--party', p])));
    for (const [i, p] of Object.keys(ROLES).entries()) {
      const r = ok(results[i]!);
      const key = parseKeyFile(await readFile(path.join(dir, `${p}.key`), 'utf8'));
      keys[p] = key;
      expect(key.party).toBe(p);
      expect((await stat(path.join(dir, `${p}.key`))).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(path.join(dir, `${p}.pub`), 'utf8'))).toEqual({ party: p, publicKey: key.publicKey });
      expect(r.stdout).toContain(key.publicKey);
      expect(r.stdout + r.stderr).not.toContain(key.secretKey);
    }
  });

  it('refuses to overwrite a key file (exit 2), leaving it as it was', async () => {
    const before = await readFile(path.join(dir, `${CORE}.key`), 'utf8');
    const r = await run(['keygen', '--party', CORE]);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`rvl: ${path.join(dir, `${CORE}.key`)} already exists`), r.stderr).toBe(true);
    noStack(r);
    expect(await readFile(path.join(dir, `${CORE}.key`), 'utf8')).toBe(before);
  });

  it('--out and --json: a key file elsewhere, described as JSON without the secret', async () => {
    const r = ok(await run(['--json', 'keygen', '--party', 'spare-party', '--out', 'spare.key']));
    const out = json<{ party: string; publicKey: string; keyFile: string; publicFile: string }>(r);
    expect(out).toMatchObject({ party: 'spare-party', keyFile: 'spare.key', publicFile: 'spare.pub' });
    expect(r.stdout).not.toContain(parseKeyFile(await readFile(path.join(dir, 'spare.key'), 'utf8')).secretKey);
  });
});

describe('the story, by CLI', () => {
  it('the operator registers every party from its public file', async () => {
    const registered = await Promise.all(
      Object.entries(ROLES).map(([p, role]) =>
        as('operator', '--json', 'party', 'register', '--key-file', `${p}.pub`, '--name', `${p} 有限公司`, '--role', role),
      ),
    );
    for (const [i, [p, role]] of Object.entries(ROLES).entries()) {
      const r = json<Receipt>(ok(registered[i]!));
      expect(r.effects.parties).toMatchObject([{ id: p, role, status: 'active' }]);
      if (p === TIER2) seqs.registerTier2 = r.seq;
    }
    const [ledger, list] = await Promise.all([run(['--json', 'ledger']), as(AUDITOR, 'party', 'list')]);
    const info = json<{ ledgerId: string; currency: string }>(ok(ledger));
    ledgerId = info.ledgerId;
    expect(info.currency).toBe('CNY');
    for (const p of Object.keys(ROLES)) expect(ok(list).stdout).toContain(p);
    expect(list.stdout).toContain('有限公司');
  });

  it('a registration that is refused says so with its code (PARTY_EXISTS, exit 1)', async () => {
    const r = await as('operator', 'party', 'register', '--key-file', `${CORE}.pub`, '--name', 'again', '--role', 'core');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rvl: refused PARTY_EXISTS \(409\): .+ — /);
    noStack(r);
  });

  it('the core enterprise issues ¥1,000,000.00 and the tier-1 supplier accepts it', async () => {
    const issued = ok(
      await as(
        CORE,
        'issue',
        '--to',
        TIER1,
        '--amount',
        '1,000,000.00',
        '--due',
        dueIn(90),
        '--invoice',
        'INV-001',
        '--invoice',
        'INV-002',
        '--memo',
        'Q4 parts',
      ),
    );
    const m = /Voucher (v[0-9a-f]{24}) for ¥1,000,000\.00 is offered to dongguan-parts/.exec(issued.stdout);
    expect(m, issued.stdout).not.toBeNull();
    root = m![1]!;
    expect(issued.stdout).toContain(`rvl accept ${root}`);
    const accepted = json<Receipt>(ok(await as(TIER1, '--json', 'accept', root)));
    expect(accepted.effects.vouchers).toMatchObject([{ id: root, status: 'active', holder: TIER1 }]);
  });

  it('split checks the parts against the voucher first (exit 2 with the gap), then splits', async () => {
    const bad = await as(TIER1, 'split', root, '--amounts', '600,000.00', '300,000.00');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the parts add up to ¥900,000.00, but');
    expect(bad.stderr).toContain('holds ¥1,000,000.00 (¥100,000.00 short)');
    noStack(bad);
    const r = json<Receipt>(ok(await as(TIER1, '--json', 'split', root, '--amounts', '600,000.00', '¥400,000')));
    expect(r.effects.vouchers.map((v) => [v.id, v.status])).toEqual([
      [root, 'split'],
      [part(0, 60_000_000), 'active'],
      [part(60_000_000, 100_000_000), 'active'],
    ]);
  });

  it('a partial transfer offers ¥200,000.00 to tier 2, who accepts it', async () => {
    const r = ok(await as(TIER1, 'transfer', part(0, 60_000_000), '--to', TIER2, '--amount', '200,000.00'));
    pledged = part(0, 20_000_000);
    expect(r.stdout).toContain(`Offered ${pledged} to ${TIER2}`);
    expect(r.stdout).toContain(`You keep ${part(20_000_000, 60_000_000)} (¥400,000.00)`);
    seqs.transfer = Number(/at seq (\d+)/.exec(r.stdout)![1]);
    ok(await as(TIER2, 'accept', pledged));
  });

  it('pledge: the holder prepares requests for two banks; each bank checks and co-signs its own', async () => {
    const [p1, p2] = await Promise.all([
      as(TIER2, 'pledge', 'prepare', pledged, '--bank', BANK, '--loan-ref', 'LN-2026-001', '--out', 'pledge-icbc.json'),
      as(TIER2, 'pledge', 'prepare', pledged, '--bank', BANK2, '--loan-ref', 'CMB-77', '--out', 'pledge-cmb.json'),
    ]);
    expect(ok(p1).stdout).toContain('¥200,000.00 (the whole voucher)');
    ok(p2);
    const file = JSON.parse(await readFile(path.join(dir, 'pledge-icbc.json'), 'utf8')) as {
      format: string;
      summary: string[];
      envelope: { payload: Record<string, unknown>; signatures: { signer: string }[] };
    };
    expect(file.format).toBe('rvl/pledge-request/v1');
    expect(file.envelope.payload).toMatchObject({ type: 'voucher.pledge', voucherId: pledged, bank: BANK, loanRef: 'LN-2026-001', ledger: ledgerId });
    expect(file.envelope.payload.expiresAt).toEqual(expect.any(String));
    expect(file.envelope.signatures.map((s) => s.signer)).toEqual([TIER2]);
    expect(file.summary.join('\n')).toContain('¥200,000.00');

    // Not the bank it names: refused, nothing written. On no terminal, it shows what it would
    // sign and asks for --yes.
    const [wrongBank, unconfirmed] = await Promise.all([
      as(BANK2, 'pledge', 'cosign', 'pledge-icbc.json', '--yes'),
      as(BANK, 'pledge', 'cosign', 'pledge-icbc.json'),
    ]);
    expect(wrongBank.code).toBe(1);
    expect(wrongBank.stderr).toContain('names the bank icbc-gz, but your key is cmb-sz');
    noStack(wrongBank);

    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('pass --yes');
    for (const fact of [pledged, TIER2, '¥200,000.00', dueIn(90).slice(0, 4), 'LN-2026-001', ledgerId, 'expires']) {
      expect(unconfirmed.stdout).toContain(fact);
    }
    const still = JSON.parse(await readFile(path.join(dir, 'pledge-icbc.json'), 'utf8')) as typeof file;
    expect(still.envelope.signatures).toHaveLength(1);

    const [signed, signedByBank2] = await Promise.all([
      as(BANK, 'pledge', 'cosign', 'pledge-icbc.json', '--yes'),
      as(BANK2, 'pledge', 'cosign', 'pledge-cmb.json', '--yes'),
    ]);
    ok(signedByBank2);
    expect(ok(signed).stdout).toContain('holder    chen-electronics (signature ✓)');
    expect(signed.stdout).toContain('Co-signed');
    const after = JSON.parse(await readFile(path.join(dir, 'pledge-icbc.json'), 'utf8')) as typeof file;
    expect(after.envelope.signatures.map((s) => s.signer)).toEqual([TIER2, BANK]);
  });

  it('cosign refuses a request for another ledger, or whose payload was changed after the holder signed', async () => {
    const text = await readFile(path.join(dir, 'pledge-cmb.json'), 'utf8');
    const other = JSON.parse(text) as { envelope: { payload: Record<string, unknown>; signatures: unknown[] } };
    other.envelope.payload.ledger = 'ab'.repeat(32);
    other.envelope.signatures = other.envelope.signatures.slice(0, 1);
    await writeFile(path.join(dir, 'other-ledger.json'), JSON.stringify(other));
    const changed = JSON.parse(text) as typeof other;
    changed.envelope.payload.loanRef = 'CMB-99';
    changed.envelope.signatures = changed.envelope.signatures.slice(0, 1);
    await writeFile(path.join(dir, 'changed.json'), JSON.stringify(changed));
    const [r1, r2] = await Promise.all([as(BANK2, 'pledge', 'cosign', 'other-ledger.json', '--yes'), as(BANK2, 'pledge', 'cosign', 'changed.json', '--yes')]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`is for ledger ${'ab'.repeat(32)}, not ${ledgerId}`);

    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("the holder's signature (chen-electronics) does not verify");
    noStack(r2);
  });

  it('either party submits; a resend is a duplicate; the second bank is refused VOUCHER_PLEDGED (exit 1)', async () => {
    const first = json<Receipt>(ok(await run(['--json', 'submit', 'pledge-icbc.json'])));
    expect(first.duplicate).toBe(false);
    expect(first.effects.vouchers).toMatchObject([{ id: pledged, status: 'pledged', pledge: { bank: BANK, loanRef: 'LN-2026-001' } }]);
    seqs.pledge = first.seq;
    const [again, second, fresh] = await Promise.all([
      run(['submit', 'pledge-icbc.json']),
      run(['submit', 'pledge-cmb.json']),
      as(TIER2, 'pledge', 'prepare', pledged, '--bank', BANK2, '--loan-ref', 'CMB-78', '--out', 'pledge-cmb-2.json'),
    ]);
    expect(ok(again).stdout).toContain(`already on the ledger: voucher.pledge at seq ${first.seq}`);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^rvl: refused VOUCHER_PLEDGED \(409\): .*is pledged — the bank must release it first\n$/);
    expect(second.stderr).not.toContain(BANK); // another bank's pledge is not named (§8 visibility)
    noStack(second);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain('VOUCHER_PLEDGED');
  });

  it("saves the bank's proof of the pledged voucher", async () => {
    const r = json<{ file: string; entries: number; checkpointSize: number }>(ok(await as(BANK, '--json', 'proof', pledged, '--out', 'pledged.json')));
    expect(r).toMatchObject({ file: 'pledged.json', checkpointSize: seqs.pledge + 1 });
    const [again, forced] = await Promise.all([
      as(BANK, 'proof', pledged, '--out', 'pledged.json'),
      as(BANK, 'proof', pledged, '--out', 'pledged.json', '--force'),
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('pledged.json already exists');
    ok(forced);
  });

  it('the bank releases; the core enterprise settles and the holder is paid', async () => {
    const released = json<Receipt>(ok(await as(BANK, '--json', 'release', pledged)));
    expect(released.effects.vouchers).toMatchObject([{ id: pledged, status: 'active', pledge: null }]);
    const settled = ok(await as(CORE, 'settle', pledged, '--payment-ref', 'PAY-2027-001'));
    expect(settled.stdout).toContain(`Paid ¥200,000.00 to ${TIER2} (payment PAY-2027-001)`);
    seqs.settle = Number(/at seq (\d+)/.exec(settled.stdout)![1]);
    const twice = await as(CORE, 'settle', pledged, '--payment-ref', 'PAY-2027-002');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^rvl: refused VOUCHER_STATE_CONFLICT \(409\)/);
  });

  it('reject (with a reason), cancel, and --expires-in, which sets expiresAt', async () => {
    const before = Date.now();
    const [a, b] = await Promise.all([
      as(CORE, '--json', '--expires-in', '10m', 'issue', '--to', TIER1, '--amount', '5,000', '--due', dueIn(30), '--invoice', 'INV-R'),
      as(CORE, '--json', 'issue', '--to', TIER1, '--amount', '6000.50', '--due', dueIn(30), '--invoice', 'INV-C'),
    ]);
    const rejected = json<Receipt>(ok(a)).effects.vouchers[0]!.id;
    const cancelled = json<Receipt>(ok(b)).effects.vouchers[0]!;
    expect(cancelled.amount).toBe('600050');
    const [historyRun, rejectRun, cancelRun] = await Promise.all([
      as(CORE, '--json', 'history', rejected),
      as(TIER1, '--json', 'reject', rejected, '--reason', 'wrong invoice'),
      as(CORE, '--json', 'cancel', cancelled.id),
    ]);
    const history = json<{ entries: { entry: MEntry }[] }>(ok(historyRun));
    const expiresAt = Date.parse(history.entries[0]!.entry.op.payload.expiresAt as string);
    expect(expiresAt).toBeGreaterThan(before + 8 * 60_000);
    expect(expiresAt).toBeLessThan(before + 11 * 60_000);
    const r = json<Receipt>(ok(rejectRun));
    expect(r.effects.vouchers).toMatchObject([{ id: rejected, status: 'cancelled' }]);
    const c = json<Receipt>(ok(cancelRun));
    expect(c.effects.vouchers).toMatchObject([{ id: cancelled.id, status: 'cancelled' }]);
  });

  it('party update suspends and reactivates a party; a suspended party is refused', async () => {
    ok(await as('operator', 'party', 'update', BANK2, '--status', 'suspended'));
    const shown = json<{ status: string }>(ok(await as(AUDITOR, '--json', 'party', 'show', BANK2)));
    expect(shown.status).toBe('suspended');
    const refused = await as(TIER1, 'transfer', part(20_000_000, 60_000_000), '--to', BANK2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused PARTY_SUSPENDED (403)');
    ok(await as('operator', 'party', 'update', BANK2, '--status', 'active'));
  });
});

describe('reads', () => {
  it('show: the state, as a table and as JSON', async () => {
    const [text, asJson] = await Promise.all([as(TIER2, 'show', pledged), as(TIER2, '--json', 'show', pledged)]);
    expect(ok(text).stdout).toMatch(/status\s+settled/);
    expect(text.stdout).toMatch(/amount\s+¥200,000\.00/);
    expect(text.stdout).toContain('paid to chen-electronics, payment PAY-2027-001');
    const v = json<Voucher>(ok(asJson));
    expect(v).toMatchObject({ id: pledged, status: 'settled', amount: '20000000', settlement: { payee: TIER2, paymentRef: 'PAY-2027-001' } });
  });

  it('list: every page, totals per status, filtered by status', async () => {
    const [allRun, text, activeRun, byAuditorRun, notMine] = await Promise.all([
      as(TIER1, '--json', 'list'),
      as(TIER1, 'list'),
      as(TIER1, '--json', 'list', '--status', 'active'),
      as(AUDITOR, '--json', 'list', TIER2),
      as(TIER2, 'list', TIER1),
    ]);
    const all = json<{ party: string; items: Voucher[]; totals: Record<string, { count: number; amount: string }> }>(ok(allRun));
    expect(all.party).toBe(TIER1);
    expect(all.totals.active).toEqual({ count: 2, amount: '80000000' });
    expect(all.totals.split).toEqual({ count: 2, amount: '160000000' });
    expect(ok(text).stdout).toMatch(/active\s+2\s+¥800,000\.00/);
    const active = json<{ items: Voucher[] }>(ok(activeRun));
    expect(active.items.map((v) => v.id).sort()).toEqual([part(20_000_000, 60_000_000), part(60_000_000, 100_000_000)].sort());
    const byAuditor = json<{ items: Voucher[] }>(ok(byAuditorRun));
    expect(byAuditor.items.map((v) => v.id)).toContain(pledged);
    expect(notMine.code).toBe(1);
    expect(notMine.stderr).toContain('refused NOT_FOUND (404)');
  });

  it('history: a timeline with seq, time, op, signers and amounts', async () => {
    const [text, asJson] = await Promise.all([as(TIER2, 'history', pledged), as(TIER2, '--json', 'history', pledged)]);
    const lines = ok(text).stdout.split('\n');
    const pledgeLine = lines.find((l) => /^\s*\d+\s.*\bpledge\b/.test(l));
    expect(pledgeLine).toMatch(/chen-electronics \+ icbc-gz\s+¥200,000\.00\s+pledged to icbc-gz, loan LN-2026-001/);
    expect(lines.find((l) => /\bissue\b/.test(l))).toMatch(/gz-motors\s+¥1,000,000\.00\s+to dongguan-parts/);
    const h = json<{ entries: { entry: MEntry }[] }>(ok(asJson));
    expect(h.entries.map((e) => e.entry.op.payload.type)).toEqual([
      'voucher.issue',
      'voucher.accept',
      'voucher.split',
      'voucher.transfer',
      'voucher.accept',
      'voucher.pledge',
      'voucher.release',
      'voucher.settle',
    ]);
  });

  it('tree: drawn with ├─ └─, amount and status per node; as JSON with children', async () => {
    const [text, asJson] = await Promise.all([as(CORE, 'tree', root), as(CORE, '--json', 'tree', root)]);
    expect(ok(text).stdout.split('\n')[0]).toMatch(new RegExp(`^${root}\\s+¥1,000,000\\.00\\s+split`));
    expect(text.stdout).toMatch(/├─ :0-60000000\s+¥600,000\.00\s+split/);
    expect(text.stdout).toMatch(/│  ├─ :0-20000000\s+¥200,000\.00\s+settled\s+paid to chen-electronics/);
    expect(text.stdout).toMatch(/│  └─ :20000000-60000000\s+¥400,000\.00\s+active/);
    expect(text.stdout).toMatch(/└─ :60000000-100000000\s+¥400,000\.00\s+active/);
    const t = json<Voucher>(ok(asJson));
    expect(t.children?.map((c) => c.id)).toEqual([part(0, 60_000_000), part(60_000_000, 100_000_000)]);
  });

  it('entries: the raw log for the auditor', async () => {
    const [asJson, text] = await Promise.all([as(AUDITOR, '--json', 'entries', '--from', '0', '--limit', '3'), as(AUDITOR, 'entries', '--limit', '2')]);
    const page = json<{ entries: { entry: MEntry }[]; next: number | null }>(ok(asJson));
    expect(page.entries.map((e) => e.entry.seq)).toEqual([0, 1, 2]);
    expect(ok(text).stdout).toContain('more: rvl entries --from 2');
  });
});

describe('rvl verify-bundle (offline)', () => {
  let bundle: MBundle;
  let operatorSecret = '';
  const copy = (): MBundle => structuredClone(bundle);
  const verifyFile = async (name: string, b: unknown, extra: string[] = []): Promise<Result> => {
    await writeFile(path.join(dir, name), JSON.stringify(b));
    // No RVL_URL, and a URL nobody serves: verify-bundle never touches the network.
    return rvl(['verify-bundle', name, '--ledger', ledgerId, ...extra], { cwd: dir, home, env: { RVL_URL: 'http://127.0.0.1:1' } });
  };

  beforeAll(async () => {
    bundle = JSON.parse(await readFile(path.join(dir, 'pledged.json'), 'utf8')) as MBundle;
    operatorSecret = parseKeyFile(await readFile(operatorKey, 'utf8')).secretKey;
  });

  it('a genuine bundle: every check ✓ and the verdict (holder, amount in ¥, status, pledge, path); exit 0', async () => {
    const [r0, asJson] = await Promise.all([
      verifyFile('genuine.json', bundle, ['--voucher', pledged]),
      rvl(['--json', 'verify-bundle', 'pledged.json', '--ledger', ledgerId], { cwd: dir, home }),
    ]);
    const r = ok(r0);
    for (const check of ['bundle shape', 'genesis', 'checkpoint', 'entry hashes', 'inclusion', 'hash links', 'signatures', 'replay', 'state']) {
      expect(r.stdout).toMatch(new RegExp(`✓ ${check}`));
    }
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toContain('VALID');
    expect(r.stdout).toMatch(/holder\s+chen-electronics/);
    expect(r.stdout).toMatch(/amount\s+¥200,000\.00/);
    expect(r.stdout).toMatch(/status\s+pledged/);
    expect(r.stdout).toMatch(/pledge\s+pledged to icbc-gz, loan LN-2026-001/);
    expect(r.stdout).toContain(`path        ${root} → ${part(0, 60_000_000)} → ${pledged}`);
    const newest = bundle.entries.at(-1)!.entry;
    expect(newest.seq).toBe(seqs.pledge);
    expect(r.stdout).toContain(
      `VALID — the state these entries give, as of entry #${seqs.pledge}, ${newest.time.slice(0, 10)} ${newest.time.slice(11, 19)}Z. These entries are in the log`,
    );
    expect(r.stdout).toContain('Not compared with the ledger (offline): no key to read the ledger with');
    const j = json<{ ok: boolean; verdict: { holder: string }; asOf: unknown; comparison: unknown }>(ok(asJson));
    expect(j).toMatchObject({ ok: true, verdict: { holder: TIER2 } });
    expect(j.asOf).toEqual({ seq: seqs.pledge, time: newest.time, treeSize: bundle.ledger.size });
    expect(j.comparison).toMatchObject({ compared: false, offline: true });
  });

  const tamperings: [string, string, () => MBundle, (() => string[])?][] = [
    [
      'an entry removed (the pledge)',
      'MISSING_ENTRY',
      () => {
        const b = copy();
        b.entries = b.entries.filter((e) => e.entry.seq !== seqs.pledge);
        return b;
      },
    ],
    [
      'an entry altered (the transfer amount)',
      'ENTRY_HASH_MISMATCH',
      () => {
        const b = copy();
        at(b, seqs.transfer).entry.op.payload.amount = '30000000';
        return b;
      },
    ],
    [
      'a state that lies (another holder)',
      'STATE_MISMATCH',
      () => {
        const b = copy();
        b.state.holder = TIER1;
        return b;
      },
    ],
    [
      'a forged root voucher (a fake issue not in the tree)',
      'NOT_INCLUDED',
      () => {
        const b = copy();
        const mallory = generateKeyFile(CORE);
        const fake = voucherIssue({
          ledger: ledgerId,
          issuer: CORE,
          to: TIER2,
          amount: 500_000_000n,
          currency: 'CNY',
          dueDate: dueIn(60),
          invoiceIds: ['FAKE-1'],
        });
        const [fakeRoot] = voucherIdsOf(fake) as [string];
        const last = b.entries.at(-1)!;
        const entry = { v: 1, seq: last.entry.seq + 1, time: last.entry.time, prev: last.hash, op: signEnvelope(fake, [mallory]) } as unknown as MEntry;
        b.entries.push({ entry, hash: entryHash(entry as never), inclusion: [...last.inclusion] });
        b.voucherId = fakeRoot;
        b.state = {
          ...b.state,
          id: fakeRoot,
          rootId: fakeRoot,
          parentId: null,
          holder: CORE,
          offeredTo: TIER2,
          amount: '500000000',
          range: { start: '0', end: '500000000' },
          invoiceIds: ['FAKE-1'],
          status: 'offered',
          pledge: null,
          createdSeq: entry.seq,
          updatedSeq: entry.seq,
        };
        return b;
      },
    ],
    [
      'a forged Merkle root in the checkpoint',
      'BAD_CHECKPOINT',
      () => {
        const b = copy();
        const lines = b.checkpoint.split('\n');
        lines[2] = Buffer.alloc(32, 7).toString('base64');
        b.checkpoint = lines.join('\n');
        return b;
      },
    ],
    [
      'a swapped key (tier 2 registered with another key, its ops re-signed, even by the operator)',
      'ENTRY_HASH_MISMATCH',
      () => {
        const b = copy();
        const mallory = generateKeyFile(TIER2);
        const register = at(b, seqs.registerTier2);
        (register.entry.op.payload.party as { publicKey: string }).publicKey = mallory.publicKey;
        resign(register.entry, { party: 'operator', secretKey: operatorSecret });
        for (const e of b.entries) if (e.entry.op.signatures.some((s) => s.signer === TIER2)) resign(e.entry, mallory);
        return b;
      },
    ],
    ['a bundle of another voucher than the one asked about', 'WRONG_VOUCHER', () => copy(), () => ['--voucher', root]],
  ];

  // Each tampered bundle is checked by its own rvl process, all at once (they are independent).
  let verdicts: Promise<Result[]> | undefined;
  const verdictOf = (i: number): Promise<Result> => {
    verdicts ??= Promise.all(tamperings.map(([, code, tamper, extra], j) => verifyFile(`tampered-${j}-${code}.json`, tamper(), extra?.())));
    return verdicts.then((all) => all[i]!);
  };

  it.each(tamperings.map(([what, code], i): [string, string, number] => [what, code, i]))('%s → exit 1 naming %s', async (_what, code, i) => {
    const r = await verdictOf(i);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^rvl: the bundle does not verify: ${code} \\(`));
    expect(r.stdout).toMatch(new RegExp(`✗ .*${code}`));
    expect(r.stdout).toContain('NOT VALID');
    noStack(r);
  });

  it('a bundle fetched while pledged, checked after settlement with a key: VALID as of the pledge, and CHANGED since, how and when', async () => {
    const [r0, asJson, offline] = await Promise.all([
      as(TIER2, 'verify-bundle', 'pledged.json', '--ledger', ledgerId),
      as(TIER2, '--json', 'verify-bundle', 'pledged.json', '--ledger', ledgerId),
      as(TIER2, 'verify-bundle', 'pledged.json', '--ledger', ledgerId, '--offline'),
    ]);
    const r = ok(r0);
    expect(r.stdout).toContain(`VALID — the state these entries give, as of entry #${seqs.pledge}`);
    expect(r.stdout).toMatch(/status\s+pledged/);
    const m = new RegExp(`✗ CHANGED since, at entry #${seqs.settle}, [0-9-]+ [0-9:]+Z: (.*)\\.`).exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(m![1]).toBe('status pledged → settled; no longer pledged to icbc-gz (loan LN-2026-001); paid to chen-electronics, payment PAY-2027-001');
    const j = json<{ ok: boolean; comparison: { compared: boolean; freshness: { kind: string; atSeq: number; changes: { kind: string }[] } } }>(ok(asJson));
    expect(j.comparison).toMatchObject({ compared: true, freshness: { kind: 'changed', atSeq: seqs.settle } });
    expect(j.comparison.freshness.changes.map((c) => c.kind)).toEqual(['status', 'pledgeLost', 'settled']);
    expect(ok(offline).stdout).toContain('Not compared with the ledger (offline): --offline was given');
  });

  it('a fresh bundle of a voucher nobody has touched since: UNCHANGED; a ledger that cannot be reached: offline, still VALID (exit 0)', async () => {
    const id = part(20_000_000, 60_000_000);
    ok(await as(TIER1, 'proof', id, '--out', 'fresh.json'));
    const [r, down] = await Promise.all([
      as(TIER1, 'verify-bundle', 'fresh.json', '--ledger', ledgerId),
      rvl(['--key', `${TIER1}.key`, 'verify-bundle', 'fresh.json', '--ledger', ledgerId], { cwd: dir, home, url: 'http://127.0.0.1:1' }),
    ]);
    expect(ok(r).stdout).toMatch(
      /✓ UNCHANGED since: checked with the ledger at http:\/\/127\.0\.0\.1:\d+: a fresh proof under its checkpoint of size \d+ verifies/,
    );
    expect(ok(down).stdout).toContain('VALID — the state these entries give, as of entry #');
    expect(down.stdout).toContain('Not compared with the ledger (offline): cannot reach the ledger at http://127.0.0.1:1');
  });

  it('a bundle checked against another ledger id → GENESIS_MISMATCH; a file that is not JSON → exit 2', async () => {
    await writeFile(path.join(dir, 'b.json'), JSON.stringify(bundle));
    await writeFile(path.join(dir, 'junk.json'), 'not json');
    const [r, junk] = await Promise.all([
      rvl(['verify-bundle', 'b.json', '--ledger', 'cd'.repeat(32)], { cwd: dir, home }),
      rvl(['verify-bundle', 'junk.json', '--ledger', ledgerId], { cwd: dir, home }),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GENESIS_MISMATCH');
    expect(junk.code).toBe(2);
    expect(junk.stderr).toBe('rvl: junk.json is not a proof bundle (not JSON)\n');
  });
});

describe('the ledger id to trust comes from the operator, out of band', () => {
  it('rvl ledger says so, and how to pass the published id', async () => {
    const r = ok(await run(['ledger']));
    expect(r.stdout).toMatch(/ledger id\s+[0-9a-f]{64}  \(as this service reports it\)/);
    expect(r.stdout).toContain("The ledger id to trust comes from the ledger's operator, out of band (published on its\nwebsite, printed in your contract)");
    expect(r.stdout).toContain('rvl verify-bundle FILE --ledger <published id>');
  });

  it('rvl proof says so without --ledger; with --ledger it refuses a service of another ledger (exit 1, nothing saved)', async () => {
    const [plain, trusted, wrong] = await Promise.all([
      as(TIER1, 'proof', root, '--out', 'root-plain.json'),
      as(TIER1, 'proof', root, '--out', 'root-trusted.json', '--ledger', ledgerId),
      as(TIER1, 'proof', root, '--out', 'root-wrong.json', '--ledger', 'cd'.repeat(32)),
    ]);
    expect(ok(plain).stdout).toContain('out of band');
    expect(plain.stdout).toContain('rvl verify-bundle root-plain.json --ledger <published id>');
    expect(plain.stdout).not.toContain(`--ledger ${ledgerId}`);
    expect(ok(trusted).stdout).toContain(`rvl verify-bundle root-trusted.json --ledger ${ledgerId}`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `rvl: the service at ${server.url} serves ledger ${ledgerId}, not the ledger ${'cd'.repeat(32)} you trust (--ledger); nothing was done — check --url, and the id with the ledger's operator\n`,
    );
    await expect(stat(path.join(dir, 'root-wrong.json'))).rejects.toThrow();
  });

  it('rvl checkpoint --ledger refuses a service of another ledger (exit 1)', async () => {
    const r = await run(['checkpoint', '--ledger', 'cd'.repeat(32), '--trust', path.join(dir, 'never-written.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`not the ledger ${'cd'.repeat(32)} you trust`);
    await expect(stat(path.join(dir, 'never-written.json'))).rejects.toThrow();
  });
});

describe('key files and read tokens', () => {
  it('a public file given as the key: one line saying so, exit 2', async () => {
    const r = await run(['--key', `${TIER1}.pub`, 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rvl: ${TIER1}.pub: this is a public key file (it has no secret key); choose the .key file\n`);
  });

  it('a party that is not registered: "party X is not registered on this ledger" (exit 1)', async () => {
    ok(await run(['keygen', '--party', 'stranger-co', '--out', 'stranger.key']));
    const r = await run(['--key', 'stranger.key', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rvl: refused UNAUTHENTICATED \(401, PARTY_UNKNOWN\): party stranger-co is not registered on this ledger — /);
    expect(r.stderr).not.toContain('clock');
    noStack(r);
  });

  it('rvl token prints a read token that the real service accepts on GET /v1/parties', async () => {
    const r = ok(await as(AUDITOR, 'token'));
    const token = r.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iss: string; aud: string; iat: number; exp: number };
    expect(claims).toMatchObject({ iss: AUDITOR, aud: ledgerId });
    expect(claims.exp - claims.iat).toBe(600);
    const answer = await fetch(`${server.url}/v1/parties`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { items: { id: string }[] };
    expect(body.items.map((p) => p.id)).toContain(TIER1);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
    expect((await fetch(`${server.url}/v1/parties`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
  });
});

describe('rvl checkpoint (a trusted checkpoint in ~/.rvl)', () => {
  it('trusts on first use, then proves each new checkpoint consistent with the one trusted', async () => {
    const first = ok(await run(['checkpoint']));
    expect(first.stdout).toContain('first use');
    const size = Number(/size\s+(\d+) entries/.exec(first.stdout)![1]);
    const trustFile = path.join(home, '.rvl', `trust-${ledgerId}.json`);
    expect((await stat(trustFile)).mode & 0o777).toBe(0o600);

    ok(await as(TIER1, 'transfer', part(60_000_000, 100_000_000), '--to', TIER2));
    const next = json<{ size: number; root: string; trustedBefore: { size: number }; firstUse: boolean; trustFile: string }>(
      ok(await run(['--json', 'checkpoint'])),
    );
    expect(next).toMatchObject({ size: size + 1, firstUse: false, trustedBefore: { size }, trustFile });
    ok(await as(TIER2, 'accept', part(60_000_000, 100_000_000)));
    const text = ok(await run(['checkpoint']));
    expect(text.stdout).toContain(`consistent with the checkpoint you trusted at size ${size + 1}`);
    expect(text.stdout).toMatch(new RegExp(`size\\s+${size + 2} entries`));
  });

  it('refuses a trust file that does not hold a checkpoint signed by the node key (exit 1)', async () => {
    const trustFile = path.join(dir, 'forged-trust.json');
    const state = JSON.parse(await readFile(path.join(home, '.rvl', `trust-${ledgerId}.json`), 'utf8')) as { checkpoint: { root: string } };
    state.checkpoint.root = 'ee'.repeat(32);
    await writeFile(trustFile, JSON.stringify(state));
    const r = await run(['checkpoint', '--trust', trustFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rvl: checkpoint not trusted: BAD_STATE/);
  });
});

describe('rvl audit', () => {
  it('audits the whole log: every entry, and the root matches the checkpoint; entries/s', async () => {
    const [r, asJson] = await Promise.all([as(AUDITOR, 'audit'), as('operator', '--json', 'audit')]);
    expect(ok(r).stdout).toMatch(
      /audited \d+ entries \(\d+ signatures verified, every op replayed under the rules\): every hash and link holds and the root matches the checkpoint/,
    );
    expect(r.stdout).toMatch(/speed\s+[\d,]+ entries\/s/);
    expect(r.stderr).toContain('audit: 100%');
    const report = json<{ ok: boolean; entriesChecked: number; checkpointSize: number }>(ok(asJson));
    expect(report.ok).toBe(true);
    expect(report.entriesChecked).toBe(report.checkpointSize);
  });

  it('a log served with an altered entry: the first discrepancy is named, exit 1', async () => {
    // A proxy to the real service that changes the amount of the transfer in what it serves.
    const proxy = createServer((req, res) => {
      void (async () => {
        const answer = await fetch(`${server.url}${req.url ?? '/'}`, {
          headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
        });
        let body = await answer.text();
        if (req.url?.startsWith('/v1/entries') && answer.ok) {
          const page = JSON.parse(body) as { entries: { entry: MEntry }[] };
          for (const e of page.entries) if (e.entry.seq === seqs.transfer) e.entry.op.payload.amount = '30000000';
          body = JSON.stringify(page);
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(body);
      })().catch(() => req.socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    let r: Result;
    try {
      r = await rvl(['--key', `${AUDITOR}.key`, 'audit'], { cwd: dir, home, url: `http://127.0.0.1:${port}` });
    } finally {
      proxy.close();
    }
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^rvl: the audit found a discrepancy: ENTRY_HASH_MISMATCH at entry ${seqs.transfer}: `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`✗ the audit found a discrepancy after ${seqs.transfer} good entries: ENTRY_HASH_MISMATCH`));
    noStack(r);
  });

  it('a supplier key may not read the raw log: exit 1, NOT_FOUND', async () => {
    const r = await as(TIER1, 'audit');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rvl: refused NOT_FOUND \(404\)/m);
  });
});

describe('the ledger out of reach', () => {
  it('an op signed when the ledger stops answering is saved; rvl submit resends exactly it, once', async () => {
    const info = await (await fetch(`${server.url}/v1/ledger`)).text();
    // Answers GET /v1/ledger like the real service, then hangs up on the op itself.
    const flaky = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/ledger') res.writeHead(200, { 'content-type': 'application/json' }).end(info);
      else req.socket.destroy();
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const { port } = flaky.address() as AddressInfo;
    let r: Result;
    try {
      r = await rvl(['--key', `${TIER2}.key`, 'transfer', part(60_000_000, 100_000_000), '--to', TIER1], { cwd: dir, home, url: `http://127.0.0.1:${port}` });
    } finally {
      flaky.close();
    }
    expect(r.code).toBe(3);
    const m = /The signed op is saved in (rvl-unsent-[0-9a-f]{16}\.json): resend that same op with `rvl submit \1`/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    noStack(r);
    const sent = json<Receipt>(ok(await run(['--json', 'submit', m![1]!])));
    expect(sent.effects.vouchers).toMatchObject([{ id: part(60_000_000, 100_000_000), status: 'offered', offeredTo: TIER1 }]);
    expect(json<Receipt>(ok(await run(['--json', 'submit', m![1]!]))).duplicate).toBe(true);
  });

  it('exit 3 with one line naming the URL', async () => {
    const r = await rvl(['--key', `${TIER1}.key`, 'show', root], { cwd: dir, home, url: 'http://127.0.0.1:59999' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^rvl: cannot reach the ledger at http:\/\/127\.0\.0\.1:59999 \(.+\) — is the service running\?/);
    noStack(r);
  });
});
