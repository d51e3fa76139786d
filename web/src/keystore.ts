/**
 * A key file sealed under a passphrase, for "remember in this browser": the key file's text is
 * encrypted with AES-256-GCM under a key derived from the passphrase with PBKDF2-SHA256, a random
 * 16-byte salt and a random 12-byte IV, all with WebCrypto. Only the party id and the public key
 * stay readable (they are public), so the sign-in page can say whose key it is; the ledger id,
 * party and public key are the AES-GCM additional data, so a sealed key copied to another name or
 * another ledger does not open.
 *
 * WebCrypto exists only in a secure context (https, or http on localhost); elsewhere `canSeal()`
 * is false and the console does not offer to remember a key.
 */
import { parseKeyFile, type KeyFile } from '../../src/client/index.js';

export const SEALED_KEY_FORMAT = 'rvl-console/sealed-key/v1';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256; a sealed key with fewer is refused. */
export const PBKDF2_ITERATIONS = 600_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
/** A passphrase shorter than this is refused when sealing. */
export const PASSPHRASE_CHARS_MIN = 8;

export interface SealedKey {
  readonly format: typeof SEALED_KEY_FORMAT;
  readonly party: string;
  readonly publicKey: string;
  readonly kdf: { readonly name: 'PBKDF2'; readonly hash: 'SHA-256'; readonly iterations: number; readonly salt: string };
  readonly cipher: { readonly name: 'AES-GCM'; readonly iv: string };
  readonly ciphertext: string;
}

/**
 * | code             | meaning                                                          |
 * |------------------|------------------------------------------------------------------|
 * | NO_WEBCRYPTO     | this page has no `crypto.subtle` (not a secure context)          |
 * | BAD_SEALED_KEY   | the stored value is not a sealed key of this format             |
 * | WRONG_PASSPHRASE | the passphrase does not open it (AES-GCM authentication fails)   |
 */
export type SealErrorCode = 'NO_WEBCRYPTO' | 'BAD_SEALED_KEY' | 'WRONG_PASSPHRASE';

export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly code: SealErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

export const canSeal = (): boolean => globalThis.crypto?.subtle !== undefined && globalThis.isSecureContext !== false;

const subtle = (): SubtleCrypto => {
  if (!canSeal()) throw new SealError('NO_WEBCRYPTO', 'this page is not a secure context (https or localhost), so the browser offers no WebCrypto');
  return globalThis.crypto.subtle;
};

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const additionalData = (ledgerId: string, party: string, publicKey: string): Uint8Array =>
  new TextEncoder().encode(`${SEALED_KEY_FORMAT}\n${ledgerId}\n${party}\n${publicKey}`);

const deriveKey = async (passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> => {
  const s = subtle();
  const material = await s.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return s.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, material, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
};

/** Seals a key file's text under `passphrase` for `ledgerId`. */
export const sealKey = async (key: KeyFile, keyText: string, passphrase: string, ledgerId: string): Promise<SealedKey> => {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const aes = await deriveKey(passphrase, salt, PBKDF2_ITERATIONS);
  const ciphertext = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: additionalData(ledgerId, key.party, key.publicKey) as BufferSource },
      aes,
      new TextEncoder().encode(keyText),
    ),
  );
  return {
    format: SEALED_KEY_FORMAT,
    party: key.party,
    publicKey: key.publicKey,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: PBKDF2_ITERATIONS, salt: toBase64(salt) },
    cipher: { name: 'AES-GCM', iv: toBase64(iv) },
    ciphertext: toBase64(ciphertext),
  };
};

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The sealed key stored as `text`, checked for shape (not opened); throws `SealError`. */
export const readSealedKey = (text: string): SealedKey => {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SealError('BAD_SEALED_KEY', 'not JSON');
  }
  const o = v as Partial<SealedKey> | null;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    o.format === SEALED_KEY_FORMAT &&
    typeof o.party === 'string' &&
    typeof o.publicKey === 'string' &&
    o.kdf?.name === 'PBKDF2' &&
    o.kdf.hash === 'SHA-256' &&
    Number.isSafeInteger(o.kdf.iterations) &&
    o.kdf.iterations >= PBKDF2_ITERATIONS &&
    typeof o.kdf.salt === 'string' &&
    B64.test(o.kdf.salt) &&
    o.cipher?.name === 'AES-GCM' &&
    typeof o.cipher.iv === 'string' &&
    B64.test(o.cipher.iv) &&
    typeof o.ciphertext === 'string' &&
    B64.test(o.ciphertext);
  if (!ok) throw new SealError('BAD_SEALED_KEY', `not a ${SEALED_KEY_FORMAT} value`);
  return o as SealedKey;
};

/** Opens a sealed key with `passphrase`; throws `SealError` (WRONG_PASSPHRASE) or `KeyFileError`. */
export const openSealedKey = async (sealed: SealedKey, passphrase: string, ledgerId: string): Promise<KeyFile> => {
  const aes = await deriveKey(passphrase, fromBase64(sealed.kdf.salt), sealed.kdf.iterations);
  let plain: ArrayBuffer;
  try {
    plain = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: fromBase64(sealed.cipher.iv) as BufferSource,
        additionalData: additionalData(ledgerId, sealed.party, sealed.publicKey) as BufferSource,
      },
      aes,
      fromBase64(sealed.ciphertext) as BufferSource,
    );
  } catch {
    // AES-GCM authentication failed: a wrong passphrase (or a changed value; the same to the user).
    throw new SealError('WRONG_PASSPHRASE', 'the passphrase does not open the remembered key');
  }
  const key = parseKeyFile(new TextDecoder().decode(plain));
  if (key.party !== sealed.party || key.publicKey !== sealed.publicKey) throw new SealError('BAD_SEALED_KEY', 'the sealed key is not the key it names');
  return key;
};
