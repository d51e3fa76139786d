/**
 * `POST /v1/ops` (docs/protocol.md §8): the one write. The service verifies and decides the op;
 * this route maps its outcome to an answer and logs one line per op.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { DECIDE_CODE_TRAITS } from '../../domain/codes.js';
import { opId as opIdOf } from '../../ledger/op.js';
import type { LedgerService, SubmitOutcome } from '../../service/ledger-service.js';
import { parseOp } from '../../domain/index.js';
import { wrongLedger } from '../../domain/decide.js';
import type { ClusterNode } from '../../cluster/node.js';
import { FORWARDED_HEADER, forwardToLeader } from '../../cluster/forward.js';
import { parse, QUERIES } from '../parse.js';
import { Problem, sendProblem } from '../problem.js';

export interface OpsRoutesOptions {
  readonly service: LedgerService;
  /** Cluster mode: the node's controller (writes are decided on the leader only). */
  readonly cluster?: ClusterNode | undefined;
}

const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app: FastifyInstance, o) => {
  const { service } = o;
  const partyLimit = app.partyLimit;

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
    if (o.cluster && !o.cluster.leads()) {
      // A follower refuses here what no leader would take (a malformed envelope, another
      // ledger's op) and passes the rest to the leader, once.
      const parsed = parseOp(req.body);
      if (!parsed.ok) throw new Problem(parsed.code, parsed.detail);
      const other = wrongLedger(parsed.op, service.meta.ledgerId);
      if (other) throw new Problem(other.code, other.detail);
      if (req.headers[FORWARDED_HEADER] !== undefined) throw new Problem('LEDGER_UNAVAILABLE', 'this node no longer leads the cluster; retry');
      const relayed = await forwardToLeader(o.cluster.leader, '/v1/ops', req.body, { authorization: req.headers.authorization });
      logOp(`forwarded ${relayed.status}`);
      return reply.code(relayed.status).type(relayed.contentType).send(relayed.body);
    }
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
        // Only an op that parsed (and so has an op id) reaches these refusals. A refusal its
        // signers cannot have caused gives back what admitting the op counted against them.
        if (!DECIDE_CODE_TRAITS[outcome.code].countsAgainstSigners) {
          partyLimit.release(opIdOf((req.body as { payload: unknown }).payload));
        }
        throw new Problem(outcome.code, outcome.detail);
    }
  });
};

export default opsRoutes;
