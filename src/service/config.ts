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

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const dataDir = path.resolve(env.LEDGER_DATA_DIR || './ledger-data');
  const operatorPublicKey = env.LEDGER_OPERATOR_PUBLIC_KEY || undefined;
  if (operatorPublicKey !== undefined && !isStrictPublicKey(operatorPublicKey)) {
    throw new ConfigError(
      'LEDGER_OPERATOR_PUBLIC_KEY must be 64 lowercase hex characters of a valid Ed25519 public key (canonical, not of small order)',
    );
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(', ')}`);
  return {
    host: env.HOST || '127.0.0.1',
    port: integer('PORT', env.PORT || '8080', 0, 65535),
    dataDir,
    ledgerName: env.LEDGER_NAME || 'demo',
    operatorPublicKey,
    nodeKeyFile: path.resolve(env.LEDGER_NODE_KEY_FILE || path.join(dataDir, 'node.key')),
    logLevel,
    rateLimitPerMin: integer('RATE_LIMIT_PER_MIN', env.RATE_LIMIT_PER_MIN ?? '60000', 0, 1_000_000_000),
    startupVerify: startupVerify(env.STARTUP_VERIFY || 'tail'),
  };
};
