/** Dates and waits shared by the suites. */

const DAY_MS = 86_400_000;

/** A due date `days` after `from` (today by default), as YYYY-MM-DD in UTC. */
export const dueIn = (days: number, from = Date.now()): string => new Date(from + days * DAY_MS).toISOString().slice(0, 10);

/**
 * Polls `check` (every 10 ms, or as often as an async check answers) until it gives a value other
 * than `false` or `undefined`, and returns it; throws naming `what` after `ms`.
 */
export const until = async <T>(what: string, check: () => T | false | undefined | Promise<T | false | undefined>, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== false && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A positive integer from the environment variable `name`, else `fallback` (a suite's size knob). */
export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
