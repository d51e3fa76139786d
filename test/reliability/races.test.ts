/**
 * Races, short version: 200 concurrent attempts on one asset for each of the four
 * mixes (lib/races.ts), over HTTP against the compiled server. Exactly one winner; every loser gets
 * exactly the code §7 gives once the winner is applied (predicted from the winner, and confirmed by
 * the domain model); the ledger grows by one; the whole history then passes the model check.
 * test/e2e/concurrency.test.ts has the 50-way pledge and transfer races this builds on.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Rng, seedFromEnv } from '../support/faults.js';
import { checkAll } from './lib/check.js';
import { cleanup, startService, tempDir, type Proc } from '../support/service-process.js';
import { MIXES, modelAgrees, raceCast, runRace, type RaceCast, type RaceResult } from './lib/races.js';
import { httpTarget, key, registerAll, type Key, type Target } from './lib/target.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const N = 200;
const SEED = seedFromEnv(4_000_001);

describe(`reliability: ${N} concurrent attempts on one asset (seed ${SEED})`, () => {
  let server: Proc;
  let t: Target;
  let cast: RaceCast;
  let operator: Key;
  const results: RaceResult[] = [];
  const rng = new Rng(SEED).fork('races');

  beforeAll(async () => {
    const dataDir = await tempDir('rvl-races-');
    server = await startService({ mainJs: inject('rvlMainJs'), dataDir });
    t = await httpTarget(server.url() as string);
    const f = JSON.parse(readFileSync(path.join(dataDir, 'operator.key'), 'utf8')) as { publicKey: string; secretKey: string };
    operator = { id: 'operator', role: 'operator', seed: f.secretKey, publicKey: f.publicKey };
    cast = raceCast('race', N, key, operator);
    await registerAll(t, operator, [...cast.cores, cast.holder, ...cast.banks, ...cast.suppliers], 64);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await cleanup();
  });

  for (const mix of MIXES) {
    it(`${mix}: one winner, ${N - 1} refusals with the code §7 gives after it`, { timeout: 60_000 }, async () => {
      const r = await runRace(t, cast, mix, N, rng.fork(mix), String(SEED));
      results.push(r);
      const why = `seed ${SEED}, ${mix}: winner ${r.winner}, losers ${JSON.stringify(r.losers)} (replay: RVL_SEED=${SEED})\n${r.findings.join('\n')}`;
      expect(r.findings, why).toEqual([]);
      expect(r.losers, why).toEqual({ [`409 ${r.expected}`]: N - 1 });
    });
  }

  it("the model confirms every loser's code, and the whole history", { timeout: 60_000 }, async () => {
    expect(results).toHaveLength(MIXES.length);
    const calls = results.flatMap((r) => r.calls);
    const checked = await checkAll(t, operator, calls);
    expect(checked.findings, `seed ${SEED}\n${checked.findings.join('\n')}`).toEqual([]);
    expect(checked.model.refusalsChecked).toBe(MIXES.length * (N - 1));
    // Every loser decided by the model against the final state (the races touch disjoint assets,
    // so each asset is as its race left it).
    const size = checked.snap.entries.length;
    const at = { ledgerId: t.ledgerId, nodeKey: checked.snap.info.nodeKey, seq: size, time: checked.snap.entries[size - 1]!.entry.time };
    const f = results.flatMap((r) => modelAgrees(checked.model.model, at, r));
    expect(f, f.join('\n')).toEqual([]);
    console.info(`[reliability races] seed ${SEED}: ${results.map((r) => `${r.mix} → ${r.winner}, ${N - 1} × 409 ${r.expected}`).join('; ')}`);
  });
});
