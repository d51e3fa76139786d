/**
 * The metrics listener (`METRICS_HOST`, `METRICS_PORT`): `GET /metrics` without a token, for a
 * Prometheus scraper that cannot sign read tokens. It is meant for an address that only the
 * monitoring system reaches; on the main port `/metrics` needs the operator's or an auditor's
 * token, since it shows volumes of business (ops by type, refusals by code).
 *
 * It serves that one route and nothing else: any other path or method is 404 `NOT_FOUND`, and
 * bytes that are not an HTTP/1.1 request get 400 `MALFORMED_REQUEST`, both as problems. A plain
 * Node server rather than a second Fastify app: one route needs no router, parser or plugins.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../service/metrics.js';
import { PROBLEM_CONTENT_TYPE, problemBody, rawProblem } from './problem.js';
import { SECURITY_HEADERS } from './security-headers.js';

export const METRICS_PATH = '/metrics';

const send = (res: ServerResponse, answer: { status: number; headers: Record<string, string>; body: string }, head: boolean): void => {
  res.writeHead(answer.status, answer.headers);
  res.end(head ? undefined : answer.body);
};

const answer = async (metrics: Metrics, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const path = (req.url ?? '').split('?')[0];
  const head = req.method === 'HEAD';
  if (path !== METRICS_PATH || (req.method !== 'GET' && !head)) {
    const where = `${req.method ?? ''} ${(path ?? '').slice(0, 200)}`;
    send(res, rawProblem('NOT_FOUND', `no route ${where}; this listener serves GET ${METRICS_PATH} only`, SECURITY_HEADERS), head);
    return;
  }
  const body = await metrics.registry.metrics();
  send(
    res,
    {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'content-type': metrics.registry.contentType,
        'content-length': String(Buffer.byteLength(body)),
        'cache-control': 'no-store',
      },
      body,
    },
    head,
  );
};

/** A server (not yet listening) that answers `GET /metrics` from `metrics`, and nothing else. */
export const createMetricsListener = (metrics: Metrics, logger: Logger): Server => {
  const server = createServer((req, res) => {
    answer(metrics, req, res).catch((err: unknown) => {
      logger.error({ err }, 'metrics listener: internal error');
      if (!res.headersSent) {
        res.writeHead(500, { ...SECURITY_HEADERS, 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8` });
        res.end(JSON.stringify(problemBody('INTERNAL', 'internal error')));
      } else res.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const a = rawProblem('MALFORMED_REQUEST', 'the bytes received are not an HTTP/1.1 request', SECURITY_HEADERS);
    const headers = Object.entries({ ...a.headers, connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    if (socket.writable) socket.write(`HTTP/1.1 ${a.status} Bad Request\r\n${headers}\r\n${a.body}`);
    socket.destroy();
  });
  return server;
};
