/**
 * Interleaved comparisons (`bench:ab`, and large vs fresh in `bench:scale`): this VM's speed
 * swings within minutes, so two builds or two ledgers are run in rounds of A B B A and compared
 * round by round, never one run against another taken minutes later.
 */

/** The order of one round: the second half mirrors the first, so a steady drift falls on both alike. */
export const ROUND = ['A', 'B', 'B', 'A'] as const;

export type Side = (typeof ROUND)[number];

export interface PairedRun {
  readonly side: Side;
  readonly round: number;
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Per round, the mean of B's runs over the mean of A's runs. */
export const pairedRatios = <R extends PairedRun>(runs: readonly R[], f: (r: R) => number): number[] => {
  const rounds = [...new Set(runs.map((r) => r.round))].sort((a, b) => a - b);
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return rounds.map((round) => {
    const inRound = runs.filter((r) => r.round === round);
    return mean(inRound.filter((r) => r.side === 'B').map(f)) / mean(inRound.filter((r) => r.side === 'A').map(f));
  });
};

/** Median and range of the paired ratios of `f`. */
export const paired = <R extends PairedRun>(runs: readonly R[], f: (r: R) => number): { median: number; min: number; max: number } => {
  const ratios = pairedRatios(runs, f);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
};

/** The run of `side` whose `f` is the median (the lower one of an even count): a real run to show. */
export const medianRun = <R extends PairedRun>(runs: readonly R[], side: Side, f: (r: R) => number): R => {
  const mine = runs.filter((r) => r.side === side).sort((a, b) => f(a) - f(b));
  const run = mine[(mine.length - 1) >> 1];
  if (!run) throw new Error(`no run of side ${side}`);
  return run;
};
