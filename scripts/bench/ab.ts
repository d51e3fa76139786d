/**
 * `npm run bench:ab`: is a change faster? This VM's CPU speed swings by up to 2× within minutes,
 * so two `npm run bench` runs taken minutes apart cannot tell a 10 % change from the weather. This
 * script compares two builds of the server under the same write load, interleaved in time:
 * rounds of A B B A (the second half mirrors the first, so a steady drift falls on both alike),
 * each run on a fresh ledger with the same warm-up, and reports every run and the paired ratios.
 *
 * A is a git ref (default HEAD), built into a temporary worktree; B is this work tree's
 * `dist/` (built by the npm script). Both use this checkout's node_modules.
 *
 * With `--a-env` / `--b-env` (the service's own variables, e.g. RATE_LIMIT_PER_MIN=60000 to
 * measure the rate limiter) it compares two settings as well as, or instead of, two builds.
 *
 *   npm run bench:ab -- [--base HEAD] [--rounds 3] [--seconds 6 | --ops N] [--concurrency 64]
 *                       [--a-env NAME=VALUE,…] [--b-env NAME=VALUE,…]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { num, readArgs, runMain, UsageError } from './lib/args.js';
import { LoadProcess, measure } from './lib/driver.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { median, paired, ROUND, type PairedRun, type Side } from './lib/paired.js';
import { budgetFor, closeRun, writeFigures, type WriteFigures, writeJson } from './lib/report.js';
import { DEFAULT_MAIN, REPO_ROOT, startServer } from './lib/server.js';
import { SERVICE_ENV_VARS } from '../../src/service/config.js';
import { fmt, table } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const USAGE = `usage: npm run bench:ab -- [options]
  --base REF           the git ref to compare against (default HEAD); B is this work tree's build
  --rounds N           rounds of A B B A (default 3: 12 runs)
  --seconds N          timed seconds per run (default 6) …
  --ops N              … or exactly N timed ops per run
  --yardstick-seconds N  the yardstick's length before each run (default 1)
  --main FILE          B's compiled server (default dist/src/main.js)
  --concurrency N      concurrency of the write load (default 64)
  --warmup-ops N       untimed mixed ops per run before the window (default 2000)
  --a-env NAME=VALUE,…  the service's variables for A's server (e.g. RATE_LIMIT_PER_MIN=60000) …
  --b-env NAME=VALUE,…  … and for B's (each run otherwise gets the service's defaults)
  --out DIR            where the JSON goes (default bench-results)`;

interface Variant {
  readonly name: Side;
  readonly label: string;
  readonly main: string;
  readonly env: Record<string, string>;
}

/** The service's variables a run may set (the others are the benchmark's: where it listens, its data, its keys). */
const TUNABLE: readonly string[] = SERVICE_ENV_VARS.filter(
  (name) => !['HOST', 'PORT', 'LEDGER_DATA_DIR', 'LEDGER_OPERATOR_PUBLIC_KEY', 'LEDGER_NODE_KEY_FILE', 'METRICS_HOST', 'METRICS_PORT'].includes(name),
);

/** `NAME=VALUE,NAME=VALUE` of the tunable service variables. */
const serviceEnv = (raw: unknown, option: string): Record<string, string> => {
  if (raw === undefined) return {};
  const env: Record<string, string> = {};
  for (const item of String(raw).split(',')) {
    const at = item.indexOf('=');
    const name = item.slice(0, at);
    if (at < 1 || !TUNABLE.includes(name)) {
      throw new UsageError(`--${option} takes NAME=VALUE items of ${TUNABLE.join(', ')}; got ${JSON.stringify(item)}`);
    }
    env[name] = item.slice(at + 1);
  }
  return env;
};

const envLabel = (env: Record<string, string>): string =>
  Object.keys(env).length === 0
    ? ''
    : ` with ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`;

interface Run extends PairedRun {
  readonly yardstick: number;
  readonly figures: WriteFigures;
}

const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();

