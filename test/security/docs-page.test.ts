/**
 * `/docs` (Swagger UI) loads in Chromium under the service's strict Content-Security-Policy (no
 * 'unsafe-inline') with no CSP violation and no console error, shows the endpoints in their named
 * groups, and has the "Authorize" button. Real app, real LevelDB, Debian's Chromium.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_TAGS } from '../../src/api/openapi.js';
import { launch } from '../browser/support.js';
import { Harness } from '../support/harness.js';

describe('/docs in Chromium', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    h = await Harness.start();
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h.close();
  });

  it('renders every group with no CSP violation and no console error', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.text().startsWith('CSP ')) problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // Runs in the page before its scripts: every CSP violation becomes a console line.
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.log('CSP ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));",
    );
    const res = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
    expect(res?.status()).toBe(200);
    const policy = String(res?.headers()['content-security-policy']);
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    await page.locator('.opblock-tag').first().waitFor({ timeout: 15_000 });
    const groups = await page.locator('.opblock-tag').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')));
    expect(groups).toEqual([...OPENAPI_TAGS]);
    expect(await page.locator('button.authorize').count()).toBe(1);
    // Give late scripts (deferred rendering) a moment to misbehave.
    await page.waitForTimeout(500);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
