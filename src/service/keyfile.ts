/**
 * Key files (docs/protocol.md §3): `{"party":"<id>","publicKey":"<hex>","secretKey":"<hex seed>"}`, mode
 * 0600. The secret never leaves this module except to the signer that needs it, and never reaches
 * a log.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateSeed } from '../ledger/ed25519.js';
import { publicKeyFromSeedNode } from '../ledger/node/ed25519-node.js';
import { PATTERNS } from '../domain/limits.js';

export interface KeyFile {
  readonly party: string;
  readonly publicKey: string;
  readonly secretKey: string;
}

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/**
 * The service derives public keys with node:crypto: @noble's first derivation builds its
 * base-point tables, about 70 ms of the service's start-up (measured with `--cpu-prof`).
 * The two agree on every seed (test/ledger/ed25519.test.ts).
 */
export const newKeyFile = (party: string): KeyFile => {
  const secretKey = generateSeed();
  return { party, publicKey: publicKeyFromSeedNode(secretKey), secretKey };
};

/** Reads and checks a key file: the public key must be the seed's. */
export const readKeyFile = async (file: string): Promise<KeyFile> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new KeyFileError(`cannot read key file ${file}: ${(err as Error).message}`);
  }
  const k = parsed as Partial<KeyFile> | null;
  if (
    typeof k !== 'object' ||
    k === null ||
    typeof k.party !== 'string' ||
    typeof k.publicKey !== 'string' ||
    !PATTERNS.publicKey.test(k.publicKey) ||
    typeof k.secretKey !== 'string' ||
    !PATTERNS.seed.test(k.secretKey)
  ) {
    throw new KeyFileError(`key file ${file} is not {"party","publicKey","secretKey"} with hex keys`);
  }
  if (publicKeyFromSeedNode(k.secretKey) !== k.publicKey) {
    throw new KeyFileError(`key file ${file}: publicKey does not belong to secretKey`);
  }
  return { party: k.party, publicKey: k.publicKey, secretKey: k.secretKey };
};

/**
 * Writes a key file with mode 0600, refusing to overwrite one that exists. Crash-safe: the key is
 * written and fsync'd under a temporary name, then linked into place (which fails if the file
 * exists) and the folder fsync'd, so a crash leaves either no key file or a whole one, never an
 * empty one that would stop the service from ever starting (found by the crash suite).
 */
export const writeKeyFile = async (file: string, key: KeyFile): Promise<void> => {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(key)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temp, file);
  } finally {
    await fs.unlink(temp).catch(() => undefined);
  }
  const folder = await fs.open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
};
