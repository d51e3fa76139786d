/**
 * The log and its proofs (docs/protocol.md §8): the ledger's description, the signed checkpoint
 * and the Merkle proofs, public; the entries, for an authenticated caller, each as it may see it.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { LIMITS } from '../../domain/limits.js';
import type { Reads } from '../../service/reads.js';
import { parse, QUERIES, seqParam } from '../parse.js';

export interface LogRoutesOptions {
  readonly reads: Reads;
}

const logRoutes: FastifyPluginAsync<LogRoutesOptions> = async (app: FastifyInstance, o) => {
  const { reads } = o;

  // Public.
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

  // Authenticated.
  app.get('/v1/entries', async (req, reply) => {
    const q = parse(QUERIES.entries, req.query, 'query');
    const page = await reads.entriesJson(await app.caller(req), q.from ?? 0, q.limit ?? LIMITS.pageLimitDefault);
    return reply.type('application/json; charset=utf-8').send(page);
  });
  app.get('/v1/entries/:seq', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const seq = seqParam(req.params);
    return reads.entry(await app.caller(req), seq);
  });
};

export default logRoutes;
