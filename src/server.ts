/**
 * Wires config, logger, ledger and HTTP together, and shuts them down in order: stop accepting
 * requests, finish the batch in flight, close LevelDB.
 */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { Config } from './service/config.js';
import type { LedgerService } from './service/ledger-service.js';
import { Metrics } from './service/metrics.js';
import { openLedger, type Opened } from './service/open.js';

export interface Running {
  readonly app: FastifyInstance;
  readonly service: LedgerService;
  readonly opened: Opened;
  readonly url: string;
  close(): Promise<void>;
}

export const createLogger = (level: string): Logger =>
  pino({
    level,
    base: { service: 'rvl' },
    // Never log a secret: key material has no business in a log line, and these paths are
    // where one could appear by mistake.
    redact: { paths: ['secretKey', '*.secretKey', 'req.headers.authorization'], censor: '[redacted]' },
  });

export const startServer = async (config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Running> => {
  const metrics = new Metrics(true);
  const opened = await openLedger({ ...config, logger, metrics });
  const { service } = opened;
  const app = await buildApp({ service, logger, metrics, rateLimitPerMin: config.rateLimitPerMin });
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await service.close();
    await service.store.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting and wait for requests in flight. Keep-alive connections that were busy
      // when closing began would otherwise stay open until their idle timeout: close each one as
      // soon as it is idle.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await service.close(); // finishes the batch in flight
      await service.store.close();
      logger.info('ledger closed');
    })());
  return { app, service, opened, url: address, close };
};
