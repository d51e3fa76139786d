/**
 * `npm run soak [-- --minutes N] [--seed N] [--kills N]`: the long versions of the reliability
 * suites (test/reliability), bounded in time (default 10 minutes), with a progress line for each
 * step and a summary at the end, printed and written as JSON to soak-results/.
 *
 *  1. crash safety: SIGKILL at random moments under a shared-voucher workload, during the first
 *     start, and during later start-ups and recoveries (at least --kills, default 20), the whole
 *     history checked against the domain model after every restart;
 *  2. storage faults: the coverage seeds of every fault kind and outcome, then fresh seeds until
 *     the phase's time is up;
 *  3. races: rounds of the four mixes, 300 concurrent attempts each;
 *  4. a long model-checked concurrent run for the rest of the time.
 *
 * Everything is drawn from one seed (printed; --seed replays it). A failure prints the seed of
 * the step that found it, and the run exits 1.
 */
import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describePlan, FAULT_KINDS, planFor, Rng } from '../test/support/faults.js';
import { checkAll } from '../test/reliability/lib/check.js';
import { runCrash, type CrashReport } from '../test/reliability/lib/crash.js';
import { runFaultSeed, type FaultReport } from '../test/reliability/lib/faults-run.js';
import { runModelCheck } from '../test/reliability/lib/model-run.js';
import { cleanup, startService, tempDir } from '../test/support/service-process.js';
import { MIXES, modelAgrees, raceCast, runRace, type RaceResult } from '../test/reliability/lib/races.js';
import { httpTarget, key, registerAll, type Key } from '../test/reliability/lib/target.js';
import { buildService } from './soak/build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
};
const num = (name: string, fallback: number): number => {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`soak: --${name} must be a positive number\n`);
    process.exit(2);
  }
  return n;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: npm run soak [-- --minutes 10] [--seed N] [--kills 20]\n');
  process.exit(0);
}
const MINUTES = num('minutes', 10);
const SEED = Math.floor(num('seed', randomInt(1, 2 ** 31)));
const MIN_KILLS = Math.floor(num('kills', 20));
const RACE_N = 300;

