/**
 * `npm run bench:cluster`: what cluster mode costs a write (docs/performance.md, "Cluster").
 *
 * Starts, on this machine, a single node on its embedded LevelDB (no PostgreSQL) and a cluster of
 * three nodes over a PostgreSQL 15 primary with two synchronous standbys (`ANY 1 (s1, s2)`,
 * `synchronous_commit = on`, as in production; scripts/lib/pg-local.ts). Both get the mixed signed
 * write load of `npm run bench` from a load process of their own (load.ts) at the same
 * concurrency, and are measured in rounds, one system at a time, interleaved in time:
 *
 *   single   the single node
 *   cluster  the cluster, the load's streams spread round-robin over the three nodes (stream s on
 *            node s mod 3, each stream on its own keep-alive connection, as a load balancer that
 *            balances connections would): two thirds of the writes reach a follower and are
 *            forwarded to the leader
 *   leader   the cluster, every stream sent to the leader: the cost of forwarding is cluster ÷ leader
 *   alone    (with --alone) as leader, with both followers stopped (SIGSTOP) for the window and
 *            resumed after it: the log of record's cost without the followers' work on the same
 *            cores, roughly what the leader does when each node has a machine of its own
 *
 * Odd rounds run single, cluster, leader; even rounds the mirror (leader, cluster, single), so a
 * steady drift of this VM's speed falls on both sides alike. Each round prints cluster ÷ single
 * and leader ÷ single (ops/s), and the end the median over the rounds.
 *
 * Around each window it reads the CPU time (/proc) of every node process, of every PostgreSQL
 * process (the three postmasters and their children) and of the load process, and the leader's
 * /metrics (group commits, ops per commit, the writer's stages; a leader's commit is its append to
 * PostgreSQL, then its LevelDB commit). Right after a cluster window it reads each node's size:
 * how far the followers lag; then it waits until every node has the leader's size and root.
 *
 *   npm run bench:cluster [-- --concurrency 64] [--seconds 20] [--rounds 2] [--warmup-ops 3000]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { publicKeyFromSeedNode } from '../../src/ledger/node/ed25519-node.js';
import { clusterUrl, freePort, startPrimary, startStandby, type PgInstance } from '../lib/pg-local.js';
import { num, readArgs, runMain, UsageError } from './lib/args.js';
import { LoadProcess, measure } from './lib/driver.js';
import { describeMachine, loadAverage, machineInfo } from './lib/machine.js';
import { STAGES } from './lib/metrics.js';
import { median } from './lib/paired.js';
import { budgetFor, closeRun, writeFigures, type WriteFigures, writeJson } from './lib/report.js';
import { CLK_TCK, DEFAULT_MAIN, REPO_ROOT, startServer, type RunningServer } from './lib/server.js';
import { fmt, ms, table } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const USAGE = `usage: npm run bench:cluster -- [options]
  --concurrency N         concurrent streams of the write load (default 64)
  --seconds N             seconds per timed window (default 20)
  --rounds N              rounds of single, cluster, leader (mirrored every other round; default 2)
  --warmup-ops N          untimed mixed ops on each system before the first round (default 3000; 0 = none)
  --yardstick-seconds N   seconds of the yardstick before the start (default 2)
  --suppliers N --banks N parties of the load (default 16 and 8)
  --max-rate N            ops/s the pre-signed budget of a window allows for (default 0.6 × yardstick)
  --alone                 also measure the leader with both followers stopped (SIGSTOP) during the window
  --cpu-prof DIR          run every cluster node under --cpu-prof, profiles in DIR/node1 … (node 1 started first)
  --pg-set NAME=VALUE,…   PostgreSQL settings for the primary (ALTER SYSTEM, before the nodes start), to
                          find where time goes, e.g. synchronous_standby_names= (no standby waited for) or
                          log_min_duration_statement=0 (every statement's time in its log; with --keep)
  --main FILE             the compiled server (default dist/src/main.js)
  --out DIR               where the JSON goes (default bench-results)
  --keep                  keep the temporary folders (ledgers, PostgreSQL) and say where`;

/** The goal of docs/performance.md, "Cluster": cluster ops/s ÷ single-node ops/s, and the cluster's p99. */
const GOAL_RATIO = 0.6;
const GOAL_P99_MS = 100;
const NODES = 3;
/** How long the followers may take to reach the leader's size after a window. */
const CATCH_UP_TIMEOUT_MS = 120_000;

