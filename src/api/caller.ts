/**
 * The `caller` decorator: who signed a request's read token (docs/protocol.md §8), counted against
 * that party's rate limit, or a 401 `UNAUTHENTICATED` problem. Registered once on the root with
 * `fastify-plugin`, so that every route plugin registered after it authenticates the same way.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { LedgerService } from '../service/ledger-service.js';
import type { Caller } from '../service/reads.js';
import { authenticate } from './auth.js';
import { Problem } from './problem.js';
import { RATE_LIMITS_PLUGIN } from './rate-limit.js';

export const CALLER_PLUGIN = 'rvl-caller';

export interface CallerOptions {
  readonly service: LedgerService;
  /** Wall clock in ms (token freshness). */
  readonly now: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The authenticated caller (counted against its rate limit), or a 401 `Problem`. */
    caller(req: FastifyRequest): Promise<Caller>;
  }
}

export const callerPlugin = fp(
  async (app: FastifyInstance, o: CallerOptions) => {
    const { service, now } = o;
    const partyLimit = app.partyLimit;
    app.decorate('caller', async (req: FastifyRequest): Promise<Caller> => {
      const r = await authenticate(req.headers.authorization, {
        ledgerId: service.meta.ledgerId,
        nowSeconds: Math.floor(now() / 1000),
        lookupParty: (id) => service.cache.party(id),
      });
      if (!r.ok) throw new Problem('UNAUTHENTICATED', r.detail, undefined, r.reason);
      partyLimit.hit(r.party.id);
      return { id: r.party.id, role: r.party.role as Caller['role'] };
    });
  },
  { name: CALLER_PLUGIN, dependencies: [RATE_LIMITS_PLUGIN] },
);
