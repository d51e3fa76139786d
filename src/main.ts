/**
 * `npm start`: the ledger service (docs/protocol.md §10). Prints where it listens, the web console,
 * the ledger id, the docs, and where a generated operator key is; stops cleanly on SIGTERM or SIGINT.
 */
import { ConfigError, readConfig } from './service/config.js';
import { StartupError } from './service/open.js';
import { findConsoleBuild } from './api/console.js';
import { createLogger, startBanner, startServer } from './server.js';

const main = async (): Promise<void> => {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rvl: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let running;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    if (err instanceof StartupError) {
      logger.fatal({ seq: err.seq }, err.message);
      process.stderr.write(`rvl: refusing to start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { service, opened, url } = running;
  process.stdout.write(
    startBanner({
      url,
      ledgerId: service.meta.ledgerId,
      name: service.meta.name,
      size: service.size,
      dataDir: config.dataDir,
      consoleBuilt: findConsoleBuild() !== undefined,
      operatorKeyFile: opened.operatorKeyFile,
      created: opened.created,
      nodeKeyFile: opened.nodeKeyFile,
      metricsUrl: running.metricsUrl,
    }),
  );
  logger.info({ url, ledgerId: service.meta.ledgerId, size: service.size }, 'listening');

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
};

main().catch((err: unknown) => {
  process.stderr.write(`rvl: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