type System = 'single' | 'cluster' | 'leader' | 'alone';

/** `--pg-set NAME=VALUE,…`: setting names are checked; values are quoted. */
const pgSettingsOf = (raw: string | boolean | undefined): [string, string][] => {
  if (typeof raw !== 'string' || raw === '') return [];
  return raw.split(',').map((pair) => {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at).trim() : '';
    if (!/^[a-z_]+$/.test(name)) throw new UsageError(`--pg-set takes NAME=VALUE pairs of PostgreSQL settings; got ${JSON.stringify(pair)}`);
    return [name, pair.slice(at + 1).trim()];
  });
};

const progress = (line: string): void => {
  process.stderr.write(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- CPU of PostgreSQL's processes ----

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
  /** cutime + cstime: children that exited and were waited for. */
  readonly childTicks: number;
}

const readStat = (pid: number): ProcStat | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), childTicks: Number(rest[13]) + Number(rest[14]) };
  } catch {
    return undefined;
  }
};

/**
 * CPU time (µs) of the process trees under `roots` (the postmasters): every live descendant, and
 * the roots' exited children (a backend that ended); resolution 1/CLK_TCK s.
 */
const treeCpuUs = (roots: readonly number[]): number => {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.set(Number(name), s);
  }
  const inTree = new Set(roots);
  // Parents precede children often but not always: repeat until nothing joins.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of stats) {
      if (!inTree.has(pid) && inTree.has(s.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)?.ticks ?? 0;
  for (const pid of roots) ticks += stats.get(pid)?.childTicks ?? 0;
  return (ticks * 1_000_000) / CLK_TCK;
};

// ---- the systems under test ----

interface NodeInfo {
  readonly server: RunningServer;
  readonly url: string;
}

interface Cpu {
  readonly nodes: readonly number[];
  /** Each node's main (JavaScript) thread. */
  readonly mains: readonly number[];
  readonly pg: number;
}

const ledgerSize = async (url: string): Promise<number> => {
  const res = await fetch(`${url}/v1/ledger`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url}/v1/ledger answered ${res.status}`);
  return ((await res.json()) as { size: number }).size;
};

/** Lines 2 and 3 of a node's signed checkpoint: its size and root. */
const sizeAndRoot = async (url: string): Promise<string> => {
  const res = await fetch(`${url}/v1/checkpoint`, { signal: AbortSignal.timeout(5000) });
  return (await res.text()).split('\n').slice(1, 3).join(' ');
};

const leaderOf = async (urls: readonly string[], timeoutMs: number): Promise<string> => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const u of urls) {
      try {
        const res = await fetch(`${u}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          const c = (await res.json()) as { leader: string | null };
          if (c.leader && urls.includes(c.leader)) return c.leader;
        }
      } catch {
        // not answering yet
      }
    }
    if (performance.now() > deadline) throw new Error(`no node of ${urls.join(', ')} named a leader within ${timeoutMs} ms`);
    await sleep(100);
  }
};

/** Waits until every node has the leader's size and root; ms waited, and the root line. */
const caughtUp = async (leader: string, urls: readonly string[]): Promise<{ ms: number; checkpoint: string }> => {
  const started = performance.now();
  for (;;) {
    const [mine, ...theirs] = await Promise.all([sizeAndRoot(leader), ...urls.filter((u) => u !== leader).map(sizeAndRoot)]);
    if (theirs.every((t) => t === mine)) return { ms: performance.now() - started, checkpoint: mine! };
    if (performance.now() - started > CATCH_UP_TIMEOUT_MS) {
      throw new Error(`the followers did not reach the leader's checkpoint (${mine}) within ${CATCH_UP_TIMEOUT_MS} ms: ${theirs.join(' | ')}`);
    }
    await sleep(50);
  }
};

