/**
 * The witness's HTTP endpoint (C2SP tlog-witness v1): `POST <prefix>/add-checkpoint`, answered
 * with exactly the spec's status codes; 409 carries the last cosigned size as `text/x.tlog.size`.
 * Anything else is 404 (or 405 for another method on the endpoint); a body over the limit is 413.
 * One pino line per request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from 'pino';
import { ADD_CHECKPOINT_BYTES_MAX, type WitnessState } from './witness.js';

const readBody = (req: IncomingMessage, max: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export const witnessServer = (state: WitnessState, logger: Logger, prefix = ''): Server =>
  createServer((req, res) => {
    const started = performance.now();
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8', reason?: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' }).end(body);
      logger.info({ method: req.method, url: req.url?.slice(0, 200), status, reason, ms: +(performance.now() - started).toFixed(2) }, 'witness request');
    };
    const url = (req.url ?? '').split('?')[0];
    if (url !== `${prefix}/add-checkpoint`) return answer(404, 'not found\n');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return answer(405, 'method not allowed\n');
    }
    readBody(req, ADD_CHECKPOINT_BYTES_MAX)
      .then(async (body) => {
        if (body === undefined) return answer(413, 'request body too large\n');
        const result = await state.addCheckpoint(body);
        switch (result.status) {
          case 200:
            return answer(200, result.body);
          case 409:
            return answer(409, `${result.size}\n`, 'text/x.tlog.size');
          case 400:
          case 403:
          case 404:
          case 422:
            return answer(result.status, `${result.reason}\n`, 'text/plain; charset=utf-8', result.reason);
        }
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'witness request failed');
        if (!res.headersSent) answer(500, 'internal error; nothing was cosigned\n');
      });
  });
