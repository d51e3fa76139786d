/**
 * The HTTP API of docs/protocol.md §8 on Fastify. Routes parse and authenticate, call the service or
 * the reads, and map outcomes to answers; no rule of §7 lives here. Every error answer is an
 * RFC 9457 problem with a stable code, and no input, however malformed, gets a 5xx.
 */
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { DecideCode } from '../domain/codes.js';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import { opId as opIdOf } from '../ledger/op.js';
import type { LedgerService, SubmitOutcome } from '../service/ledger-service.js';
import type { Metrics } from '../service/metrics.js';
import { ReadError, Reads, VOUCHER_STATUSES, type Caller } from '../service/reads.js';
import { authenticate } from './auth.js';
import { registerBackupRoute } from './backup.js';
import webConsole from './console.js';
import { parseIJson } from './ijson.js';
import { openApiDocument } from './openapi.js';
import { Problem, rawProblem, sendProblem } from './problem.js';
import { registerRateLimits } from './rate-limit.js';
import { SECURITY_HEADERS } from './security-headers.js';

export interface AppOptions {
  readonly service: LedgerService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Requests a minute per party and per client address; 0 = off. */
  readonly rateLimitPerMin: number;
  /** Wall clock in ms (token freshness, rate windows). */
  readonly now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    startedAt?: number;
  }
}

/** A non-negative integer query value, as decimal digits. */
const count = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');
const limit = count.refine((n) => n >= 1 && n <= LIMITS.pageLimitMax, `must be 1–${LIMITS.pageLimitMax}`);
const cursor = z.string().min(1).max(2048);

const QUERIES = {
  none: z.strictObject({}),
  inclusion: z.strictObject({ seq: count, size: count.optional() }),
  consistency: z.strictObject({ from: count, to: count.optional() }),
  entries: z.strictObject({ from: count.optional(), limit: limit.optional() }),
  page: z.strictObject({ cursor: cursor.optional(), limit: limit.optional() }),
  partyVouchers: z.strictObject({
    cursor: cursor.optional(),
    limit: limit.optional(),
    status: z
      .string()
      .transform((s) => s.split(','))
      .refine((xs) => xs.every((x) => (VOUCHER_STATUSES as readonly string[]).includes(x)), 'has an unknown status')
      .optional(),
  }),
};

