/**
 * Amounts as people type and read them, and as the ledger stores them (PROTOCOL.md §2: decimal
 * minor units, fen, 1 … 10^15).
 *
 * `parseAmount` takes yuan the way finance staff write them — `1,000,000.00`, `1000000`,
 * `1000000.5`, `¥1,234.56` — and gives exact bigint fen, never passing through a float. Anything
 * that could be read two ways is refused with a reason, rather than guessed:
 *
 *  - more than two decimals (`1.000` is one thousand in much of Europe, one yuan here);
 *  - commas not in groups of three (`1,00,000`, `1000,00`), or a decimal comma;
 *  - several decimal points (`1.000.000`), leading zeros (`0100`), a bare point (`.5`, `5.`);
 *  - a sign, zero, more than 10^15 fen, scientific notation, spaces or other characters inside.
 *
 * `formatAmount` always writes `¥1,234,567.89`.
 */
import { LIMITS } from '../domain/limits.js';

/** Fen per yuan. */
const FEN_PER_YUAN = 100n;
const DECIMALS_MAX = 2;
/** Yuan digits beyond this are over the limit anyway; refusing early keeps BigInt inputs small. */
const YUAN_DIGITS_MAX = 16;

/** The currency signs accepted in front of an amount: the yen/yuan sign and its full-width form. */
const YUAN_SIGNS = ['¥', '￥'];

export class AmountError extends Error {
  override readonly name = 'AmountError';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not an amount: ${reason}`);
  }
}

/** Plain digits, no leading zero (but `0` itself). */
const PLAIN = /^(0|[1-9][0-9]*)$/;
/** Digits grouped in threes by commas, e.g. `1,234,567`. */
const GROUPED = /^[1-9][0-9]{0,2}(,[0-9]{3})+$/;

/** Yuan as typed → exact fen. Throws `AmountError` with a reason a person can act on. */
export const parseAmount = (input: string): bigint => {
  const fail = (reason: string): never => {
    throw new AmountError(input, reason);
  };
  let s = input.trim();
  if (s.length === 0) return fail('an amount is required, e.g. 1,000,000.00');
  if (/\s/u.test(s)) return fail('spaces inside an amount are ambiguous; write it without spaces, e.g. 1,000,000.00');
  if (/^[-−‐–]/u.test(s) || /^[¥￥][-−‐–]/u.test(s)) return fail('an amount cannot be negative');
  if (s.startsWith('+')) return fail('write the amount without a sign');
  const sign = YUAN_SIGNS.find((y) => s.startsWith(y));
  if (sign !== undefined) s = s.slice(sign.length);
  if (s.length === 0) return fail('a currency sign needs digits after it');
  if (/^[0-9.,]*[eE][-+]?[0-9]*$/.test(s)) return fail('scientific notation is not accepted; write all the digits');
  const odd = /[^0-9.,]/u.exec(s);
  if (odd) {
    const ch = odd[0];
    if (YUAN_SIGNS.includes(ch)) return fail('the ¥ sign goes once, in front');
    if (/\p{Sc}/u.test(ch)) return fail(`only yuan amounts are accepted (found "${ch}")`);
    if (ch === '_' || ch === "'") return fail(`group digits with commas, not "${ch}"`);
    return fail(`unexpected character "${ch}"`);
  }
  const parts = s.split('.');
  if (parts.length > 2) return fail('more than one decimal point (group thousands with "," and use "." for the decimals)');
  const [whole = '', fraction] = parts;
  if (fraction !== undefined) {
    if (fraction.includes(',')) return fail('a comma after the decimal point');
    if (fraction.length === 0) return fail('nothing after the decimal point');
    if (fraction.length > DECIMALS_MAX) return fail(`more than ${DECIMALS_MAX} decimals (the smallest unit is the fen, 0.01)`);
  }
  if (whole.length === 0) return fail(`write a digit before the decimal point, e.g. 0.${fraction ?? '50'}`);
  let digits: string;
  if (whole.includes(',')) {
    if (!GROUPED.test(whole)) return fail('misplaced comma: group digits in threes, e.g. 1,000,000.00');
    digits = whole.replaceAll(',', '');
  } else {
    if (!PLAIN.test(whole)) return fail('leading zeros are ambiguous');
    digits = whole;
  }
  const maxText = formatAmount(LIMITS.amountMaxMinor);
  if (digits.length > YUAN_DIGITS_MAX) return fail(`above the maximum of ${maxText}`);
  const fen = BigInt(digits) * FEN_PER_YUAN + BigInt((fraction ?? '').padEnd(DECIMALS_MAX, '0'));
  if (fen < LIMITS.amountMinMinor) return fail(`the amount must be at least ${formatAmount(LIMITS.amountMinMinor)}`);
  if (fen > LIMITS.amountMaxMinor) return fail(`above the maximum of ${maxText}`);
  return fen;
};

/** Fen (a bigint, or a §2 decimal string) → `¥1,234,567.89`. A negative value gets a leading `-`. */
export const formatAmount = (fen: bigint | string): string => {
  let value: bigint;
  if (typeof fen === 'bigint') value = fen;
  else if (/^-?[0-9]{1,40}$/.test(fen)) value = BigInt(fen);
  else throw new TypeError(`not an amount in fen: ${JSON.stringify(fen).slice(0, 60)}`);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const yuan = (abs / FEN_PER_YUAN).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  const cents = (abs % FEN_PER_YUAN).toString().padStart(DECIMALS_MAX, '0');
  return `${negative ? '-' : ''}¥${yuan}.${cents}`;
};