const t0 = performance.now();
const budgetMs = MINUTES * 60_000;
const clock = (): string => {
  const s = Math.floor((performance.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string): void => {
  process.stdout.write(`[soak ${clock()}] ${line}\n`);
};
/** The end of a phase that may use `share` of what is left (the phases after it get the rest). */
const phaseEnd = (shareOfRemaining: number): number => {
  const left = t0 + budgetMs - performance.now();
  return performance.now() + Math.max(0, left * shareOfRemaining);
};

const failures: { step: string; seed: number; findings: string[] }[] = [];
const failed = (step: string, seed: number, findings: string[]) => {
  if (findings.length === 0) return;
  failures.push({ step, seed, findings });
  say(`FAILURE in ${step} (seed ${seed}):`);
  for (const f of findings.slice(0, 15)) say(`  ${f.split('\n').join('\n      ')}`);
};

const main = async (): Promise<number> => {
  const startedAt = new Date().toISOString();
  say(`seed ${SEED}, ${MINUTES} minute(s), at least ${MIN_KILLS} kills; replay with: npm run soak -- --seed ${SEED} --minutes ${MINUTES}`);
  say('building the service into a private folder…');
  const build = await buildService(ROOT);
  const rng = new Rng(SEED);
  try {
    // ---- 1. crash safety ----
    const kills = MIN_KILLS;
    const genesisKills = Math.max(1, Math.round(kills * 0.1));
    const startupKills = Math.max(1, Math.round(kills * 0.3));
    say(
      `crash: ${genesisKills} kills during the first start, ${startupKills} during later start-ups, the rest under load (until ${kills} kills and the phase's time are both used)`,
    );
    const crashSeed = rng.fork('crash').u32();
    const crash: CrashReport = await runCrash({
      mainJs: build.mainJs,
      seed: crashSeed,
      genesisKills,
      startupKills,
      loadKills: 10_000,
      minKills: kills,
      deadline: phaseEnd(0.4),
      workers: 24,
      loadMs: [500, 4_000],
      auditEvery: 3,
      log: say,
    });
    failed('crash', crashSeed, crash.findings);
    say(
      `crash: ${crash.kills.length} kills, ${crash.killsSurvived} survived; ${crash.acked} ops acknowledged, ${crash.lost} lost; ${crash.inFlight} in flight at a kill, ${crash.inFlightOnLedger} of them had made it; ${crash.entries} entries`,
    );
    await cleanup();

    // ---- 2. storage faults ----
    const faultEnd = phaseEnd(0.3);
    const faultSeeds: number[] = [0, 1, 2, 3, 4, 5, 6, 7, 41, 43, 45, 47];
    const faultRng = rng.fork('faults');
    const faults: FaultReport[] = [];
    for (let i = 0; i < faultSeeds.length || performance.now() < faultEnd; i++) {
      const seed = faultSeeds[i] ?? faultRng.int(48, 2 ** 31);
      const r = await runFaultSeed(seed, { workers: 16 });
      faults.push(r);
      failed(`fault seed ${seed} (${r.description})`, seed, r.findings);
      if (faults.length % 10 === 0 || i < faultSeeds.length) {
        say(
          `faults: seed ${seed}: ${r.description}: ${r.findings.length === 0 ? 'ok' : 'FAILED'} (${r.acked} acknowledged, ${r.lost} lost, ${r.unavailable} × 503, batch ${r.survived === 'whole' ? 'kept whole' : 'gone'})`,
        );
      }
      await cleanup();
    }
    const byKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, faults.filter((f) => f.plan.kind === k).length]));
    say(`faults: ${faults.length} seeds run ${JSON.stringify(byKind)}; ${faults.filter((f) => f.findings.length > 0).length} failed`);

    // ---- 3. races ----
    const raceEnd = phaseEnd(0.35);
    const raceDir = await tempDir('rvl-soak-races-');
    const raceServer = await startService({ mainJs: build.mainJs, dataDir: raceDir });
    const rt = await httpTarget(raceServer.url() as string);
    const opFile = JSON.parse(await readFile(path.join(raceDir, 'operator.key'), 'utf8')) as { publicKey: string; secretKey: string };
    const operator: Key = { id: 'operator', role: 'operator', seed: opFile.secretKey, publicKey: opFile.publicKey };
    const cast = raceCast('soak', RACE_N, key, operator);
    await registerAll(rt, operator, [...cast.cores, cast.holder, ...cast.banks, ...cast.suppliers], 64);
    const races: RaceResult[] = [];
    const raceRng = rng.fork('races');
    let raceServerErrors = 0;
    for (let round = 0; round < 2 || performance.now() < raceEnd; round++) {
      for (const mix of MIXES) {
        const r = await runRace(rt, cast, mix, RACE_N, raceRng.fork(`${round}-${mix}`), `s${SEED}r${round}`);
        races.push(r);
        raceServerErrors += r.calls.filter((c) => (c.answer?.status ?? 0) >= 500).length;
        failed(`race ${mix} (round ${round})`, SEED, r.findings);
      }
      say(
        `races: round ${round + 1}: ${races
          .slice(-MIXES.length)
          .map((r) => `${r.mix} → ${r.winner}; ${RACE_N - 1} × 409 ${r.expected}`)
          .join(' | ')}`,
      );
    }
    const raceCheck = await checkAll(
      rt,
      operator,
      races.flatMap((r) => r.calls),
    );
    failed('races: the model check of every race', SEED, raceCheck.findings);
    const size = raceCheck.snap.entries.length;
    const agree = races.flatMap((r) =>
      modelAgrees(
        raceCheck.model.model,
        { ledgerId: rt.ledgerId, nodeKey: raceCheck.snap.info.nodeKey, seq: size, time: raceCheck.snap.entries[size - 1]!.entry.time },
        r,
      ),
    );
    failed('races: the model on every loser', SEED, agree);
    say(`races: ${races.length} races of ${RACE_N} attempts; ${raceCheck.model.refusalsChecked} refusals model-checked`);
    await raceServer.stop();
    await cleanup();

    // ---- 4. a long model-checked run ----
    const modelMs = Math.max(20_000, t0 + budgetMs - performance.now() - 30_000);
    const modelSeed = rng.fork('model').u32();
    say(`model: a concurrent run of ${Math.round(modelMs / 1000)} s with 32 workers, then the history against the domain model`);
    const model = await runModelCheck({ mainJs: build.mainJs, seed: modelSeed, workers: 32, ms: modelMs, log: say });
    await model.server.stop();
    failed('model', modelSeed, model.findings);
    say(
      `model: ${model.calls.length} requests, ${model.report.receiptsChecked} receipts and ${model.report.refusalsChecked} refusals match the model; ${model.snap.entries.length} entries, ${model.snap.vouchers.length} vouchers`,
    );
    await cleanup();

    // ---- summary ----
    const faultServerErrors = faults.reduce((a, f) => a + f.serverErrors, 0);
    const unexpected5xx = crash.serverErrors + faultServerErrors + raceServerErrors + model.report.serverErrors;
    const summary = {
      ok: failures.length === 0,
      seed: SEED,
      minutes: MINUTES,
      startedAt,
      finishedAt: new Date().toISOString(),
      durationSeconds: Math.round((performance.now() - t0) / 1000),
      totals: {
        killsSurvived: crash.killsSurvived,
        kills: crash.kills.length,
        opsAcknowledged: crash.acked + faults.reduce((a, f) => a + f.acked, 0) + races.length + model.report.acked,
        opsLost: crash.lost + faults.reduce((a, f) => a + f.lost, 0) + model.report.lost,
        faultSeedsRun: faults.length,
        racesRun: races.length,
        serverErrors5xx: unexpected5xx,
        expected503UnderInjectedFaults: faults.reduce((a, f) => a + f.unavailable, 0),
      },
      crash: {
        seed: crash.seed,
        kills: crash.kills.length,
        killsSurvived: crash.killsSurvived,
        byKind: Object.fromEntries(['genesis', 'load', 'startup'].map((k) => [k, crash.kills.filter((x) => x.kind === k).length])),
        acknowledged: crash.acked,
        lost: crash.lost,
        inFlightAtKills: crash.inFlight,
        inFlightThatHadMadeIt: crash.inFlightOnLedger,
        entries: crash.entries,
        refusalsModelChecked: crash.refusalsChecked,
        list: crash.kills,
      },
      faults: {
        seedsRun: faults.length,
        byKind,
        batchKeptWhole: faults.filter((f) => f.survived === 'whole').length,
        atGenesis: faults.filter((f) => f.plan.commitIndex === 0).length,
        acknowledged: faults.reduce((a, f) => a + f.acked, 0),
        lost: faults.reduce((a, f) => a + f.lost, 0),
        seeds: faults.map((f) => ({ seed: f.seed, plan: describePlan(planFor(f.seed)), ok: f.findings.length === 0 })),
      },
      races: {
        run: races.length,
        attemptsEach: RACE_N,
        byMix: Object.fromEntries(MIXES.map((m) => [m, races.filter((r) => r.mix === m).map((r) => ({ winner: r.winner, losers: r.losers }))])),
      },
      model: {
        seed: modelSeed,
        seconds: Math.round(model.seconds),
        requests: model.calls.length,
        acknowledged: model.report.acked,
        receiptsChecked: model.report.receiptsChecked,
        refusalsChecked: model.report.refusalsChecked,
        refusalCodes: model.report.codes,
        entries: model.snap.entries.length,
        vouchers: model.snap.vouchers.length,
      },
      failures,
    };
    const dir = path.join(ROOT, 'soak-results');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `soak-${startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
    const t = summary.totals;
    say('summary');
    say(`  kills survived        ${t.killsSurvived} of ${t.kills} (${JSON.stringify(summary.crash.byKind)})`);
    say(`  ops acknowledged      ${t.opsAcknowledged}, lost ${t.opsLost}`);
    say(`  fault seeds run       ${t.faultSeedsRun} (${t.expected503UnderInjectedFaults} × 503 LEDGER_UNAVAILABLE under injected faults, as required)`);
    say(`  races run             ${t.racesRun} × ${RACE_N} attempts`);
    say(`  5xx seen              ${t.serverErrors5xx} (other than the injected faults' 503s)`);
    say(`  model-checked run     ${summary.model.requests} requests in ${summary.model.seconds} s`);
    say(`  duration              ${summary.durationSeconds} s`);
    say(`  ${summary.ok ? 'OK' : `${failures.length} FAILURE(S)`}; written to ${path.relative(ROOT, file)}`);
    return summary.ok ? 0 : 1;
  } finally {
    await cleanup();
    await build.remove();
  }
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n(seed ${SEED})\n`);
    void cleanup().finally(() => process.exit(1));
  },
);
