/**
 * The web console in a real browser (Debian's Chromium, playwright-core) against the real compiled
 * service on a fresh ledger, on what each party sees: its own landing page, settled money grouped
 * by who was paid, a bank check of an old bundle that says how old it is and what changed since,
 * the ledger id Verify trusted and where it came from, the parts of a split tree the viewer may not
 * see, sign-in messages (a public key file, an unregistered party), a session that survives a
 * reload, a remembered key sealed under a passphrase, amounts typed as Chinese users write them,
 * and every page at 360 px wide with no horizontal page overflow.
 *
 * The story is written to the ledger with the SDK (as the parties' own tools would), then looked
 * at in the browser. With RVL_DOCS_SCREENSHOTS=1 the phone screenshots go to docs/console/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  generateKeyFile,
  keyFileText,
  LedgerClient,
  signEnvelope,
  voucherAccept,
  voucherIssue,
  voucherPledge,
  voucherSettle,
  voucherSplit,
  type KeyFile,
  type ProofBundle,
  type WirePayload,
} from '../../src/client/index.js';
import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { CAST } from '../support/cast.js';
import {
  ARTIFACTS,
  decodePng,
  DOCS_SHOTS,
  dueIn,
  launch,
  looksRendered,
  pixelStats,
  registerParties,
  signIn as signInWith,
  watch as watchPage,
} from './support.js';

const CORE = CAST.core.id;
const TIER1 = CAST.tier1.id;
const BANK = CAST.bank.id;
const AUDITOR = CAST.auditor.id;
const GHOST = 'ghost-trading';

const UNIT = 100n; // fen a yuan

let server: Server;

let browser: Browser;
let dir: string;
let keys: Record<string, { key: KeyFile; file: string }>;
let operatorKeyFile = '';
let ghostKeyFile = '';
let ghostPubFile = '';
let ledgerId = '';
let root = '';
const part = (start: bigint, end: bigint): string => `${root}:${start}-${end}`;
/** 1,000,000.00 split into A 300,000 | B 400,000 | C 300,000; B pledged to the bank. */
let A = '';
let B = '';
let C = '';
/** The bundle of B fetched while it was pledged, before the core enterprise settled it. */
let oldBundleFile = '';
let oldBundleNewestSeq = 0;
let settleSeq = 0;
const errors: string[] = [];

const url = (p: string): string => `${server.url}${p}`;

/** What the page functions use of the browser (this file is compiled without the DOM types). */
interface BrowserGlobals {
  readonly document: { readonly scrollingElement: { readonly scrollWidth: number } | null; readonly documentElement: { readonly clientWidth: number } };
  readonly localStorage: {
    getItem(name: string): string | null;
    setItem(name: string, value: string): void;
    readonly length: number;
    key(i: number): string | null;
  };
  readonly sessionStorage: { readonly length: number };
}
const g = (): BrowserGlobals => globalThis as unknown as BrowserGlobals;

const watch = (page: Page): Page => watchPage(page, errors);

const newPage = async (
  o: { width?: number; height?: number; storageState?: Awaited<ReturnType<BrowserContext['storageState']>> } = {},
): Promise<{ context: BrowserContext; page: Page }> => {
  const context = await browser.newContext({
    viewport: { width: o.width ?? 1280, height: o.height ?? 860 },
    ...(o.storageState ? { storageState: o.storageState } : {}),
  });
  return { context, page: watch(await context.newPage()) };
};

/** Signs in with a key file on /sign-in (no `next`), and waits until signed in. */
const signIn = (page: Page, file: string, party: string, o: { passphrase?: string } = {}): Promise<void> => signInWith(page, server.url, file, party, o);

