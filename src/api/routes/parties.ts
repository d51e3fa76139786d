/**
 * Parties and vouchers (docs/protocol.md §8), for an authenticated caller: the parties, a party's
 * vouchers, and a voucher with its history, split tree and proof, each as the caller may see it.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { LIMITS } from '../../domain/limits.js';
import type { Reads } from '../../service/reads.js';
import { parse, partyIdParam, QUERIES, voucherIdParam } from '../parse.js';

export interface PartiesRoutesOptions {
  readonly reads: Reads;
}

const partiesRoutes: FastifyPluginAsync<PartiesRoutesOptions> = async (app: FastifyInstance, o) => {
  const { reads } = o;

  app.get('/v1/parties', async (req) => {
    const q = parse(QUERIES.page, req.query, 'query');
    await app.caller(req);
    return reads.parties(q.cursor, q.limit ?? LIMITS.pageLimitDefault);
  });
  app.get('/v1/parties/:id', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = partyIdParam(req.params);
    await app.caller(req);
    return reads.party(id);
  });
  app.get('/v1/parties/:id/vouchers', async (req) => {
    const q = parse(QUERIES.partyVouchers, req.query, 'query');
    const id = partyIdParam(req.params);
    return reads.partyVouchers(await app.caller(req), id, q.status as never, q.cursor, q.limit ?? LIMITS.pageLimitDefault);
  });
  app.get('/v1/vouchers/:id', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.voucher(await app.caller(req), id);
  });
  app.get('/v1/vouchers/:id/history', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.history(await app.caller(req), id);
  });
  app.get('/v1/vouchers/:id/tree', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.tree(await app.caller(req), id);
  });
  app.get('/v1/vouchers/:id/proof', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    const id = voucherIdParam(req.params);
    return reads.proof(await app.caller(req), id);
  });
};

export default partiesRoutes;
