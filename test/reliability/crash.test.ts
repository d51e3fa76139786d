/**
 * Crash safety, short version: SIGKILL at random moments of a shared-voucher
 * workload, during the first start and during a later start-up, with the whole history checked
 * against the domain model after each restart (see lib/crash.ts for what is checked, and how it
 * adds to test/e2e/crash.test.ts). `npm run soak` runs the long version (≥ 20 kills).
 *
 * The kill moments are drawn from the seed: RVL_SEED=<n> replays a run's choices (the clock and
 * the scheduler still vary the exact interleaving; every check holds for any interleaving).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { seedFromEnv } from '../support/faults.js';
import { runCrash } from './lib/crash.js';
import { cleanup, REPO_ROOT, spawnService, startService, tempDir } from '../support/service-process.js';
import path from 'node:path';

const SEED = seedFromEnv(20_261_128);
const log = process.env.RVL_VERBOSE === '1' ? (l: string) => console.info(l) : undefined;

describe('reliability: SIGKILL at random moments, during start-up too', () => {
  afterAll(cleanup);

  it(`keeps every acknowledged op and every §7 rule across 5 kills (seed ${SEED})`, { timeout: 150_000 }, async () => {
    const report = await runCrash({
      mainJs: inject('rvlMainJs'),
      seed: SEED,
      genesisKills: 1,
      loadKills: 3,
      startupKills: 1,
      workers: 16,
      loadMs: [400, 1600],
      ...(log ? { log } : {}),
    });
    const why = `seed ${SEED} (replay: RVL_SEED=${SEED} npx vitest run test/reliability/crash.test.ts)\n${report.findings.join('\n')}`;
    expect(report.findings, why).toEqual([]);
    expect(report.kills.map((k) => k.kind)).toEqual(['genesis', 'load', 'startup', 'load', 'load']);
    expect(report.killsSurvived, why).toBe(5);
    expect(report.lost, why).toBe(0);
    expect(report.acked).toBeGreaterThan(50);
    expect(report.serverErrors, why).toBe(0);
    console.info(
      `[reliability crash] seed ${SEED}: ${report.kills.length} kills survived; ${report.acked} ops acknowledged, ${report.lost} lost; ` +
        `${report.inFlight} in flight at a kill (${report.inFlightOnLedger} had made it); ${report.refusalsChecked} refusals model-checked; ` +
        report.kills.map((k) => `${k.kind}@${k.afterMs}ms: ${k.phase}`).join('; '),
    );
  });

  // Found by this suite (fixed in src/service/keyfile.ts, writeKeyFile): a key file was created
  // with open('wx'), then written, then fsync'd, so a crash between the open and the write left an
  // empty node.key or operator.key and the folder never started again. Now the key is written under
  // a temporary name, fsync'd and linked into place: a crash at any instant of the first start
  // leaves a folder that starts.
  for (const file of ['node.key', 'operator.key']) {
    it(`a SIGKILL right after ${file} is created, before it is written, leaves a folder that starts`, { timeout: 60_000 }, async () => {
      const mainJs = inject('rvlMainJs');
      const dataDir = await tempDir('rvl-keyfile-');
      const crashing = spawnService({
        mainJs,
        dataDir,
        env: { RVL_CRASH_AT: `open:${file}` },
        nodeArgs: ['--import', path.join(REPO_ROOT, 'test', 'reliability', 'fixtures', 'crash-at.mjs')],
      });
      // The crash point must be reached (the process kills itself), not a normal start.
      const first = await Promise.race([
        crashing.exited,
        crashing.waitListening().then(
          () => 'listening' as const,
          () => 'exited' as const,
        ),
      ]);
      if (first === 'listening') {
        await crashing.kill();
        throw new Error(`the crash point open:${file} was never reached: rename RVL_CRASH_AT in this test to the file the service now creates`);
      }
      expect(await crashing.exited).toMatchObject({ signal: 'SIGKILL' });
      const restarted = await startService({ mainJs, dataDir });
      await restarted.stop();
    });
  }
});
