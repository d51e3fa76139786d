/**
 * Amounts as people read them: fen (minor units, §2) → `¥1,234,567.89`. Pure, so that refusal
 * details in the domain and every client show an amount the same way.
 */

/** Fen per yuan. */
const FEN_PER_YUAN = 100n;
const DECIMALS = 2;

/** Fen (a bigint, or a §2 decimal string) → `¥1,234,567.89`. A negative value gets a leading `-`. */
export const formatAmount = (fen: bigint | string): string => {
  let value: bigint;
  if (typeof fen === 'bigint') value = fen;
  else if (/^-?[0-9]{1,40}$/.test(fen)) value = BigInt(fen);
  else throw new TypeError(`not an amount in fen: ${JSON.stringify(fen).slice(0, 60)}`);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const yuan = (abs / FEN_PER_YUAN).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  const cents = (abs % FEN_PER_YUAN).toString().padStart(DECIMALS, '0');
  return `${negative ? '-' : ''}¥${yuan}.${cents}`;
};