const parse = <T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> => {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${what} ${issue.path.join('.')}` : what;
    throw new Problem('MALFORMED_REQUEST', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
};

const voucherIdParam = (params: unknown): string => {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !PATTERNS.voucherId.test(id)) throw new Problem('MALFORMED_REQUEST', 'not a voucher id');
  return id;
};

const partyIdParam = (params: unknown): string => {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !PATTERNS.partyId.test(id)) throw new Problem('MALFORMED_REQUEST', 'not a party id');
  return id;
};

const seqParam = (params: unknown): number => parse(count, (params as { seq?: unknown }).seq, 'seq');

/**
 * Refusals of an op whose signatures all verified that its signers cannot have caused: what was
 * counted against them when it was admitted is taken back (src/api/rate-limit.ts). A signature
 * covers the payload, not the envelope around it nor the moment it is sent:
 * - SIGNERS_MISMATCH: which signatures an envelope carries is up to whoever assembles and sends
 *   it (a pledge request signed by the holder alone, sent by anyone who holds it);
 * - OP_EXPIRED: the signers set a deadline; sending the op after it is the sender's doing.
 * Every other refusal follows from what the signers signed, and counts, once per op id.
 */
const UNCAUSED_BY_SIGNERS: ReadonlySet<DecideCode> = new Set<DecideCode>(['SIGNERS_MISMATCH', 'OP_EXPIRED']);

/** RFC 9110 reason phrases of the statuses a raw problem answer can have. */
const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 413: 'Content Too Large' };

/** Writes a problem answer to a socket that Fastify will not answer, and closes it. */
const answerSocket = (socket: Duplex, code: 'MALFORMED_REQUEST' | 'NOT_FOUND', detail: string): void => {
  const answer = rawProblem(code, detail, SECURITY_HEADERS);
  const head = Object.entries({ ...answer.headers, connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.write(`HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? ''}\r\n${head}\r\n${answer.body}`);
  socket.destroy();
};

/**
 * Requests are validated with zod and answers are serialized by the routes, so no route has a
 * Fastify schema (`body`, `querystring`, `params`, `headers`, `response`) to compile. Giving
 * Fastify compilers of our own keeps it from loading Ajv and fast-json-stringify at start-up:
 * about 0.12–0.19 s of the service's start (measured with `--cpu-prof`). A route that
 * gains such a schema fails when the routes are compiled at start-up, not silently unvalidated.
 */
const NO_ROUTE_SCHEMAS = {
  compilersFactory: {
    buildValidator: () => ({ method, url, httpPart }: { method?: string; url?: string; httpPart?: string }) => {
      throw new Error(`${method} ${url}: a ${httpPart} schema; this app validates with zod in the route`);
    },
    buildSerializer: () => ({ method, url }: { method?: string; url?: string }) => {
      throw new Error(`${method} ${url}: a response schema; this app serializes in the route`);
    },
  },
};

export const buildApp = async (o: AppOptions): Promise<FastifyInstance> => {
  const { service, metrics } = o;
  const reads = new Reads(service);
  const now = o.now ?? Date.now;

  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    bodyLimit: LIMITS.requestBodyBytesMax,
    // One log line per request, written in onResponse with the route, status and duration.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => crypto.randomUUID(),
    schemaController: NO_ROUTE_SCHEMAS,
    // Keep Fastify's own parsing strict: we parse bodies ourselves, and queries are validated.
    return503OnClosing: true,
    // Node would answer a missing Host with a bare 400; the onRequest hook below answers it with a
    // problem instead.
    http: { requireHostHeader: false },
    routerOptions: {
      ignoreTrailingSlash: false,
      // Parameters up to this long reach their route, whose own check refuses a malformed id with
      // 400. A longer one is not routed at all: it gets this 400, or, where a wildcard route
      // (the web console's) is its sibling, that route's 404.
      maxParamLength: 2048,
      onMaxParamLength: (_path: string, _req: unknown, res: import('node:http').ServerResponse) => {
        const answer = rawProblem('MALFORMED_REQUEST', 'a path parameter is longer than any id', SECURITY_HEADERS);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      },
    },
    // A URL that is not valid percent-encoding never reaches a route, a hook or the error handler.
    frameworkErrors: (err, _req, reply) => {
      reply.headers(SECURITY_HEADERS);
      if (err.code === 'FST_ERR_BAD_URL') return sendProblem(reply, 'MALFORMED_REQUEST', 'the URL is not valid percent-encoding');
      return sendProblem(reply, 'MALFORMED_REQUEST', 'malformed request');
    },
    // Bytes that are not an HTTP/1.1 request (a bad request line or header, a bad chunk, headers
    // over 16 KiB) never become a request: answer them with a problem too, then close.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      // The request's head was good enough to be answered, and the answer has started (a request
      // refused from its headers, with bytes after them that Node's parser then rejects, such as
      // an unknown Transfer-Encoding): a second answer on the same socket would be read as the
      // first one's body. Let the answer already written reach the client, then close.
      if ((socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent) {
        socket.end(() => socket.destroy());
        return;
      }
      const detail =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? 'the request headers are too large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? 'the request was not completed in time'
            : 'the bytes received are not an HTTP/1.1 request';
      answerSocket(socket, 'MALFORMED_REQUEST', detail);
    },
  });

  // CONNECT (a proxy tunnel) never reaches Fastify's router: without this, Node drops the socket.
  app.server.on('connect', (_req: unknown, socket: Duplex) => answerSocket(socket, 'NOT_FOUND', 'this service is not a proxy'));
  // An Expect other than 100-continue: Node would answer a bare 417.
  app.server.on('checkExpectation', (_req: unknown, res: import('node:http').ServerResponse) => {
    const answer = rawProblem('MALFORMED_REQUEST', 'the only expectation this service meets is 100-continue', SECURITY_HEADERS);
    res.writeHead(answer.status, { ...answer.headers, connection: 'close' });
    res.end(answer.body);
  });

  // Security headers and rate limits first: their hooks must reach every route registered after
  // them (the docs, the web console, the API).
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
  const partyLimit = await registerRateLimits(app, { perMinute: o.rateLimitPerMin, now });
  // Ops are counted against their signers by the service, after their signatures verified and
  // before they are decided (see UNCAUSED_BY_SIGNERS for what is taken back).
  service.admit = o.rateLimitPerMin > 0 ? (opId, signers) => partyLimit.admit(opId, signers) : undefined;

  // Bodies: JSON only, read as bytes and parsed as I-JSON (§2).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: LIMITS.requestBodyBytesMax }, (_req, body, done) => {
    const r = parseIJson(body as Buffer);
    if (!r.ok) done(new Problem('MALFORMED_REQUEST', `body is not I-JSON: ${r.detail}`), undefined);
    else done(null, r.value);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LIMITS.requestBodyBytesMax }, (_req, _body, done) => {
    done(new Problem('MALFORMED_REQUEST', 'the body must be application/json'), undefined);
  });

  // Hooks on every request take `done` rather than returning a promise: one allocation and one
  // microtask fewer each, on the path of every op.
  app.addHook('onRequest', (req, _reply, done) => {
    req.startedAt = performance.now();
    // RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with two, is refused (Node
    // keeps the first of two Host lines, so they are counted in the raw headers).
    let hosts = 0;
    const raw = req.raw.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]?.length === 4 && raw[i]?.toLowerCase() === 'host') hosts += 1;
    if (hosts > 1 || (hosts === 0 && req.raw.httpVersionMajor === 1 && req.raw.httpVersionMinor >= 1)) {
      done(new Problem('MALFORMED_REQUEST', 'a request needs exactly one Host header'));
      return;
    }
    done();
  });

  // Once the server is closing, answers end their connection so that shutdown need not wait
  // for keep-alive timeouts.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const seconds = (performance.now() - (req.startedAt ?? performance.now())) / 1000;
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe({ method: req.method, route, status: String(reply.statusCode) }, seconds);
    req.log.debug({ method: req.method, route, status: reply.statusCode, ms: +(seconds * 1000).toFixed(2) }, 'request');
    done();
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof Problem) {
      metrics.refused(err.code);
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      return sendProblem(reply, err.code, err.detail, err.reason);
    }
    if (err instanceof ReadError) return sendProblem(reply, err.code, err.detail);
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendProblem(reply, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${LIMITS.requestBodyBytesMax} bytes`);
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // Fastify's own client errors: bad content length, empty JSON body, bad URL encoding, …
      return sendProblem(reply, 'MALFORMED_REQUEST', e.message ?? 'malformed request');
    }
    req.log.error({ err }, 'internal error');
    return sendProblem(reply, 'INTERNAL', 'internal error; nothing was written');
  });

  // The per-address limit counts unknown routes too (the plugin's hook only reaches routes).
  app.setNotFoundHandler(
    o.rateLimitPerMin > 0 ? { preHandler: app.rateLimit() } : {},
    (req, reply) => sendProblem(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  /** The authenticated caller, or a 401. */
  const caller = async (req: FastifyRequest): Promise<Caller> => {
    const r = await authenticate(req.headers.authorization, {
      ledgerId: service.meta.ledgerId,
      nowSeconds: Math.floor(now() / 1000),
      lookupParty: (id) => service.cache.party(id),
    });
    if (!r.ok) throw new Problem('UNAUTHENTICATED', r.detail, undefined, r.reason);
    partyLimit.hit(r.party.id);
    return { id: r.party.id, role: r.party.role as Caller['role'] };
  };

  // ---- docs ----
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } });
  // Swagger UI's standalone layout has a top bar whose logo is an SVG with an inline <style>, which
  // the CSP (style-src 'self') blocks; the base layout has no top bar, so the page needs nothing
  // inline. The top bar's only other part, a box to load another document, is of no use here.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { layout: 'BaseLayout' }, theme: { title: 'Receivable Voucher Ledger API 应收凭证账本接口' } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => openApiDocument());

  // ---- operations ----
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const why = service.unavailable;
    if (why !== undefined) return sendProblem(reply, 'LEDGER_UNAVAILABLE', why);
    // logCheck: the background check of the whole stored log after a quick start ('none' after a
    // full check at start-up or on a new ledger; a failed check makes the service unavailable).
    // stateCheck: the stored parties, keys, vouchers and invoices against their seal; writes are
    // held while it runs ('none' on a new ledger; a failed check makes the service unavailable).
    return { status: 'ready', size: service.size, logCheck: service.logCheck, stateCheck: service.stateCheck };
  });
  // Volumes of business (ops by type, refusals by code) are for those who run and audit the
  // ledger: the operator or an auditor, with a read token; anyone else gets the 404 of any read
  // it may not make. A scraper that cannot sign tokens reads the metrics listener instead
  // (METRICS_PORT, src/api/metrics-listener.ts).
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    parse(QUERIES.none, req.query, 'query');
    const who = await caller(req);
    if (who.role !== 'operator' && who.role !== 'auditor') throw new Problem('NOT_FOUND', 'metrics are for the operator and auditors');
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // ---- writes ----
  app.post('/v1/ops', async (req, reply) => {
    parse(QUERIES.none, req.query, 'query');
    if (req.body === undefined || req.body === null) throw new Problem('MALFORMED_REQUEST', 'an envelope is required');
    // One line per op, with the request id Fastify's logger carries.
    const type = (req.body as { payload?: { type?: unknown } }).payload?.type;
    const logOp = (result: string, receipt?: { opId: string; seq: number }) =>
      req.log.info(
        {
          type: typeof type === 'string' ? type.slice(0, 40) : undefined,
          opId: receipt?.opId,
          seq: receipt?.seq,
          outcome: result,
          ms: +(performance.now() - (req.startedAt ?? performance.now())).toFixed(2),
        },
        'op',
      );
    let outcome: SubmitOutcome;
    try {
      outcome = await service.submit(req.body);
    } catch (err) {
      // The rate limit's refusal at admission (service.admit).
      if (err instanceof Problem) logOp(err.code);
      throw err;
    }
    logOp(outcome.kind === 'refused' ? outcome.code : outcome.kind, 'receipt' in outcome ? outcome.receipt : undefined);
    switch (outcome.kind) {
      case 'accepted':
        return reply.code(201).type('application/json; charset=utf-8').send(outcome.json);
      case 'duplicate':
        return reply.code(200).send({ ...outcome.receipt, duplicate: true });
      case 'unavailable':
        throw new Problem('LEDGER_UNAVAILABLE', outcome.detail);
      case 'internal':
        return sendProblem(reply, 'INTERNAL', 'internal error; nothing was written');
      case 'refused':
        // Only an op that parsed (and so has an op id) reaches these refusals.
        if (UNCAUSED_BY_SIGNERS.has(outcome.code)) partyLimit.release(opIdOf((req.body as { payload: unknown }).payload));
        throw new Problem(outcome.code, outcome.detail);
    }
  });

  // ---- public reads ----
  app.get('/v1/ledger', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    return reads.ledger();
  });
  app.get('/v1/checkpoint', async (req, reply) => {
    parse(QUERIES.none, req.query, 'query');
    return reply.type('text/plain; charset=utf-8').send(reads.checkpoint());
  });
  app.get('/v1/proofs/inclusion', async (req) => {
    const q = parse(QUERIES.inclusion, req.query, 'query');
    return reads.inclusion(q.seq, q.size);
  });
  app.get('/v1/proofs/consistency', async (req) => {
    const q = parse(QUERIES.consistency, req.query, 'query');
    return reads.consistency(q.from, q.to);
  });

  // ---- authenticated reads ----
  app.get('/v1/entries', async (req, reply) => {
    const q = parse(QUERIES.entries, req.query, 'query');
    const page = await reads.entriesJson(await caller(req), q.from ?? 0, q.limit ?? LIMITS.pageLimitDefault);
    return reply.type('application/json; charset=utf-8').send(page);
  });
  app.get('/v1/entries/:seq', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const seq = seqParam(req.params);
    return reads.entry(await caller(req), seq);
  });
  app.get('/v1/parties', async (req) => {
    const q = parse(QUERIES.page, req.query, 'query');
    await caller(req);
    return reads.parties(q.cursor, q.limit ?? LIMITS.pageLimitDefault);
  });
  app.get('/v1/parties/:id', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = partyIdParam(req.params);
    await caller(req);
    return reads.party(id);
  });
  app.get('/v1/parties/:id/vouchers', async (req) => {
    const q = parse(QUERIES.partyVouchers, req.query, 'query');
    const id = partyIdParam(req.params);
    return reads.partyVouchers(await caller(req), id, q.status as never, q.cursor, q.limit ?? LIMITS.pageLimitDefault);
  });
  app.get('/v1/vouchers/:id', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.voucher(await caller(req), id);
  });
  app.get('/v1/vouchers/:id/history', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.history(await caller(req), id);
  });
  app.get('/v1/vouchers/:id/tree', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.tree(await caller(req), id);
  });
  app.get('/v1/vouchers/:id/proof', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.proof(await caller(req), id);
  });

  registerBackupRoute(app, { service, caller }); // GET /admin/backup, the operator's

  await app.register(webConsole); // the web console at / (web/, built into dist/web)
  return app;
};
