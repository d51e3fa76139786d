/**
 * The endpoints of those who run the service, outside `/v1` and the OpenAPI document: `/healthz`
 * (the process answers), `/readyz` (the ledger is open and checked) and `/metrics`.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ClusterNode } from '../../cluster/node.js';
import type { LedgerService } from '../../service/ledger-service.js';
import type { Metrics } from '../../service/metrics.js';
import { parse, QUERIES } from '../parse.js';
import { Problem, sendProblem } from '../problem.js';

export interface OperationsRoutesOptions {
  readonly service: LedgerService;
  readonly metrics: Metrics;
  /** Cluster mode: the node's controller; undefined on a single node. */
  readonly cluster?: ClusterNode | undefined;
  /** This node's URL (`GET /v1/cluster` of a single node names it the leader). */
  readonly nodeUrl: string;
}

const operationsRoutes: FastifyPluginAsync<OperationsRoutesOptions> = async (app: FastifyInstance, o) => {
  const { service, metrics, cluster } = o;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const why = service.unavailable;
    if (why !== undefined) return sendProblem(reply, 'LEDGER_UNAVAILABLE', why);
    // logCheck: the background check of the whole stored log after a quick start ('none' after a
    // full check at start-up or on a new ledger; a failed check makes the service unavailable).
    // stateCheck: the stored parties, keys, vouchers and invoices against their seal; writes are
    // held while it runs ('none' on a new ledger; a failed check makes the service unavailable).
    return {
      status: 'ready',
      size: service.size,
      logCheck: service.logCheck,
      stateCheck: service.stateCheck,
      // Cluster mode: this node's role, the leader it forwards writes to, and whether the database answers.
      ...(cluster ? { cluster: { role: cluster.role, leader: cluster.leader, database: cluster.databaseError ?? 'ok' } } : {}),
    };
  });
  // §11.6: which node leads and what each has applied. A single node is its own leader.
  app.get('/v1/cluster', async (req) => {
    parse(QUERIES.none, req.query, 'query');
    return cluster ? cluster.view() : { leader: o.nodeUrl, nodes: [{ url: o.nodeUrl, role: 'leader', size: service.size }] };
  });
  // Volumes of business (ops by type, refusals by code) are for those who run and audit the
  // ledger: the operator or an auditor, with a read token; anyone else gets the 404 of any read
  // it may not make. A scraper that cannot sign tokens reads the metrics listener instead
  // (METRICS_PORT, src/api/metrics-listener.ts).
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    parse(QUERIES.none, req.query, 'query');
    const who = await app.caller(req);
    if (who.role !== 'operator' && who.role !== 'auditor') throw new Problem('NOT_FOUND', 'metrics are for the operator and auditors');
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};

export default operationsRoutes;
