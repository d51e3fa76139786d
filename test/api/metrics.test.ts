/**
 * `/metrics` counts each refusal once: the writer decides a refused op and the API answers it,
 * and only one of the two may count it in `rvl_refusals_total`. Driven over a real socket (the
 * app listening on a free port), real LevelDB and the real writer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, key } from '../support/harness.js';
import { issuePayload } from './helpers.js';

const core = key('gz-motors', 'core');
const s1 = key('dongguan-parts', 'supplier');

describe('GET /metrics: rvl_refusals_total', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, s1]) await h.register(k);
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h.close();
  });

  /** GET /metrics as the operator (it is not public: test/security/metrics-access.test.ts). */
  const scrape = async (): Promise<Response> => fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${await h.token(h.operator)}` } });
  /** The counter's value for `code` (0 while it has no sample). */
  const refusals = async (code: string): Promise<number> => {
    const res = await scrape();
    expect(res.status).toBe(200);
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`rvl_refusals_total{code="${code}"} `));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };
  const opsRefused = async (type: string): Promise<number> => {
    const text = await (await scrape()).text();
    const line = text.split('\n').find((l) => l.startsWith(`rvl_ops_total{type="${type}",outcome="refused"} `));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };
  const post = (body: string): Promise<Response> => fetch(`${base}/v1/ops`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const issue = (invoiceId: string) => issuePayload(core, s1, { invoiceIds: [invoiceId] });

  it('one op refused by the writer (INVOICE_ALREADY_USED) moves the counter by exactly 1', async () => {
    expect((await post(JSON.stringify(h.envelope(issue('INV-M1'), [core])))).status).toBe(201);
    const before = await refusals('INVOICE_ALREADY_USED');
    const opsBefore = await opsRefused('voucher.issue');
    const res = await post(JSON.stringify(h.envelope(issue('INV-M1'), [core])));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('INVOICE_ALREADY_USED');
    expect(await refusals('INVOICE_ALREADY_USED')).toBe(before + 1);
    // The writer still counts the op itself as decided and refused, once.
    expect(await opsRefused('voucher.issue')).toBe(opsBefore + 1);
  });

  it('one malformed request (refused before the writer) moves the counter by exactly 1', async () => {
    const before = await refusals('MALFORMED_REQUEST');
    const res = await post('{"payload":');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('MALFORMED_REQUEST');
    expect(await refusals('MALFORMED_REQUEST')).toBe(before + 1);
  });

  it('a well-formed envelope of the wrong shape (refused by the service, not the writer) counts once', async () => {
    const before = await refusals('MALFORMED_REQUEST');
    const env = h.envelope({ ...issue('INV-M2'), priority: 'high' }, [core]);
    const res = await post(JSON.stringify(env));
    expect(res.status).toBe(400);
    expect(await refusals('MALFORMED_REQUEST')).toBe(before + 1);
  });
});