/** The elements that reach past the right edge of a `width`-px viewport (outside any box that scrolls), for a failure message. */
const wideElements = async (page: Page, width: number): Promise<string[]> =>
  page.evaluate((w) => {
    type El = {
      tagName: string;
      className: unknown;
      parentElement: El | null;
      getAttribute(n: string): string | null;
      getBoundingClientRect(): { right: number };
    };
    const doc = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<El> }; getComputedStyle(e: El): { overflowX: string } };
    const clipped = (e: El): boolean => {
      for (let p = e.parentElement; p; p = p.parentElement) if (doc.getComputedStyle(p).overflowX !== 'visible') return true;
      return false;
    };
    return Array.from(doc.document.querySelectorAll('body *'))
      .filter((e) => e.getBoundingClientRect().right > w + 0.5 && !clipped(e))
      .slice(0, 12)
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}.${String(e.getAttribute('class'))}[${e.getAttribute('data-testid') ?? ''}] right=${Math.round(e.getBoundingClientRect().right)}`,
      );
  }, width);

/** The page's own width beyond the viewport (0 when nothing sticks out sideways). */
const overflow = async (page: Page): Promise<number> =>
  page.evaluate(() => {
    const d = (globalThis as unknown as BrowserGlobals).document;
    return (d.scrollingElement?.scrollWidth ?? 0) - d.documentElement.clientWidth;
  });

const submit = async (client: LedgerClient, payload: WirePayload, signers: KeyFile[]) => client.submit(signEnvelope(payload, signers));

beforeAll(async () => {
  dir = await tempDir('rvl-browser-views-');
  [server, browser] = await Promise.all([startServer({ env: { LOG_LEVEL: process.env.RVL_BROWSER_LOG_LEVEL ?? 'warn' } }), launch()]);
  keys = await registerParties(server.url, server.dataDir, dir, [CAST.core, CAST.tier1, CAST.bank, CAST.auditor]);
  operatorKeyFile = path.join(server.dataDir, 'operator.key');
  // A party nobody registered, with its key file and the public file `rvl keygen` writes beside it.
  const ghost = generateKeyFile(GHOST);
  ghostKeyFile = path.join(dir, `${GHOST}.key`);
  ghostPubFile = path.join(dir, `${GHOST}.pub`);
  await writeFile(ghostKeyFile, keyFileText(ghost));
  await writeFile(ghostPubFile, `${JSON.stringify({ party: GHOST, publicKey: ghost.publicKey }, null, 2)}\n`);

  const core = keys[CORE]!.key;
  const t1 = keys[TIER1]!.key;
  const bank = keys[BANK]!.key;
  const asCore = new LedgerClient({ baseUrl: server.url, key: core });
  const asT1 = new LedgerClient({ baseUrl: server.url, key: t1 });
  ledgerId = await asCore.ledgerId();
  const issued = await submit(
    asCore,
    voucherIssue({ ledger: ledgerId, issuer: CORE, to: TIER1, amount: 1_000_000n * UNIT, currency: 'CNY', dueDate: dueIn(90), invoiceIds: ['INV-V1'] }),
    [core],
  );
  root = issued.effects.vouchers[0]!.id;
  await submit(asT1, voucherAccept({ ledger: ledgerId, voucherId: root }), [t1]);
  await submit(asT1, voucherSplit({ ledger: ledgerId, voucherId: root, amounts: [300_000n * UNIT, 400_000n * UNIT, 300_000n * UNIT] }), [t1]);
  A = part(0n, 30_000_000n);
  B = part(30_000_000n, 70_000_000n);
  C = part(70_000_000n, 100_000_000n);
  await submit(asT1, voucherPledge({ ledger: ledgerId, voucherId: B, bank: BANK, loanRef: 'LN-V-1' }), [t1, bank]);
  const bundle: ProofBundle = await asT1.proof(B);
  oldBundleNewestSeq = Math.max(...bundle.entries.map((e) => e.entry.seq));
  oldBundleFile = path.join(dir, 'proof-before-settlement.json');
  await writeFile(oldBundleFile, JSON.stringify(bundle, null, 2));
  // At maturity the core enterprise pays: B (pledged) to the bank, C to the supplier itself.
  settleSeq = (await submit(asCore, voucherSettle({ ledger: ledgerId, voucherId: B, paymentRef: 'PAY-B' }), [core])).seq;
  await submit(asCore, voucherSettle({ ledger: ledgerId, voucherId: C, paymentRef: 'PAY-C' }), [core]);
  await mkdir(ARTIFACTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cleanup();
});

describe('each role lands on its own page', () => {
  const cases: { party: string; file: () => string; path: string; heading: RegExp; nav: string[] }[] = [
    { party: CORE, file: () => keys[CORE]!.file, path: '/vouchers', heading: /My vouchers/, nav: ['/vouchers', '/bank-check', '/audit'] },
    { party: TIER1, file: () => keys[TIER1]!.file, path: '/vouchers', heading: /My vouchers/, nav: ['/vouchers', '/pledges', '/bank-check', '/audit'] },
    { party: BANK, file: () => keys[BANK]!.file, path: '/pledges', heading: /Pledges/, nav: ['/pledges', '/vouchers', '/bank-check', '/audit'] },
    { party: AUDITOR, file: () => keys[AUDITOR]!.file, path: '/audit', heading: /Auditor view/, nav: ['/audit', '/bank-check'] },
    { party: 'operator', file: () => operatorKeyFile, path: '/parties', heading: /Parties/, nav: ['/parties', '/audit', '/bank-check'] },
  ];
  for (const c of cases) {
    it(`${c.party} lands on ${c.path}`, async () => {
      const { context, page } = await newPage();
      await signIn(page, c.file(), c.party);
      await page.waitForURL((u) => u.pathname === c.path);
      await page.getByRole('heading', { level: 1, name: c.heading }).waitFor();
      expect(await page.locator('nav [data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')))).toEqual(c.nav);
      if (c.party === CORE) await page.getByTestId('issue').waitFor();
      if (c.party === 'operator') await page.locator(`[data-party-row="${BANK}"]`).waitFor();
      await context.close();
    });
  }

  it('an auditor who opens My vouchers is told it holds none, not asked to split or pledge', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[AUDITOR]!.file, AUDITOR);
    await page.goto(url('/vouchers'));
    await page.getByTestId('no-vouchers').waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/split, transfer or pledge/);
    await context.close();
  });
});

describe('settled money is grouped by who was paid', () => {
  it('the supplier: only what was paid to it counts as settled to it; the pledged part paid to the bank is shown apart', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[TIER1]!.file, TIER1);
    await page.locator(`[data-group=settled] tr[data-voucher-row="${C}"]`).waitFor();
    expect(await page.locator(`[data-group=settled] tr[data-voucher-row="${B}"]`).count()).toBe(0);
    expect(((await page.locator('[data-total="settled"] .total-amount').textContent()) ?? '').trim()).toBe('¥300,000.00');
    const elsewhere = page.locator(`[data-group=settled-to-pledgee] tr[data-voucher-row="${B}"]`);
    await elsewhere.waitFor();
    expect(await elsewhere.getByTestId('paid-to-pledgee').textContent()).toContain(`paid to ${BANK}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'views-supplier-settled.png'), fullPage: true });
    await context.close();
  });

  it('the bank: the voucher paid to it is settled to it', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[BANK]!.file, BANK);
    await page.goto(url('/vouchers'));
    await page.locator(`[data-group=settled] tr[data-voucher-row="${B}"]`).waitFor();
    expect(((await page.locator('[data-total="settled"] .total-amount').textContent()) ?? '').trim()).toBe('¥400,000.00');
    expect(await page.locator('[data-group=settled-to-pledgee]').count()).toBe(0);
    await context.close();
  });
});

