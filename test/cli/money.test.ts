/**
 * `parseAmount` and `formatAmount` (src/cli/money.ts): yuan as people type them → exact fen, and
 * fen → `¥1,234,567.89`. Anything that could be read two ways is refused with a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AmountError, formatAmount, parseAmount } from '../../src/cli/money.js';

/** [typed, fen] */
const ACCEPTED: readonly (readonly [string, bigint])[] = [
  ['1,000,000.00', 100_000_000n],
  ['1000000', 100_000_000n],
  ['1000000.5', 100_000_050n],
  ['1000000.50', 100_000_050n],
  ['¥1,234.56', 123_456n],
  ['￥1,234.56', 123_456n],
  ['¥1000', 100_000n],
  ['0.01', 1n],
  ['0.1', 10n],
  ['0.99', 99n],
  ['1', 100n],
  ['1.5', 150n],
  ['12.34', 1_234n],
  ['999', 99_900n],
  ['1,000', 100_000n],
  ['10,000', 1_000_000n],
  ['100,000.01', 10_000_001n],
  ['600,000.00', 60_000_000n],
  ['400,000.00', 40_000_000n],
  ['1,234,567.89', 123_456_789n],
  ['  42.00  ', 4_200n],
  ['10000000000000', 1_000_000_000_000_000n],
  ['10,000,000,000,000.00', 1_000_000_000_000_000n],
  ['9,999,999,999,999.99', 999_999_999_999_999n],
  ['0.10', 10n],
  ['7.05', 705n],
];

/** [typed, a fragment of the reason] */
const REFUSED: readonly (readonly [string, string])[] = [
  ['', 'required'],
  ['   ', 'required'],
  ['1.001', 'more than 2 decimals'],
  ['1.000', 'more than 2 decimals'],
  ['0.005', 'more than 2 decimals'],
  ['1,00,000', 'misplaced comma'],
  ['1000,000', 'misplaced comma'],
  ['1,0000', 'misplaced comma'],
  [',100', 'misplaced comma'],
  ['100,', 'misplaced comma'],
  ['1,,000', 'misplaced comma'],
  ['0,500', 'misplaced comma'],
  ['1000,50', 'misplaced comma'],
  ['1.000,50', 'a comma after the decimal point'],
  ['1.000.000', 'more than one decimal point'],
  ['-5', 'negative'],
  ['-0.01', 'negative'],
  ['¥-5', 'negative'],
  ['−5', 'negative'],
  ['+5', 'without a sign'],
  ['0', 'at least ¥0.01'],
  ['0.00', 'at least ¥0.01'],
  ['0.0', 'at least ¥0.01'],
  ['10000000000000.01', 'above the maximum of ¥10,000,000,000,000.00'],
  ['99999999999999999999', 'above the maximum'],
  ['1e6', 'scientific notation'],
  ['1E6', 'scientific notation'],
  ['1.5e3', 'scientific notation'],
  ['2e-2', 'scientific notation'],
  ['1 000', 'spaces inside'],
  ['1 000.00', 'spaces inside'],
  ['¥ 100', 'spaces inside'],
  ['1\t000', 'spaces inside'],
  ['.5', 'a digit before the decimal point'],
  ['5.', 'nothing after the decimal point'],
  ['007', 'leading zeros'],
  ['00.50', 'leading zeros'],
  ['$100', 'only yuan'],
  ['100€', 'only yuan'],
  ['¥¥100', 'once, in front'],
  ['100¥', 'once, in front'],
  ['1_000', 'not "_"'],
  ["1'000", `not "'"`],
  ['0x10', 'unexpected character "x"'],
  ['Infinity', 'unexpected character'],
  ['NaN', 'unexpected character'],
  ['１００', 'unexpected character'],
  ['¥', 'needs digits after it'],
  ['12abc', 'unexpected character "a"'],
];

describe('parseAmount accepts yuan as people write them', () => {
  it.each(ACCEPTED)('%j → %s fen', (typed, fen) => {
    expect(parseAmount(typed)).toBe(fen);
  });
});

describe('parseAmount refuses anything ambiguous, with a reason', () => {
  it.each(REFUSED)('%j is refused: %s', (typed, reason) => {
    let error: unknown;
    try {
      parseAmount(typed);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AmountError);
    expect((error as AmountError).reason).toContain(reason);
    expect((error as AmountError).message).toContain(`"${typed}" is not an amount`);
  });

  it('has at least 40 rows in its tables', () => {
    expect(ACCEPTED.length + REFUSED.length).toBeGreaterThanOrEqual(40);
  });
});

describe('formatAmount', () => {
  it.each([
    [1n, '¥0.01'],
    [10n, '¥0.10'],
    [100n, '¥1.00'],
    [123_456n, '¥1,234.56'],
    [100_000_000n, '¥1,000,000.00'],
    [123_456_789n, '¥1,234,567.89'],
    [1_000_000_000_000_000n, '¥10,000,000,000,000.00'],
    [0n, '¥0.00'],
    [-150n, '-¥1.50'],
    ['60000000', '¥600,000.00'],
  ] as const)('%s → %s', (fen, text) => {
    expect(formatAmount(fen)).toBe(text);
  });

  it('refuses a string that is not fen', () => {
    expect(() => formatAmount('1.5')).toThrow(TypeError);
    expect(() => formatAmount('abc')).toThrow(TypeError);
  });

  it('property: what it writes, parseAmount reads back exactly, for every valid amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), (fen) => {
        expect(parseAmount(formatAmount(fen))).toBe(fen);
        expect(parseAmount(formatAmount(fen).slice(1).replaceAll(',', ''))).toBe(fen);
      }),
      { numRuns: 500 },
    );
  });
});
