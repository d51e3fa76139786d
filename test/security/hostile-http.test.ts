/**
 * Hostile bytes over a real socket to the compiled server: what `app.inject`
 * cannot send — broken request lines, illegal header bytes, obs-folds, conflicting lengths, bad
 * chunking, truncated bodies, CONNECT, a missing Host, overlong UTF-8 in the path — generated with
 * fast-check. Every request must get an answer; an error answer is an RFC 9457 problem with a code
 * of the closed list; none is a 5xx; and afterwards the service is up, its ledger unchanged, its
 * stderr empty and no error logged. test/e2e/http.test.ts has the hand-picked cases; these are
 * generated around them.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, key, operatorKey, type Envelope } from '../e2e/client.js';
import { cleanup, logLines, startServer, type Server } from '../e2e/server.js';
import { assertProblem, countRequest, runs, sent } from './support.js';

const SUITE = 'socket';

interface RawAnswer {
  /** The final (non-1xx) status, or undefined if the connection closed without one. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Sends bytes on a fresh connection, half-closes it, and reads everything until the server closes. */
const exchange = (port: number, request: Buffer, timeoutMs = 5_000): Promise<RawAnswer> =>
  new Promise((resolve) => {
    countRequest(SUITE);
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.end(request));
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', () => undefined); // a reset after the answer is fine; the answer is what counts
    sock.on('close', () => {
      clearTimeout(timer);
      let text = Buffer.concat(chunks).toString('latin1');
      // Skip interim answers (100 Continue).
      while (/^HTTP\/1\.[01] 1\d\d /.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return resolve({ headers: {}, body: '', raw: text });
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let body = text.slice(split + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
      const status = Number(statusLine.split(' ')[1]);
      resolve({ status: Number.isInteger(status) ? status : undefined, headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw: text });
    });
  });

const dechunk = (s: string): string => {
  let out = '';
  let rest = s;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const n = Number.parseInt(rest.slice(0, eol), 16);
    if (!(n > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + n);
    rest = rest.slice(eol + 4 + n);
  }
};

/** Every answer: present, below 500, and a problem with a stable code if it is an error. */
const expectAnswered = (res: RawAnswer, what: string, head = false): void => {
  expect(res.status, `no answer to ${what}: ${JSON.stringify(res.raw.slice(0, 300))}`).toBeDefined();
  // One request, one final answer: a second one would be read as the first one's body.
  expect(res.raw.match(/HTTP\/1\.[01] [2-5]\d\d /g), `${what} → ${JSON.stringify(res.raw.slice(0, 600))}`).toHaveLength(1);
  expect(res.status!, `${what} → ${res.raw.slice(0, 300)}`).toBeLessThan(500);
  if (res.status! >= 400) {
    // A HEAD answer has the problem's headers but no body.
    if (head) expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
    else assertProblem({ statusCode: res.status!, headers: res.headers, body: res.body });
    expect(res.headers['x-content-type-options'], what).toBe('nosniff');
    expect(res.headers['content-security-policy'], what).toContain("default-src 'self'");
  }
};

const bytes = (...parts: (string | Buffer | Uint8Array)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

// ---- generators ----

const ROUTES = ['/v1/ledger', '/v1/checkpoint', '/v1/ops', '/v1/entries', '/v1/parties', '/v1/proofs/inclusion?seq=0', '/healthz', '/nowhere'];

/** A byte string that is not a token, or a target, or a version: spaces, controls, high bytes. */
const junk = (maxLength: number) =>
  fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength }).map((b) => Buffer.from(b).toString('latin1')),
    fc.string({
      unit: fc.constantFrom(
        ' ',
        '\t',
        '\0',
        '\x7f',
        '\x01',
        '\xff',
        '\x80',
        '(',
        ')',
        '<',
        '>',
        '@',
        ',',
        ';',
        ':',
        '\\',
        '"',
        '/',
        '[',
        ']',
        '?',
        '=',
        '{',
        '}',
        'a',
        'Z',
        '1',
      ),
      minLength: 1,
      maxLength,
    }),
  );

const requestLine = fc.record({
  method: fc.oneof(
    fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'get', 'G E T', 'GET\0', 'PROPFIND', 'M-SEARCH', 'BREW'),
    junk(10),
  ),
  target: fc.oneof(
    fc.constantFrom(...ROUTES),
    fc.constantFrom(
      '*',
      'http://other.example/v1/ledger',
      '//v1/ledger',
      '/v1/../v1/ledger',
      '/v1/ledger#frag',
      '/v1/ledger?%',
      '/%',
      '/v1/vouchers/%c0%af',
      '/v1/parties/%ed%a0%80',
      '/v1/vouchers/v%00',
    ),
    junk(30).map((s) => `/${s}`),
  ),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTPS/1.1', 'http/1.1', 'HTTP/1.1 x', 'HTTP/11', '', 'HTTP/1.1\0'),
  eol: fc.constantFrom('\r\n', '\n', '\r', '\n\r'),
});

