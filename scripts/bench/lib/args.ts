/**
 * Command-line options of the bench scripts: `--name value` or `--name=value`, numbers checked.
 * Unknown options stop the script with a message, so a typo never runs a different benchmark.
 */
import { parseArgs } from 'node:util';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const readArgs = <S extends OptionSpec>(spec: S, argv = process.argv.slice(2)): Record<keyof S, string | boolean | undefined> => {
  try {
    const { values } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
    return values as unknown as Record<keyof S, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
};

/** A positive number option (integer unless `fractional`), or `fallback` when absent. */
export const num = (raw: string | boolean | undefined, name: string, fallback: number | undefined, fractional = false): number | undefined => {
  if (raw === undefined || raw === false) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0 || (!fractional && !Number.isSafeInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${fractional ? 'number' : 'integer'}; got ${String(raw)}`);
  }
  return n;
};

/** `1,16,64` → [1, 16, 64]. */
export const intList = (raw: string | boolean | undefined, name: string, fallback: number[]): number[] => {
  if (raw === undefined || raw === false) return fallback;
  const parts = String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out = parts.map((p) => num(p, name, undefined)!);
  if (out.length === 0) throw new UsageError(`--${name} needs at least one value`);
  return out;
};

/**
 * Runs a bench script's `main` and exits with its code: 2 with the usage on a UsageError, 1 with
 * the stack on any other error (`name` says which script failed).
 */
export const runMain = (name: string, usage: string, main: () => Promise<number>): void => {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message}\n${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
};