describe('bank check of a bundle fetched before settlement', () => {
  it('signed in, it says as of which entry the state is, and that the voucher was settled to the bank since', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[BANK]!.file, BANK);
    await page.goto(url('/bank-check'));
    await page.getByTestId('bank-ledger-id').fill(ledgerId);
    await page.setInputFiles('[data-testid=bundle-file]', oldBundleFile);
    await page.getByTestId('bank-verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=true]').waitFor();
    const asOf = page.getByTestId('bundle-as-of');
    expect(await asOf.getAttribute('data-seq')).toBe(String(oldBundleNewestSeq));
    expect(await asOf.textContent()).toContain(`entry #${oldBundleNewestSeq}`);
    const fresh = page.locator('[data-testid=bundle-freshness][data-fresh=changed]');
    await fresh.waitFor();
    const text = (await fresh.textContent()) ?? '';
    expect(text).toContain(`settled, paid to ${BANK}`);
    await fresh.locator(`[data-since-seq="${settleSeq}"]`).waitFor();
    expect(await page.getByTestId('trusted-ledger-id').getAttribute('data-trust-source')).toBe('entered');
    await page.screenshot({ path: path.join(ARTIFACTS, 'views-bank-check-old-bundle.png'), fullPage: true });
    if (process.env.RVL_DOCS_SCREENSHOTS === '1')
      await page.locator('[data-testid=bundle-report]').screenshot({ path: path.join(DOCS_SHOTS, 'bank-check-changed-since.png') });
    await context.close();
  });

  it('signed out, it still says the age and that it cannot tell what changed', async () => {
    const { context, page } = await newPage();
    await page.goto(url('/bank-check'));
    await page.getByTestId('bank-ledger-id').fill(ledgerId);
    await page.setInputFiles('[data-testid=bundle-file]', oldBundleFile);
    await page.getByTestId('bank-verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=true]').waitFor();
    expect(await page.getByTestId('bundle-as-of').textContent()).toContain(`entry #${oldBundleNewestSeq}`);
    expect(await page.getByTestId('bundle-freshness').getAttribute('data-fresh')).toBe('unknown');
    await context.close();
  });
});

