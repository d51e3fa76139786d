import { LedgerError } from './errors.js';

/**
 * docs/protocol.md §2: binary values in JSON are lowercase hex. Only `0-9a-f` is accepted; uppercase,
 * odd lengths, prefixes and whitespace are refused.
 */
const HEX_DIGITS = '0123456789abcdef';

/** Lowercase hex of `bytes`. */
export const toHex = (bytes: Uint8Array): string => {
  let out = '';
  for (const b of bytes) out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return out;
};

const nibble = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10; // a-f
  return -1;
};

/**
 * Untrusted-input parser: the bytes of `s` if it is strict lowercase hex (of exactly
 * `expectedBytes` bytes when given), else `undefined`. Never throws.
 */
export const parseHex = (s: unknown, expectedBytes?: number): Uint8Array | undefined => {
  if (typeof s !== 'string' || s.length % 2 !== 0) return undefined;
  if (expectedBytes !== undefined && s.length !== expectedBytes * 2) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
};

/** True if `s` is strict lowercase hex (of `expectedBytes` bytes when given). */
export const isHex = (s: unknown, expectedBytes?: number): s is string => parseHex(s, expectedBytes) !== undefined;

/** Trusted-input variant of `parseHex`: throws a `LedgerError` with code `BAD_HEX`. */
export const fromHex = (hex: string, expectedBytes?: number): Uint8Array => {
  const bytes = parseHex(hex, expectedBytes);
  if (bytes === undefined) {
    const want = expectedBytes === undefined ? '' : ` of ${expectedBytes} bytes`;
    throw new LedgerError('BAD_HEX', `expected lowercase hex${want}`);
  }
  return bytes;
};

/** Constant-shape byte comparison (not secret-dependent timing critical here: hashes are public). */
export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
};

export const concatBytes = (...parts: readonly Uint8Array[]): Uint8Array => {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
};
