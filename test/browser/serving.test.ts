/**
 * How the service serves the web console (src/api/console.ts), over `app.inject` on a small fake
 * build: content types, caching and ETags, compression, the SPA fallback only for HTML
 * navigations outside the API, no way out of the build folder, and a clear 404 (never a 5xx)
 * when the console is not built.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import webConsole, { findConsoleBuild } from '../../src/api/console.js';
import { sendProblem } from '../../src/api/problem.js';
import { REPO_ROOT } from '../e2e/server.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="app"></div></body></html>\n';
const SCRIPT = `console.log(${JSON.stringify('the console '.repeat(400))});\n`;
const SECRET = 'SECRET-OUTSIDE-THE-BUILD';

let base: string;
let build: string;

/** An app like the service's: a problem+json 404, an API route, and the console plugin. */
const appWith = async (root: string): Promise<FastifyInstance> => {
  const app = Fastify({ logger: false });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  app.get('/v1/ledger', async () => ({ ledgerId: 'x' }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(webConsole, { root });
  await app.ready();
  return app;
};

let app: FastifyInstance;
let bare: FastifyInstance;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'rvl-console-'));
  build = path.join(base, 'web');
  await mkdir(path.join(build, 'assets'), { recursive: true });
  await mkdir(path.join(build, '.vite'), { recursive: true });
  await writeFile(path.join(build, 'index.html'), INDEX);
  await writeFile(path.join(build, 'assets', 'index-AbC123.js'), SCRIPT);
  await writeFile(path.join(build, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(build, '.vite', 'manifest.json'), '{}');
  await writeFile(path.join(base, 'secret.txt'), SECRET);
  await symlink(path.join(base, 'secret.txt'), path.join(build, 'assets', 'link.txt'));
  const empty = path.join(base, 'empty');
  await mkdir(empty);
  [app, bare] = await Promise.all([appWith(build), appWith(empty)]);
});

afterAll(async () => {
  await Promise.all([app?.close(), bare?.close()]);
  await rm(base, { recursive: true, force: true });
});

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('serving the web console', () => {
  it('serves index.html at / with revalidation, a strong ETag and a content security policy', async () => {
    const r = await app.inject({ url: '/', headers: html });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.body).toBe(INDEX);
    expect((await app.inject({ url: '/index.html' })).body).toBe(INDEX);
    const head = await app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves hashed assets as immutable, with their content type, compressed when accepted', async () => {
    const plain = await app.inject({ url: '/assets/index-AbC123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);
    const br = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(SCRIPT);
    expect(br.rawPayload.length).toBeLessThan(SCRIPT.length / 4);
    const gz = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip;q=1, br;q=0' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(SCRIPT);
    expect((await app.inject({ url: '/assets/logo.svg' })).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const first = await app.inject({ url: '/assets/index-AbC123.js' });
    const again = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'if-none-match': first.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'if-none-match': '"something-else"' } });
    expect(other.statusCode).toBe(200);
  });

  it('answers index.html for the console’s own pages, only to HTML navigations', async () => {
    for (const url of ['/vouchers', '/vouchers/v0123456789abcdef01234567:0-60000000', '/bank-check', '/audit?x=1']) {
      const r = await app.inject({ url, headers: html });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
    }
    const api = await app.inject({ url: '/vouchers', headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('leaves the API and operations paths to their own answers, a problem+json 404 when unknown', async () => {
    expect((await app.inject({ url: '/v1/ledger', headers: html })).json()).toEqual({ ledgerId: 'x' });
    expect((await app.inject({ url: '/healthz', headers: html })).json()).toEqual({ status: 'ok' });
    for (const url of ['/v1/nope', '/v1/vouchers/x/y/z', '/docs/nope', '/metrics/x', '/assets/missing.js', '/favicon.ico', '/openapi.json/x', '/readyz/x']) {
      const r = await app.inject({ url, headers: html });
      expect(r.statusCode, url).toBe(404);
      expect(r.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(r.json().code, url).toBe('NOT_FOUND');
    }
    const post = await app.inject({ method: 'POST', url: '/', headers: { ...html, 'content-type': 'application/json' }, payload: '{}' });
    expect(post.statusCode).toBe(404);
  });

  it('never serves a file outside the build, a dot-file or a symlink', async () => {
    const urls = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%2e%2e%5csecret.txt',
      '/..\\secret.txt',
      '/assets/link.txt',
      '/.vite/manifest.json',
      '/%00/index.html',
      '//etc/passwd',
    ];
    for (const url of urls) {
      const r = await app.inject({ url, headers: html });
      expect(r.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, url).toBeLessThan(500);
      expect(r.body, url).not.toContain(SECRET);
      expect(r.body, url).not.toBe(INDEX);
    }
  });

  it('without a build, / says how to build the console (HTML or problem+json), never a 5xx', async () => {
    const page = await bare.inject({ url: '/', headers: html });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('npm run build');
    const problem = await bare.inject({ url: '/' });
    expect(problem.statusCode).toBe(404);
    expect(problem.json()).toMatchObject({ code: 'NOT_FOUND', detail: expect.stringContaining('npm run build') });
    expect((await bare.inject({ url: '/vouchers', headers: html })).body).toContain('npm run build');
    expect((await bare.inject({ url: '/assets/index-AbC123.js' })).json().code).toBe('NOT_FOUND');
    expect((await bare.inject({ url: '/v1/ledger' })).statusCode).toBe(200);
  });

  it('never takes web/’s source index.html for a build', () => {
    expect(findConsoleBuild(path.join(REPO_ROOT, 'web'))).toBeUndefined();
    expect(findConsoleBuild(build)).toBe(build);
  });
});
