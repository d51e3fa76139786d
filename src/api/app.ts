/**
 * The HTTP API of PROTOCOL.md §8 on Fastify. Routes parse and authenticate, call the service or
 * the reads, and map outcomes to answers; no rule of §7 lives here. Every error answer is an
 * RFC 9457 problem with a stable code, and no input, however malformed, gets a 5xx.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import type { LedgerService } from '../service/ledger-service.js';
import type { Metrics } from '../service/metrics.js';
import { ReadError, Reads, VOUCHER_STATUSES, type Caller } from '../service/reads.js';
import { authenticate } from './auth.js';
import { parseIJson } from './ijson.js';
import { openApiDocument } from './openapi.js';
import { PROBLEM_CONTENT_TYPE, Problem, problemBody, sendProblem } from './problem.js';
import { RateLimiter } from './rate-limit.js';

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

export const buildApp = async (o: AppOptions): Promise<FastifyInstance> => {
  const { service, metrics } = o;
  const reads = new Reads(service);
  const now = o.now ?? Date.now;
  const limiter = new RateLimiter(o.rateLimitPerMin, now);

  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    bodyLimit: LIMITS.requestBodyBytesMax,
    // One log line per request, written in onResponse with the route, status and duration.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => crypto.randomUUID(),
    // Keep Fastify's own parsing strict: we parse bodies ourselves, and queries are validated.
    return503OnClosing: true,
    routerOptions: {
      ignoreTrailingSlash: false,
      maxParamLength: 200,
      // A path parameter longer than any id (the longest voucher id is 59 chars) is malformed.
      onMaxParamLength: (_path: string, _req: unknown, res: import('node:http').ServerResponse) => {
        const body = problemBody('MALFORMED_REQUEST', 'a path parameter is longer than any id');
        res.writeHead(body.status, { 'content-type': PROBLEM_CONTENT_TYPE });
        res.end(JSON.stringify(body));
      },
    },
    // A URL that is not valid percent-encoding never reaches a route or the error handler.
    frameworkErrors: (err, _req, reply) => {
      if (err.code === 'FST_ERR_BAD_URL') return sendProblem(reply, 'MALFORMED_REQUEST', 'the URL is not valid percent-encoding');
      return sendProblem(reply, 'MALFORMED_REQUEST', 'malformed request');
    },
  });

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

  app.addHook('onRequest', async (req, reply) => {
    req.startedAt = performance.now();
    if (!limiter.hit(`ip:${req.ip}`)) return sendProblem(reply, 'RATE_LIMITED', 'too many requests from this address');
    return undefined;
  });

  // Once the server is closing, answers end their connection so that shutdown need not wait
  // for keep-alive timeouts.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const seconds = (performance.now() - (req.startedAt ?? performance.now())) / 1000;
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe({ method: req.method, route, status: String(reply.statusCode) }, seconds);
    req.log.debug({ method: req.method, route, status: reply.statusCode, ms: +(seconds * 1000).toFixed(2) }, 'request');
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof Problem) {
      metrics.refused(err.code);
      return sendProblem(reply, err.code, err.detail);
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

  app.setNotFoundHandler((req, reply) => sendProblem(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));

  /** The authenticated caller, or a 401. */
  const caller = async (req: FastifyRequest): Promise<Caller> => {
    const r = await authenticate(req.headers.authorization, {
      ledgerId: service.meta.ledgerId,
      nowSeconds: Math.floor(now() / 1000),
      lookupParty: (id) => service.cache.party(id),
    });
    if (!r.ok) throw new Problem('UNAUTHENTICATED', r.detail);
    if (!limiter.hit(`party:${r.party.id}`)) throw new Problem('RATE_LIMITED', `too many requests by ${r.party.id}`);
    return { id: r.party.id, role: r.party.role as Caller['role'] };
  };

  // ---- docs ----
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => openApiDocument());

  // ---- operations ----
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const why = service.unavailable;
    if (why !== undefined) return sendProblem(reply, 'LEDGER_UNAVAILABLE', why);
    return { status: 'ready', size: service.size };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // ---- writes ----
  app.post('/v1/ops', async (req, reply) => {
    parse(QUERIES.none, req.query, 'query');
    if (req.body === undefined || req.body === null) throw new Problem('MALFORMED_REQUEST', 'an envelope is required');
    const declared = Array.isArray((req.body as { signatures?: unknown }).signatures)
      ? ((req.body as { signatures: unknown[] }).signatures
          .map((s) => (s as { signer?: unknown } | null)?.signer)
          .filter((s): s is string => typeof s === 'string'))
      : [];
    for (const signer of declared) {
      if (limiter.over(`party:${signer}`)) throw new Problem('RATE_LIMITED', `too many ops signed by ${signer}`);
    }
    const outcome = await service.submit(req.body);
    // One line per op, with the request id Fastify's logger carries.
    const type = (req.body as { payload?: { type?: unknown } }).payload?.type;
    req.log.info(
      {
        type: typeof type === 'string' ? type.slice(0, 40) : undefined,
        opId: 'receipt' in outcome ? outcome.receipt.opId : undefined,
        seq: 'receipt' in outcome ? outcome.receipt.seq : undefined,
        outcome: outcome.kind === 'refused' ? outcome.code : outcome.kind,
        ms: +(performance.now() - (req.startedAt ?? performance.now())).toFixed(2),
      },
      'op',
    );
    switch (outcome.kind) {
      case 'accepted':
        for (const signer of declared) limiter.hit(`party:${signer}`);
        return reply.code(201).send(outcome.receipt);
      case 'duplicate':
        return reply.code(200).send({ ...outcome.receipt, duplicate: true });
      case 'unavailable':
        throw new Problem('LEDGER_UNAVAILABLE', outcome.detail);
      case 'internal':
        return sendProblem(reply, 'INTERNAL', 'internal error; nothing was written');
      case 'refused':
        if (outcome.code !== 'BAD_SIGNATURE' && outcome.code !== 'UNKNOWN_PARTY' && outcome.code !== 'MALFORMED_REQUEST') {
          for (const signer of declared) limiter.hit(`party:${signer}`);
        }
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
  app.get('/v1/entries', async (req) => {
    const q = parse(QUERIES.entries, req.query, 'query');
    return reads.entries(await caller(req), q.from ?? 0, q.limit ?? LIMITS.pageLimitDefault);
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

  return app;
};
