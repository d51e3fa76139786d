/**
 * Key files (docs/protocol.md §3): `{"party":"<id>","publicKey":"<hex>","secretKey":"<hex seed>"}`.
 * Portable: parsing works on the file's text, so the CLI reads the file and a browser reads an
 * upload; writing the file with mode 0600 is the CLI's job.
 *
 * A key file is trusted input of the highest value, so parsing is strict: exactly the three
 * fields, lowercase hex, a party id of §2 (or `node`, which is one), a public key that is a strict
 * Ed25519 key and that the seed really derives. A key file that fails any of these is refused with
 * a coded `KeyFileError`, never half-used.
 */
import { PATTERNS } from '../domain/limits.js';
import { generateSeed, isStrictPublicKey, publicKeyFromSeed } from '../ledger/ed25519.js';

export interface KeyFile {
  readonly party: string;
  /** Ed25519 public key, 64 lowercase hex chars. */
  readonly publicKey: string;
  /** Ed25519 secret seed, 64 lowercase hex chars. */
  readonly secretKey: string;
}

/** What signs: a party and its seed (a `KeyFile` is one). */
export interface Signer {
  readonly party: string;
  readonly secretKey: string;
}

/**
 * | code           | meaning                                                          |
 * |----------------|------------------------------------------------------------------|
 * | NOT_JSON        | the text is not JSON                                            |
 * | PUBLIC_KEY_FILE | a public file `{party, publicKey}` (no secret key): the wrong   |
 * |                 | file of the pair, chosen by mistake                             |
 * | BAD_SHAPE       | not an object with exactly `party`, `publicKey`, `secretKey`    |
 * | BAD_PARTY       | `party` is not a party id (§2)                                  |
 * | BAD_HEX         | a key that is not 64 lowercase hex chars                        |
 * | BAD_PUBLIC_KEY  | `publicKey` is not a strict Ed25519 public key (§3)             |
 * | KEY_MISMATCH    | `publicKey` is not the key of `secretKey`                       |
 */
export type KeyFileErrorCode = 'NOT_JSON' | 'PUBLIC_KEY_FILE' | 'BAD_SHAPE' | 'BAD_PARTY' | 'BAD_HEX' | 'BAD_PUBLIC_KEY' | 'KEY_MISMATCH';

/** What a `PUBLIC_KEY_FILE` error says, for every caller that shows it. */
export const PUBLIC_KEY_FILE_DETAIL = 'this is a public key file (it has no secret key); choose the .key file';

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly code: KeyFileErrorCode,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
  }
}

const FIELDS = ['party', 'publicKey', 'secretKey'] as const;

/** Checks a key file's JSON value; throws `KeyFileError`. The secret never appears in an error. */
export const keyFileFromJson = (value: unknown): KeyFile => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KeyFileError('BAD_SHAPE', 'a key file is a JSON object');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 2 && Object.hasOwn(record, 'party') && Object.hasOwn(record, 'publicKey')) {
    throw new KeyFileError('PUBLIC_KEY_FILE', PUBLIC_KEY_FILE_DETAIL);
  }
  if (keys.length !== FIELDS.length || !FIELDS.every((f) => Object.hasOwn(record, f))) {
    throw new KeyFileError('BAD_SHAPE', `a key file has exactly the fields ${FIELDS.join(', ')}`);
  }
  const { party, publicKey, secretKey } = record;
  if (typeof party !== 'string' || !PATTERNS.partyId.test(party)) {
    throw new KeyFileError('BAD_PARTY', '"party" is not a party id');
  }
  if (typeof publicKey !== 'string' || !PATTERNS.publicKey.test(publicKey)) {
    throw new KeyFileError('BAD_HEX', '"publicKey" is not 64 lowercase hex characters');
  }
  if (typeof secretKey !== 'string' || !PATTERNS.seed.test(secretKey)) {
    throw new KeyFileError('BAD_HEX', '"secretKey" is not 64 lowercase hex characters');
  }
  if (!isStrictPublicKey(publicKey)) {
    throw new KeyFileError('BAD_PUBLIC_KEY', '"publicKey" is not a valid Ed25519 public key');
  }
  if (publicKeyFromSeed(secretKey) !== publicKey) {
    throw new KeyFileError('KEY_MISMATCH', `"publicKey" is not the public key of this secret key (party ${party})`);
  }
  return { party, publicKey, secretKey };
};

/** Parses the text of a key file (§3); throws `KeyFileError`. */
export const parseKeyFile = (text: string): KeyFile => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KeyFileError('NOT_JSON', 'the key file is not JSON', { cause: err });
  }
  return keyFileFromJson(value);
};

/** A fresh key pair for `party` (crypto.getRandomValues). Throws `KeyFileError('BAD_PARTY')`. */
export const generateKeyFile = (party: string): KeyFile => {
  if (!PATTERNS.partyId.test(party)) throw new KeyFileError('BAD_PARTY', `"${party}" is not a party id`);
  const secretKey = generateSeed();
  return { party, publicKey: publicKeyFromSeed(secretKey), secretKey };
};

/** The text of a key file, as the service writes it: one JSON line. Write it with mode 0600. */
export const keyFileText = (key: KeyFile): string => `${JSON.stringify({ party: key.party, publicKey: key.publicKey, secretKey: key.secretKey })}\n`;
