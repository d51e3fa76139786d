import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { LedgerError, type LedgerErrorCode } from '../../src/ledger/errors.js';

/** Reads a published vector file from test/vectors/published/. */
export const loadVectors = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../vectors/published/${name}`, import.meta.url), 'utf8')) as T;

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
