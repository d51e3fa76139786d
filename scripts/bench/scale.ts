/**
 * `npm run bench:scale`: the cost of growth.
 *
 * Builds a ledger of N entries (default 1,000,000) through the real append path — POST /v1/ops
 * at high concurrency, the same mixed workload as `npm run bench` plus its issues and accepts,
 * pre-signed chunk by chunk — then measures on it: start-up time, inclusion and consistency proof
 * latency, voucher read latency, bytes on disk per entry, server RSS, audit throughput, and the
 * write benchmark at concurrency 64, compared with a fresh ledger served beside it, the two
 * interleaved in rounds (lib/paired.ts).
 *
 *   npm run bench:scale [-- --entries 1000000] [--seconds 8] [--data DIR] [--audit-seconds N] [--write-rounds 2]
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { num, readArgs, runMain, UsageError } from './lib/args.js';
import { diskUsage } from './lib/disk.js';
import { LoadProcess, measure } from './lib/driver.js';
import { describeMachine, loadAverage, machineInfo } from './lib/machine.js';
import { medianRun, paired, ROUND, type PairedRun, type Side } from './lib/paired.js';
import {
  budgetFor,
  closeRun,
  readFigures,
  type ReadFigures,
  readTable,
  stageTable,
  writeFigures,
  type WriteFigures,
  writeJson,
  writeTable,
} from './lib/report.js';
import { DEFAULT_MAIN, processCpuUs, REPO_ROOT, startServer, type RunningServer } from './lib/server.js';
import { duration, fmt, mib, ms, table } from './lib/table.js';
import { benchParties } from './lib/workload.js';
import { measureVerifyRate } from './lib/yardstick.js';
import type { AuditJob, AuditMessage } from './audit.js';

const USAGE = `usage: npm run bench:scale -- [options]
  --entries N             ledger size to build (default 1000000)
  --chunk N               entries pre-signed and sent per chunk (default 50000)
  --build-concurrency N   in-flight ops while building (default 256)
  --read-requests N       requests per read latency measurement, at concurrency 1 (default 3000)
  --write-concurrency N   the write benchmark's concurrency (default 64)
  --seconds N | --ops N   the write benchmark's length (default 8 s)
  --audit-seconds N       stop the audit after N s and report its rate so far (default: audit everything)
  --warmup-ops N          untimed writes before the first write run on each ledger (default 3000; 0 = none)
  --write-rounds N        rounds of fresh, large, large, fresh write runs (default 2)
  --yardstick-seconds N   seconds per yardstick measurement (default 2)
  --data DIR              build in DIR and keep it; a ledger already there is grown, not rebuilt
  --main FILE             the compiled server (default dist/src/main.js)
  --out DIR               where the JSON goes (default bench-results)`;

const ROOT_ENTRIES = 22; // per root: issue, accept, 2 cycles of 10

const ledgerInfo = async (url: string): Promise<{ ledgerId: string; size: number }> =>
  (await (await fetch(`${url}/v1/ledger`)).json()) as { ledgerId: string; size: number };

interface AuditFigures {
  readonly complete: boolean;
  readonly ok: boolean | undefined;
  readonly entries: number;
  readonly seconds: number;
  readonly entriesPerSec: number;
  readonly signatures: number | undefined;
  /** The one-thread verify yardstick: the mean of readings right before and right after the audit. */
  readonly oneThreadVerifiesPerSec: number;
  readonly oneThreadBeforeAndAfter: readonly [number, number];
  /** entries/s ÷ that yardstick (the target is ≥ 0.8). */
  readonly ratioToOneThreadVerify: number;
  readonly clientCpuSeconds: number;
  readonly serverCpuSeconds: number;
  readonly clientRss: number | undefined;
  readonly failure: unknown;
}

/**
 * Polls /readyz until one of the server's start-up checks is over: `stateCheck` (the stored state
 * against its seal; writes are held while it runs) or `logCheck` (the whole log, in the
 * background). Progress every 10 s.
 */
