/**
 * The web console in a real browser (Debian's Chromium, playwright-core) against the real compiled
 * service on a real port and a fresh ledger: the whole story clicked through as its parties would
 * — issue, accept, split, transfer, accept, prepare and co-sign a pledge, a second pledge refused
 * by the ledger, settle, verify — then a bank's check of a genuine and a tampered bundle, the
 * auditor's view with a full audit, and "remember" (sealed under a passphrase) / "forget" of a key.
 *
 * Each main screen is saved to test-artifacts/browser/*.png and must not be blank (its pixels are
 * decoded and measured; a blank page is measured too, and must fail the same check). The steps
 * share one browser page and run in order; each step waits for what the ledger answered.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { KeyFile, ProofBundle } from '../../src/client/index.js';
import { rvl } from '../cli/support.js';
import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { CAST } from '../support/cast.js';
import { ARTIFACTS, decodePng, DOCS_SHOTS, dueIn, launch, looksRendered, pixelStats, registerParties, signIn as signInWith, watch } from './support.js';

const CORE = CAST.core.id;
const TIER1 = CAST.tier1.id;
const TIER2 = CAST.tier2.id;
const BANK = CAST.bank.id;
const BANK2 = CAST.bank2.id;
const AUDITOR = CAST.auditor.id;
const PASSPHRASE = 'auditor passphrase 2027';

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;
let keys: Record<string, { key: KeyFile; file: string }>;
let ledgerId = '';
/** Voucher ids learnt from the receipts the console shows. */
let root = '';
const part = (start: number, end: number): string => `${root}:${start}-${end}`;
let pledgeFileA = '';
let pledgeFileB = '';
let bundleFile = '';

const url = (p: string): string => `${server.url}${p}`;

/** What the page functions use of the browser (this file is compiled without the DOM types). */
interface BrowserGlobals {
  readonly localStorage: { getItem(name: string): string | null };
}

/** Saves a screenshot of the current screen and checks that it shows something. */
const shot = async (name: string, fullPage = false): Promise<void> => {
  const file = path.join(ARTIFACTS, `${name}.png`);
  const png = await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  const stats = pixelStats(decodePng(png));
  expect(looksRendered(stats), `${name}.png looks blank: ${JSON.stringify(stats)}`).toBe(true);
};

/**
 * With RVL_DOCS_SCREENSHOTS=1, also writes the README's screenshot `docs/console/<name>.png` (the
 * viewport, or one element of it), so that they can be refreshed by running this file.
 */
const docShot = async (name: string, ...selectors: string[]): Promise<void> => {
  if (process.env.RVL_DOCS_SCREENSHOTS !== '1') return;
  const file = path.join(DOCS_SHOTS, `${name}.png`);
  let png: Buffer;
  if (selectors.length === 0) png = await page.screenshot({ path: file, animations: 'disabled' });
  else {
    // The smallest rectangle around the elements, on the whole page.
    const boxes = await Promise.all(selectors.map(async (s) => (await page.locator(s).first().boundingBox())!));
    const x = Math.min(...boxes.map((b) => b.x));
    const y = Math.min(...boxes.map((b) => b.y)) + (await page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY));
    const clip = {
      x,
      y,
      width: Math.max(...boxes.map((b) => b.x + b.width)) - x,
      height: Math.max(...boxes.map((b) => b.y + b.height)) - Math.min(...boxes.map((b) => b.y)),
    };
    png = await page.screenshot({ path: file, fullPage: true, clip, animations: 'disabled' });
  }
  expect(looksRendered(pixelStats(decodePng(png))), `${name}.png looks blank`).toBe(true);
};

/** Loads the sign-in page and signs in with a key file (remembered under `passphrase` if given). */
const signIn = (party: string, o: { passphrase?: string } = {}): Promise<void> => signInWith(page, server.url, keys[party]!.file, party, o);

/** The receipt notice the console shows after the ledger accepted an op. */
const receipt = async (what: string): Promise<string> => {
  const r = page.getByTestId('receipt').filter({ hasText: what });
  await r.waitFor();
  return (await r.textContent()) ?? '';
};

/** The ids of the vouchers an op created, from the receipt that says `what`. */
const newVoucherIds = async (what: string): Promise<string[]> => {
  await page.getByTestId('receipt').filter({ hasText: what }).waitFor();
  return page.locator('[data-new-voucher]').evaluateAll((els) => els.map((e) => e.getAttribute('data-new-voucher') ?? ''));
};