const header = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        'Host',
        'X-A',
        'Content-Type',
        'Accept',
        'Authorization',
        'Cookie',
        'Expect',
        'Upgrade',
        'Connection',
        'Transfer-Encoding',
        'Content-Length',
        'Content-Encoding',
      ),
      junk(40),
    )
    .map(([n, v]) => `${n}: ${v}`),
  fc.tuple(junk(20), fc.string({ maxLength: 20 })).map(([n, v]) => `${n}: ${v}`),
  fc.constantFrom(
    'X-A: a\r\n b', // obs-fold
    ' X-A: a', // a line starting with a space
    'X-A a', // no colon
    ': a', // empty name
    'X-A:\ra',
    'X-A: a\0b',
    'Content-Length: -1',
    'Content-Length: 1, 2',
    'Content-Length: 0x10',
    'Content-Length: 99999999999999999999',
    'Transfer-Encoding: chunked, identity',
    'Transfer-Encoding: xchunked',
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip',
    'Expect: 100-continue',
    'Expect: 200-ok',
    'Upgrade: websocket\r\nConnection: Upgrade',
    'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
  ),
);

const chunkedBody = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`),
      fc
        .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('zz', '-1', 'ffffffffffffffffff', '1;ext=x', ' 5', '5 ', '0x5', ''))
        .map(([s, size]) => `${size}\r\n${s}\r\n`),
    ),
    { maxLength: 4 },
  )
  .chain((chunks) => fc.constantFrom(`${chunks.join('')}0\r\n\r\n`, chunks.join(''), `${chunks.join('')}0\r\nX-Trailer: 1\r\n\r\n`));

describe('hostile bytes over a real socket to the compiled server', () => {
  let server: Server;
  let client: Client;
  let replay: Envelope;
  let before: { size: number; checkpoint: string };

  beforeAll(async () => {
    server = await startServer({ env: { LOG_LEVEL: 'warn' } });
    client = await Client.connect(server.url);
    const op = await operatorKey(server.dataDir);
    const supplier = key('hostile-http-parts', 'supplier');
    replay = client.envelope({ type: 'party.register', party: { id: supplier.id, name: supplier.id, role: 'supplier', publicKey: supplier.publicKey } }, [op]);
    expect((await client.post(replay)).status).toBe(201);
    before = { size: (await client.info()).size, checkpoint: await client.checkpoint() };
  });
  afterAll(async () => {
    await cleanup();
    process.stdout.write(`hostile requests sent over sockets: ${sent.get(SUITE) ?? 0}\n`);
  });

  it('broken request lines (methods, targets, versions, line ends)', async () => {
    await fc.assert(
      fc.asyncProperty(requestLine, async (l) => {
        const req = bytes(`${l.method} ${l.target} ${l.version}${l.eol}Host: x${l.eol}Connection: close${l.eol}${l.eol}`);
        const res = await exchange(server.port, req);
        expectAnswered(res, JSON.stringify(req.toString('latin1')), l.method === 'HEAD');
      }),
      runs(150),
    );
  });

  it('a request refused from its headers whose body Node then rejects gets one answer, not two', async () => {
    // Found by the property below (seed 1295395261): two Host lines are refused by our hook as
    // soon as the head is parsed; Node's parser then fails on the unknown Transfer-Encoding and
    // raised a client error, whose raw 400 was written after the first answer.
    for (const req of [
      'GET /v1/ledger HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nHost:  \r\nConnection: close\r\n\r\n',
      'GET /v1/ledger HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nHost:  \r\n\r\n',
      'POST /v1/ops HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Type: application/json\r\nTransfer-Encoding: xchunked\r\n\r\nzzzz',
    ]) {
      const res = await exchange(server.port, bytes(req));
      expectAnswered(res, JSON.stringify(req));
      expect(assertProblem({ statusCode: res.status!, headers: res.headers, body: res.body }, 400, 'MALFORMED_REQUEST').detail).toBe(
        'a request needs exactly one Host header',
      );
    }
  });

  it('illegal, folded, conflicting and oversized headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom('GET', 'POST'),
        fc.array(header, { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 16 * 1024, max: 80 * 1024 }), { freq: 5 }),
        async (target, method, headers, big) => {
          const extra = big === null ? '' : `X-Big: ${'b'.repeat(big)}\r\n`;
          const req = bytes(`${method} ${target} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}${extra}Connection: close\r\n\r\n`);
          const res = await exchange(server.port, req);
          expectAnswered(res, JSON.stringify(req.toString('latin1').slice(0, 400)));
        },
      ),
      runs(150),
    );
  });

  it('bodies: random bytes, lengths that lie, bad chunking, a replay split in odd places', async () => {
    const replayText = () => JSON.stringify(replay);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('bytes' as const), body: fc.uint8Array({ maxLength: 3000 }), lie: fc.integer({ min: -5, max: 5 }) }),
          fc.record({ kind: fc.constant('replay' as const), body: fc.constant(new Uint8Array()), lie: fc.integer({ min: -5, max: 40 }) }),
          fc.record({ kind: fc.constant('chunked' as const), body: fc.constant(new Uint8Array()), lie: fc.constant(0) }),
        ),
        chunkedBody,
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream'),
        async (c, chunked, type) => {
          let req: Buffer;
          if (c.kind === 'chunked') {
            req = bytes(`POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
          } else {
            const body = c.kind === 'replay' ? Buffer.from(replayText()) : Buffer.from(c.body);
            // Content-Length off by `lie` (the body is then short, or has extra bytes after it).
            const length = Math.max(0, body.length + c.lie);
            req = bytes(`POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`, body);
          }
          const res = await exchange(server.port, req);
          expectAnswered(res, JSON.stringify(req.toString('latin1').slice(0, 300)));
          // Only the exact replay may be a success, and then only as the duplicate it is.
          if (res.status! < 400) {
            expect(c.kind === 'replay' && c.lie <= 0 ? res.status : 'unexpected success').toBe(200);
          }
        },
      ),
      runs(150),
    );
  });

  it('percent-encoded overlong UTF-8, surrogates and NUL in path parameters are 400', async () => {
    const evil = fc.constantFrom(
      '%c0%af',
      '%e0%80%af',
      '%f0%80%80%af',
      '%ed%a0%80',
      '%ed%bf%bf',
      '%f4%90%80%80',
      '%00',
      '%ff',
      '%c0%80',
      '%e2%80%ae',
      '%ef%bb%bf',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/vouchers/', '/v1/parties/', '/v1/entries/'),
        fc.string({ unit: fc.constantFrom('a', 'v', '0', '1', ':', '-'), maxLength: 8 }),
        evil,
        fc.constantFrom('', '/history', '/vouchers'),
        async (prefix, around, bad, suffix) => {
          const target = `${prefix}${around}${bad}${around}${prefix === '/v1/parties/' && suffix === '/vouchers' ? suffix : prefix === '/v1/vouchers/' && suffix === '/history' ? suffix : ''}`;
          const res = await exchange(server.port, bytes(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
          expectAnswered(res, target);
          expect(res.status, target).toBe(400);
        },
      ),
      runs(60),
    );
  });

  it.each([
    ['no Host in HTTP/1.1', 'GET /v1/ledger HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['two Host headers', 'GET /v1/ledger HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['an expectation other than 100-continue', 'GET /v1/ledger HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['CONNECT (a proxy tunnel)', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', 404, 'NOT_FOUND'],
    ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      'POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'two different Content-Lengths',
      'POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'Expect: 100-continue with a body over 64 KiB',
      `POST /v1/ops HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n${'x'.repeat(70_000)}`,
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['headers over 16 KiB', `GET /v1/ledger HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`, 400, 'MALFORMED_REQUEST'],
    ['a query with a NUL', 'GET /v1/proofs/inclusion?seq=0%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'MALFORMED_REQUEST'],
  ])('%s → %s %s', async (_name, request, status, code) => {
    const res = await exchange(server.port, bytes(request));
    expectAnswered(res, request.slice(0, 100));
    assertProblem({ statusCode: res.status!, headers: res.headers, body: res.body }, status, code);
  });

  it('is still up, wrote nothing, logged no error, and printed nothing on stderr', async () => {
    expect((await client.info()).size).toBe(before.size);
    expect(await client.checkpoint()).toBe(before.checkpoint);
    const errors = logLines(server.stdout()).filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(errors).toEqual([]);
    expect(server.stderr()).toBe('');
    expect(sent.get(SUITE) ?? 0).toBeGreaterThan(400);
  });
});
