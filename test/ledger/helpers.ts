import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { LedgerError, type LedgerErrorCode } from '../../src/ledger/errors.js';

/** Reads a published vector file from test/vectors/published/. */
export const loadVectors = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../vectors/published/${name}`, import.meta.url), 'utf8')) as T;

/** A copy of `bytes` with bit `bit` (0 = least significant bit of byte 0) flipped. */
export const flipBit = (bytes: Uint8Array, bit: number): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
  return copy;
};

/** Asserts that `fn` throws a LedgerError with `code` (never a raw TypeError). */
export const expectLedgerError = (fn: () => unknown, code: LedgerErrorCode): void => {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(LedgerError);
  expect((thrown as LedgerError).code).toBe(code);
};

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The 8 points of small order (canonical encodings), as listed by libsodium's blocklist and
 * "Taming the many EdDSAs" (Chalkias et al., 2020): identity, order 2, the two of order 4, and
 * the four of order 8.
 */
export const SMALL_ORDER: readonly string[] = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];
