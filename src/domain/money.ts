/**
 * Amounts as people type and read them, and as the ledger stores them (docs/protocol.md §2:
 * decimal minor units, 1 … 10^15), in the ledger's currency (a genesis field). The one money
 * module: the domain's refusal details, the SDK, the CLI and the web console all format and parse
 * through it. Pure and portable, like the rest of the domain.
 *
 * Every currency has two decimals (the protocol's minor unit is a hundredth). A currency this
 * module knows has its own style; today that is CNY:
 *
 *  - written `¥1,234,567.89`;
 *  - typed as finance staff in China write yuan: digits, optionally grouped in threes by commas,
 *    and at most two decimals (`1,000,000.00`, `1000000`, `1000000.5`); `¥`, `￥` or `人民币` in
 *    front, with or without a space after it; full-width digits, comma, point and sign, as a
 *    Chinese input method types them (`１，０００．５０`, each read as its ASCII twin); one unit
 *    after the number, 万 (10^4 yuan) or 亿 (10^8 yuan), optionally followed by 元, or 元 alone
 *    (`100万`, `1.5亿`, `100万元`, `1,000元`). A unit allows as many decimals as make whole fen,
 *    no more: 6 for 万 (`1.234567万` is ¥12,345.67), 10 for 亿.
 *
 * Any other ISO 4217 code gets the plain style: written `USD 1,234.56`, typed as digits with
 * optional groups of three and two decimals, optionally after the code (`USD 1,234.56`); the
 * Chinese units and the yuan sign are refused with a reason, as is any other currency's sign.
 *
 * Anything that could be read two ways is refused with a reason (and a stable code), not guessed:
 *
 *  - more decimals than make whole minor units (`1.000` is one thousand in much of Europe);
 *  - commas not in groups of three (`1,00,000`, `1000,00`), or a decimal comma;
 *  - several decimal points (`1.000.000`), leading zeros (`0100`), a bare point (`.5`, `5.`);
 *  - several units or digits after a unit (`1亿5000万`, `1.5万5`), other units (`3千`, `5角`);
 *  - a sign, zero, more than 10^15 minor units, scientific notation, spaces or other characters.
 */
import { LIMITS } from './limits.js';

/** Minor units per major unit, and the decimals written: the same for every currency (§2). */
const MINOR_PER_MAJOR = 100n;
const DECIMALS = 2;
/** Whole digits beyond this are over the limit anyway; refusing early keeps BigInt inputs small. */
const WHOLE_DIGITS_MAX = 16;

/** How one currency is written and typed. */
export interface CurrencyStyle {
  /** ISO 4217 code, as in genesis. */
  readonly code: string;
  /** Written in front of every amount (`¥`, or `USD ` for the plain style). */
  readonly sign: string;
  /** Accepted in front of a typed amount, after full-width folding, longest first. */
  readonly prefixes: readonly string[];
  /** A word accepted once at the end, alone or after a unit (元). */
  readonly word: string | undefined;
  /** Units accepted after a number, with the power of ten of major units each stands for. */
  readonly units: Readonly<Record<string, number>>;
  /** Words for money that are not accepted, with how to write them instead. */
  readonly otherUnits: Readonly<Record<string, string>>;
  /** What to type, shown when nothing was typed. */
  readonly example: string;
  /** The minor unit's name, in reasons. */
  readonly minorName: string;
}

/** Spelled-out units and shorthands refused in every currency. */
const SHORTHANDS: Readonly<Record<string, string>> = {
  k: 'write all the digits (e.g. 3,000)',
  K: 'write all the digits (e.g. 3,000)',
  m: 'write all the digits',
  M: 'write all the digits',
};

/** The Chinese money words, and what a ledger in another currency says about them. */
const CHINESE_WORDS = ['万', '亿', '元', '十', '百', '千', '角', '分', '毛', '块', '萬', '億'] as const;

const CNY: CurrencyStyle = {
  code: 'CNY',
  sign: '¥',
  prefixes: ['人民币', '¥'],
  word: '元',
  units: { 万: 4, 亿: 8 },
  otherUnits: {
    十: 'write it with digits (e.g. 3十 is 30)',
    百: 'write it with digits (e.g. 3百 is 300)',
    千: 'write it with digits (e.g. 3千 is 3,000), or use 万',
    角: 'write jiao and fen as decimals (e.g. 12.50)',
    分: 'write jiao and fen as decimals (e.g. 12.05)',
    毛: 'write jiao and fen as decimals (e.g. 12.50)',
    块: 'write 元, or leave the unit out',
    萬: 'write 万',
    億: 'write 亿',
    ...SHORTHANDS,
    m: 'write all the digits, or use 万',
    M: 'write all the digits, or use 万',
  },
  example: '1,000,000.00 or 100万',
  minorName: 'the fen, 0.01',
};

