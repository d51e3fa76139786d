/**
 * `/metrics` shows volumes of business (ops by type, refusals by code), so on the main port it is
 * for the operator and auditors only, with the read token of every authenticated read: no token
 * 401, any other party 404 (as any read it may not make). A Prometheus scraper that cannot sign
 * tokens reads the metrics listener (METRICS_HOST, METRICS_PORT), which serves /metrics without a
 * token and nothing else. /healthz and /readyz stay public and show no volumes beyond the size of
 * the log, which the public signed checkpoint states anyway.
 *
 * The main port: the real app on a real socket (real LevelDB, the real writer). The listener: the
 * real server (src/server.ts) started in-process from a config read by readConfig.
 */
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../src/service/config.js';
import { startServer, type Running } from '../../src/server.js';
import { Harness, key } from '../support/harness.js';
import { assertProblem } from './support.js';

const core = key('gz-motors', 'core');
const supplier = key('dongguan-parts', 'supplier');
const bank = key('icbc-gz', 'bank');
const auditor = key('pbc-audit', 'auditor');

/** A fetch answer in the shape assertProblem reads. */
const answer = async (res: Response) => ({ statusCode: res.status, headers: Object.fromEntries(res.headers), body: await res.text() });

describe('GET /metrics on the main port', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, supplier, bank, auditor]) await h.register(k);
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h.close();
  });

  const get = async (url: string, k?: typeof core) => fetch(`${base}${url}`, { headers: k ? { authorization: `Bearer ${await h.token(k)}` } : {} });

  it('without a token: 401 UNAUTHENTICATED, and no metric in the answer', async () => {
    const res = await answer(await get('/metrics'));
    const p = assertProblem(res, 401, 'UNAUTHENTICATED');
    expect(p.reason).toBe('TOKEN_MISSING');
    expect(res.body).not.toContain('rvl_');
  });

  it('with a bad token: 401', async () => {
    const res = await answer(await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer a.b.c' } }));
    assertProblem(res, 401, 'UNAUTHENTICATED');
  });

  it('as a core enterprise, a supplier or a bank: 404 NOT_FOUND, as any read it may not make', async () => {
    for (const k of [core, supplier, bank]) {
      const res = await answer(await get('/metrics', k));
      assertProblem(res, 404, 'NOT_FOUND');
      expect(res.body).not.toContain('rvl_');
    }
  });

  it('as the operator or an auditor: 200, Prometheus text with the volumes', async () => {
    for (const k of [h.operator, auditor]) {
      const res = await get('/metrics', k);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/^rvl_ops_total\{type="party\.register",outcome="accepted"\} 4$/m);
      expect(text).toContain('rvl_ledger_entries');
    }
  });

  it('/healthz and /readyz stay public, and /readyz shows no volume but the size', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    // Its status, the size, and the state of its checks (`logCheck`, …): nothing counted.
    for (const [k, v] of Object.entries(body)) {
      if (k === 'status') expect(v).toBe('ready');
      else if (k !== 'size') expect({ [k]: v }).toEqual({ [k]: expect.stringMatching(/^(none|running|passed|failed)$/) });
      if (k !== 'size') expect(k === 'status' || k.endsWith('Check'), `readyz member ${k}`).toBe(true);
    }
    expect(Number.isSafeInteger(body.size)).toBe(true);
    // The size is what the public checkpoint signs anyway.
    const checkpoint = await (await get('/v1/checkpoint')).text();
    expect(checkpoint.split('\n')[1]).toBe(String(body.size));
  });
});

describe('the metrics listener (METRICS_HOST, METRICS_PORT)', () => {
  let dataDir: string;
  let running: Running;
  const silent = pino({ level: 'silent' });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'rvl-metrics-'));
    const config = readConfig({ PORT: '0', LEDGER_DATA_DIR: dataDir, METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'silent' });
    running = await startServer(config, silent);
  });
  afterAll(async () => {
    await running?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('readConfig: off unless METRICS_PORT is set; on 127.0.0.1 by default; a host alone or the main port is refused', () => {
    expect(readConfig({}).metrics).toBeUndefined();
    expect(readConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(readConfig({ METRICS_HOST: '10.0.0.5', METRICS_PORT: '9464' }).metrics).toEqual({ host: '10.0.0.5', port: 9464 });
    expect(() => readConfig({ METRICS_HOST: '10.0.0.5' })).toThrow(ConfigError);
    expect(() => readConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(/METRICS_PORT/);
    expect(() => readConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });

  it('serves /metrics without a token, while the main port still asks for one', async () => {
    expect(running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(running.metricsUrl!).port).not.toBe(new URL(running.url).port);
    const res = await fetch(running.metricsUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('rvl_ledger_entries');
    expect(text).toContain('process_cpu_user_seconds_total');
    assertProblem(await answer(await fetch(`${running.url}/metrics`)), 401, 'UNAUTHENTICATED');
  });

  it('serves nothing else: every other path or method is a 404 problem', async () => {
    const origin = new URL(running.metricsUrl!).origin;
    for (const url of [
      '/',
      '/healthz',
      '/readyz',
      '/v1/ledger',
      '/v1/checkpoint',
      '/v1/parties',
      '/docs',
      '/openapi.json',
      '/admin/backup',
      '/metrics/x',
      '/metricsx',
      '/METRICS',
    ]) {
      const res = await answer(await fetch(`${origin}${url}`));
      assertProblem(res, 404, 'NOT_FOUND');
      expect(res.body).not.toContain('rvl_');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      assertProblem(await answer(await fetch(running.metricsUrl!, { method })), 404, 'NOT_FOUND');
    }
    const ops = await answer(await fetch(`${origin}/v1/ops`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    assertProblem(ops, 404, 'NOT_FOUND');
  });

  it('bytes that are not HTTP get a 400 problem', async () => {
    const { hostname, port } = new URL(running.metricsUrl!);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let got = '';
      socket.setEncoding('utf8').on('data', (c: string) => (got += c));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('"code":"MALFORMED_REQUEST"');
  });

  it('is off when METRICS_PORT is unset', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rvl-metrics-off-'));
    const off = await startServer(readConfig({ PORT: '0', LEDGER_DATA_DIR: dir, LOG_LEVEL: 'silent' }), silent);
    try {
      expect(off.metricsUrl).toBeUndefined();
    } finally {
      await off.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
