/**
 * Security headers (helmet's, made once at start-up) on every kind of answer: JSON, text, problem
 * answers from every error path (a route's refusal, an unknown route, a bad URL, an over-long path
 * parameter, a rate limit), the docs and the web console's HTML. The Content-Security-Policy suits
 * an API and a same-origin static console: everything from 'self', no inline script or style, no
 * framing, no plugins, and no `upgrade-insecure-requests` (the service speaks plain HTTP on
 * loopback). The HTML we serve must then hold no inline script, or the browser would block it.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, key } from '../support/harness.js';

/** Parses a CSP header into directive → sources. */
const csp = (header: unknown): Map<string, string[]> =>
  new Map(
    String(header)
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d.length > 0)
      .map((d) => {
        const [name = '', ...values] = d.split(/\s+/);
        return [name.toLowerCase(), values];
      }),
  );

const expectSecure = (res: LightMyRequestResponse, what: string): void => {
  const policy = csp(res.headers['content-security-policy']);
  expect(policy.get('default-src'), what).toEqual(["'self'"]);
  expect(policy.get('script-src'), what).toEqual(["'self'"]);
  expect(policy.get('style-src'), what).toEqual(["'self'"]);
  expect(policy.get('object-src'), what).toEqual(["'none'"]);
  expect(policy.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(policy.get('base-uri'), what).toEqual(["'self'"]);
  expect(policy.has('upgrade-insecure-requests'), what).toBe(false);
  for (const [name, values] of policy) {
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:']) expect(values, `${what}: ${name}`).not.toContain(bad);
  }
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
  expect(res.headers['x-frame-options'], what).toBe('DENY');
  expect(res.headers['referrer-policy'], what).toBe('no-referrer');
  expect(res.headers['x-powered-by'], what).toBeUndefined();
};

/** The full helmet set, on answers that went through Fastify's hooks. */
const expectHelmet = (res: LightMyRequestResponse, what: string): void => {
  expectSecure(res, what);
  expect(res.headers['cross-origin-opener-policy'], what).toBe('same-origin');
  expect(res.headers['cross-origin-resource-policy'], what).toBe('same-origin');
  expect(String(res.headers['strict-transport-security']), what).toMatch(/^max-age=\d+/);
  expect(res.headers['x-permitted-cross-domain-policies'], what).toBe('none');
};

describe('security headers on every kind of answer', () => {
  let h: Harness;
  let clockMs = Date.now();
  const s1 = key('dongguan-parts', 'supplier');

  beforeAll(async () => {
    h = await Harness.start({ rateLimitPerMin: 1000, now: () => clockMs });
    await h.register(s1);
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (url: string, headers: Record<string, string> = {}, remoteAddress?: string) =>
    h.app.inject({ method: 'GET', url, headers, ...(remoteAddress ? { remoteAddress } : {}) });

  it.each([
    ['JSON: /v1/ledger', '/v1/ledger', 200],
    ['text: /v1/checkpoint', '/v1/checkpoint', 200],
    ['the OpenAPI document', '/openapi.json', 200],
    ['metrics, refused without a token (401)', '/metrics', 401],
    ['a refusal of a route (401)', '/v1/entries', 401],
    ['a malformed query (400)', '/v1/proofs/inclusion?seq=x', 400],
    ['an unknown route (404)', '/no/such/route', 404],
    ['the docs', '/docs/', 200],
  ])('%s', async (what, url, status) => {
    const res = await get(url);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(status);
    expectHelmet(res, what);
  });

  it.each([
    ['a URL that is not valid percent-encoding', '/v1/vouchers/%zz'],
    ['a path parameter longer than the router takes', `/v1/vouchers/v${'0'.repeat(3000)}`],
  ])('%s: a problem written before any hook still has the headers that matter', async (what, url) => {
    const res = await get(url);
    // 400 from the router; an over-long parameter may instead fall through to the console's
    // catch-all route, which answers 404.
    expect([400, 404]).toContain(res.statusCode);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectSecure(res, what);
  });

  it('a POST refusal and a 429', async () => {
    expectHelmet(await h.app.inject({ method: 'POST', url: '/v1/ops', payload: '{', headers: { 'content-type': 'application/json' } }), 'POST 400');
    clockMs += 60_000;
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 1001; i++) last = await get('/healthz', {}, '198.51.100.99');
    expect(last?.statusCode).toBe(429);
    expectHelmet(last!, '429');
  });

  it('the HTML we serve (the docs; the console, when built) has no inline script or style for the CSP to block', async () => {
    const pages = ['/docs/', '/docs/static/index.html', '/'];
    let checked = 0;
    for (const url of pages) {
      const res = await get(url, { accept: 'text/html' });
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/html')) continue;
      checked += 1;
      expectHelmet(res, url);
      const html = res.body;
      for (const tag of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/gi) ?? []) {
        expect(tag, `${url}: an inline script`).toMatch(/^<script\b[^>]*\bsrc=/i);
        expect(
          tag
            .replace(/^<script\b[^>]*>/i, '')
            .replace(/<\/script>$/i, '')
            .trim(),
          `${url}: script with a body`,
        ).toBe('');
      }
      expect(html, `${url}: an inline <style>`).not.toMatch(/<style\b/i);
      expect(html, `${url}: an inline event handler`).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html, `${url}: a javascript: URL`).not.toMatch(/(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:/i);
    }
    expect(checked).toBeGreaterThanOrEqual(1);
  });
});
