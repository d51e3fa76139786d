/**
 * Storage faults, simulated deterministically: a failed batch, an fsync error,
 * a full disk and a torn write, each at a seeded commit (genesis included), with what survives a
 * power loss drawn from the seed. What each run checks, and which recovered state is right per
 * docs/protocol.md, is in lib/faults-run.ts; how the faults are modelled is in test/support/faults.ts.
 *
 * The seeds below cover every kind and outcome, later and at genesis. A failure names its seed;
 * RVL_SEED=<n> npx vitest run test/reliability/faults.test.ts replays just that one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describePlan, planFor } from '../support/faults.js';
import { runFaultSeed } from './lib/faults-run.js';
import { cleanup } from '../support/service-process.js';

/** Seeds 0–7: every kind × outcome at a later commit; 41, 43, 45, 47: fsync errors and torn writes of genesis. */
const COVERAGE = [0, 1, 2, 3, 4, 5, 6, 7, 41, 43, 45, 47];
const replay = process.env.RVL_SEED;
const SEEDS = replay ? [Number(replay)] : COVERAGE;

describe('reliability: storage faults (seeded)', () => {
  afterAll(cleanup);

  it('the CI seeds cover every fault kind and what survives it, at genesis and later', () => {
    const plans = COVERAGE.map(planFor);
    const kinds = new Set(plans.map((p) => `${p.kind}/${p.survives}/${p.commitIndex === 0 ? 'genesis' : 'later'}`));
    for (const k of [
      'batch-fails/none/later',
      'disk-full/none/later',
      'fsync-error/none/later',
      'fsync-error/whole/later',
      'torn-write/torn/later',
      'torn-write/whole/later',
      'fsync-error/none/genesis',
      'fsync-error/whole/genesis',
      'torn-write/torn/genesis',
      'torn-write/whole/genesis',
    ]) {
      expect(kinds).toContain(k);
    }
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${describePlan(planFor(seed))}: nothing unacknowledged served, nothing acknowledged lost`, { timeout: 60_000 }, async () => {
      const r = await runFaultSeed(seed);
      const why = `seed ${seed}, ${r.description} (replay: RVL_SEED=${seed} npx vitest run test/reliability/faults.test.ts)\n${r.findings.join('\n')}`;
      expect(r.findings, why).toEqual([]);
      expect(r.lost, why).toBe(0);
      expect(r.serverErrors, why).toBe(0);
      expect(r.acked, why).toBeGreaterThan(0);
      if (planFor(seed).commitIndex > 0) expect(r.unavailable, why).toBeGreaterThan(0);
      const p = planFor(seed);
      expect(r.survived).toBe(p.survives === 'whole' ? 'whole' : 'none');
    });
  }

  it('the checks catch a store that acknowledges a commit it never wrote (the checker can fail)', { timeout: 60_000 }, async () => {
    const r = await runFaultSeed(5, { mode: 'lie' });
    expect(r.lost).toBeGreaterThan(0);
    expect(r.findings.some((f) => f.includes('(LOST)'))).toBe(true);
  });
});