const waitForCheck = async (
  url: string,
  since: number,
  say: (s: string) => void,
  check: 'logCheck' | 'stateCheck',
): Promise<{ state: string; seconds: number }> => {
  let said = performance.now();
  for (;;) {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as { logCheck?: string; stateCheck?: string; code?: string };
    const state = res.ok ? (body[check] ?? 'unknown') : `unavailable (${body.code ?? res.status})`;
    if (state !== 'running') return { state, seconds: (performance.now() - since) / 1000 };
    if (performance.now() - said > 10_000) {
      said = performance.now();
      say(`  the server is still running its ${check} (${((said - since) / 1000).toFixed(0)} s)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
};

const runAudit = async (
  server: RunningServer,
  job: AuditJob,
  capSeconds: number | undefined,
  say: (s: string) => void,
): Promise<Omit<AuditFigures, 'ratioToOneThreadVerify' | 'oneThreadVerifiesPerSec' | 'oneThreadBeforeAndAfter'>> => {
  const child = fork(path.join(REPO_ROOT, 'scripts', 'bench', 'audit.ts'), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const serverCpu0 = server.cpuUs();
  const t0 = performance.now();
  let last: Extract<AuditMessage, { kind: 'progress' }> | undefined;
  let lastSaid = 0;
  let clientCpu = 0;
  const cpuTimer = setInterval(() => {
    try {
      clientCpu = processCpuUs(child.pid!);
    } catch {
      /* exited */
    }
  }, 500);
  try {
    return await new Promise((resolve, reject) => {
      const cap = capSeconds === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), capSeconds * 1000);
      child.on('message', (m: AuditMessage) => {
        if (m.kind === 'progress') {
          last = m;
          if (performance.now() - lastSaid > 10_000) {
            lastSaid = performance.now();
            say(`  audit: ${fmt(m.checked)} / ${fmt(m.total)} entries, ${fmt(m.entriesPerSecond)} entries/s`);
          }
        } else if (m.kind === 'report') {
          clearTimeout(cap);
          try {
            clientCpu = processCpuUs(child.pid!);
          } catch {
            /* exited */
          }
          const r = m.report as {
            ok: boolean;
            entriesChecked: number;
            seconds: number;
            entriesPerSecond: number;
            signaturesChecked: number;
            firstFailure?: unknown;
          };
          resolve({
            complete: true,
            ok: r.ok,
            entries: r.entriesChecked,
            seconds: +r.seconds.toFixed(2),
            entriesPerSec: Math.round(r.entriesPerSecond),
            signatures: r.signaturesChecked,
            clientCpuSeconds: +(clientCpu / 1e6).toFixed(2),
            serverCpuSeconds: +((server.cpuUs() - serverCpu0) / 1e6).toFixed(2),
            clientRss: m.rss,
            failure: r.firstFailure,
          });
        } else reject(new Error(`audit failed: ${m.error}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(cap);
        if (signal === 'SIGKILL' && last) {
          const seconds = (performance.now() - t0) / 1000;
          resolve({
            complete: false,
            ok: undefined,
            entries: last.checked,
            seconds: +seconds.toFixed(2),
            entriesPerSec: Math.round(last.entriesPerSecond),
            signatures: undefined,
            clientCpuSeconds: +(clientCpu / 1e6).toFixed(2),
            serverCpuSeconds: +((server.cpuUs() - serverCpu0) / 1e6).toFixed(2),
            clientRss: undefined,
            failure: undefined,
          });
        } else reject(new Error(`the audit process exited (code ${code}, signal ${signal}) without a report`));
      });
      child.send(job);
    });
  } finally {
    clearInterval(cpuTimer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
};

const main = async (): Promise<number> => {
  const a = readArgs({
    entries: { type: 'string' },
    chunk: { type: 'string' },
    'build-concurrency': { type: 'string' },
    'read-requests': { type: 'string' },
    'write-concurrency': { type: 'string' },
    seconds: { type: 'string' },
    ops: { type: 'string' },
    'audit-seconds': { type: 'string' },
    'warmup-ops': { type: 'string' },
    'write-rounds': { type: 'string' },
    'yardstick-seconds': { type: 'string' },
    data: { type: 'string' },
    main: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = num(a.entries, 'entries', 1_000_000)!;
  const chunk = num(a.chunk, 'chunk', 50_000)!;
  const buildConcurrency = num(a['build-concurrency'], 'build-concurrency', 256)!;
  const readRequests = num(a['read-requests'], 'read-requests', 3000)!;
  const writeConcurrency = num(a['write-concurrency'], 'write-concurrency', 64)!;
  const ops = num(a.ops, 'ops', undefined);
  if (ops !== undefined && a.seconds !== undefined) throw new UsageError('give --seconds or --ops, not both');
  const seconds = ops === undefined ? num(a.seconds, 'seconds', 8, true)! : undefined;
  const auditSeconds = num(a['audit-seconds'], 'audit-seconds', undefined, true);
  const warmupOps = a['warmup-ops'] === '0' ? 0 : num(a['warmup-ops'], 'warmup-ops', ops === undefined ? 3000 : 0)!;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 2, true)!;
  const writeRounds = num(a['write-rounds'], 'write-rounds', 2)!;
  const mainJs = typeof a.main === 'string' ? path.resolve(a.main) : DEFAULT_MAIN;
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const keep = typeof a.data === 'string';

  const startedAt = new Date();
  const machine = machineInfo();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`rvl bench:scale — ${startedAt.toISOString()}, target ${fmt(target)} entries`);
  say(`machine: ${describeMachine(machine)}`);
  const yardOne = await measureVerifyRate(1, yardSeconds);
  say(`yardstick: node:crypto Ed25519 verify, 1 thread ${fmt(yardOne.verifiesPerSecond)}/s`);

  const dataDir = keep ? path.resolve(a.data as string) : await mkdtemp(path.join(tmpdir(), 'rvl-bench-scale-'));
  if (keep) await mkdir(dataDir, { recursive: true });
  const reused = keep && existsSync(path.join(dataDir, 'operator.key'));
  let server: RunningServer | undefined;
  let load: LoadProcess | undefined;
  const parties = benchParties();
  try {
    server = await startServer({ dataDir, main: mainJs });
    let info = await ledgerInfo(server.url);
    say(`server: ${server.url} (pid ${server.pid}), data in ${dataDir}${reused ? `, reusing a ledger of ${fmt(info.size)} entries` : ''}`);
    const operator = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')) as { secretKey: string };
    load = LoadProcess.start();
    await load.init({
      url: server.url,
      ledgerId: info.ledgerId,
      operatorSeed: operator.secretKey,
      suppliers: parties.suppliers.length,
      banks: parties.banks.length,
    });

    /**
     * The write benchmark on whatever ledger `on` serves: an untimed warm-up (the JIT, the
     * caches), then a yardstick reading right before the timed run, so that two runs minutes
     * apart are compared by their ratios, not by one reading of a machine whose speed varies.
     */
    const writeBench = async (
      on: RunningServer,
      by: LoadProcess,
      label: string,
      warm: boolean,
    ): Promise<WriteFigures & { ledgerSize: number; yardstickTwoThreads: number }> => {
      if (warm && warmupOps > 0) {
        await by.prepareWrites({ label: `${label}-warm-up`, concurrency: writeConcurrency, ops: warmupOps });
        await by.go();
      }
      const yard = await measureVerifyRate(2, yardSeconds);
      const size = (await ledgerInfo(on.url)).size;
      const prep = await by.prepareWrites({
        label,
        concurrency: writeConcurrency,
        ...(ops !== undefined ? { ops } : { seconds, budgetOps: budgetFor(writeConcurrency, seconds!, yard.verifiesPerSecond * 0.6) }),
      });
      const w = writeFigures(await measure(on, by, prep, '/v1/ops', 'POST'), yard.verifiesPerSecond);
      say(
        `  ${label} on ${fmt(size)} entries: ${fmt(w.opsPerSec)} ops/s, ratio ${w.ratio.toFixed(3)} (yardstick ${fmt(yard.verifiesPerSecond)}), p99 ${ms(w.latencyUs.p99)} ms${w.failed ? `, ${w.failed} FAILED` : ''}`,
      );
      for (const f of w.failureSamples) say(`  failure: ${f.what} → ${f.status} ${f.detail}`);
      return { ...w, ledgerSize: size, yardstickTwoThreads: yard.verifiesPerSecond };
    };

    // ---- build ----
    info = await ledgerInfo(server.url);
    const buildStart = performance.now();
    const sizeAtStart = info.size;
    let chunks = 0;
    let estimated = false;
    let buildFailed = 0;
    if (info.size < target)
      say(`building to ${fmt(target)} entries through POST /v1/ops (pre-signed chunks of ≈${fmt(chunk)} entries, ${buildConcurrency} in flight):`);
    while (info.size < target) {
      const remaining = target - info.size;
      // The last chunk takes what is left rather than leaving a sliver for one more.
      const entries = remaining <= chunk * 1.5 ? remaining : chunk;
      const concurrency = Math.max(1, Math.min(buildConcurrency, Math.floor(entries / ROOT_ENTRIES)));
      const rounds = Math.max(1, Math.round(entries / (concurrency * ROOT_ENTRIES)));
      const prep = await load.prepareWrites({ label: 'build', concurrency, ops: rounds * concurrency * 20, setupConcurrency: Math.min(256, concurrency * 2) });
      const r = await load.go();
      buildFailed += r.failed;
      if (r.failed > 0) {
        for (const f of r.failureSamples) say(`  failure: ${f.what} → ${f.status} ${f.detail}`);
        throw new Error(`building failed: ${r.failed} ops were refused`);
      }
      chunks += 1;
      info = await ledgerInfo(server.url);
      const elapsed = (performance.now() - buildStart) / 1000;
      const rate = (info.size - sizeAtStart) / elapsed;
      const eta = (target - info.size) / rate;
      say(
        `  ${fmt(info.size)} / ${fmt(target)} entries (${((info.size / target) * 100).toFixed(0)}%), ${fmt(rate)} entries/s overall ` +
          `(last chunk: timed ${fmt(r.perSecond)} ops/s, setup ${prep.setupSeconds.toFixed(1)} s, signing ${prep.signSeconds.toFixed(1)} s)` +
          (info.size < target ? `, about ${duration(eta)} to go` : ''),
      );
      if (!estimated && info.size < target && eta > 30) {
        estimated = true;
        say(
          `  estimate: ${duration((target - sizeAtStart) / rate)} to build ${fmt(target)} entries on this machine now; for a quick run pass a smaller --entries (e.g. --entries 100000)`,
        );
      }
    }
    if (info.size === sizeAtStart) {
      // A reused ledger already big enough: the load process knows vouchers only from writes it
      // made, and the voucher reads below need some.
      say('reused ledger: 1,000 untimed writes first, so the load has vouchers to read');
      await load.prepareWrites({ label: 'seed-reads', concurrency: 50, ops: 1000 });
      const r = await load.go();
      if (r.failed > 0) throw new Error(`seeding failed: ${r.failed} ops were refused`);
      info = await ledgerInfo(server.url);
    }
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const built = info.size - sizeAtStart;
    const rssAfterBuild = server.memory();
    say(
      `built ${fmt(built)} entries in ${duration(buildSeconds)}${built > 0 ? ` (${fmt(built / buildSeconds)} entries/s including signing and setup)` : ''}; ledger size ${fmt(info.size)}`,
    );

    // ---- restart: start-up time, disk ----
    const shutdownMs = await server.stop();
    server = undefined;
    const disk = await diskUsage(dataDir);
    server = await startServer({ dataDir, main: mainJs });
    const listeningAt = performance.now();
    const startupMs = server.startupMs;
    const rssAfterStart = server.memory();
    info = await ledgerInfo(server.url);
    const size = info.size;
    say(
      `restart: stopped in ${(shutdownMs / 1000).toFixed(2)} s, started in ${(startupMs / 1000).toFixed(2)} s (spawn → listening) on ${fmt(size)} entries; RSS ${mib(rssAfterStart.rss)}`,
    );
    say(
      `disk: ${mib(disk.apparentBytes)} in ${disk.files} files, ${fmt(disk.apparentBytes / size)} B per entry (allocated ${fmt(disk.allocatedBytes / size)} B)`,
    );
    await load.init({ url: server.url, ledgerId: info.ledgerId, suppliers: parties.suppliers.length, banks: parties.banks.length });

    // ---- the server's background check of the whole log (after its quick start) ----
    // It verifies every entry on both cores: the reads and the audit below wait for it, or they
    // would measure a machine busy with it.
    const stateCheck = await waitForCheck(server.url, listeningAt, say, 'stateCheck');
    say(`check of the stored state against its seal (writes held meanwhile): ${stateCheck.state} ${stateCheck.seconds.toFixed(1)} s after listening`);
    const logCheck = await waitForCheck(server.url, listeningAt, say, 'logCheck');
    const rssAfterLogCheck = server.memory();
    say(`background check of the whole log: ${logCheck.state} ${(logCheck.seconds).toFixed(1)} s after listening; RSS ${mib(rssAfterLogCheck.rss)}`);
    if (logCheck.state !== 'passed') throw new Error(`the server's background check of the log ended '${logCheck.state}'`);

    // ---- reads at concurrency 1: latency ----
    const reads: ReadFigures[] = [];
    for (const [kind, endpoint, route] of [
      ['inclusion', 'GET /v1/proofs/inclusion', '/v1/proofs/inclusion'],
      ['consistency', 'GET /v1/proofs/consistency', '/v1/proofs/consistency'],
      ['voucher', 'GET /v1/vouchers/:id', '/v1/vouchers/:id'],
    ] as const) {
      const prep = await load.prepareReads({ label: `${kind}@1`, kind, concurrency: 1, ops: readRequests, size });
      const r = readFigures(await measure(server, load, prep, route), endpoint);
      reads.push(r);
      say(
        `  ${endpoint}: p50 ${ms(r.latencyUs.p50)} ms, p99 ${ms(r.latencyUs.p99)} ms, server ${r.serverMsMean.toFixed(3)} ms${r.failed ? `, ${r.failed} FAILED` : ''}`,
      );
      for (const f of r.failureSamples) say(`  failure: ${f.what} → ${f.status} ${f.detail}`);
    }
    const rssAfterReads = server.memory();

    // ---- audit ----
    say(`audit (src/client/audit.ts, verifyNode, replay on) of ${fmt(size)} entries${auditSeconds ? `, at most ${auditSeconds} s` : ''}:`);
    // The audit is one thread of verification (plus hashing and replay): its yardstick is the
    // one-thread verify rate, read right before it.
    // This VM's CPU speed swings by up to 1.7× within minutes, so the yardstick is read right
    // before and right after the audit, and the ratio uses their mean.
    const yardBefore = await measureVerifyRate(1, yardSeconds);
    const auditRun = await runAudit(
      server,
      { url: server.url, ledgerId: info.ledgerId, party: parties.auditor.id, secretKey: parties.auditor.seed },
      auditSeconds,
      say,
    );
    const yardAfter = await measureVerifyRate(1, yardSeconds);
    const yardAudit = (yardBefore.verifiesPerSecond + yardAfter.verifiesPerSecond) / 2;
    say(`  one-thread verify yardstick: ${fmt(yardBefore.verifiesPerSecond)}/s before the audit, ${fmt(yardAfter.verifiesPerSecond)}/s after`);
    const auditFigures: AuditFigures = {
      ...auditRun,
      oneThreadVerifiesPerSec: Math.round(yardAudit),
      oneThreadBeforeAndAfter: [yardBefore.verifiesPerSecond, yardAfter.verifiesPerSecond],
      ratioToOneThreadVerify: +(auditRun.entriesPerSec / yardAudit).toFixed(3),
    };
    say(
      `  ${fmt(auditFigures.entries)} entries in ${auditFigures.seconds} s: ${fmt(auditFigures.entriesPerSec)} entries/s${auditFigures.complete ? (auditFigures.ok ? ', ok' : ', FAILED') : ' (stopped early)'}`,
    );

    // ---- writes: the large ledger and a fresh one, interleaved ----
    // A fresh ledger is served beside the large one (each idle while the other is measured), and
    // the two are run in rounds of fresh, large, large, fresh: one run of each minutes apart
    // compared this VM's weather more than the ledgers (+5.6 %, +11.5 %, −1.9 % and −19 % in
    // four single pairs at the same server CPU per op).
    say(`writes @${writeConcurrency}: the large ledger (L) and a fresh one (F), ${writeRounds} round(s) of F L L F:`);
    const freshDir = await mkdtemp(path.join(tmpdir(), 'rvl-bench-fresh-'));
    type WriteRun = Awaited<ReturnType<typeof writeBench>> & PairedRun;
    const writeRuns: WriteRun[] = [];
    let rssAfterWrites: ReturnType<RunningServer['memory']>;
    try {
      const fresh = await startServer({ dataDir: freshDir, main: mainJs });
      const freshLoad = LoadProcess.start();
      try {
        const freshInfo = await ledgerInfo(fresh.url);
        const freshOperator = JSON.parse(await readFile(path.join(freshDir, 'operator.key'), 'utf8')) as { secretKey: string };
        await freshLoad.init({
          url: fresh.url,
          ledgerId: freshInfo.ledgerId,
          operatorSeed: freshOperator.secretKey,
          suppliers: parties.suppliers.length,
          banks: parties.banks.length,
        });
        const warmed = new Set<Side>();
        for (let round = 1; round <= writeRounds; round += 1) {
          for (const side of ROUND) {
            // A: the fresh ledger; B: the large one.
            const [on, by, label] = side === 'A' ? [fresh, freshLoad, 'fresh'] : [server, load, 'large'];
            const w = await writeBench(on, by, `writes@${writeConcurrency}-${label}`, !warmed.has(side));
            warmed.add(side);
            writeRuns.push({ ...w, side, round });
          }
        }
        rssAfterWrites = server.memory();
      } finally {
        await freshLoad.close();
        await fresh.stop();
      }
    } finally {
      await rm(freshDir, { recursive: true, force: true });
    }
    await server.stop();
    server = undefined;
    const large = medianRun(writeRuns, 'B', (r) => r.opsPerSec);
    const baseline = medianRun(writeRuns, 'A', (r) => r.opsPerSec);
    const percent = (x: number) => +((x - 1) * 100).toFixed(1);
    const opsPaired = paired(writeRuns, (r) => r.opsPerSec);
    const ratioPaired = paired(writeRuns, (r) => r.ratio);
    const cpuPaired = paired(writeRuns, (r) => r.serverCpuUsPerOp);
    // Headline: ops/s paired within rounds (the runs of a round share the machine's speed, so
    // the yardstick's own noise stays out); the ratios' pairing and server CPU per op beside it.
    const change = percent(opsPaired.median);
    const cpuChange = percent(cpuPaired.median);
    const span = (p: { min: number; max: number }) =>
      `${percent(p.min) >= 0 ? '+' : ''}${percent(p.min)} … ${percent(p.max) >= 0 ? '+' : ''}${percent(p.max)} %`;

    const valid = writeRuns.every((w) => w.valid) && reads.every((r) => r.valid) && buildFailed === 0 && auditFigures.ok !== false;
    const finishedAt = new Date();
    say();
    say(`=== rvl scale benchmark: ${fmt(size)} entries ===`);
    say(`machine: ${describeMachine(machine)}; load average at end ${loadAverage().join(' ')}`);
    say(
      `yardstick: node:crypto Ed25519 verifies/s, 1 thread ${fmt(yardOne.verifiesPerSecond)} at the start and ${fmt(auditFigures.oneThreadBeforeAndAfter[0])} / ${fmt(auditFigures.oneThreadBeforeAndAfter[1])} before / after the audit; 2 threads before each write run ${writeRuns.map((r) => fmt(r.yardstickTwoThreads)).join(', ')}`,
    );
    say();
    say(
      table(
        [
          { header: 'measure', align: 'left' },
          { header: 'value', align: 'left' },
        ],
        [
          ['ledger size', `${fmt(size)} entries`],
          ['build', built > 0 ? `${fmt(built)} entries in ${duration(buildSeconds)} (${fmt(built / buildSeconds)}/s with signing and setup)` : 'reused'],
          ['start-up (spawn → listening)', `${(startupMs / 1000).toFixed(2)} s`],
          ['state check (writes held until it ends)', `${stateCheck.state} ${stateCheck.seconds.toFixed(1)} s after listening`],
          ['background check of the whole log', `${logCheck.state} ${logCheck.seconds.toFixed(1)} s after listening`],
          ['clean stop', `${(shutdownMs / 1000).toFixed(2)} s`],
          ['disk per entry', `${fmt(disk.apparentBytes / size)} B (allocated ${fmt(disk.allocatedBytes / size)} B); ${mib(disk.apparentBytes)} in total`],
          [
            'server RSS',
            `after build ${mib(rssAfterBuild.rss)}; after start ${mib(rssAfterStart.rss)}; after the log check ${mib(rssAfterLogCheck.rss)}; after reads ${mib(rssAfterReads.rss)}; after writes ${mib(rssAfterWrites.rss)}; peak ${mib(rssAfterWrites.hwm)}`,
          ],
          [
            '  of which anonymous',
            `after start ${mib(rssAfterStart.anon)}; after the log check ${mib(rssAfterLogCheck.anon)}; after reads ${mib(rssAfterReads.anon)}; after writes ${mib(rssAfterWrites.anon)} (the rest: mapped LevelDB table files)`,
          ],
          ...reads.map((r) => [
            `${r.endpoint} (1 at a time)`,
            `p50 ${ms(r.latencyUs.p50)} ms, p99 ${ms(r.latencyUs.p99)} ms; server ${r.serverMsMean.toFixed(3)} ms; ${fmt(r.requests)} requests`,
          ]),
          [
            'audit',
            `${fmt(auditFigures.entriesPerSec)} entries/s = ${auditFigures.ratioToOneThreadVerify.toFixed(2)} × 1-thread verify (${fmt(auditFigures.oneThreadVerifiesPerSec)}/s)${auditFigures.complete ? '' : ' (stopped early)'}; client CPU ${auditFigures.clientCpuSeconds} s, server CPU ${auditFigures.serverCpuSeconds} s`,
          ],
          [
            `writes @${writeConcurrency} at ${fmt(large.ledgerSize)} entries (median run)`,
            `${fmt(large.opsPerSec)} ops/s, ratio ${large.ratio.toFixed(3)}, p99 ${ms(large.latencyUs.p99)} ms`,
          ],
          [
            `writes @${writeConcurrency}, fresh ledger (median run)`,
            `${fmt(baseline.opsPerSec)} ops/s, ratio ${baseline.ratio.toFixed(3)}, p99 ${ms(baseline.latencyUs.p99)} ms`,
          ],
          [
            `large vs fresh, paired in ${writeRounds} round(s)`,
            `ops/s ${change >= 0 ? '+' : ''}${change}% (${span(opsPaired)}); ratio ${percent(ratioPaired.median) >= 0 ? '+' : ''}${percent(ratioPaired.median)}% (${span(ratioPaired)}); server CPU per op ${cpuChange >= 0 ? '+' : ''}${cpuChange}% (${span(cpuPaired)})`,
          ],
        ],
      ),
    );
    say();
    say(writeTable([large, baseline]));
    say();
    say(stageTable([large, baseline]));
    say();
    say(readTable(reads));
    if (target < 1_000_000) say(`\nnote: --entries ${fmt(target)} is below the 1,000,000 the target is set at; growth effects show less on a small ledger.`);

    const result = {
      kind: 'rvl-bench-scale',
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      valid,
      command: ['npm run bench:scale --', ...process.argv.slice(2)].join(' '),
      machine: { ...machine, loadAverageAfter: loadAverage() },
      config: {
        target,
        chunk,
        buildConcurrency,
        readRequests,
        writeConcurrency,
        seconds,
        ops,
        auditSeconds,
        warmupOps,
        server: path.relative(REPO_ROOT, mainJs),
        reused,
      },
      yardstick: {
        oneThread: yardOne.verifiesPerSecond,
        oneThreadBeforeAudit: auditFigures.oneThreadVerifiesPerSec,
        twoThreadsBeforeEachWriteRun: writeRuns.map((r) => r.yardstickTwoThreads),
        seconds: yardSeconds,
      },
      entries: size,
      build: {
        entries: built,
        seconds: +buildSeconds.toFixed(2),
        entriesPerSec: built > 0 ? +(built / buildSeconds).toFixed(1) : 0,
        chunks,
        failed: buildFailed,
      },
      startupMs: Math.round(startupMs),
      stateCheck: { state: stateCheck.state, secondsAfterListening: +stateCheck.seconds.toFixed(2) },
      logCheck: { state: logCheck.state, secondsAfterListening: +logCheck.seconds.toFixed(2) },
      shutdownMs: Math.round(shutdownMs),
      disk: { ...disk, bytesPerEntry: +(disk.apparentBytes / size).toFixed(1), allocatedBytesPerEntry: +(disk.allocatedBytes / size).toFixed(1) },
      rss: {
        afterBuild: rssAfterBuild.rss,
        afterStart: rssAfterStart.rss,
        afterLogCheck: rssAfterLogCheck.rss,
        afterReads: rssAfterReads.rss,
        afterWrites: rssAfterWrites.rss,
        peak: rssAfterWrites.hwm,
      },
      rssAnon: { afterStart: rssAfterStart.anon, afterLogCheck: rssAfterLogCheck.anon, afterReads: rssAfterReads.anon, afterWrites: rssAfterWrites.anon },
      reads,
      audit: auditFigures,
      writes: {
        large,
        fresh: baseline,
        rounds: writeRounds,
        runs: writeRuns,
        opsChangePercent: change,
        ratioChangePercent: percent(ratioPaired.median),
        serverCpuPerOpChangePercent: cpuChange,
        paired: { opsPerSec: opsPaired, ratio: ratioPaired, serverCpuUsPerOp: cpuPaired },
      },
    };
    const file = await writeJson(outDir, 'bench-scale', startedAt, result);
    return closeRun(say, file, valid ? undefined : 'some requests failed or the audit failed');
  } finally {
    await load?.close();
    await server?.stop();
    if (keep) say(`ledger kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
};

runMain('bench:scale', USAGE, main);