const row = (id: string) => page.locator(`tr[data-voucher-row="${id}"]`);

const groupTotal = async (group: string): Promise<string> => ((await page.locator(`[data-total="${group}"] .total-amount`).textContent()) ?? '').trim();

beforeAll(async () => {
  dir = await tempDir('rvl-browser-');
  [server, browser] = await Promise.all([startServer({ env: { LOG_LEVEL: process.env.RVL_BROWSER_LOG_LEVEL ?? 'warn' } }), launch()]);
  keys = await registerParties(server.url, server.dataDir, dir, Object.values(CAST));
  ledgerId = ((await (await fetch(url('/v1/ledger'))).json()) as { ledgerId: string }).ledgerId;
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const errors: string[] = [];
  page = watch(await context.newPage(), errors);
  page.on('requestfailed', (r) => network.push(`${new Date().toISOString()} FAILED ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
  page.on('request', (r) => network.push(`${new Date().toISOString()} -> ${r.method()} ${r.url()}`));
  page.on('response', (r) => network.push(`${new Date().toISOString()} <- ${r.status()} ${r.request().method()} ${r.url()}`));
  (globalThis as { __consoleErrors?: string[] }).__consoleErrors = errors;
}, 60_000);

/** What the page asked the service and what came back badly, for a failed step's post-mortem. */
const network: string[] = [];

// A failed step leaves a picture of the screen it failed on, the page's failed requests and the
// service's output, for the post-mortem.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail' || !page) {
    network.length = 0;
    return;
  }
  const name = ctx.task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60);
  await page.screenshot({ path: path.join(ARTIFACTS, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
  const log = [
    `url: ${page.url()}`,
    '--- requests and answers of this step:',
    ...network,
    '--- service stdout:',
    server.stdout().slice(-20_000),
    '--- service stderr:',
    server.stderr().slice(-20_000),
  ];
  await writeFile(path.join(ARTIFACTS, `failed-${name}.log`), log.join('\n')).catch(() => undefined);
  network.length = 0;
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await cleanup();
});

describe('web console, in Chromium, against the real service', () => {
  it('the blank-screen check fails on a blank page (so it can fail on ours)', async () => {
    const blank = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const stats = pixelStats(decodePng(await blank.screenshot()));
    await blank.close();
    expect(looksRendered(stats)).toBe(false);
  });

  it('is served at / next to the API, which keeps its own answers', async () => {
    const html = { accept: 'text/html' };
    const index = await fetch(url('/'), { headers: html });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const text = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(text)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(url(asset!));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    // A console route reloads into the console; the API's paths keep their answers.
    expect((await fetch(url('/vouchers/v0123456789abcdef01234567:0-100'), { headers: html })).headers.get('content-type')).toMatch(/^text\/html/);
    for (const p of ['/v1/ledger', '/openapi.json', '/healthz', '/readyz']) {
      const r = await fetch(url(p), { headers: html });
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toMatch(/^application\/json/);
    }
    // /metrics keeps its answer too (a 401 problem without a token: it is not public).
    expect((await fetch(url('/metrics'))).headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await (await fetch(url('/docs'), { headers: html })).text()).toMatch(/swagger/i);
    const missing = await fetch(url('/v1/nope'), { headers: html });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('NOT_FOUND');
  });

  it('home and sign-in', async () => {
    await page.goto(url('/'));
    await page.getByRole('heading', { name: /signed and verified in your browser/ }).waitFor();
    await shot('01-home');
    await page.goto(url('/sign-in'));
    // A file that is not a key file is refused with the SDK's code.
    const bad = path.join(dir, 'not-a-key.json');
    await writeFile(bad, JSON.stringify({ party: CORE, note: 'not a key' }));
    await page.setInputFiles('[data-testid=key-file]', bad);
    expect(await page.locator('.problem').getAttribute('data-code')).toBe('BAD_SHAPE');
    await page.setInputFiles('[data-testid=key-file]', keys[CORE]!.file);
    await page.getByTestId('key-loaded').waitFor();
    await shot('02-sign-in');
    await page.getByTestId('sign-in').click();
    await page.getByTestId('signed-in-as').getByText(CORE).waitFor();
  });

  it('core enterprise issues ¥1,000,000.00, with the form checking as you type', async () => {
    await page.getByTestId('issue').click();
    await page.getByTestId('issue-to').fill(TIER1);
    await page.getByTestId('issue-amount').fill('1,00,000');
    await page.getByText('misplaced comma').waitFor();
    expect(await page.getByTestId('confirm-issue').isDisabled()).toBe(true);
    await page.getByTestId('issue-amount').fill('1,000,000.00');
    await page.getByTestId('issue-due').fill(dueIn(90));
    await page.getByTestId('issue-invoices').fill('INV-001\nINV-002');
    await page.getByTestId('confirm-issue').click();
    const ids = await newVoucherIds('Issued');
    expect(ids).toHaveLength(1);
    root = ids[0]!;
    expect(root).toMatch(/^v[0-9a-f]{24}$/);
    await page.locator(`[data-group=outstanding] tr[data-voucher-row="${root}"]`).waitFor();
    expect(await groupTotal('outstanding')).toBe('¥1,000,000.00');
  });

  it('tier 1 signs in with a pasted seed and accepts the offer', async () => {
    await page.goto(url('/sign-in'));
    await page.getByRole('tab', { name: 'Paste a seed' }).click();
    await page.fill('#signin-party', TIER1);
    await page.fill('#signin-seed', keys[TIER1]!.key.secretKey.slice(0, 20));
    await page.getByText('the seed is 64 hexadecimal characters').waitFor();
    await page.fill('#signin-seed', keys[TIER1]!.key.secretKey);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('signed-in-as').getByText(TIER1).waitFor();
    await row(root).waitFor();
    expect(await groupTotal('offered')).toBe('¥1,000,000.00');
    await row(root).locator('[data-action=accept]').click();
    await page.getByTestId('confirm-accept').click();
    expect(await receipt('Accepted')).toContain(`Accepted ${root.slice(0, 9)}`);
    await page.locator(`[data-group=held] tr[data-voucher-row="${root}"]`).waitFor();
    expect(await groupTotal('held')).toBe('¥1,000,000.00');
  });

  it('splits it, with a live check that the parts add up', async () => {
    await row(root).locator('[data-action=split]').click();
    await page.getByTestId('split-part-0').fill('600,000.00');
    await page.getByTestId('split-part-1').fill('300,000.00');
    const sum = page.getByTestId('split-sum');
    expect(await sum.getAttribute('data-status')).toBe('under');
    expect(await sum.textContent()).toContain('¥100,000.00 left to assign');
    expect(await page.getByTestId('confirm-split').isDisabled()).toBe(true);
    await page.getByTestId('split-part-1').fill('500,000.00');
    expect(await sum.getAttribute('data-status')).toBe('over');
    await page.getByTestId('split-part-1').fill('400,000.00');
    expect(await sum.getAttribute('data-status')).toBe('ok');
    await shot('03-split-dialog');
    await page.getByTestId('confirm-split').click();
    expect(await newVoucherIds('Split')).toEqual([part(0, 60_000_000), part(60_000_000, 100_000_000)]);
    await row(part(0, 60_000_000)).waitFor();
    expect(await groupTotal('held')).toBe('¥1,000,000.00');
  });

  it('transfers ¥100,000.00 of one part to tier 2', async () => {
    await row(part(0, 60_000_000)).locator('[data-action=transfer]').click();
    await page.getByTestId('transfer-to').fill(TIER2);
    await page.getByTestId('transfer-partial').check();
    await page.getByTestId('transfer-amount').fill('600,000.00');
    await page.getByText('must be below the voucher’s ¥600,000.00').waitFor();
    await page.getByTestId('transfer-amount').fill('100,000.00');
    await page.getByTestId('confirm-transfer').click();
    expect(await newVoucherIds('Offered')).toEqual([part(0, 10_000_000), part(10_000_000, 60_000_000)]);
    await page.locator(`[data-group=outgoing] tr[data-voucher-row="${part(0, 10_000_000)}"]`).waitFor();
    expect(await groupTotal('held')).toBe('¥900,000.00');
    await shot('04-my-vouchers');
    await docShot('my-vouchers');
  });

  it('tier 2 accepts, and prepares pledge requests for two banks', async () => {
    await signIn(TIER2);
    const mine = part(0, 10_000_000);
    await row(mine).locator('[data-action=accept]').click();
    await page.getByTestId('confirm-accept').click();
    await page.locator(`[data-group=held] tr[data-voucher-row="${mine}"]`).waitFor();

    const prepare = async (bank: string, loanRef: string, file: string): Promise<void> => {
      await row(mine).locator('[data-action=pledge]').click();
      await page.getByTestId('pledge-bank').fill(bank);
      await page.getByTestId('pledge-loan-ref').fill(loanRef);
      await page.getByTestId('confirm-pledge').click();
      await page.getByTestId('pledge-request-ready').waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pledge-request').click()]);
      await download.saveAs(file);
      await page.getByRole('button', { name: 'Done' }).click();
    };
    pledgeFileA = path.join(dir, 'pledge-icbc.json');
    pledgeFileB = path.join(dir, 'pledge-cmb.json');
    await prepare(BANK, 'LN-2026-001', pledgeFileA);
    await prepare(BANK2, 'CMB-77', pledgeFileB);
    const a = JSON.parse(await readFile(pledgeFileA, 'utf8')) as {
      format: string;
      envelope: { payload: Record<string, unknown>; signatures: { signer: string }[] };
    };
    expect(a.format).toBe('rvl/pledge-request/v1');
    expect(a.envelope.payload).toMatchObject({ type: 'voucher.pledge', voucherId: mine, bank: BANK, loanRef: 'LN-2026-001', ledger: ledgerId });
    expect(a.envelope.signatures.map((s) => s.signer)).toEqual([TIER2]);
  });

  it('the browser-made request is the CLI’s format: rvl pledge cosign accepts a copy of it', async () => {
    const copy = path.join(dir, 'pledge-icbc-cli.json');
    await writeFile(copy, await readFile(pledgeFileA));
    const r = await rvl(['--key', keys[BANK]!.file, 'pledge', 'cosign', copy, '--yes', '--ledger', ledgerId], { cwd: dir, home: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const signed = JSON.parse(await readFile(copy, 'utf8')) as { envelope: { signatures: { signer: string }[] } };
    expect(signed.envelope.signatures.map((s) => s.signer)).toEqual([TIER2, BANK]);
  });

  it('the bank checks the request in the browser, co-signs and submits it', async () => {
    await signIn(BANK);
    await page.getByRole('link', { name: 'Pledges' }).click();
    await page.setInputFiles('[data-testid=pledge-file]', pledgeFileA);
    const review = page.getByTestId('pledge-review');
    await review.waitFor();
    expect(await review.getAttribute('data-ok')).toBe('true');
    expect(await review.textContent()).toContain('¥100,000.00');
    await page.getByTestId('cosign').click();
    expect(await page.getByTestId('pledge-signers').textContent()).toBe(`${TIER2}, ${BANK}`);
    await shot('05-pledge-cosign');
    await docShot('pledge-cosign');
    await page.getByTestId('submit-pledge').click();
    expect(await receipt('Pledged')).toContain(`Pledged ¥100,000.00 of ${part(0, 10_000_000)} to ${BANK}`);
  });

  it('a second pledge of the same voucher is refused by the ledger, with its code', async () => {
    await signIn(BANK2);
    await page.getByRole('link', { name: 'Pledges' }).click();
    await page.setInputFiles('[data-testid=pledge-file]', pledgeFileB);
    await page.getByTestId('pledge-review').waitFor();
    // The proof in the request predates the first pledge, so it checks out; the ledger decides.
    await page.getByTestId('cosign').click();
    await page.getByTestId('submit-pledge').click();
    const problem = page.locator('.problem[data-code]');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('VOUCHER_PLEDGED');
    const text = (await problem.textContent()) ?? '';
    expect(text).toContain('HTTP 409');
    expect(text).toContain('cannot be pledged again');
    expect(text).not.toContain(BANK); // another bank's pledge is not this bank's business (§8)
    await shot('06-second-pledge-refused', true);
  });

  it('a bank releases a pledge it holds', async () => {
    // Tier 1 pledges its ¥400,000.00 part to the bank, which takes it and then releases it.
    const other = part(60_000_000, 100_000_000);
    await signIn(TIER1);
    await row(other).locator('[data-action=pledge]').click();
    await page.getByTestId('pledge-bank').fill(BANK);
    await page.getByTestId('pledge-loan-ref').fill('LN-2026-002');
    await page.getByTestId('confirm-pledge').click();
    const file = path.join(dir, 'pledge-release.json');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pledge-request').click()]);
    await download.saveAs(file);
    await signIn(BANK);
    await page.getByRole('link', { name: 'Pledges' }).click();
    await page.setInputFiles('[data-testid=pledge-file]', file);
    await page.getByTestId('cosign').click();
    await page.getByTestId('submit-pledge').click();
    await receipt('Pledged');
    await page.getByRole('link', { name: 'My vouchers' }).click();
    await row(other).locator('[data-action=release]').click();
    await page.getByTestId('confirm-release').click();
    expect(await receipt('Pledge released')).toContain(`Pledge released ${root.slice(0, 9)}`);
    // Released, it is no longer the bank's: only the first pledge's voucher stays in its list.
    await row(other).waitFor({ state: 'detached' });
    expect(await groupTotal('pledged')).toBe('¥100,000.00');
  });

  it('the core enterprise settles the pledged voucher: paid to the bank', async () => {
    await signIn(CORE);
    const pledged = part(0, 10_000_000);
    await row(pledged).first().locator('[data-action=settle]').click();
    await page.getByText(`paid ¥100,000.00 to ${BANK}`).waitFor();
    await page.getByTestId('settle-ref').fill('PAY-2027-001');
    await page.getByTestId('confirm-settle').click();
    expect(await receipt('Settled')).toContain('Settled');
    await page.locator(`[data-group=settled] tr[data-voucher-row="${pledged}"]`).waitFor();
    expect(await groupTotal('settled')).toBe('¥100,000.00');
    expect(await groupTotal('outstanding')).toBe('¥900,000.00');
  });

  it('the voucher page: split tree, timeline with signers, pledge status, and verify in the browser', async () => {
    const v = part(0, 10_000_000);
    await page.locator(`[data-group=settled] a[data-voucher-id="${v}"]`).click();
    await page.getByTestId('voucher-id').getByText(v).waitFor();
    const statuses = Object.fromEntries(
      await page.locator('[data-tree-node]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-tree-node'), e.getAttribute('data-status')])),
    );
    expect(statuses).toEqual({
      [root]: 'split',
      [part(0, 60_000_000)]: 'split',
      [part(0, 10_000_000)]: 'settled',
      [part(10_000_000, 60_000_000)]: 'active',
      [part(60_000_000, 100_000_000)]: 'active',
    });
    const ops = await page.locator('[data-testid=timeline] [data-op]').evaluateAll((els) => els.map((e) => e.getAttribute('data-op')));
    expect(ops).toEqual(['voucher.issue', 'voucher.accept', 'voucher.split', 'voucher.transfer', 'voucher.accept', 'voucher.pledge', 'voucher.settle']);
    const pledgeStep = (await page.locator('[data-op="voucher.pledge"]').textContent()) ?? '';
    expect(pledgeStep).toContain(`signed by ${TIER2}`);
    expect(pledgeStep).toContain(`signed by ${BANK}`);
    expect(await page.getByTestId('pledge-status').textContent()).toContain(`paid to ${BANK}`);

    await page.getByTestId('verify').click();
    const report = page.getByTestId('bundle-report');
    await report.waitFor();
    expect(await report.getAttribute('data-ok')).toBe('true');
    const checks = await report.locator('[data-check]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-check'), e.getAttribute('data-ok')]));
    expect(checks.length).toBeGreaterThanOrEqual(11);
    expect(checks.every(([, ok]) => ok === 'true')).toBe(true);
    bundleFile = path.join(dir, 'proof.json');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-proof').click()]);
    await download.saveAs(bundleFile);
    await shot('07-voucher-page', true);
    await docShot('voucher-verified');
    await docShot('split-tree-and-history', '[data-testid=tree-card]', '[data-testid=history-card]');
  });

  it('bank check: the genuine bundle passes, a tampered one fails with its code', async () => {
    await page.goto(url('/bank-check'));
    await page.getByTestId('bank-ledger-id').fill(ledgerId.slice(0, 10));
    await page.getByText('a ledger id is 64 hexadecimal characters').waitFor();
    await page.getByTestId('bank-ledger-id').fill(ledgerId);
    await page.setInputFiles('[data-testid=bundle-file]', bundleFile);
    await page.getByTestId('bank-verify').click();
    const report = page.getByTestId('bundle-report');
    await report.waitFor();
    expect(await report.getAttribute('data-ok')).toBe('true');
    await shot('08-bank-check-genuine', true);

    // Someone raises the issued amount in the bundle's issue entry.
    const bundle = JSON.parse(await readFile(bundleFile, 'utf8')) as ProofBundle;
    const issue = bundle.entries.find((e) => (e.entry.op.payload as { type?: string }).type === 'voucher.issue');
    expect(issue).toBeDefined();
    (issue!.entry.op.payload as { amount: string }).amount = '200000000';
    const tampered = path.join(dir, 'proof-tampered.json');
    await writeFile(tampered, JSON.stringify(bundle));
    await page.setInputFiles('[data-testid=bundle-file]', tampered);
    await page.getByTestId('bank-verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=false]').waitFor();
    expect(await page.getByTestId('bundle-failure-code').textContent()).toBe('ENTRY_HASH_MISMATCH');
    expect(await page.locator('[data-check="entry hashes"]').getAttribute('data-ok')).toBe('false');
    await shot('09-bank-check-tampered', true);
    await docShot('bank-check-tampered', '[data-testid=bundle-report]');

    // The same genuine bundle against another ledger id: genesis does not hash to it.
    await page.getByTestId('bank-ledger-id').fill('0'.repeat(64));
    await page.setInputFiles('[data-testid=bundle-file]', bundleFile);
    await page.getByTestId('bank-verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=false]').waitFor();
    expect(await page.getByTestId('bundle-failure-code').textContent()).toBe('GENESIS_MISMATCH');
  });

  it('auditor: size, checkpoint, recent activity, and a full audit with a progress bar', async () => {
    await signIn(AUDITOR, { passphrase: PASSPHRASE });
    await page.getByRole('link', { name: 'Auditor' }).click();
    const size = Number(((await page.getByTestId('ledger-size').textContent()) ?? '').replace(/\D/g, ''));
    expect(size).toBe(16); // genesis, 6 parties, 9 voucher ops (the refused pledge wrote nothing)
    await page.getByTestId('checkpoint-size').getByText(`${size} entries`).waitFor();
    const recent = page.locator('[data-testid=recent] tbody tr');
    await recent.first().waitFor();
    expect(await recent.first().textContent()).toContain('voucher.settle');
    await page.getByTestId('run-audit').click();
    const result = page.locator('[data-testid=audit-result]');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(await result.textContent()).toContain(`${size} entries`);
    await shot('10-auditor', true);
    await docShot('auditor');
  });

  it('a remembered key is sealed under its passphrase and opens with it, until “forget”', async () => {
    const name = `rvl-console/sealed-key/${ledgerId}`;
    const sealed = JSON.parse((await page.evaluate((n) => (globalThis as unknown as BrowserGlobals).localStorage.getItem(n), name)) ?? 'null') as {
      party: string;
      ciphertext: string;
    } | null;
    expect(sealed).toMatchObject({ party: AUDITOR });
    expect(JSON.stringify(sealed)).not.toContain(keys[AUDITOR]!.key.secretKey);
    await page.getByTestId('sign-out').click();
    await page.goto(url('/sign-in'));
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('continue-remembered').click();
    await page.getByTestId('signed-in-as').getByText(AUDITOR).waitFor();
    await page.getByTestId('forget').click();
    expect(await page.evaluate((n) => (globalThis as unknown as BrowserGlobals).localStorage.getItem(n), name)).toBeNull();
    await page.goto(url('/sign-in'));
    await page.getByTestId('sign-in').waitFor();
    expect(await page.getByTestId('continue-remembered').count()).toBe(0);
    // A key signed in without "remember" is never stored beyond the tab.
    await signIn(TIER1);
    const kept = await page.evaluate(() => Object.keys((globalThis as unknown as BrowserGlobals).localStorage));
    expect(kept.filter((k) => k.includes('key'))).toEqual([]);
  });

  it('raised no script error on any page', () => {
    expect((globalThis as { __consoleErrors?: string[] }).__consoleErrors).toEqual([]);
  });
});