/** The currencies with a style of their own. */
const KNOWN: Readonly<Record<string, CurrencyStyle>> = { CNY };

const plainStyle = (code: string): CurrencyStyle => ({
  code,
  sign: `${code} `,
  prefixes: [code],
  word: undefined,
  units: {},
  otherUnits: {
    ...Object.fromEntries(CHINESE_WORDS.map((w) => [w, `this ledger counts in ${code}, without Chinese units; write all the digits (e.g. 1,000,000.00)`])),
    ...SHORTHANDS,
  },
  example: '1,000,000.00',
  minorName: '0.01',
});

/** The style of `currency` (the ledger's genesis `currency`): its own if known, else the plain one. */
export const currencyStyle = (currency: string): CurrencyStyle => (Object.hasOwn(KNOWN, currency) ? KNOWN[currency]! : plainStyle(currency));

/**
 * Minor units (a bigint, or a §2 decimal string) → `¥1,234,567.89` for CNY, `USD 1,234,567.89`
 * for a currency without a style of its own. A negative value gets a leading `-`. The currency
 * defaults to CNY, the currency of every ledger so far.
 */
export const formatAmount = (minor: bigint | string, currency = 'CNY'): string => {
  let value: bigint;
  if (typeof minor === 'bigint') value = minor;
  else if (/^-?[0-9]{1,40}$/.test(minor)) value = BigInt(minor);
  else throw new TypeError(`not an amount in minor units: ${JSON.stringify(minor).slice(0, 60)}`);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const major = (abs / MINOR_PER_MAJOR).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  const cents = (abs % MINOR_PER_MAJOR).toString().padStart(DECIMALS, '0');
  return `${negative ? '-' : ''}${currencyStyle(currency).sign}${major}.${cents}`;
};

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
 * | NOT_YUAN        | another currency's sign or code than the ledger's               |
 * | SIGN_PLACE      | the ledger's sign twice, or not in front                        |
 * | UNIT            | several units, digits after a unit, or a unit not accepted      |
 * | CHARACTER       | any other character                                             |
 * | POINTS          | more than one decimal point                                     |
 * | DECIMALS        | a bare point, or more decimals than make whole minor units      |
 * | COMMAS          | commas not in groups of three, or after the point               |
 * | LEADING_ZEROS   | `007`                                                           |
 * | TOO_SMALL       | zero                                                            |
 * | TOO_LARGE       | more than 10^15 minor units                                     |
 *
 * `NOT_YUAN` keeps its name (it is a stable code) for ledgers in any currency.
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
/** A minus sign in any of its forms. */
const MINUS = /^[-−‐–]/u;

/**
 * Full-width forms (U+FF01 … U+FF5E) → their ASCII twins, and the full-width yuan sign → `¥`.
 * A Chinese input method types `１，０００．５０` and `￥`; they mean exactly `1,000.50` and `¥`.
 */
export const foldFullWidth = (s: string): string =>
  s.replace(/[\uff01-\uff5e\uffe5]/gu, (ch) => (ch === '\uffe5' ? '¥' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));

/**
 * An amount as typed → exact minor units, in the ledger's `currency` (default CNY). Throws
 * `AmountError` with a code and a reason a person can act on.
 */
