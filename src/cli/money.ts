/**
 * Amounts as people type and read them, and as the ledger stores them (docs/protocol.md §2:
 * decimal minor units, fen, 1 … 10^15). Portable (no `node:*`): the web console uses it too.
 *
 * `parseAmount` takes yuan the way finance staff in China write them and gives exact bigint fen,
 * never passing through a float:
 *
 *  - digits, optionally grouped in threes by commas, and at most two decimals: `1,000,000.00`,
 *    `1000000`, `1000000.5`;
 *  - a sign in front, `¥`, `￥` or `人民币`, with or without a space after it: `¥1,234.56`, `¥ 1,000`;
 *  - full-width digits, comma, point and sign, as a Chinese input method types them: `１０００`,
 *    `１，０００．５０`, `￥１０００` (each is read as its ASCII twin);
 *  - one unit after the number, 万 (10^4 yuan) or 亿 (10^8 yuan), optionally followed by 元, or 元
 *    alone: `100万`, `1.5亿`, `100万元`, `1,000元`. A unit allows as many decimals as make whole
 *    fen, no more: 6 for 万 (`1.234567万` is ¥12,345.67), 10 for 亿.
 *
 * Anything that could be read two ways is refused with a reason (and a stable code), not guessed:
 *
 *  - more decimals than make whole fen (`1.000` is one thousand in much of Europe, one yuan here);
 *  - commas not in groups of three (`1,00,000`, `1000,00`), or a decimal comma;
 *  - several decimal points (`1.000.000`), leading zeros (`0100`), a bare point (`.5`, `5.`);
 *  - several units or digits after a unit (`1亿5000万`, `1.5万5`), other units (`3千`, `5角`);
 *  - a sign, zero, more than 10^15 fen, scientific notation, spaces or other characters inside.
 *
 * `formatAmount` always writes `¥1,234,567.89`.
 */
import { LIMITS } from '../domain/limits.js';
import { formatAmount } from '../domain/money.js';

/** One formatter for every amount shown, the domain's (refusal details use it too). */
export { formatAmount };

const DECIMALS_MAX = 2;
/** Whole digits beyond this are over the limit anyway; refusing early keeps BigInt inputs small. */
const WHOLE_DIGITS_MAX = 16;

/** The units accepted after a number, with the power of ten of yuan each stands for. */
const UNITS = { 万: 4, 亿: 8 } as const;
type Unit = keyof typeof UNITS;
const isUnit = (s: string): s is Unit => Object.hasOwn(UNITS, s);

/** Words for money that are not accepted, with how to write them instead. */
const OTHER_UNITS: Readonly<Record<string, string>> = {
  十: 'write it with digits (e.g. 3十 is 30)',
  百: 'write it with digits (e.g. 3百 is 300)',
  千: 'write it with digits (e.g. 3千 is 3,000), or use 万',
  角: 'write jiao and fen as decimals (e.g. 12.50)',
  分: 'write jiao and fen as decimals (e.g. 12.05)',
  毛: 'write jiao and fen as decimals (e.g. 12.50)',
  块: 'write 元, or leave the unit out',
  萬: 'write 万',
  億: 'write 亿',
  k: 'write all the digits (e.g. 3,000)',
  K: 'write all the digits (e.g. 3,000)',
  m: 'write all the digits, or use 万',
  M: 'write all the digits, or use 万',
};

/** The signs accepted in front of an amount (after full-width folding). */
const PREFIXES = ['人民币', '¥'] as const;

/**
 * Stable codes for why an amount was refused (the reason text may be translated).
 *
 * | code            | meaning                                                         |
 * |-----------------|-----------------------------------------------------------------|
 * | EMPTY           | nothing, or only a sign or a unit                               |
 * | NEGATIVE        | a minus sign                                                    |
 * | SIGNED          | a plus sign                                                     |
 * | SPACES          | a space inside the number                                       |
 * | SCIENTIFIC      | `1e6`                                                           |
 * | NOT_YUAN        | another currency's sign                                         |
 * | SIGN_PLACE      | a yuan sign twice, or not in front                              |
 * | UNIT            | several units, digits after a unit, or a unit not accepted      |
 * | CHARACTER       | any other character                                             |
 * | POINTS          | more than one decimal point                                     |
 * | DECIMALS        | a bare point, or more decimals than make whole fen              |
 * | COMMAS          | commas not in groups of three, or after the point               |
 * | LEADING_ZEROS   | `007`                                                           |
 * | TOO_SMALL       | zero                                                            |
 * | TOO_LARGE       | more than 10^15 fen                                             |
 */
export type AmountErrorCode =
  | 'EMPTY'
  | 'NEGATIVE'
  | 'SIGNED'
  | 'SPACES'
  | 'SCIENTIFIC'
  | 'NOT_YUAN'
  | 'SIGN_PLACE'
  | 'UNIT'
  | 'CHARACTER'
  | 'POINTS'
  | 'DECIMALS'
  | 'COMMAS'
  | 'LEADING_ZEROS'
  | 'TOO_SMALL'
  | 'TOO_LARGE';

export class AmountError extends Error {
  override readonly name = 'AmountError';
  constructor(
    readonly input: string,
    readonly reason: string,
    readonly code: AmountErrorCode = 'CHARACTER',
  ) {
    super(`"${input}" is not an amount: ${reason}`);
  }
}

/** Plain digits, no leading zero (but `0` itself). */
const PLAIN = /^(0|[1-9][0-9]*)$/;
/** Digits grouped in threes by commas, e.g. `1,234,567`. */
const GROUPED = /^[1-9][0-9]{0,2}(,[0-9]{3})+$/;

