/**
 * docs/protocol.md §10: the service's configuration, read from the environment once at start.
 * A bad value stops the service with a message naming the variable.
 */
import path from 'node:path';
import { isStrictPublicKey } from '../ledger/ed25519.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly ledgerName: string;
  readonly operatorPublicKey: string | undefined;
  readonly nodeKeyFile: string;
  readonly logLevel: string;
  readonly rateLimitPerMin: number;
  /** `tail` (default): a quick start, the whole log checked in the background; `full`: before serving. */
  readonly startupVerify: 'full' | 'tail';
  /**
   * The metrics listener (`METRICS_HOST`, `METRICS_PORT`): `GET /metrics` without a token, for a
   * scraper on an address only the monitoring system reaches. Undefined (the default): off.
   */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /**
   * Cluster mode (docs/protocol.md §11.5, §11.6; `LEDGER_CLUSTER_URL`): the log of record's
   * PostgreSQL URL, this node's URL as the others reach it (`LEDGER_NODE_URL`), and whether it may
   * lead (`LEDGER_CLUSTER_ROLE`: `auto`, or `follower` for a read-only copy). Undefined: one node.
   */
  readonly cluster: { readonly url: string; readonly nodeUrl: string; readonly mode: 'auto' | 'follower' } | undefined;
}

/** Every variable `readConfig` reads (docs/protocol.md §10 and the service's own). */
export const SERVICE_ENV_VARS = [
  'HOST',
  'PORT',
  'LEDGER_DATA_DIR',
  'LEDGER_NAME',
  'LEDGER_OPERATOR_PUBLIC_KEY',
  'LEDGER_NODE_KEY_FILE',
  'LOG_LEVEL',
  'RATE_LIMIT_PER_MIN',
  'STARTUP_VERIFY',
  'METRICS_HOST',
  'METRICS_PORT',
  'LEDGER_CLUSTER_URL',
  'LEDGER_NODE_URL',
  'LEDGER_CLUSTER_ROLE',
] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const integer = (name: string, raw: string, min: number, max: number): number => {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
};

const startupVerify = (raw: string): 'full' | 'tail' => {
  if (raw !== 'full' && raw !== 'tail') throw new ConfigError(`STARTUP_VERIFY must be full or tail; got ${JSON.stringify(raw)}`);
  return raw;
};

/**
 * `METRICS_PORT` turns the metrics listener on, on `METRICS_HOST` (default 127.0.0.1: loopback,
 * never every interface unless asked). `METRICS_HOST` alone is a mistake, not a silent no-op.
 */
const metricsListener = (env: NodeJS.ProcessEnv, port: number): Config['metrics'] => {
  const host = env.METRICS_HOST || undefined;
  const rawPort = env.METRICS_PORT || undefined;
  if (rawPort === undefined) {
    if (host !== undefined) throw new ConfigError('METRICS_HOST is set but METRICS_PORT is not; set both to serve /metrics without a token, or neither');
    return undefined;
  }
  const metricsPort = integer('METRICS_PORT', rawPort, 0, 65535);
  if (metricsPort !== 0 && metricsPort === port) throw new ConfigError(`METRICS_PORT must differ from PORT (${port})`);
  return { host: host ?? '127.0.0.1', port: metricsPort };
};

const httpUrl = (name: string, raw: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL; got ${JSON.stringify(raw)}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search !== '' || u.hash !== '') {
    throw new ConfigError(`${name} must be an http(s) base URL without query or fragment; got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
};

/** Cluster mode's variables; `LEDGER_NODE_URL` and `LEDGER_CLUSTER_ROLE` alone are mistakes. */
const clusterConfig = (env: NodeJS.ProcessEnv, host: string, port: number): Config['cluster'] => {
  const url = env.LEDGER_CLUSTER_URL || undefined;
  if (url === undefined) {
    for (const name of ['LEDGER_NODE_URL', 'LEDGER_CLUSTER_ROLE'] as const) {
      if (env[name]) throw new ConfigError(`${name} is set but LEDGER_CLUSTER_URL is not; cluster settings need the cluster's database`);
    }
    return undefined;
  }
  if (!/^postgres(ql)?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError('LEDGER_CLUSTER_URL must be a PostgreSQL URL (postgres://user@host:port,host:port/db?target_session_attrs=read-write)');
  }
  const mode = env.LEDGER_CLUSTER_ROLE || 'auto';
  if (mode !== 'auto' && mode !== 'follower') throw new ConfigError(`LEDGER_CLUSTER_ROLE must be auto or follower; got ${JSON.stringify(mode)}`);
  const nodeUrl = httpUrl('LEDGER_NODE_URL', env.LEDGER_NODE_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  return { url, nodeUrl, mode };
};

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const dataDir = path.resolve(env.LEDGER_DATA_DIR || './ledger-data');
  const operatorPublicKey = env.LEDGER_OPERATOR_PUBLIC_KEY || undefined;
  if (operatorPublicKey !== undefined && !isStrictPublicKey(operatorPublicKey)) {
    throw new ConfigError(
      'LEDGER_OPERATOR_PUBLIC_KEY must be 64 lowercase hex characters of a valid Ed25519 public key (canonical, of prime order: no small-order component)',
    );
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}`);
  const port = integer('PORT', env.PORT || '8080', 0, 65535);
  const host = env.HOST || '127.0.0.1';
  return {
    host,
    port,
    dataDir,
    ledgerName: env.LEDGER_NAME || 'demo',
    operatorPublicKey,
    nodeKeyFile: path.resolve(env.LEDGER_NODE_KEY_FILE || path.join(dataDir, 'node.key')),
    logLevel,
    rateLimitPerMin: integer('RATE_LIMIT_PER_MIN', env.RATE_LIMIT_PER_MIN ?? '60000', 0, 1_000_000_000),
    startupVerify: startupVerify(env.STARTUP_VERIFY || 'tail'),
    metrics: metricsListener(env, port),
    cluster: clusterConfig(env, host, port),
  };
};