export const parseAmount = (input: string, currency = 'CNY'): bigint => {
  const style = currencyStyle(currency);
  const fail = (code: AmountErrorCode, reason: string): never => {
    throw new AmountError(input, reason, code);
  };
  const isUnit = (s: string): boolean => Object.hasOwn(style.units, s);
  let s = foldFullWidth(input).trim();
  if (s.length === 0) return fail('EMPTY', `an amount is required, e.g. ${style.example}`);

  // The sign in front, and the spaces after it.
  if (MINUS.test(s)) return fail('NEGATIVE', 'an amount cannot be negative');
  if (s.startsWith('+')) return fail('SIGNED', 'write the amount without a sign');
  const prefix = style.prefixes.find((p) => s.startsWith(p));
  if (prefix !== undefined) {
    s = s.slice(prefix.length);
    // `人民币¥100`: the name and the sign together.
    if (prefix !== style.sign && style.prefixes.includes(style.sign) && s.startsWith(style.sign)) s = s.slice(style.sign.length);
    s = s.trimStart();
    if (MINUS.test(s)) return fail('NEGATIVE', 'an amount cannot be negative');
    if (s.startsWith('+')) return fail('SIGNED', 'write the amount without a sign');
  }

  // The unit at the end: the word (元), or a unit optionally followed by the word; the spaces before it.
  let unit: string | undefined;
  if (style.word !== undefined && s.endsWith(style.word)) s = s.slice(0, -style.word.length).trimEnd();
  const last = s.slice(-1);
  if (isUnit(last)) {
    unit = last;
    s = s.slice(0, -1).trimEnd();
  }
  if (s.length === 0) {
    return fail('EMPTY', prefix !== undefined || unit !== undefined ? 'a sign or a unit needs digits with it' : `an amount is required, e.g. ${style.example}`);
  }

  // What is left must be the number alone.
  const code = /^[A-Z]{3}/.exec(s);
  if (code)
    return fail('NOT_YUAN', style === CNY ? `only yuan amounts are accepted (found "${code[0]}")` : `this ledger counts in ${style.code} (found "${code[0]}")`);
  if (/\s/u.test(s)) return fail('SPACES', 'spaces inside an amount are ambiguous; write it without spaces, e.g. 1,000,000.00');
  if (/^[0-9.,]*[eE][-+]?[0-9]*$/.test(s)) return fail('SCIENTIFIC', 'scientific notation is not accepted; write all the digits');
  const odd = /[^0-9.,]/u.exec(s);
  if (odd) {
    const ch = odd[0];
    const rest = s.slice(odd.index);
    if (isUnit(ch) || ch === style.word) {
      return fail(
        'UNIT',
        /[0-9]/.test(rest) ? `digits after "${ch}" are ambiguous (write one number and one unit, e.g. 1.5亿 or 15,000万)` : `"${ch}" goes once, at the end`,
      );
    }
    if (Object.hasOwn(style.otherUnits, ch) && /^[0-9.,]+$/.test(s.slice(0, odd.index)) && odd.index > 0) {
      return fail('UNIT', `"${ch}" is not accepted: ${style.otherUnits[ch]}`);
    }
    if (rest.startsWith(style.sign.trim())) return fail('SIGN_PLACE', `the ${style.sign.trim()} sign goes once, in front`);
    if (/\p{Sc}/u.test(ch))
      return fail('NOT_YUAN', style === CNY ? `only yuan amounts are accepted (found "${ch}")` : `this ledger counts in ${style.code} (found "${ch}")`);
    if (Object.hasOwn(style.otherUnits, ch)) return fail('UNIT', `"${ch}" is not accepted: ${style.otherUnits[ch]}`);
    if (ch === '_' || ch === "'") return fail('COMMAS', `group digits with commas, not "${ch}"`);
    return fail('CHARACTER', `unexpected character "${ch}"`);
  }

  const parts = s.split('.');
  if (parts.length > 2) return fail('POINTS', 'more than one decimal point (group thousands with "," and use "." for the decimals)');
  const [whole = '', fraction] = parts;
  const exponent = unit === undefined ? 0 : style.units[unit]!;
  const decimalsMax = DECIMALS + exponent;
  if (fraction !== undefined) {
    if (fraction.includes(',')) return fail('COMMAS', 'a comma after the decimal point');
    if (fraction.length === 0) return fail('DECIMALS', 'nothing after the decimal point');
    if (fraction.length > decimalsMax) {
      return fail(
        'DECIMALS',
        unit === undefined
          ? `more than ${DECIMALS} decimals (the smallest unit is ${style.minorName})`
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
  const maxText = formatAmount(LIMITS.amountMaxMinor, style.code);
  if (digits.length > WHOLE_DIGITS_MAX) return fail('TOO_LARGE', `above the maximum of ${maxText}`);
  // whole.fraction × 10^exponent major units = (whole ‖ fraction padded to decimalsMax) minor units, exactly.
  const minor = BigInt(digits + (fraction ?? '').padEnd(decimalsMax, '0'));
  if (minor < LIMITS.amountMinMinor) return fail('TOO_SMALL', `the amount must be at least ${formatAmount(LIMITS.amountMinMinor, style.code)}`);
  if (minor > LIMITS.amountMaxMinor) return fail('TOO_LARGE', `above the maximum of ${maxText}`);
  return minor;
};
