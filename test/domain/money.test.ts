/**
 * `parseAmount` and `formatAmount` (src/domain/money.ts): yuan as people type them → exact fen, and
 * fen → `¥1,234,567.89`. Anything that could be read two ways is refused with a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AmountError, currencyStyle, formatAmount, parseAmount } from '../../src/domain/money.js';

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

/** As people in China write amounts: a space after the sign, full-width forms, 万/亿/元. [typed, fen] */
const ACCEPTED_CN: readonly (readonly [string, bigint])[] = [
  ['¥ 1,000', 100_000n],
  ['￥ 1,000.50', 100_050n],
  ['¥\u3000100', 10_000n],
  ['１０００', 100_000n],
  ['１，０００．５０', 100_050n],
  ['￥１２３４．５６', 123_456n],
  ['１00', 10_000n],
  ['100万', 100_000_000n],
  ['100万元', 100_000_000n],
  ['100 万', 100_000_000n],
  ['１００万', 100_000_000n],
  ['1.5亿', 15_000_000_000n],
  ['1.5亿元', 15_000_000_000n],
  ['0.5万', 500_000n],
  ['1.23456万', 1_234_560n],
  ['1.234567万', 1_234_567n],
  ['1,000万', 1_000_000_000n],
  ['1.0000000001亿', 10_000_000_001n],
  ['1000元', 100_000n],
  ['1,000.50元', 100_050n],
  ['人民币100万元', 100_000_000n],
  ['人民币 1,000', 100_000n],
  ['人民币¥1,000', 100_000n],
  ['¥100万', 100_000_000n],
  ['100000亿', 1_000_000_000_000_000n],
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
  ['¥', 'needs digits with it'],
  ['万', 'needs digits with it'],
  ['人民币', 'needs digits with it'],
  ['12abc', 'unexpected character "a"'],
  // Still ambiguous with units, or not whole fen.
  ['1.2345678万', 'more than 6 decimals with 万'],
  ['1.00000000001亿', 'more than 10 decimals with 亿'],
  ['1.5万5', 'digits after "万" are ambiguous'],
  ['1亿5000万', 'digits after "亿" are ambiguous'],
  ['100万万', '"万" goes once, at the end'],
  ['100元5角', 'digits after "元" are ambiguous'],
  ['3千', '"千" is not accepted'],
  ['5角', '"角" is not accepted'],
  ['3k', '"k" is not accepted'],
  ['1 000万', 'spaces inside'],
  ['-100万', 'negative'],
  ['－１００', 'negative'],
  ['¥ -5', 'negative'],
  ['100001亿', 'above the maximum'],
  ['0万', 'at least ¥0.01'],
  ['0.0000000000亿', 'at least ¥0.01'],
  ['1,00万', 'misplaced comma'],
  ['1.000.000万', 'more than one decimal point'],
  ['100¥', 'once, in front'],
];

describe('parseAmount accepts yuan as people write them', () => {
  it.each(ACCEPTED)('%j → %s fen', (typed, fen) => {
    expect(parseAmount(typed)).toBe(fen);
  });
});

