/**
 * `--amount` and `--amounts` in the ledger's currency: a value is checked where it is typed only
 * for what no currency accepts (so a bad amount is a usage error before any request), and read
 * in the ledger's currency (genesis `currency`, from `GET /v1/ledger`) by `ledgerAmount`. The
 * service creates CNY ledgers only, so another currency is tested here, below the binary.
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';

import { amountArg, amountsArg, ledgerAmount } from '../../src/cli/args.js';
import { CliError, EXIT } from '../../src/cli/errors.js';

const refusal = (f: () => unknown): CliError => {
  try {
    f();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('not refused');
};

describe('amounts typed on the command line', () => {
  it('refuses at once what no currency accepts, with the reason for yuan', () => {
    for (const [text, reason] of [
      ['1,00,000', /misplaced comma/],
      ['1.005', /more than 2 decimals \(the smallest unit is the fen, 0\.01\)/],
      ['0', /at least ¥0\.01/],
      ['-5', /cannot be negative/],
    ] as const) {
      expect(() => amountArg(text)).toThrow(InvalidArgumentError);
      expect(() => amountArg(text)).toThrow(reason);
    }
  });

  it('refuses a value naming a currency in that currency’s words', () => {
    expect(() => amountArg('USD 0')).toThrow(/at least USD 0\.01/);
  });

  it('keeps, as typed, what some currency accepts: yuan forms and another currency’s code', () => {
    for (const text of ['1,000,000.00', '100万', '¥ 1,234.56', 'USD 1,234.56']) expect(amountArg(text)).toBe(text);
    expect(amountsArg('USD 5', amountsArg('100万', undefined))).toEqual(['100万', 'USD 5']);
  });

  it('reads yuan in a CNY ledger exactly as before', () => {
    expect(ledgerAmount('--amount <yuan>', '1.5亿元', 'CNY')).toBe(15_000_000_000n);
    expect(ledgerAmount('--amount <yuan>', '１，０００．５０', 'CNY')).toBe(100_050n);
    const usd = refusal(() => ledgerAmount('--amount <yuan>', 'USD 5', 'CNY'));
    expect(usd.exit).toBe(EXIT.usage);
    expect(usd.message).toBe(`option '--amount <yuan>' argument 'USD 5' is invalid. only yuan amounts are accepted (found "USD")`);
  });

  it('reads the amount in a USD ledger’s currency, and refuses yuan there (exit 2, as commander says a bad value)', () => {
    expect(ledgerAmount('--amount <yuan>', 'USD 1,234.56', 'USD')).toBe(123_456n);
    expect(ledgerAmount('--amounts <yuan...>', '600,000.00', 'USD')).toBe(60_000_000n);
    for (const [text, reason] of [
      ['100万', /this ledger counts in USD, without Chinese units/],
      ['¥1,000', /this ledger counts in USD \(found "¥"\)/],
    ] as const) {
      const e = refusal(() => ledgerAmount('--amounts <yuan...>', text, 'USD'));
      expect(e.exit).toBe(EXIT.usage);
      expect(e.message).toMatch(new RegExp(`^option '--amounts <yuan\\.\\.\\.>' argument '${text}' is invalid\\. `));
      expect(e.message).toMatch(reason);
    }
  });
});