/**
 * Full-width forms (U+FF01 … U+FF5E) → their ASCII twins, and the full-width yuan sign → `¥`.
 * A Chinese input method types `１，０００．５０` and `￥`; they mean exactly `1,000.50` and `¥`.
 */
export const foldFullWidth = (s: string): string =>
  s.replace(/[\uff01-\uff5e\uffe5]/gu, (ch) => (ch === '\uffe5' ? '¥' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));

/** Yuan as typed → exact fen. Throws `AmountError` with a code and a reason a person can act on. */
export const parseAmount = (input: string): bigint => {
  const fail = (code: AmountErrorCode, reason: string): never => {
    throw new AmountError(input, reason, code);
  };
  let s = foldFullWidth(input).trim();
  if (s.length === 0) return fail('EMPTY', 'an amount is required, e.g. 1,000,000.00 or 100万');

  // The sign in front, and the spaces after it.
  if (/^[-−‐–]/u.test(s)) return fail('NEGATIVE', 'an amount cannot be negative');
  if (s.startsWith('+')) return fail('SIGNED', 'write the amount without a sign');
  const prefix = PREFIXES.find((p) => s.startsWith(p));
  if (prefix !== undefined) {
    s = s.slice(prefix.length);
    if (prefix === '人民币' && s.startsWith('¥')) s = s.slice(1);
    s = s.trimStart();
    if (/^[-−‐–]/u.test(s)) return fail('NEGATIVE', 'an amount cannot be negative');
    if (s.startsWith('+')) return fail('SIGNED', 'write the amount without a sign');
  }

  // The unit at the end: 元, or 万/亿 optionally followed by 元, and the spaces before it.
  let unit: Unit | undefined;
  if (s.endsWith('元')) s = s.slice(0, -1).trimEnd();
  const last = s.slice(-1);
  if (isUnit(last)) {
    unit = last;
    s = s.slice(0, -1).trimEnd();
  }
  if (s.length === 0) {
    return fail('EMPTY', prefix !== undefined || unit !== undefined ? 'a sign or a unit needs digits with it' : 'an amount is required, e.g. 1,000,000.00 or 100万');
  }

  // What is left must be the number alone.
  if (/\s/u.test(s)) return fail('SPACES', 'spaces inside an amount are ambiguous; write it without spaces, e.g. 1,000,000.00');
  if (/^[0-9.,]*[eE][-+]?[0-9]*$/.test(s)) return fail('SCIENTIFIC', 'scientific notation is not accepted; write all the digits');
  const odd = /[^0-9.,]/u.exec(s);
  if (odd) {
    const ch = odd[0];
    const rest = s.slice(odd.index);
    if (isUnit(ch) || ch === '元') {
      return fail('UNIT', /[0-9]/.test(rest) ? `digits after "${ch}" are ambiguous (write one number and one unit, e.g. 1.5亿 or 15,000万)` : `"${ch}" goes once, at the end`);
    }
    if (Object.hasOwn(OTHER_UNITS, ch) && /^[0-9.,]+$/.test(s.slice(0, odd.index)) && odd.index > 0) {
      return fail('UNIT', `"${ch}" is not accepted: ${OTHER_UNITS[ch]}`);
    }
    if (ch === '¥') return fail('SIGN_PLACE', 'the ¥ sign goes once, in front');
    if (/\p{Sc}/u.test(ch)) return fail('NOT_YUAN', `only yuan amounts are accepted (found "${ch}")`);
    if (ch === '_' || ch === "'") return fail('COMMAS', `group digits with commas, not "${ch}"`);
    return fail('CHARACTER', `unexpected character "${ch}"`);
  }

  const parts = s.split('.');
  if (parts.length > 2) return fail('POINTS', 'more than one decimal point (group thousands with "," and use "." for the decimals)');
  const [whole = '', fraction] = parts;
  const exponent = unit === undefined ? 0 : UNITS[unit];
  const decimalsMax = DECIMALS_MAX + exponent;
  if (fraction !== undefined) {
    if (fraction.includes(',')) return fail('COMMAS', 'a comma after the decimal point');
    if (fraction.length === 0) return fail('DECIMALS', 'nothing after the decimal point');
    if (fraction.length > decimalsMax) {
      return fail(
        'DECIMALS',
        unit === undefined
          ? `more than ${DECIMALS_MAX} decimals (the smallest unit is the fen, 0.01)`
          : `more than ${decimalsMax} decimals with ${unit} (the smallest unit is the fen, 0.${'0'.repeat(decimalsMax - 1)}1${unit})`,
      );
    }
  }
  if (whole.length === 0) return fail('DECIMALS', `write a digit before the decimal point, e.g. 0.${fraction ?? '50'}`);
  let digits: string;
  if (whole.includes(',')) {
    if (!GROUPED.test(whole)) return fail('COMMAS', 'misplaced comma: group digits in threes, e.g. 1,000,000.00');
    digits = whole.replaceAll(',', '');
  } else {
    if (!PLAIN.test(whole)) return fail('LEADING_ZEROS', 'leading zeros are ambiguous');
    digits = whole;
  }
  const maxText = formatAmount(LIMITS.amountMaxMinor);
  if (digits.length > WHOLE_DIGITS_MAX) return fail('TOO_LARGE', `above the maximum of ${maxText}`);
  // whole.fraction × 10^exponent yuan = (whole ‖ fraction padded to decimalsMax) fen, exactly.
  const fen = BigInt(digits + (fraction ?? '').padEnd(decimalsMax, '0'));
  if (fen < LIMITS.amountMinMinor) return fail('TOO_SMALL', `the amount must be at least ${formatAmount(LIMITS.amountMinMinor)}`);
  if (fen > LIMITS.amountMaxMinor) return fail('TOO_LARGE', `above the maximum of ${maxText}`);
  return fen;
};