describe('parseAmount accepts what people in China write, exactly', () => {
  it.each(ACCEPTED_CN)('%j → %s fen', (typed, fen) => {
    expect(parseAmount(typed)).toBe(fen);
  });

  it('gives each refusal a stable code', () => {
    const codeOf = (typed: string): string | undefined => {
      try {
        parseAmount(typed);
        return undefined;
      } catch (err) {
        return (err as AmountError).code;
      }
    };
    expect(codeOf('1.2345678万')).toBe('DECIMALS');
    expect(codeOf('1.5万5')).toBe('UNIT');
    expect(codeOf('3千')).toBe('UNIT');
    expect(codeOf('-1')).toBe('NEGATIVE');
    expect(codeOf('1,00')).toBe('COMMAS');
    expect(codeOf('0')).toBe('TOO_SMALL');
    expect(codeOf('$1')).toBe('NOT_YUAN');
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

/** The decimal text of `fen / 10^scale`, without trailing zeros after the point. */
const decimal = (fen: bigint, scale: number): string => {
  const base = 10n ** BigInt(scale);
  const whole = (fen / base).toString();
  const fraction = (fen % base).toString().padStart(scale, '0').replace(/0+$/, '');
  return fraction.length > 0 ? `${whole}.${fraction}` : whole;
};

/** ASCII digits, comma and point → their full-width forms; ¥ → ￥. */
const toFullWidth = (s: string): string => s.replace(/[0-9.,]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).replace('¥', '￥');

describe('properties of the Chinese forms', () => {
  it('N万 is N × 10,000 yuan exactly, and N亿 is N × 100,000,000 yuan (N with any decimals that make whole fen)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.constantFrom('', '元'), (fen, suffix) => {
        // fen = N × 10^6 for N = fen / 10^6 (万), fen = N × 10^10 for 亿.
        expect(parseAmount(`${decimal(fen, 6)}万${suffix}`)).toBe(fen);
        expect(parseAmount(`${decimal(fen, 10)}亿${suffix}`)).toBe(fen);
      }),
      { numRuns: 500 },
    );
  });

  it('N万 equals the same yuan written out in full', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 9n }), (n) => {
        expect(parseAmount(`${n}万`)).toBe(parseAmount(`${n * 10_000n}`));
        expect(parseAmount(`${n}万`)).toBe(n * 10_000n * 100n);
      }),
      { numRuns: 300 },
    );
  });

  it('full-width equals half-width, for every formatted amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), (fen) => {
        const text = formatAmount(fen);
        expect(parseAmount(toFullWidth(text))).toBe(fen);
        expect(parseAmount(toFullWidth(text.slice(1).replaceAll(',', '')))).toBe(fen);
        expect(parseAmount(`¥ ${text.slice(1)}`)).toBe(fen);
      }),
      { numRuns: 500 },
    );
  });

  it('a sub-fen amount with a unit is refused, never rounded', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 14n }), fc.integer({ min: 1, max: 9 }), (fen, extra) => {
        expect(() => parseAmount(`${decimal(fen * 10n + BigInt(extra), 7)}万`)).toThrow(AmountError);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the ledger's currency drives formatting and parsing", () => {
  const refusal = (typed: string, currency: string): AmountError => {
    try {
      parseAmount(typed, currency);
    } catch (err) {
      if (err instanceof AmountError) return err;
      throw err;
    }
    throw new Error(`${typed} was accepted in ${currency}`);
  };

  it('CNY is the default, and the style of a CNY ledger', () => {
    expect(currencyStyle('CNY').sign).toBe('¥');
    expect(formatAmount(123_456n, 'CNY')).toBe(formatAmount(123_456n));
    expect(parseAmount('1.5万', 'CNY')).toBe(1_500_000n);
  });

  it.each([
    [1n, 'USD 0.01'],
    [123_456n, 'USD 1,234.56'],
    [1_000_000_000_000_000n, 'USD 10,000,000,000,000.00'],
    [-150n, '-USD 1.50'],
    ['60000000', 'USD 600,000.00'],
  ] as const)('a currency without a style of its own: %s → %s', (minor, text) => {
    expect(formatAmount(minor, 'USD')).toBe(text);
  });

  it.each([
    ['USD 1,234.56', 123_456n],
    ['USD1234.56', 123_456n],
    ['1,234.56', 123_456n],
    ['1234', 123_400n],
    ['１，２３４．５６', 123_456n],
  ] as const)('%j in a USD ledger is %s minor units', (typed, minor) => {
    expect(parseAmount(typed, 'USD')).toBe(minor);
  });

  it.each([
    ['100万', 'UNIT', 'this ledger counts in USD'],
    ['1.5亿', 'UNIT', 'this ledger counts in USD'],
    ['1,000元', 'UNIT', 'this ledger counts in USD'],
    ['万', 'UNIT', 'this ledger counts in USD'],
    ['¥100', 'NOT_YUAN', 'this ledger counts in USD (found "¥")'],
    ['￥100', 'NOT_YUAN', 'this ledger counts in USD (found "¥")'],
    ['人民币100', 'CHARACTER', 'unexpected character'],
    ['EUR 5', 'NOT_YUAN', 'this ledger counts in USD (found "EUR")'],
    ['1.000', 'DECIMALS', 'the smallest unit is 0.01'],
    ['0', 'TOO_SMALL', 'at least USD 0.01'],
    ['10,000,000,000,000.01', 'TOO_LARGE', 'USD 10,000,000,000,000.00'],
    ['USD', 'EMPTY', 'needs digits'],
    ['', 'EMPTY', 'e.g. 1,000,000.00'],
  ] as const)('%j in a USD ledger is refused: %s', (typed, code, reason) => {
    const err = refusal(typed, 'USD');
    expect(err.code).toBe(code);
    expect(err.reason).toContain(reason);
  });

  it('another code in a CNY ledger is refused as not yuan', () => {
    expect(refusal('USD 5', 'CNY').code).toBe('NOT_YUAN');
  });

  it('property: what it writes in USD, parseAmount reads back exactly in USD', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), (minor) => {
        expect(parseAmount(formatAmount(minor, 'USD'), 'USD')).toBe(minor);
      }),
      { numRuns: 300 },
    );
  });
});
