/**
 * `npm run bench`: the write benchmark (docs/performance.md).
 *
 * Starts the production server (`node dist/src/main.js`) on a temporary ledger, registers the
 * bench parties, and from a separate load process (load.ts) drives the mixed write load at each
 * concurrency level; then reads. For each level it reports ops/s, latency (HDR histogram, µs),
 * server CPU per op (/proc), fsyncs/s and ops per group commit (/metrics), and the ratio of ops/s
 * to the yardstick: node:crypto Ed25519 verifies/s on two threads, measured in the same run.
 * Right after the level at 64 it measures bench:floor's durable rung at 64 (the ceiling: HTTP,
 * canonical JSON, the signatures and a durable append, nothing else) and prints the share of it
 * the service reached.
 *
 *   npm run bench [-- --levels 1,16,64,256] [--seconds 8 | --ops N] [--read-seconds 4]
 *                 [--ceiling-at 64|none] [--cpu-prof DIR] [--main dist/src/main.js] [--out bench-results]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultVerifyThreads } from '../../src/ledger/node/verify-pool.js';
import { intList, num, readArgs, runMain, UsageError } from './lib/args.js';
import { LoadProcess, measure } from './lib/driver.js';
import { floorInput, measureRung, type RungFigures } from './lib/floor.js';
import { describeMachine, loadAverage, machineInfo } from './lib/machine.js';
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
import { DEFAULT_MAIN, REPO_ROOT, startServer, type RunningServer } from './lib/server.js';
import { fmt, mib, ms } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const USAGE = `usage: npm run bench -- [options]
  --levels 1,16,64,256    concurrency levels of the write load
  --seconds N             seconds per level (default 8) …
  --ops N                 … or exactly N timed ops per level
  --read-concurrency N    concurrency of the read benchmarks (default 64)
  --read-seconds N        seconds per read benchmark (default 4; with --ops, N requests instead)
  --warmup-ops N          untimed mixed ops before the first level (default 3000; 0 = none)
  --yardstick-seconds N   seconds per yardstick measurement (default 2)
  --suppliers N --banks N parties of the load (default 16 and 8)
  --max-rate N            ops/s the pre-signed budget of a timed level allows for (default 0.6 × yardstick)
  --cpu-prof DIR          run the server under --cpu-prof, writing the profile to DIR
  --ceiling-at N          after the level at N (default 64), bench:floor's durable rung at N: the
                          most any server on this stack writes here (none = skip)
  --main FILE             the compiled server (default dist/src/main.js)
  --out DIR               where the JSON goes (default bench-results)
  --keep                  keep the temporary ledger`;

const main = async (): Promise<number> => {
  const a = readArgs({
    levels: { type: 'string' },
    seconds: { type: 'string' },
    ops: { type: 'string' },
    'read-concurrency': { type: 'string' },
    'read-seconds': { type: 'string' },
    'warmup-ops': { type: 'string' },
    'yardstick-seconds': { type: 'string' },
    suppliers: { type: 'string' },
    banks: { type: 'string' },
    'max-rate': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'ceiling-at': { type: 'string' },
    main: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const levels = intList(a.levels, 'levels', [1, 16, 64, 256]);
  const ops = num(a.ops, 'ops', undefined);
  if (ops !== undefined && a.seconds !== undefined) throw new UsageError('give --seconds or --ops, not both');
  const seconds = ops === undefined ? num(a.seconds, 'seconds', 8, true)! : undefined;
  const readConcurrency = num(a['read-concurrency'], 'read-concurrency', 64)!;
  const readSeconds = ops === undefined ? num(a['read-seconds'], 'read-seconds', 4, true)! : undefined;
  const warmupOps = a['warmup-ops'] === '0' ? 0 : num(a['warmup-ops'], 'warmup-ops', ops === undefined ? 3000 : 0)!;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 2, true)!;
  const suppliers = num(a.suppliers, 'suppliers', 16)!;
  const banks = num(a.banks, 'banks', 8)!;
  if (suppliers < 2) throw new UsageError('--suppliers must be at least 2');
  const mainJs = typeof a.main === 'string' ? path.resolve(a.main) : DEFAULT_MAIN;
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const profDir = typeof a['cpu-prof'] === 'string' ? path.resolve(a['cpu-prof']) : undefined;
  const ceilingAt = a['ceiling-at'] === 'none' ? undefined : num(a['ceiling-at'], 'ceiling-at', 64)!;

  const startedAt = new Date();
  const machine = machineInfo();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`rvl bench — ${startedAt.toISOString()}`);
  say(`machine: ${describeMachine(machine)}`);

  say(`yardstick: node:crypto Ed25519 verify, ${yardSeconds} s per measurement …`);
  const yardOne = await measureVerifyRate(1, yardSeconds);
  const yardBefore = await measureVerifyRate(2, yardSeconds);
  say(`  1 thread ${fmt(yardOne.verifiesPerSecond)}/s, 2 threads ${fmt(yardBefore.verifiesPerSecond)}/s`);

  const dataDir = await mkdtemp(path.join(tmpdir(), 'rvl-bench-'));
  let server: RunningServer | undefined;
  let load: LoadProcess | undefined;
  const writes: WriteFigures[] = [];
  const reads: ReadFigures[] = [];
  let warmup: { ops: number; seconds: number; failed: number } | undefined;
  let serverMemory: { rss: number; hwm: number } | undefined;
  let ceiling: RungFigures | undefined;
  try {
    server = await startServer({
      dataDir,
      main: mainJs,
      nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
    });
    say(`server: ${server.url} (pid ${server.pid}), data in ${dataDir}, started in ${(server.startupMs / 1000).toFixed(2)} s`);
    const ledger = (await (await fetch(`${server.url}/v1/ledger`)).json()) as { ledgerId: string };
    const operator = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')) as { secretKey: string };
    load = LoadProcess.start();
    const reg = await load.init({ url: server.url, ledgerId: ledger.ledgerId, operatorSeed: operator.secretKey, suppliers, banks });
    say(`load: pid ${load.pid}; registered ${reg.registered} parties (1 core, ${suppliers} suppliers, ${banks} banks, 1 auditor)`);

    if (warmupOps > 0) {
      const prep = await load.prepareWrites({ label: 'warm-up', concurrency: 64, ops: warmupOps });
      const r = await load.go();
      warmup = { ops: r.ok, seconds: +r.seconds.toFixed(2), failed: r.failed };
      say(`warm-up: ${fmt(r.ok)} ops untimed (${fmt(r.perSecond)} ops/s, setup ${prep.setupOps} ops)`);
    }

    const maxRate = num(a['max-rate'], 'max-rate', undefined) ?? yardBefore.verifiesPerSecond * 0.6;
    for (const concurrency of levels) {
      const prep = await load.prepareWrites({
        label: `writes@${concurrency}`,
        concurrency,
        ...(ops !== undefined ? { ops } : { seconds, budgetOps: budgetFor(concurrency, seconds!, maxRate) }),
      });
      const m = await measure(server, load, prep, '/v1/ops', 'POST');
      const w = writeFigures(m, yardBefore.verifiesPerSecond);
      writes.push(w);
      say(
        `writes @${concurrency}: ${fmt(w.opsPerSec)} ops/s, p50 ${(w.latencyUs.p50 / 1000).toFixed(2)} ms, p99 ${(w.latencyUs.p99 / 1000).toFixed(2)} ms` +
          `, ${fmt(w.ops)} ops in ${w.seconds.toFixed(1)} s${w.failed ? `, ${w.failed} FAILED` : ''}` +
          ` (prepared ${fmt(prep.requests)} ops: setup ${prep.setupSeconds.toFixed(1)} s, signing ${prep.signSeconds.toFixed(1)} s)` +
          (w.stoppedBy === 'exhausted' ? ' — pre-signed ops ran out before the time was up; raise --max-rate' : ''),
      );
      for (const f of w.failureSamples) say(`  failure: ${f.what} → ${f.status} ${f.detail}`);
      if (concurrency === ceilingAt) {
        // bench:floor's durable rung at the same concurrency, right after the level: the most any
        // server on this stack writes here, measured in the same minute as the service.
        ceiling = await measureRung('durable', { ...floorInput(), concurrency, seconds: seconds ?? 1, verifyThreads: defaultVerifyThreads() });
        say(`ceiling @${concurrency} (bench:floor's durable rung): ${fmt(ceiling.perSecond)} ops/s, p99 ${(ceiling.latencyUs.p99 / 1000).toFixed(2)} ms`);
      }
    }

    for (const [kind, endpoint, route] of [
      ['voucher', 'GET /v1/vouchers/:id', '/v1/vouchers/:id'],
      ['inclusion', 'GET /v1/proofs/inclusion', '/v1/proofs/inclusion'],
    ] as const) {
      const prep = await load.prepareReads({
        label: `${kind}@${readConcurrency}`,
        kind,
        concurrency: readConcurrency,
        ...(ops !== undefined ? { ops } : { seconds: readSeconds }),
      });
      const m = await measure(server, load, prep, route);
      const r = readFigures(m, endpoint);
      reads.push(r);
      say(`reads ${endpoint} @${readConcurrency}: ${fmt(r.perSec)}/s, p50 ${(r.latencyUs.p50 / 1000).toFixed(2)} ms${r.failed ? `, ${r.failed} FAILED` : ''}`);
      for (const f of r.failureSamples) say(`  failure: ${f.what} → ${f.status} ${f.detail}`);
    }
    serverMemory = server.memory();
  } finally {
    await load?.close();
    if (server) {
      await server.stop();
      if (profDir) say(`server CPU profile written to ${profDir}`);
    }
    if (a.keep) say(`ledger kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }

  const yardAfter = await measureVerifyRate(2, yardSeconds);
  const yardstick = Math.round((yardBefore.verifiesPerSecond + yardAfter.verifiesPerSecond) / 2);
  // Ratios against the mean of the two yardstick readings, taken before and after the levels.
  const finalWrites = writes.map((w) => ({ ...w, ratio: +(w.opsPerSec / yardstick).toFixed(4) }));
  const valid = finalWrites.every((w) => w.valid) && reads.every((r) => r.valid);
  const finishedAt = new Date();

  say();
  say('=== rvl write benchmark: mixed signed, durable ops ===');
  say('(per cycle of 10: 2 splits, 2 partial transfers, 2 accepts, 2 co-signed partial pledges, 2 releases; 12 signatures)');
  say(`machine: ${describeMachine(machine)}; load average at end ${loadAverage().join(' ')}`);
  say(
    `yardstick: node:crypto Ed25519 verifies/s on 2 threads ${fmt(yardstick)} (before ${fmt(yardBefore.verifiesPerSecond)}, after ${fmt(yardAfter.verifiesPerSecond)}); 1 thread ${fmt(yardOne.verifiesPerSecond)}`,
  );
  say('ratio = ops/s ÷ yardstick');
  say();
  say(writeTable(finalWrites));
  say();
  say("where a write's time goes in the server (mean ms per op; the writer's stages from /metrics):");
  say(stageTable(finalWrites));
  const ceilingShare = (() => {
    const w = finalWrites.find((x) => x.concurrency === ceiling?.concurrency);
    return ceiling && w ? +(w.opsPerSec / ceiling.perSecond).toFixed(3) : undefined;
  })();
  if (ceiling) {
    say();
    say(
      `ceiling at concurrency ${ceiling.concurrency}: ${fmt(ceiling.perSecond)} ops/s = ratio ${(ceiling.perSecond / yardstick).toFixed(3)}, p99 ${ms(ceiling.latencyUs.p99)} ms ` +
        `(npm run bench:floor's durable rung: HTTP, JCS, 1.2 signatures verified and a durable append per op, nothing else); the service reached ${ceilingShare} of it`,
    );
  }
  say();
  say(readTable(reads));
  if (serverMemory) say(`\nserver RSS at end ${mib(serverMemory.rss)}, peak ${mib(serverMemory.hwm)}`);

  const result = {
    kind: 'rvl-bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    valid,
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    machine: { ...machine, loadAverageAfter: loadAverage() },
    config: { levels, seconds, ops, readConcurrency, readSeconds, warmupOps, suppliers, banks, server: path.relative(REPO_ROOT, mainJs), cpuProfile: profDir },
    yardstick: {
      what: 'node:crypto Ed25519 verify of a fixed 300-byte message, sync crypto.verify with a cached KeyObject, per worker thread, summed',
      twoThreads: yardstick,
      twoThreadsBefore: yardBefore.verifiesPerSecond,
      twoThreadsAfter: yardAfter.verifiesPerSecond,
      oneThread: yardOne.verifiesPerSecond,
      seconds: yardSeconds,
    },
    warmup,
    writes: finalWrites,
    ceiling: ceiling && { ...ceiling, ratio: +(ceiling.perSecond / yardstick).toFixed(4), serviceShare: ceilingShare },
    reads,
    serverMemory,
  };
  const file = await writeJson(outDir, 'bench', startedAt, result);
  return closeRun(say, file, valid ? undefined : 'some requests failed (see failures above)');
};

runMain('bench', USAGE, main);