/** Builds `ref` into a temporary worktree sharing this checkout's node_modules; its server entry point. */
const buildRef = async (ref: string, say: (s: string) => void): Promise<{ main: string; sha: string; cleanup: () => void }> => {
  const sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = await mkdtemp(path.join(tmpdir(), `rvl-ab-${sha.slice(0, 8)}-`));
  git('worktree', 'add', '--detach', '--force', dir, sha);
  const removeWorktree = () => {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git('worktree', 'prune');
    }
  };
  // An interrupted run removes its worktree too.
  const onSignal = (signal: NodeJS.Signals) => {
    removeWorktree();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cleanup = () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    removeWorktree();
  };
  try {
    const lockHere = await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8');
    const lockThere = await readFile(path.join(dir, 'package-lock.json'), 'utf8').catch(() => '');
    if (lockHere !== lockThere) say(`note: ${ref}'s package-lock.json differs from this checkout's; A runs on this checkout's node_modules`);
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    say(`building ${ref} (${sha.slice(0, 12)}) in ${dir} …`);
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: dir,
      stdio: 'inherit',
    });
    const main = path.join(dir, 'dist', 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${ref} built no dist/src/main.js`);
    return { main, sha, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
};

/** One run: a fresh server and ledger, warm-up, one timed window at `concurrency`. */
const runOnce = async (
  v: Variant,
  o: { concurrency: number; seconds: number | undefined; ops: number | undefined; warmupOps: number; yardSeconds: number },
): Promise<{ figures: WriteFigures; yardstick: number }> => {
  // A short yardstick right before the run: the machine's speed at this moment.
  const yard = await measureVerifyRate(2, o.yardSeconds);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rvl-ab-data-'));
  const server = await startServer({ dataDir, main: v.main, env: v.env });
  let load: LoadProcess | undefined;
  try {
    const ledger = (await (await fetch(`${server.url}/v1/ledger`)).json()) as { ledgerId: string };
    const operator = JSON.parse(await readFile(path.join(dataDir, 'operator.key'), 'utf8')) as { secretKey: string };
    load = LoadProcess.start();
    await load.init({ url: server.url, ledgerId: ledger.ledgerId, operatorSeed: operator.secretKey, suppliers: 16, banks: 8 });
    if (o.warmupOps > 0) {
      await load.prepareWrites({ label: 'warm-up', concurrency: o.concurrency, ops: o.warmupOps });
      await load.go();
    }
    const prep = await load.prepareWrites({
      label: `writes@${o.concurrency}`,
      concurrency: o.concurrency,
      ...(o.ops !== undefined ? { ops: o.ops } : { seconds: o.seconds!, budgetOps: budgetFor(o.concurrency, o.seconds!, yard.verifiesPerSecond * 0.6) }),
    });
    const m = await measure(server, load, prep, '/v1/ops', 'POST');
    return { figures: writeFigures(m, yard.verifiesPerSecond), yardstick: yard.verifiesPerSecond };
  } finally {
    await load?.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
};

const main = async (): Promise<number> => {
  const a = readArgs({
    base: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    ops: { type: 'string' },
    'yardstick-seconds': { type: 'string' },
    main: { type: 'string' },
    concurrency: { type: 'string' },
    'warmup-ops': { type: 'string' },
    'a-env': { type: 'string' },
    'b-env': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const base = typeof a.base === 'string' ? a.base : 'HEAD';
  const rounds = num(a.rounds, 'rounds', 3)!;
  const ops = num(a.ops, 'ops', undefined);
  if (ops !== undefined && a.seconds !== undefined) throw new UsageError('give --seconds or --ops, not both');
  const seconds = ops === undefined ? num(a.seconds, 'seconds', 6, true)! : undefined;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 1, true)!;
  const mainB = typeof a.main === 'string' ? path.resolve(a.main) : DEFAULT_MAIN;
  const concurrency = num(a.concurrency, 'concurrency', 64)!;
  const warmupOps = a['warmup-ops'] === '0' ? 0 : num(a['warmup-ops'], 'warmup-ops', 2000)!;
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const envA = serviceEnv(a['a-env'], 'a-env');
  const envB = serviceEnv(a['b-env'], 'b-env');
  const say = (line = '') => process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const machine = machineInfo();
  say(`rvl bench:ab — ${startedAt.toISOString()}`);
  say(`machine: ${describeMachine(machine)}`);

  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src') !== '';
  const built = await buildRef(base, say);
  const variants: Record<Side, Variant> = {
    A: { name: 'A', label: `${base} (${built.sha.slice(0, 12)})${envLabel(envA)}`, main: built.main, env: envA },
    B: {
      name: 'B',
      label: `work tree (${git('rev-parse', '--short=12', 'HEAD')}${dirty ? ' + uncommitted changes' : ''})${envLabel(envB)}`,
      main: mainB,
      env: envB,
    },
  };
  say(`A = ${variants.A.label}`);
  say(`B = ${variants.B.label}`);
  say(
    `${rounds} round(s) of A B B A at concurrency ${concurrency}, ${ops === undefined ? `${seconds} s` : `${fmt(ops)} ops`} each, ${fmt(warmupOps)} warm-up ops per run`,
  );

  const runs: Run[] = [];
  try {
    for (let round = 1; round <= rounds; round += 1) {
      for (const name of ROUND) {
        const r = await runOnce(variants[name], { concurrency, seconds, ops, warmupOps, yardSeconds });
        runs.push({ side: name, round, yardstick: r.yardstick, figures: r.figures });
        const f = r.figures;
        say(
          `  round ${round} ${name}: ${fmt(f.opsPerSec)} ops/s, ratio ${f.ratio.toFixed(3)}, p99 ${(f.latencyUs.p99 / 1000).toFixed(1)} ms, ` +
            `server ${fmt(f.serverCpuUsPerOp)} µs/op (main thread ${fmt(f.serverMainThreadCpuUsPerOp)}), yardstick ${fmt(r.yardstick)}` +
            (f.valid ? '' : ` — INVALID: ${f.failed} failed`),
        );
      }
    }
  } finally {
    built.cleanup();
  }

  const pick = (name: Side, f: (r: Run) => number) => median(runs.filter((r) => r.side === name).map(f));
  const metrics: [string, (r: Run) => number, number][] = [
    ['ops/s', (r) => r.figures.opsPerSec, 0],
    ['ratio (ops/s ÷ yardstick)', (r) => r.figures.ratio, 3],
    ['p50 ms', (r) => r.figures.latencyUs.p50 / 1000, 1],
    ['p99 ms', (r) => r.figures.latencyUs.p99 / 1000, 1],
    ['server CPU µs/op', (r) => r.figures.serverCpuUsPerOp, 0],
    ['main thread µs/op', (r) => r.figures.serverMainThreadCpuUsPerOp, 0],
    ['main thread busy', (r) => r.figures.serverMainThreadBusy, 2],
    ['load CPU µs/op', (r) => r.figures.loadCpuUsPerOp, 0],
    ['yardstick', (r) => r.yardstick, 0],
  ];
  // Paired: within each round, B's mean over A's mean (the two As and two Bs of one round are
  // close in time).
  const rows = metrics.map(([name, f, digits]) => {
    const p = paired(runs, f);
    return [name, pick('A', f).toFixed(digits), pick('B', f).toFixed(digits), p.median.toFixed(3), `${p.min.toFixed(3)} – ${p.max.toFixed(3)}`];
  });
  say();
  say(`=== A/B at concurrency ${concurrency}: medians of ${2 * rounds} runs each; B ÷ A paired within each round ===`);
  say(`A = ${variants.A.label}; B = ${variants.B.label}`);
  say(table([{ header: 'figure', align: 'left' }, 'A', 'B', 'B ÷ A (median)', 'B ÷ A (range)'], rows));
  const valid = runs.every((r) => r.figures.valid);
  const file = await writeJson(outDir, 'bench-ab', startedAt, {
    kind: 'rvl-bench-ab',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    valid,
    command: ['npm run bench:ab --', ...process.argv.slice(2)].join(' '),
    machine,
    config: {
      base,
      baseSha: built.sha,
      rounds,
      seconds,
      ops,
      concurrency,
      warmupOps,
      yardstickSeconds: yardSeconds,
      B: variants.B.label,
      mainB: path.relative(REPO_ROOT, mainB),
      envA,
      envB,
    },
    runs,
  });
  return closeRun(say, file, valid ? undefined : 'some requests failed (see above)');
};

runMain('bench:ab', USAGE, main);
