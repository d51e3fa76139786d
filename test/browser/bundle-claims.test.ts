/**
 * What the web console claims, in a real browser (Debian's Chromium) against the real compiled
 * service:
 *
 * - A proof bundle proves inclusion, not completeness. A real bundle fetched after a pledge, with
 *   the pledge entry and every later entry dropped and `state` rolled back to the state before
 *   the pledge, still verifies under the newest checkpoint (inherent: every remaining entry is in
 *   the log, and they do give that state). Bank check must then say exactly that — these entries
 *   are in the log, the state they give, as of entry #N, and that this is not proof that nothing
 *   changed since — and, signed in, that the voucher was pledged since. The pledge co-sign screen,
 *   shown a request carrying that bundle, must tell the bank that the ledger decides at
 *   submission, and the ledger refuses the pledge (VOUCHER_PLEDGED).
 * - The auditor view keeps its trusted checkpoint in this browser with the address pinned to the
 *   ledger found there: after the service is replaced by a NEW ledger on the same URL, a reload
 *   refuses it, naming both ids, until the user re-pins deliberately.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LedgerClient, type WireVoucher } from '../../src/client/index.js';
import { CAST } from '../support/cast.js';
import { DROPPED_LOAN_REF, setUpDroppedPledge } from '../support/pledge-dropped.js';
import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { launch, signIn as signInWith, watch as watchPage } from './support.js';

const TIER1 = CAST.tier1.id;
const BANK = CAST.bank.id;
const BANK2 = CAST.bank2.id;

/** Claims a verified bundle must never make. */
const FALSE_CLAIMS = [/proves the state/i, /completeness/i, /state as of entry/i, /nothing is missing/i];

let server: Server;
let browser: Browser;
let dir: string;
let keys: Record<string, { file: string }>;
let ledgerId = '';
let before: WireVoucher;
let pledgeSeq = 0;
let attackFile = '';
let requestFile = '';
const errors: string[] = [];

const url = (p: string): string => `${server.url}${p}`;

const watch = (page: Page): Page => watchPage(page, errors, { consoleErrors: false });

const signIn = (page: Page, party: string): Promise<void> => signInWith(page, server.url, keys[party]!.file, party);

beforeAll(async () => {
  dir = await tempDir('rvl-browser-claims-');
  [server, browser] = await Promise.all([startServer(), launch()]);
  ({ keys, ledgerId, before, pledgeSeq, attackFile, requestFile } = await setUpDroppedPledge(server, dir));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cleanup();
});

describe('Bank check of a bundle with the pledge dropped', () => {
  const check = async (page: Page): Promise<string> => {
    await page.goto(url('/bank-check'));
    await page.getByTestId('bank-ledger-id').fill(ledgerId);
    await page.setInputFiles('[data-testid=bundle-file]', attackFile);
    await page.getByTestId('bank-verify').click();
    // (a) It verifies: inherent, a bundle proves inclusion only.
    await page.locator('[data-testid=bundle-report][data-ok=true]').waitFor();
    const asOf = (await page.getByTestId('bundle-as-of').textContent()) ?? '';
    expect(asOf).toContain('These entries are in the log (under the checkpoint of');
    expect(asOf).toContain(`this is the state they give, as of entry #${before.updatedSeq}`);
    expect(await page.getByTestId('bundle-as-of').getAttribute('data-seq')).toBe(String(before.updatedSeq));
    expect(await page.getByTestId('bundle-not-proof').textContent()).toContain('Not proof that nothing changed since');
    const all = (await page.getByTestId('bundle-report').textContent()) ?? '';
    for (const claim of FALSE_CLAIMS) expect(all).not.toMatch(claim);
    return all;
  };

  it('signed out: genuine entries, worded as inclusion, and it cannot tell what changed', async () => {
    const context = await browser.newContext();
    const page = watch(await context.newPage());
    await check(page);
    expect(await page.getByTestId('bundle-freshness').getAttribute('data-fresh')).toBe('unknown');
    await context.close();
  });

  it('signed in as the holder: the comparison with the ledger says it was pledged since, at the pledge entry', async () => {
    const context = await browser.newContext();
    const page = watch(await context.newPage());
    await signIn(page, TIER1);
    await check(page);
    const fresh = page.locator('[data-testid=bundle-freshness][data-fresh=changed]');
    await fresh.waitFor();
    expect((await fresh.textContent()) ?? '').toContain(`pledged to ${BANK} (loan ${DROPPED_LOAN_REF})`);
    await fresh.locator(`[data-since-seq="${pledgeSeq}"]`).waitFor();
    await context.close();
  });
});

describe('the pledge co-sign screen, shown a request that carries that bundle', () => {
  it('passes the review (inherent) but says the ledger decides at submission; the ledger refuses the pledge', async () => {
    const context = await browser.newContext();
    const page = watch(await context.newPage());
    await signIn(page, BANK2);
    await page.goto(url('/pledges'));
    await page.setInputFiles('[data-testid=pledge-file]', requestFile);
    const review = page.locator('[data-testid=pledge-review][data-ok=true]');
    await review.waitFor();
    const text = (await review.textContent()) ?? '';
    expect(text).toContain(`in the proof, as of entry #${before.updatedSeq}`);
    expect(text).not.toMatch(/, not pledged/);
    const decided = (await page.getByTestId('pledge-decided-by-ledger').textContent()) ?? '';
    expect(decided).toContain('it cannot show that the voucher is not pledged now');
    expect(decided).toContain('it refuses a pledge of a voucher already pledged (VOUCHER_PLEDGED)');
    expect(decided).toContain('lend only once the ledger has accepted the pledge entry');

    await page.getByTestId('cosign').click();
    await page.getByTestId('submit-pledge').click();
    const problem = page.locator('.problem[data-code]');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('VOUCHER_PLEDGED');
    await context.close();
  });
});

describe('the auditor view pins this address to its ledger', () => {
  it('a NEW ledger on the same URL is refused after a reload, naming both ids; re-pinning is deliberate and then holds', async () => {
    const context = await browser.newContext();
    const page = watch(await context.newPage());
    await page.goto(url('/audit'));
    await page.getByTestId('checkpoint-size').waitFor();
    const firstId = ledgerId;

    // The same port, so the same URL (and the same browser storage), with a new data folder.
    const port = server.port;
    await server.stop();
    server = await startServer({ env: { PORT: String(port) } });
    const secondId = await new LedgerClient({ baseUrl: server.url }).ledgerId();
    expect(secondId).not.toBe(firstId);

    await page.reload();
    const changed = page.getByTestId('ledger-changed');
    await changed.waitFor();
    expect(await page.getByTestId('ledger-pinned').textContent()).toBe(firstId);
    expect(await page.getByTestId('ledger-served').textContent()).toBe(secondId);
    const problem = page.locator('.problem[data-code=LEDGER_CHANGED]');
    await problem.waitFor();
    expect((await problem.textContent()) ?? '').toContain(`served ledger ${firstId}`);
    expect(await page.getByTestId('checkpoint-size').count()).toBe(0);

    await page.getByTestId('trust-new-ledger').click();
    await page.getByTestId('checkpoint-size').waitFor();
    expect((await page.getByTestId('ledger-repinned').textContent()) ?? '').toContain(firstId);
    expect(await changed.count()).toBe(0);

    await page.reload();
    await page.getByTestId('checkpoint-size').waitFor();
    expect(await page.getByTestId('ledger-changed').count()).toBe(0);
    await context.close();
  });

  it('raised no script error', () => {
    expect(errors).toEqual([]);
  });
});