describe('Verify says which ledger id it trusted', () => {
  it('taken from this server until one is entered; the entered one is used, and a different one is flagged', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[TIER1]!.file, TIER1);
    await page.goto(url(`/vouchers/${A}`));
    await page.getByTestId('verify').click();
    const trusted = page.getByTestId('trusted-ledger-id');
    await trusted.waitFor();
    expect(await trusted.getAttribute('data-trust-source')).toBe('server');
    expect(await trusted.textContent()).toContain(ledgerId.slice(0, 16));
    expect(await trusted.textContent()).toContain('compare it with the id your operator published');

    await page.getByTestId('trusted-ledger-id-input').fill(ledgerId);
    await page.getByTestId('verify').click();
    await page.locator('[data-testid=trusted-ledger-id][data-trust-source=entered]').waitFor();
    expect(await trusted.textContent()).toContain('you entered it');
    expect(await page.getByTestId('bundle-report').getAttribute('data-ok')).toBe('true');

    // Remembered in this browser: a reload keeps it.
    await page.reload();
    await page.getByTestId('signed-in-as').getByText(TIER1).waitFor();
    expect(await page.getByTestId('trusted-ledger-id-input').inputValue()).toBe(ledgerId);

    const other = 'ab'.repeat(32);
    await page.getByTestId('trusted-ledger-id-input').fill(other);
    await page.getByTestId('ledger-id-differs').waitFor();
    await page.getByTestId('verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=false]').waitFor();
    expect(await page.getByTestId('bundle-failure-code').textContent()).toBe('GENESIS_MISMATCH');
    expect(await trusted.textContent()).toContain(other.slice(0, 16));
    await context.close();
  });
});

