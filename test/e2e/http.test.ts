/**
 * The HTTP edge over a real socket (docs/protocol.md §2, §8): bytes that `fetch` would never send — invalid
 * UTF-8, a BOM, bad percent-encoding, an oversized chunked body — all get an RFC 9457
 * `application/problem+json` answer with a §7/§8 code, and never a 5xx. And RATE_LIMIT_PER_MIN.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { cleanup, startServer, type Server } from './server.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends raw bytes on a fresh connection (closed after one request) and parses the answer. */
const raw = (port: number, request: Buffer | string): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.end(request));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
  });

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;
const post = (body: Buffer | string, contentType = 'application/json', extraHeaders = ''): Buffer => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      `POST /v1/ops HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n${extraHeaders}\r\n`,
    ),
    bytes,
  ]);
};

describe('e2e: malformed HTTP over a real socket', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanup);

  const cases: [string, Buffer | string, number, string][] = [
    ['an empty JSON body', post(''), 400, 'MALFORMED_REQUEST'],
    ['truncated JSON', post('{"payload":'), 400, 'MALFORMED_REQUEST'],
    ['a UTF-8 BOM', post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])), 400, 'MALFORMED_REQUEST'],
    ['invalid UTF-8', post(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), 400, 'MALFORMED_REQUEST'],
    ['a duplicate key', post('{"payload":{},"payload":{},"signatures":[]}'), 400, 'MALFORMED_REQUEST'],
    ['a lone surrogate', post('{"payload":"\\ud800","signatures":[]}'), 400, 'MALFORMED_REQUEST'],
    ['text/plain', post('{}', 'text/plain'), 400, 'MALFORMED_REQUEST'],
    ['a form body', post('a=1', 'application/x-www-form-urlencoded'), 400, 'MALFORMED_REQUEST'],
    ['a gzip-encoded claim', post('{}', 'application/json', 'Content-Encoding: gzip\r\n'), 400, 'MALFORMED_REQUEST'],
    ['a body over 64 KiB', post(`{"a":"${'x'.repeat(70_000)}"}`), 413, 'PAYLOAD_TOO_LARGE'],
    [
      'a chunked body over 64 KiB',
      `POST /v1/ops HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(70_000).toString(16)}\r\n${'x'.repeat(70_000)}\r\n0\r\n\r\n`,
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['deeply nested JSON', post(`${'['.repeat(20_000)}${']'.repeat(20_000)}`), 400, 'MALFORMED_REQUEST'],
    ['a voucher id that is not one', get('/v1/vouchers/v..%2F..'), 400, 'MALFORMED_REQUEST'],
    ['a path with bad percent-encoding (voucher)', get('/v1/vouchers/%ff'), 400, 'MALFORMED_REQUEST'],
    ['a path with bad percent-encoding (history)', get('/v1/vouchers/%zz/history'), 400, 'MALFORMED_REQUEST'],
    ['a path with bad percent-encoding (party)', get('/v1/parties/%c0'), 400, 'MALFORMED_REQUEST'],
    ['an inclusion proof for a non-number', get('/v1/proofs/inclusion?seq=abc'), 400, 'MALFORMED_REQUEST'],
    ['an inclusion proof past the tree', get('/v1/proofs/inclusion?seq=5'), 404, 'NOT_FOUND'],
    ['a consistency proof with from > to', get('/v1/proofs/consistency?from=2&to=1'), 400, 'MALFORMED_REQUEST'],
    [
      'a token that is not a JWS',
      `GET /v1/entries HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a.b.c\r\nConnection: close\r\n\r\n`,
      401,
      'UNAUTHENTICATED',
    ],
    ['an unknown route', get('/v1/nothing-here'), 404, 'NOT_FOUND'],
  ];

  const named = cases.map(([name, request, status, code]) => ({ name, request, status, code }));
  it.for(named)('$name → $status $code', async ({ request, status, code }) => {
    const res = await raw(server.port, request);
    expect({ status: res.status, type: res.headers['content-type'], code: (JSON.parse(res.body || '{}') as { code?: string }).code }).toEqual({
      status,
      type: 'application/problem+json; charset=utf-8',
      code,
    });
    expect(JSON.parse(res.body)).toMatchObject({ type: 'about:blank', status, code });
  });

  it('is still up, and wrote nothing', async () => {
    const c = await Client.connect(server.url);
    expect(c.ledger.size).toBe(1);
    expect(server.stderr()).toBe('');
  });
});

describe('e2e: RATE_LIMIT_PER_MIN', () => {
  afterAll(cleanup);

  it('answers 429 RATE_LIMITED past the limit per client address', async () => {
    const server = await startServer({ env: { RATE_LIMIT_PER_MIN: '5' } });
    // The limiter counts in fixed clock minutes: keep the burst inside one.
    const toNextMinute = 60_000 - (Date.now() % 60_000);
    if (toNextMinute < 2_000) await new Promise((r) => setTimeout(r, toNextMinute + 50));
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await fetch(`${server.url}/v1/ledger`);
      statuses.push(last.status);
      if (i < 6) await last.arrayBuffer();
    }
    // startServer itself made no request, so these are the address's first seven this minute.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last?.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await last?.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    await server.stop();
  });
});
