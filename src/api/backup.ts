/**
 * `GET /admin/backup`: a consistent backup of the running ledger (src/service/backup.ts), for the
 * operator only. It sits outside `/v1` because it is not part of the wire contract
 * (docs/protocol.md); docs/operations.md describes it.
 *
 * Authentication is that of every authenticated read (an EdDSA read token, docs/protocol.md §8),
 * and so is the rate limit. No token, or a bad one: 401 `UNAUTHENTICATED`. Any party but the
 * operator: 404 `NOT_FOUND`, as for the other reads a party may not make. The answer is the
 * gzip'd backup file, streamed; its first line names the ledger, the size and the checkpoint.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { OPERATOR_ID } from '../domain/limits.js';
import { startBackup } from '../service/backup.js';
import type { LedgerService } from '../service/ledger-service.js';
import { Problem } from './problem.js';

export const BACKUP_PATH = '/admin/backup';
export const BACKUP_CONTENT_TYPE = 'application/gzip';

export interface BackupRouteOptions {
  readonly service: LedgerService;
}

const backupRoutes: FastifyPluginAsync<BackupRouteOptions> = async (app: FastifyInstance, o) => {
  // A HEAD would take a snapshot and throw the stream away: only GET is served.
  app.get(BACKUP_PATH, { schema: { hide: true }, exposeHeadRoute: false }, async (req, reply) => {
    if (Object.keys(req.query as object).length > 0) throw new Problem('MALFORMED_REQUEST', 'query: this route takes no parameters');
    const who = await app.caller(req);
    if (who.id !== OPERATOR_ID) throw new Problem('NOT_FOUND', 'backups are for the operator');
    const run = await startBackup(o.service.store, { logger: req.log as never });
    // A client that goes away ends the backup and releases the snapshot.
    reply.raw.once('close', () => {
      if (!run.stream.readableEnded) run.stream.destroy();
    });
    const file = `rvl-backup-${run.ledgerId.slice(0, 12)}-${run.size}-${run.createdAt.replace(/[:.]/g, '')}.rvlb.gz`;
    return reply
      .code(200)
      .header('content-type', BACKUP_CONTENT_TYPE)
      .header('content-disposition', `attachment; filename="${file}"`)
      .header('cache-control', 'no-store')
      .header('x-rvl-ledger-id', run.ledgerId)
      .header('x-rvl-ledger-size', String(run.size))
      .send(run.stream);
  });
};

export default backupRoutes;