describe('the split tree says what it hides', () => {
  it('the bank sees the pledged part, and the root says ¥600,000.00 in 2 ranges is not visible to it', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[BANK]!.file, BANK);
    await page.goto(url(`/vouchers/${B}`));
    await page.getByTestId('split-tree').waitFor();
    const nodes = await page.locator('[data-tree-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tree-node')));
    expect(nodes.sort()).toEqual([root, B].sort());
    const note = page.locator(`[data-testid=tree-hidden] [data-hidden-for="${root}"]`);
    expect(await note.textContent()).toContain('¥600,000.00 in 2 hidden ranges');
    const boxes = await page.locator(`[data-hidden-part="${root}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-amount')));
    expect(boxes).toEqual([String(300_000n * UNIT), String(300_000n * UNIT)]);
    await page.locator('[data-testid=tree-card]').screenshot({ path: path.join(ARTIFACTS, 'views-tree-hidden.png') });
    if (process.env.RVL_DOCS_SCREENSHOTS === '1')
      await page.locator('[data-testid=tree-card]').screenshot({ path: path.join(DOCS_SHOTS, 'split-tree-hidden-parts.png') });
    // The supplier sees every part: nothing hidden.
    await signIn(page, keys[TIER1]!.file, TIER1);
    await page.goto(url(`/vouchers/${B}`));
    await page.getByTestId('split-tree').waitFor();
    expect(await page.getByTestId('tree-hidden').count()).toBe(0);
    await context.close();
  });
});

describe('sign-in messages', () => {
  it('a public key file is named as such, once', async () => {
    const { context, page } = await newPage();
    await page.goto(url('/sign-in'));
    await page.setInputFiles('[data-testid=key-file]', ghostPubFile);
    const problem = page.locator('.problem');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('PUBLIC_KEY_FILE');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text.match(/public key file/g)).toHaveLength(1);
    expect(text).toContain('choose the .key file');
    expect(text).not.toMatch(/exactly the fields/);
    await context.close();
  });

  it('an unregistered party is told it is not registered, not about clocks or suspended keys', async () => {
    const { context, page } = await newPage();
    await page.goto(url('/sign-in'));
    await page.setInputFiles('[data-testid=key-file]', ghostKeyFile);
    await page.getByTestId('key-loaded').waitFor();
    await page.getByTestId('sign-in').click();
    const problem = page.locator('.problem');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('PARTY_UNKNOWN');
    const text = (await problem.textContent()) ?? '';
    expect(text).toContain(`Party ${GHOST} is not registered on this ledger`);
    expect(text).not.toMatch(/clock|suspended/i);
    await context.close();
  });
});

describe('keeping the key', () => {
  it('a reload and a link opened in the tab keep the session; sign out ends it', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[TIER1]!.file, TIER1);
    await page.reload();
    await page.getByTestId('signed-in-as').getByText(TIER1).waitFor();
    await page.goto(url(`/vouchers/${A}`));
    await page.getByTestId('voucher-id').getByText(A).waitFor();
    expect(new URL(page.url()).pathname).not.toBe('/sign-in');
    // Without "remember", nothing of the key is kept beyond the tab.
    const state = JSON.stringify(await context.storageState());
    expect(state).not.toContain(keys[TIER1]!.key.secretKey);
    await page.getByTestId('sign-out').click();
    await page.goto(url('/vouchers'));
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await context.close();
  });

  it('“remember” seals the key under a passphrase: no seed in storage, a new browser context opens it with the passphrase, a wrong one is refused', async () => {
    const passphrase = '正确的马 battery staple';
    const { context, page } = await newPage();
    await signIn(page, keys[BANK]!.file, BANK, { passphrase });
    await page.waitForURL((u) => u.pathname === '/pledges');
    const seed = keys[BANK]!.key.secretKey;
    const seedBytes = Buffer.from(seed, 'hex');
    const forms = [seed, seed.toUpperCase(), seedBytes.toString('base64'), seedBytes.toString('base64url'), seedBytes.toString('base64').replace(/=+$/, '')];
    const state = await context.storageState();
    const stored = JSON.stringify(state);
    expect(state.origins.flatMap((o) => o.localStorage.map((i) => i.name))).toContain(`rvl-console/sealed-key/${ledgerId}`);
    for (const f of forms) expect(stored, `storage holds the seed as ${f.slice(0, 6)}…`).not.toContain(f);
    const sealed = JSON.parse(state.origins[0]!.localStorage.find((i) => i.name === `rvl-console/sealed-key/${ledgerId}`)!.value) as {
      kdf: { iterations: number; salt: string };
      cipher: { iv: string };
    };
    expect(sealed.kdf.iterations).toBeGreaterThanOrEqual(310_000);
    expect(Buffer.from(sealed.kdf.salt, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(sealed.cipher.iv, 'base64').length).toBe(12);
    await context.close();

    // A new context (a new window, no session) with what the browser kept.
    const again = await newPage({ storageState: state });
    await again.page.goto(url('/sign-in'));
    await again.page.getByTestId('remembered').getByText(BANK).first().waitFor();
    await again.page.getByTestId('unlock-passphrase').fill('not the passphrase');
    await again.page.getByTestId('continue-remembered').click();
    const problem = again.page.locator('.problem[data-code=WRONG_PASSPHRASE]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('Wrong passphrase');
    expect(await again.page.getByTestId('signed-in-as').count()).toBe(0);
    await again.page.getByTestId('unlock-passphrase').fill(passphrase);
    await again.page.getByTestId('continue-remembered').click();
    await again.page.getByTestId('signed-in-as').getByText(BANK).waitFor();
    await again.page.waitForURL((u) => u.pathname === '/pledges');
    // "Forget" removes it.
    await again.page.getByTestId('forget').click();
    expect(
      await again.page.evaluate((n) => (globalThis as unknown as BrowserGlobals).localStorage.getItem(n), `rvl-console/sealed-key/${ledgerId}`),
    ).toBeNull();
    await again.context.close();
  });

  it('a key an earlier console kept in clear is deleted on start, and the user is told once', async () => {
    const { context, page } = await newPage();
    await page.goto(url('/'));
    // Once the console has started (it looks for such a key on start), put one where it was kept.
    await page.locator('footer code').waitFor();
    const name = `rvl-console/key/${ledgerId}`;
    await page.evaluate(([n, v]) => (globalThis as unknown as BrowserGlobals).localStorage.setItem(n!, v!), [name, keyFileText(keys[TIER1]!.key)]);
    await page.reload();
    const notice = page.getByTestId('clear-key-deleted');
    await notice.waitFor();
    expect(await notice.textContent()).toContain(TIER1);
    expect(await page.evaluate((n) => (globalThis as unknown as BrowserGlobals).localStorage.getItem(n), name)).toBeNull();
    await page.reload();
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    expect(await page.getByTestId('clear-key-deleted').count()).toBe(0);
    await context.close();
  });
});

describe('amounts as people type them', () => {
  it('the issue form takes 100万 and shows back = ¥1,000,000.00 before signing', async () => {
    const { context, page } = await newPage();
    await signIn(page, keys[CORE]!.file, CORE);
    await page.getByTestId('issue').click();
    const input = page.getByTestId('issue-amount');
    expect(await input.getAttribute('type')).toBeNull();
    expect(await input.getAttribute('pattern')).toBeNull();
    expect(await input.getAttribute('inputmode')).toBeNull();
    for (const [typed, shown] of [
      ['100万', '= ¥1,000,000.00'],
      ['¥ 1,000', '= ¥1,000.00'],
      ['１０００', '= ¥1,000.00'],
      ['1.5亿', '= ¥150,000,000.00'],
    ] as const) {
      await input.fill(typed);
      expect(await page.getByTestId('issue-amount-parsed').textContent(), typed).toBe(shown);
    }
    await context.close();
  });
});

describe('phones: every page at 360 px wide', () => {
  const WIDTH = 360;
  const HEIGHT = 740;

  /** The phone screens the README shows (docs/console/phone-<name>.png). */
  const DOCS = new Set(['home', 'sign-in', 'my-vouchers', 'voucher', 'issue-dialog', 'bank-check', 'bank-pledges', 'auditor', 'operator-parties']);

  /** Checks no page-level horizontal overflow, saves a screenshot, and one for the docs if asked. */
  const check = async (page: Page, name: string): Promise<void> => {
    await page.waitForLoadState('networkidle');
    const over = await overflow(page);
    const file = path.join(ARTIFACTS, `phone-${name}.png`);
    const png = await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    expect(looksRendered(pixelStats(decodePng(png))), `phone-${name}.png looks blank`).toBe(true);
    if (process.env.RVL_DOCS_SCREENSHOTS === '1' && DOCS.has(name))
      await page.screenshot({ path: path.join(DOCS_SHOTS, `phone-${name}.png`), animations: 'disabled' });
    expect(over, `${name}: the page is ${over}px wider than ${WIDTH}px: ${over > 0 ? (await wideElements(page, WIDTH)).join('; ') : ''}`).toBeLessThanOrEqual(
      0,
    );
  };

  it('signed out: home, sign-in, bank check with a result, auditor', async () => {
    const { context, page } = await newPage({ width: WIDTH, height: HEIGHT });
    await page.goto(url('/'));
    await page.getByRole('heading', { level: 1 }).waitFor();
    await check(page, 'home');
    await page.goto(url('/sign-in'));
    await page.getByTestId('sign-in').waitFor();
    await check(page, 'sign-in');
    await page.goto(url('/bank-check'));
    await page.getByTestId('bank-ledger-id').fill(ledgerId);
    await page.setInputFiles('[data-testid=bundle-file]', oldBundleFile);
    await page.getByTestId('bank-verify').click();
    await page.locator('[data-testid=bundle-report][data-ok=true]').waitFor();
    await check(page, 'bank-check');
    await page.goto(url('/audit'));
    await page.getByTestId('ledger-size').waitFor();
    await check(page, 'audit-signed-out');
    await context.close();
  });

  it('the supplier: my vouchers, a voucher with its tree and history, pledges, a dialog', async () => {
    const { context, page } = await newPage({ width: WIDTH, height: HEIGHT });
    await signIn(page, keys[TIER1]!.file, TIER1);
    await page.locator(`tr[data-voucher-row="${A}"]`).waitFor();
    await check(page, 'my-vouchers');
    await page.locator(`tr[data-voucher-row="${A}"] [data-action=split]`).click();
    await page.getByTestId('split-part-0').fill('10万');
    await check(page, 'split-dialog');
    await page.keyboard.press('Escape');
    await page.goto(url(`/vouchers/${A}`));
    await page.getByTestId('split-tree').waitFor();
    await page.getByTestId('verify').click();
    await page.getByTestId('bundle-report').waitFor();
    await check(page, 'voucher');
    await page.goto(url('/pledges'));
    await page.getByTestId('pledge-file').waitFor();
    await check(page, 'pledges');
    await context.close();
  });

  it('the core enterprise, the bank, the auditor and the operator on their pages', async () => {
    const { context, page } = await newPage({ width: WIDTH, height: HEIGHT });
    await signIn(page, keys[CORE]!.file, CORE);
    await page.locator(`tr[data-voucher-row="${A}"]`).waitFor();
    await check(page, 'core-vouchers');
    await page.getByTestId('issue').click();
    await page.getByTestId('issue-amount').fill('100万元');
    await check(page, 'issue-dialog');
    await page.keyboard.press('Escape');
    await signIn(page, keys[BANK]!.file, BANK);
    await page.getByTestId('pledge-file').waitFor();
    await check(page, 'bank-pledges');
    await page.goto(url(`/vouchers/${B}`));
    await page.getByTestId('tree-hidden').waitFor();
    await check(page, 'bank-voucher');
    await signIn(page, keys[AUDITOR]!.file, AUDITOR);
    await page.locator('[data-testid=recent] tbody tr').first().waitFor();
    await check(page, 'auditor');
    await signIn(page, operatorKeyFile, 'operator');
    await page.locator(`[data-party-row="${BANK}"]`).waitFor();
    await check(page, 'operator-parties');
    await context.close();
  });
});

describe('the pages', () => {
  it('raised no script error', () => {
    expect(errors).toEqual([]);
  });
});