interface RunFigures {
  readonly round: number;
  readonly system: System;
  readonly write: WriteFigures;
  /** CPU ÷ wall time in the window: every node (start order), all of PostgreSQL, the load process. */
  readonly cores: {
    readonly nodes: readonly number[];
    readonly mainThreads: readonly number[];
    readonly pg: number;
    readonly load: number;
    readonly total: number;
  };
  /** CPU of nodes, PostgreSQL and the load process per op answered 201, µs. */
  readonly cpuUsPerOp: number;
  /** The leader (node1 … in start order) at the start of the window, and at its end if another. */
  readonly leader?: string;
  readonly leaderAfter?: string;
  /** Per node (start order): its size right after the window; the leader's minus each follower's. */
  readonly sizesAtEnd?: readonly number[];
  readonly lagAtEnd?: readonly number[];
  readonly catchUpMs?: number;
}

const main = async (): Promise<number> => {
  const a = readArgs({
    concurrency: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    'warmup-ops': { type: 'string' },
    'yardstick-seconds': { type: 'string' },
    suppliers: { type: 'string' },
    banks: { type: 'string' },
    'max-rate': { type: 'string' },
    'pg-set': { type: 'string' },
    alone: { type: 'boolean' },
    'cpu-prof': { type: 'string' },
    main: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const concurrency = num(a.concurrency, 'concurrency', 64)!;
  const seconds = num(a.seconds, 'seconds', 20, true)!;
  const rounds = num(a.rounds, 'rounds', 2)!;
  const warmupOps = a['warmup-ops'] === '0' ? 0 : num(a['warmup-ops'], 'warmup-ops', 3000)!;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 2, true)!;
  const suppliers = num(a.suppliers, 'suppliers', 16)!;
  const banks = num(a.banks, 'banks', 8)!;
  if (suppliers < 2) throw new UsageError('--suppliers must be at least 2');
  const mainJs = typeof a.main === 'string' ? path.resolve(a.main) : DEFAULT_MAIN;
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const pgSettings = pgSettingsOf(a['pg-set']);
  const profDir = typeof a['cpu-prof'] === 'string' ? path.resolve(a['cpu-prof']) : undefined;
  const systems: readonly System[] = a.alone ? ['single', 'cluster', 'leader', 'alone'] : ['single', 'cluster', 'leader'];

  const startedAt = new Date();
  const machine = machineInfo();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`rvl bench:cluster — ${startedAt.toISOString()}`);
  say(`machine: ${describeMachine(machine)}`);

  progress(`yardstick: node:crypto Ed25519 verify on 2 threads, ${yardSeconds} s …`);
  const yard = await measureVerifyRate(2, yardSeconds);
  const maxRate = num(a['max-rate'], 'max-rate', undefined) ?? yard.verifiesPerSecond * 0.6;
  progress(`yardstick ${fmt(yard.verifiesPerSecond)} verifies/s; pre-signed budget per window for ${fmt(maxRate)} ops/s`);

  // mkdtemp makes 0700 folders; the postgres user must pass through to its instance folders.
  const root = await mkdtemp(path.join(tmpdir(), 'rvl-bc-'));
  await chmod(root, 0o755);
  const pgs: PgInstance[] = [];
  const servers: RunningServer[] = [];
  const loads: LoadProcess[] = [];
  const runs: RunFigures[] = [];
  let leaderUrl = '';
  let nodes: NodeInfo[] = [];
  let dbUrl = '';
  try {
    // PostgreSQL: a primary whose commits wait for one of two synchronous standbys.
    progress('PostgreSQL 15: primary and two synchronous standbys (ANY 1 (s1, s2)) …');
    const primary = await startPrimary({ dir: path.join(root, 'pg-primary'), syncStandbys: ['s1', 's2'] });
    pgs.push(primary);
    pgs.push(await startStandby(primary, { dir: path.join(root, 'pg-s1'), name: 's1' }));
    pgs.push(await startStandby(primary, { dir: path.join(root, 'pg-s2'), name: 's2' }));
    dbUrl = clusterUrl(pgs);
    if (pgSettings.length > 0) {
      const sql = postgres(primary.url, { max: 1, onnotice: () => undefined });
      try {
        for (const [name, value] of pgSettings) await sql.unsafe(`ALTER SYSTEM SET ${name} = '${value.replaceAll("'", "''")}'`);
        await sql`SELECT pg_reload_conf()`;
      } finally {
        await sql.end();
      }
      progress(`PostgreSQL primary settings: ${pgSettings.map(([n, v]) => `${n} = '${v}'`).join(', ')}`);
    }
    progress(`PostgreSQL up: ${pgs.map((p) => `${p.name} :${p.port}`).join(', ')}`);

    // The cluster's nodes share the node key (node 1 creates it at genesis) and the operator key.
    const operatorSeed = randomBytes(32).toString('hex');
    const operatorPublicKey = publicKeyFromSeedNode(operatorSeed);
    const keyFile = path.join(root, 'node.key');
    const ports = await Promise.all(Array.from({ length: NODES }, () => freePort()));
    const started: NodeInfo[] = [];
    for (const [i, port] of ports.entries()) {
      const url = `http://127.0.0.1:${port}`;
      const dataDir = path.join(root, `node${i + 1}`);
      await mkdir(dataDir, { recursive: true });
      const server = await startServer({
        dataDir,
        main: mainJs,
        nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, `node${i + 1}`)}`] : [],
        env: {
          PORT: String(port),
          LEDGER_NODE_KEY_FILE: keyFile,
          LEDGER_OPERATOR_PUBLIC_KEY: operatorPublicKey,
          LEDGER_CLUSTER_URL: dbUrl,
          LEDGER_NODE_URL: url,
        },
      });
      servers.push(server);
      started.push({ server, url });
      progress(
        `node${i + 1}: ${url} (pid ${server.pid}${profDir ? `, CPU profile in ${path.join(profDir, `node${i + 1}`)}` : ''}), started in ${(server.startupMs / 1000).toFixed(2)} s`,
      );
    }
    leaderUrl = await leaderOf(
      started.map((n) => n.url),
      30_000,
    );
    nodes = started;
    progress(`leader: ${leaderUrl}`);

    const singleDir = path.join(root, 'single');
    await mkdir(singleDir, { recursive: true });
    const single = await startServer({ dataDir: singleDir, main: mainJs });
    servers.push(single);
    progress(`single node: ${single.url} (pid ${single.pid}), embedded LevelDB, no PostgreSQL`);

    // One load process per system, each with the bench parties registered on its ledger.
    const singleLedger = (await (await fetch(`${single.url}/v1/ledger`)).json()) as { ledgerId: string };
    const singleOperator = JSON.parse(await readFile(path.join(singleDir, 'operator.key'), 'utf8')) as { secretKey: string };
    const singleLoad = LoadProcess.start();
    loads.push(singleLoad);
    await singleLoad.init({ url: single.url, ledgerId: singleLedger.ledgerId, operatorSeed: singleOperator.secretKey, suppliers, banks });
    const clusterLedger = (await (await fetch(`${leaderUrl}/v1/ledger`)).json()) as { ledgerId: string };
    const clusterLoad = LoadProcess.start();
    loads.push(clusterLoad);
    await clusterLoad.init({ url: leaderUrl, ledgerId: clusterLedger.ledgerId, operatorSeed, suppliers, banks });
    await caughtUp(
      leaderUrl,
      nodes.map((n) => n.url),
    );
    progress(`bench parties registered on both ledgers (load pids ${singleLoad.pid}, ${clusterLoad.pid})`);

    const pgRoots = (): number[] => pgs.map((p) => p.pid()).filter((p): p is number => p !== undefined);
    const cpuNow = (): Cpu => ({ nodes: nodes.map((n) => n.server.cpuUs()), mains: nodes.map((n) => n.server.mainThreadCpuUs()), pg: treeCpuUs(pgRoots()) });
    const allUrls = nodes.map((n) => n.url);
    const nameOf = (url: string): string => `node${allUrls.indexOf(url) + 1}`;

    if (warmupOps > 0) {
      for (const [what, load, targets] of [
        ['single', singleLoad, undefined],
        ['cluster', clusterLoad, allUrls],
      ] as const) {
        progress(`warm-up of ${what}: ${fmt(warmupOps)} ops untimed …`);
        await load.prepareWrites({ label: `warm-up ${what}`, concurrency, ops: warmupOps, ...(targets ? { targets } : {}) });
        const r = await load.go();
        progress(`warm-up of ${what}: ${fmt(r.perSecond)} ops/s${r.failed ? `, ${r.failed} FAILED` : ''}`);
      }
      await caughtUp(leaderUrl, allUrls);
    }

    for (let round = 1; round <= rounds; round += 1) {
      const order = round % 2 === 1 ? systems : [...systems].reverse();
      for (const system of order) {
        const load = system === 'single' ? singleLoad : clusterLoad;
        // The leader as the cluster names it now: a lease lost under load moves it.
        if (system !== 'single') leaderUrl = await leaderOf(allUrls, 30_000);
        const leaderNode = nodes.find((n) => n.url === leaderUrl)!;
        const server = system === 'single' ? single : leaderNode.server;
        const targetsOf: Record<System, readonly string[] | undefined> = { single: undefined, cluster: allUrls, leader: [leaderUrl], alone: [leaderUrl] };
        const targets = targetsOf[system];
        const followerPids = nodes.filter((n) => n !== leaderNode).map((n) => n.server.pid);
        progress(`round ${round}/${rounds}: ${system} — preparing …`);
        const prep = await load.prepareWrites({
          label: `${system} r${round}`,
          concurrency,
          seconds,
          budgetOps: budgetFor(concurrency, seconds, maxRate),
          ...(targets ? { targets } : {}),
        });
        progress(`round ${round}/${rounds}: ${system} — ${seconds} s at concurrency ${concurrency}${targets ? ` over ${targets.length} node(s)` : ''} …`);
        const cpu0 = cpuNow();
        const single0 = [single.cpuUs(), single.mainThreadCpuUs()] as const;
        if (system === 'alone') for (const pid of followerPids) process.kill(pid, 'SIGSTOP');
        let m: Awaited<ReturnType<typeof measure>>;
        try {
          m = await measure(server, load, prep, '/v1/ops', 'POST');
        } finally {
          if (system === 'alone') for (const pid of followerPids) process.kill(pid, 'SIGCONT');
        }
        const cpu1 = cpuNow();
        const single1 = [single.cpuUs(), single.mainThreadCpuUs()] as const;
        const sizesAtEnd = system === 'single' ? undefined : await Promise.all(allUrls.map(ledgerSize));
        const leaderAfter = system === 'single' ? leaderUrl : await leaderOf(allUrls, 30_000);
        if (leaderAfter !== leaderUrl)
          progress(`the leader changed during the window: ${nameOf(leaderUrl)} → ${nameOf(leaderAfter)} (a lease not renewed in time)`);
        const w = writeFigures(m, yard.verifiesPerSecond);
        const wall = m.run.seconds;
        const nodeCores = system === 'single' ? [(single1[0] - single0[0]) / 1e6 / wall] : cpu1.nodes.map((c, i) => (c - cpu0.nodes[i]!) / 1e6 / wall);
        const mainCores = system === 'single' ? [(single1[1] - single0[1]) / 1e6 / wall] : cpu1.mains.map((c, i) => (c - cpu0.mains[i]!) / 1e6 / wall);
        const pgCores = system === 'single' ? 0 : (cpu1.pg - cpu0.pg) / 1e6 / wall;
        const loadCores = m.run.loadCpuUs / 1e6 / wall;
        const sum = nodeCores.reduce((x, y) => x + y, 0) + pgCores + loadCores;
        let catchUpMs: number | undefined;
        if (system !== 'single') catchUpMs = (await caughtUp(leaderAfter, allUrls)).ms;
        const run: RunFigures = {
          round,
          system,
          write: w,
          cores: {
            nodes: nodeCores.map((c) => +c.toFixed(2)),
            mainThreads: mainCores.map((c) => +c.toFixed(2)),
            pg: +pgCores.toFixed(2),
            load: +loadCores.toFixed(2),
            total: +sum.toFixed(2),
          },
          cpuUsPerOp: w.opsPerSec > 0 ? Math.round((sum * 1e6) / w.opsPerSec) : 0,
          ...(system === 'single' ? {} : { leader: nameOf(leaderUrl), ...(leaderAfter !== leaderUrl ? { leaderAfter: nameOf(leaderAfter) } : {}) }),
          ...(sizesAtEnd
            ? {
                sizesAtEnd,
                lagAtEnd: sizesAtEnd.flatMap((size, i) => (allUrls[i] === leaderAfter ? [] : [sizesAtEnd[allUrls.indexOf(leaderAfter)]! - size])),
                catchUpMs: Math.round(catchUpMs!),
              }
            : {}),
        };
        runs.push(run);
        progress(
          `round ${round}/${rounds}: ${system} — ${fmt(w.opsPerSec)} ops/s, p50 ${ms(w.latencyUs.p50)} ms, p99 ${ms(w.latencyUs.p99)} ms` +
            (run.lagAtEnd ? `, followers behind by ${run.lagAtEnd.join(' and ')} entries, caught up in ${((catchUpMs ?? 0) / 1000).toFixed(1)} s` : '') +
            (w.failed ? `, ${w.failed} FAILED` : '') +
            (w.stoppedBy === 'exhausted' ? ' — pre-signed ops ran out before the time was up; raise --max-rate' : ''),
        );
        for (const f of w.failureSamples) progress(`  failure: ${f.what} → ${f.status} ${f.detail}`);
      }
    }
  } finally {
    for (const l of loads) await l.close();
    for (const s of servers) await s.stop();
    for (const p of pgs.reverse()) await p.stop().catch((err: unknown) => progress(`stopping PostgreSQL ${p.name}: ${(err as Error).message}`));
    if (a.keep) progress(`kept: ${root}`);
    else await rm(root, { recursive: true, force: true });
  }

  // ---- the report ----
  const valid = runs.length === rounds * systems.length && runs.every((r) => r.write.valid);
  const of = (round: number, system: System): RunFigures | undefined => runs.find((r) => r.round === round && r.system === system);
  const pairs = Array.from({ length: rounds }, (_, i) => {
    const s = of(i + 1, 'single');
    const c = of(i + 1, 'cluster');
    const l = of(i + 1, 'leader');
    const alone = of(i + 1, 'alone');
    const ratio = (x: RunFigures | undefined, y: RunFigures | undefined) =>
      x && y && y.write.opsPerSec > 0 ? +(x.write.opsPerSec / y.write.opsPerSec).toFixed(3) : Number.NaN;
    return {
      round: i + 1,
      clusterOverSingle: ratio(c, s),
      leaderOverSingle: ratio(l, s),
      clusterOverLeader: ratio(c, l),
      ...(alone ? { aloneOverSingle: ratio(alone, s) } : {}),
    };
  });
  const medianRatio = median(pairs.map((p) => p.clusterOverSingle));
  const clusterP99s = runs.filter((r) => r.system === 'cluster').map((r) => r.write.latencyUs.p99 / 1000);
  const worstClusterP99 = Math.max(...clusterP99s);
  const met = medianRatio >= GOAL_RATIO && worstClusterP99 <= GOAL_P99_MS;

  say();
  say('=== rvl bench:cluster: mixed signed, durable writes; one node vs a cluster of three ===');
  say(`machine: ${describeMachine(machine)}; load average at end ${loadAverage().join(' ')}`);
  if (pgSettings.length > 0) say(`PostgreSQL primary settings changed for this run: ${pgSettings.map(([n, v]) => `${n} = '${v}'`).join(', ')}`);
  say(`concurrency ${concurrency}, ${seconds} s per window, ${rounds} round(s); yardstick ${fmt(yard.verifiesPerSecond)} Ed25519 verifies/s on 2 threads`);
  say(
    'single = one node, embedded LevelDB; cluster = 3 nodes over PostgreSQL 15 (primary + 2 synchronous standbys, ANY 1), streams round-robin over the nodes;',
  );
  say(
    `leader = the same cluster, every stream sent to the leader;${a.alone ? ' alone = leader with both followers stopped (SIGSTOP) during the window;' : ''} cores = CPU ÷ wall time (the machine has 2); nodes in start order, * the leader;`,
  );
  say(
    "main threads = each node's JavaScript thread busy; CPU µs/op = nodes + PostgreSQL + load process per op; lag = leader size − each follower's right after the window.",
  );
  say();
  say(
    table(
      [
        'round',
        { header: 'system', align: 'left' },
        'ops/s',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'cores: nodes',
        'main threads',
        'PG',
        'load',
        'total',
        'CPU µs/op',
        'commits/s',
        'ops/commit',
        'commit ms',
        'lag at end',
        'caught up s',
        'failures',
      ],
      runs.map((r) => [
        r.round,
        r.system,
        fmt(r.write.opsPerSec),
        ms(r.write.latencyUs.p50),
        ms(r.write.latencyUs.p99),
        ms(r.write.latencyUs.p999),
        r.cores.nodes.map((c, i) => `${c.toFixed(2)}${r.leader === `node${i + 1}` ? '*' : ''}`).join(' + '),
        r.cores.mainThreads.map((c, i) => `${Math.round(c * 100)}%${r.leader === `node${i + 1}` ? '*' : ''}`).join(' '),
        r.system === 'single' ? '—' : r.cores.pg.toFixed(2),
        r.cores.load.toFixed(2),
        r.cores.total.toFixed(2),
        fmt(r.cpuUsPerOp),
        fmt(r.write.fsyncsPerSec),
        r.write.opsPerBatch.toFixed(1),
        r.write.commitMsMean.toFixed(2),
        r.lagAtEnd ? `${r.lagAtEnd.join(', ')}${r.leaderAfter ? ` (leader now ${r.leaderAfter})` : ''}` : '—',
        r.catchUpMs === undefined ? '—' : (r.catchUpMs / 1000).toFixed(1),
        r.write.failed === 0 ? '0' : `${r.write.failed} INVALID`,
      ]),
    ),
  );
  say();
  say(
    "where a write's time goes in the server that decides it (mean ms per op, the writer's stages from /metrics; a leader's commit = its append to PostgreSQL + its LevelDB commit):",
  );
  say(
    table(
      ['round', { header: 'system', align: 'left' }, 'in server ms', ...STAGES.map((st) => `${st} ms`), 'HTTP + parsing ms'],
      runs.map((r) => {
        const w = r.write;
        const staged = STAGES.reduce((x, st) => x + w.stagesMs[st], 0);
        return [
          r.round,
          r.system,
          w.serverMsMean.toFixed(2),
          ...STAGES.map((st) => w.stagesMs[st].toFixed(2)),
          Math.max(0, w.serverMsMean - staged).toFixed(2),
        ];
      }),
    ),
  );
  say();
  say('ops/s ratios, paired within each round:');
  say(
    table(
      ['round', 'cluster ÷ single', 'leader ÷ single', 'cluster ÷ leader', ...(a.alone ? ['alone ÷ single'] : [])],
      pairs.map((p) => [
        p.round,
        p.clusterOverSingle.toFixed(3),
        p.leaderOverSingle.toFixed(3),
        p.clusterOverLeader.toFixed(3),
        ...(p.aloneOverSingle === undefined ? [] : [p.aloneOverSingle.toFixed(3)]),
      ]),
    ),
  );
  say(
    `median: cluster ÷ single ${medianRatio.toFixed(3)}, leader ÷ single ${median(pairs.map((p) => p.leaderOverSingle)).toFixed(3)}, cluster ÷ leader ${median(pairs.map((p) => p.clusterOverLeader)).toFixed(3)}`,
  );
  say(
    `goal (cluster ≥ ${GOAL_RATIO} × single at concurrency 64, cluster p99 ≤ ${GOAL_P99_MS} ms): ${met ? 'MET' : 'NOT MET'} ` +
      `(median ratio ${medianRatio.toFixed(3)}, worst cluster p99 ${worstClusterP99.toFixed(1)} ms)` +
      (concurrency === 64 ? '' : `; measured at concurrency ${concurrency}, not 64`),
  );

  const finishedAt = new Date();
  const result = {
    kind: 'rvl-bench-cluster',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    valid,
    command: ['npm run bench:cluster --', ...process.argv.slice(2)].join(' '),
    machine: { ...machine, loadAverageAfter: loadAverage() },
    config: {
      concurrency,
      seconds,
      rounds,
      warmupOps,
      suppliers,
      banks,
      server: path.relative(REPO_ROOT, mainJs),
      postgres: 'PostgreSQL 15, primary + standbys s1, s2; synchronous_standby_names = ANY 1 (s1, s2), synchronous_commit = on, fsync = on',
      pgSettings: Object.fromEntries(pgSettings),
      nodes: NODES,
      spread: 'stream s on node s mod 3 (leader first), one keep-alive connection per stream',
    },
    yardstick: { twoThreads: yard.verifiesPerSecond, seconds: yardSeconds },
    goal: { ratio: GOAL_RATIO, p99Ms: GOAL_P99_MS, met, medianRatio, worstClusterP99Ms: worstClusterP99 },
    pairs,
    runs,
  };
  const file = await writeJson(outDir, 'bench-cluster', startedAt, result);
  return closeRun(say, file, valid ? undefined : 'some requests failed or a window is missing (see above)');
};

runMain('bench:cluster', USAGE, main);
