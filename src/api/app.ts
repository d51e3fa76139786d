/**
 * The HTTP API of docs/protocol.md §8 on Fastify: the server's options, the socket's hardening,
 * the body parsers, the hooks on every request and the one error handler, then the plugins that
 * own the routes (src/api/routes/, the backup, the web console). Routes parse and authenticate,
 * call the service or the reads, and map outcomes to answers; no rule of §7 lives here. Every
 * error answer is an RFC 9457 problem with a stable code, and no input, however malformed, gets
 * a 5xx.
 */
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LIMITS } from '../domain/limits.js';
import type { LedgerService } from '../service/ledger-service.js';
import type { Metrics } from '../service/metrics.js';
import { ReadError, Reads } from '../service/reads.js';
import backupRoutes from './backup.js';
import { callerPlugin } from './caller.js';
import webConsole from './console.js';
import { parseIJson } from './ijson.js';
import { Problem, rawProblem, sendProblem } from './problem.js';
import { rateLimits } from './rate-limit.js';
import docsRoutes from './routes/docs.js';
import logRoutes from './routes/log.js';
import type { ClusterNode } from '../cluster/node.js';
import operationsRoutes from './routes/operations.js';
import opsRoutes from './routes/ops.js';
import partiesRoutes from './routes/parties.js';
import { SECURITY_HEADERS } from './security-headers.js';

export interface AppOptions {
  readonly service: LedgerService;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Requests a minute per party and per client address; 0 = off. */
  readonly rateLimitPerMin: number;
  /** Wall clock in ms (token freshness, rate windows). */
  readonly now?: () => number;
  /** Cluster mode: this node's controller. */
  readonly cluster?: ClusterNode | undefined;
  /** This node's base URL (`GET /v1/cluster`); default http://127.0.0.1. */
  readonly nodeUrl?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived (`performance.now()`): its duration, and an op's in its log line. */
    startedAt?: number;
  }
}

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
    buildValidator:
      () =>
      ({ method, url, httpPart }: { method?: string; url?: string; httpPart?: string }) => {
        throw new Error(`${method} ${url}: a ${httpPart} schema; this app validates with zod in the route`);
      },
    buildSerializer:
      () =>
      ({ method, url }: { method?: string; url?: string }) => {
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
  await app.register(rateLimits, { perMinute: o.rateLimitPerMin, now });
  const partyLimit = app.partyLimit;
  // Ops are counted against their signers by the service, after their signatures verified and
  // before they are decided (`countsAgainstSigners` in src/domain/codes.ts says which refusals
  // src/api/routes/ops.ts takes back).
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
  app.setNotFoundHandler(o.rateLimitPerMin > 0 ? { preHandler: app.rateLimit() } : {}, (req, reply) =>
    sendProblem(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  // Shared by the route plugins: who signed a read token (counted against its rate limit).
  await app.register(callerPlugin, { service, now });

  // The routes: each plugin owns those of one area.
  await app.register(docsRoutes); // /docs, /openapi.json
  await app.register(operationsRoutes, { service, metrics, cluster: o.cluster, nodeUrl: o.nodeUrl ?? 'http://127.0.0.1' }); // /healthz, /readyz, /metrics, /v1/cluster
  await app.register(opsRoutes, { service, cluster: o.cluster }); // POST /v1/ops
  await app.register(logRoutes, { reads }); // /v1/ledger, /v1/checkpoint, /v1/proofs/*, /v1/entries*
  await app.register(partiesRoutes, { reads }); // /v1/parties*, /v1/vouchers*
  await app.register(backupRoutes, { service }); // GET /admin/backup, the operator's
  await app.register(webConsole); // the web console at / (web/, built into dist/web)
  return app;
};
