/**
 * Wires config, logger, ledger and HTTP together, and shuts them down in order: stop accepting
 * requests, finish the batch in flight, close LevelDB.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { createMetricsListener, METRICS_PATH } from './api/metrics-listener.js';
import type { Config } from './service/config.js';
import type { LedgerService } from './service/ledger-service.js';
import { Metrics } from './service/metrics.js';
import { openLedger, type Opened } from './service/open.js';
import { openCluster, type OpenedCluster } from './cluster/start.js';
import { rawProblem } from './api/problem.js';
import { SECURITY_HEADERS } from './api/security-headers.js';

export interface Running {
  readonly app: FastifyInstance;
  readonly service: LedgerService;
  readonly opened: Opened;
  readonly url: string;
  /** `GET` here: the metrics listener's /metrics (no token), if METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Cluster mode: the node's controller and the log of record. */
  readonly cluster: OpenedCluster | undefined;
  close(): Promise<void>;
}

/**
 * While a cluster node waits for its database at start, its port answers: /healthz 200, and
 * /readyz and everything else 503 LEDGER_UNAVAILABLE saying why. Closed before the service listens.
 */
const waitingListener = (host: string, port: number) => {
  let why = 'the cluster database has not answered yet';
  let server: Server | undefined;
  let listening: Promise<void> | undefined;
  return {
    waiting(reason: string): void {
      why = `the cluster database cannot be reached (${reason}); retrying`;
      if (server) return;
      server = createServer((req, res) => {
        if (req.url === '/healthz') {
          res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' }).end('{"status":"ok"}');
          return;
        }
        const answer = rawProblem('LEDGER_UNAVAILABLE', why, SECURITY_HEADERS);
        res.writeHead(answer.status, answer.headers).end(answer.body);
      });
      listening = new Promise<void>((resolve) => {
        server!.once('error', () => resolve());
        server!.listen(port, host, () => resolve());
      });
    },
    async close(): Promise<void> {
      if (!server) return;
      await listening;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
};

export const createLogger = (level: string): Logger =>
  pino({
    level,
    base: { service: 'rvl' },
    // Never log a secret: key material has no business in a log line, and these paths are
    // where one could appear by mistake.
    redact: { paths: ['secretKey', '*.secretKey', 'req.headers.authorization'], censor: '[redacted]' },
  });

/** Columns a terminal gives `s`: CJK ideographs and full-width forms take two. */
const displayWidth = (s: string): number => {
  let n = 0;
  for (const ch of s) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return n;
};

/** `1 entry`, `2 entries`, `12,345 entries`. */
export const entriesText = (n: number): string => `${String(n).replace(/\B(?=(\d{3})+$)/g, ',')} ${n === 1 ? 'entry' : 'entries'}`;

export interface BannerFacts {
  readonly url: string;
  readonly ledgerId: string;
  readonly name: string;
  readonly size: number;
  readonly dataDir: string;
  /** Whether the web console is built (served at `/`). */
  readonly consoleBuilt: boolean;
  readonly operatorKeyFile: string | undefined;
  readonly created: boolean;
  readonly nodeKeyFile: string;
  /** The metrics listener's /metrics, if it is on. */
  readonly metricsUrl?: string | undefined;
}

/**
 * What `npm start` prints once the service listens: Chinese first, then English, labels aligned
 * by display width. The first line ends with the URL (scripts read it to find the service).
 */
export const startBanner = (f: BannerFacts): string => {
  const rows: [string, string][] = [
    ['控制台 console', f.consoleBuilt ? `${f.url}/` : `${f.url}/   (未构建 not built: npm run build)`],
    ['账本编号 ledger id', f.ledgerId],
    ['账本 ledger', `${f.name} · ${String(f.size).replace(/\B(?=(\d{3})+$)/g, ',')} 条记录 ${entriesText(f.size)} · 数据目录 data in ${f.dataDir}`],
    ['接口文档 API docs', `${f.url}/docs   (OpenAPI: ${f.url}/openapi.json)`],
    [
      '运营方 operator',
      f.operatorKeyFile !== undefined
        ? `密钥已写入 key written to ${f.operatorKeyFile} (请妥善保管 keep it safe: it registers parties)`
        : f.created
          ? '密钥来自 key from LEDGER_OPERATOR_PUBLIC_KEY'
          : '按创世登记 as registered at genesis',
    ],
    ...(f.metricsUrl === undefined
      ? []
      : [['监控指标 metrics', `${f.metricsUrl}   (无需令牌 no token: 仅供监控系统访问 for the monitoring system only)`] as [string, string]]),
    ['节点密钥 node key', f.nodeKeyFile],
  ];
  const width = Math.max(...rows.map(([label]) => displayWidth(label)));
  const lines = rows.map(([label, value]) => `  ${label}${' '.repeat(width - displayWidth(label) + 3)}${value}`);
  return [`账本服务已启动 rvl ledger service listening on ${f.url}`, ...lines].join('\n') + '\n';
};

export const startServer = async (config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Running> => {
  const metrics = new Metrics(true);
  let cluster: OpenedCluster | undefined;
  let opened: Opened;
  if (config.cluster) {
    const waiting = waitingListener(config.host, config.port);
    try {
      cluster = await openCluster({ ...config, logger, metrics }, { ...config.cluster, onWaiting: (why) => waiting.waiting(why) });
    } finally {
      await waiting.close();
    }
    opened = cluster.opened;
  } else {
    opened = await openLedger({ ...config, logger, metrics });
  }
  const { service } = opened;
  const nodeUrl = config.cluster?.nodeUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  const app = await buildApp({ service, logger, metrics, rateLimitPerMin: config.rateLimitPerMin, cluster: cluster?.node, nodeUrl });
  let address: string;
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  try {
    address = await app.listen({ host: config.host, port: config.port });
    if (config.metrics) {
      metricsServer = createMetricsListener(metrics, logger);
      metricsServer.listen(config.metrics.port, config.metrics.host);
      await once(metricsServer, 'listening');
      const a = metricsServer.address() as AddressInfo;
      metricsUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${METRICS_PATH}`;
      logger.info({ url: metricsUrl }, 'metrics listener on');
    }
  } catch (err) {
    metricsServer?.close();
    await app.close();
    await cluster?.node.stop();
    await service.close();
    await service.store.close();
    await cluster?.log.close();
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
      if (metricsServer) {
        const closed = new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        metricsServer.closeAllConnections();
        await closed;
      }
      await cluster?.node.stop(); // a leader finishes its batches and gives up its lease
      await service.close(); // finishes the batch in flight
      await service.store.close();
      await cluster?.log.close();
      logger.info('ledger closed');
    })());
  return { app, service, opened, url: address, metricsUrl, cluster, close };
};
