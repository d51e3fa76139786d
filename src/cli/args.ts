/**
 * Parsers for option and argument values. Each checks its value where it is typed and throws
 * commander's `InvalidArgumentError` with a reason, so a bad value is a usage error (exit 2)
 * naming the option, before any key is read or any request is made. Amounts are read in the
 * ledger's currency once it is known (`ledgerAmount`).
 */
import { InvalidArgumentError } from 'commander';

import { LIMITS, PATTERNS } from '../domain/limits.js';
import { VOUCHER_STATUSES, type VoucherStatus } from '../domain/types.js';
import { AmountError, foldFullWidth, parseAmount } from '../domain/money.js';
import { usageError } from './errors.js';

/** ISO 4217's code for "no currency": the plain style, naming no real currency. */
const NO_CURRENCY = 'XXX';

/**
 * `--amount` / `--amounts` as typed. Their meaning depends on the ledger's currency (a genesis
 * field), which is known only once `GET /v1/ledger` answers, so the command parses them then with
 * `ledgerAmount`. Here, before any key is read or any request is made, a value that no currency
 * accepts is refused at once: one that neither the CNY style nor the plain style (of the code the
 * value names, e.g. `USD 5`, else of none) reads as an amount. Its reason is the one of the style
 * of the code it names, else the CNY style's (every ledger the service creates counts in CNY).
 */
export const amountArg = (value: string): string => {
  const named = /^[A-Z]{3}/.exec(foldFullWidth(value).trim())?.[0];
  const refusal = (currency: string): AmountError | undefined => {
    try {
      parseAmount(value, currency);
      return undefined;
    } catch (err) {
      if (err instanceof AmountError) return err;
      throw err;
    }
  };
  const cny = refusal('CNY');
  if (cny === undefined) return value;
  const plain = refusal(named ?? NO_CURRENCY);
  if (plain === undefined) return value;
  throw new InvalidArgumentError((named === undefined ? cny : plain).reason);
};

/** For a variadic option of amounts: each value checked and collected. */
export const amountsArg = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), amountArg(value)];

/**
 * An amount `text` given with `option` (its flags, e.g. `--amount <yuan>`) → minor units in the
 * ledger's `currency`. A value that is not an amount there is a usage error (exit 2), said as
 * commander says a bad option value.
 */
export const ledgerAmount = (option: string, text: string, currency: string): bigint => {
  try {
    return parseAmount(text, currency);
  } catch (err) {
    if (err instanceof AmountError) throw usageError(`option '${option}' argument '${text}' is invalid. ${err.reason}`);
    throw err;
  }
};

/** For a repeatable option: values collected in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const partyIdArg = (value: string): string => {
  if (!PATTERNS.partyId.test(value)) {
    throw new InvalidArgumentError('a party id is 1–64 lowercase letters, digits and inner hyphens, e.g. dongguan-parts');
  }
  return value;
};

export const voucherIdArg = (value: string): string => {
  const id = value.trim();
  if (!PATTERNS.voucherId.test(id)) {
    throw new InvalidArgumentError('a voucher id looks like v3f9a0c…(24 hex digits), or v…:0-60000000 for a part');
  }
  return id;
};

/** A real calendar date, YYYY-MM-DD. */
export const dateArg = (value: string): string => {
  const ok = PATTERNS.date.test(value) && new Date(`${value}T00:00:00.000Z`).toISOString().slice(0, 10) === value;
  if (!ok) throw new InvalidArgumentError('a date is YYYY-MM-DD, e.g. 2027-02-26');
  return value;
};

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Longest accepted `--expires-in`: a year. */
const EXPIRES_IN_MS_MAX = 366 * UNIT_MS.d;

/** `90s`, `10m`, `2h`, `7d`, `1h30m` → milliseconds. */
export const durationArg = (value: string): number => {
  const v = value.trim().toLowerCase();
  if (!/^(\d{1,6}[smhd])+$/.test(v)) throw new InvalidArgumentError('a duration is a number and a unit (s, m, h, d), e.g. 10m, 2h, 1h30m, 7d');
  let ms = 0;
  for (const m of v.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new InvalidArgumentError('a duration must be more than zero');
  if (ms > EXPIRES_IN_MS_MAX) throw new InvalidArgumentError('at most a year (366d)');
  return ms;
};

/** A read token's lifetime: a duration of 1 s … 1 h (docs/protocol.md §8) → milliseconds. */
export const tokenTtlArg = (value: string): number => {
  const ms = durationArg(value);
  if (ms > LIMITS.jwtLifetimeSecondsMax * 1000) throw new InvalidArgumentError(`a read token lives at most ${LIMITS.jwtLifetimeSecondsMax / 60} minutes (1h)`);
  return ms;
};

/** `offered,active` → the statuses, each checked. */
export const statusListArg = (value: string): VoucherStatus[] => {
  const items = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new InvalidArgumentError(`give one or more of ${VOUCHER_STATUSES.join(', ')}`);
  for (const s of items) {
    if (!(VOUCHER_STATUSES as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(`"${s}" is not a status; use ${VOUCHER_STATUSES.join(', ')}`);
    }
  }
  return [...new Set(items)] as VoucherStatus[];
};

/** A public key, 64 hex digits (upper case is accepted and lowered). */
export const publicKeyArg = (value: string): string => {
  const hex = value.trim().toLowerCase();
  if (!PATTERNS.publicKey.test(hex)) throw new InvalidArgumentError('a public key is 64 hex digits');
  return hex;
};

/** A ledger id, 64 hex digits. */
export const ledgerIdArg = (value: string): string => {
  const hex = value.trim().toLowerCase();
  if (!PATTERNS.hash.test(hex)) throw new InvalidArgumentError('a ledger id is 64 hex digits (rvl ledger shows it)');
  return hex;
};

/** Free text of 1–`max` characters (a reference, a name). */
export const textArg =
  (max: number) =>
  (value: string): string => {
    const n = [...value].length;
    if (n === 0 || n > max) throw new InvalidArgumentError(`must be 1–${max} characters`);
    return value;
  };

export const refArg = textArg(LIMITS.refCharsMax);

/** A non-negative integer (a seq, a count). */
export const countArg = (value: string): number => {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(value)) throw new InvalidArgumentError('a whole number, 0 or more');
  return Number(value);
};
