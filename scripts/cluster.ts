/**
 * `npm run cluster`: a local cluster on loopback ports (docs/protocol.md §11.5, §11.6): a
 * PostgreSQL 15 primary with two synchronous standbys (s1, s2) as the log of record, and N ledger
 * nodes on it.
 *
 *   npm run cluster -- up     [--dir ./cluster-data] [--nodes 3]   start it (or restart it after down)
 *   npm run cluster -- status [--dir …] [--json]                  each server and node: alive? role?
 *   npm run cluster -- down   [--dir …]                           stop everything, keep the data
 *   npm run cluster -- kill NAME [--signal SIGKILL] [--dir …]     signal one node (node2) or PostgreSQL
 *                                                                 server (pg-primary, pg-s1, pg-s2)
 *   npm run cluster -- start NAME [--dir …]                       start one stopped node or server again
 *   npm run cluster -- promote [NAME] [--dir …]                  after the primary died: promote the
 *                                                                 standby with the most WAL (or NAME)
 *                                                                 and make the other stream from it
 *
 * The folder holds `cluster.json` (names, ports, folders, pids: what status, down and kill read),
 * `operator.key` (the operator's key file, made here with the SDK as `rvl keygen` makes one) and
 * its `operator.pub`, `node.key` (the ledger's node key, which every node shares: node1 writes it
 * at genesis), `pg-primary/`, `pg-s1/`, `pg-s2/` (scripts/lib/pg-local.ts) and `node<i>/` with
 * `data/` (the node's LevelDB) and `log` (its stdout and stderr).
 *
 * Nodes run `node dist/src/main.js` detached, so they outlive this script; `npm run cluster`
 * builds first. node1 starts alone and is waited for (it writes genesis into the database and the
 * node key file); the others start after it, at once.
 *
 * Exit codes: 0 done; 1 it failed (the message says what, with the tail of the log concerned);
 * 2 bad command line.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { generateKeyFile, keyFileText } from '../src/client/index.js';
import { OPERATOR_ID } from '../src/domain/limits.js';
import { SERVICE_ENV_VARS } from '../src/service/config.js';
import { attach, clusterUrl, freePort, logTail, type PgInstance, startPrimary, startStandby } from './lib/pg-local.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = path.join(REPO_ROOT, 'dist', 'src', 'main.js');
const STATE_FILE = 'cluster.json';
const STATE_VERSION = 1;
/** The standbys' names, as the primary's synchronous_standby_names lists them: ANY 1 (s1, s2). */
const STANDBYS = ['s1', 's2'] as const;
const NODES_DEFAULT = 3;
const NODES_MAX = 9;
/** How long a node may take to answer /readyz 200 (a cold start on a loaded 2-core box is ~1 s). */
const NODE_READY_MS = 60_000;
/** How long a node may take to exit on SIGTERM before it is killed. */
const NODE_STOP_MS = 15_000;
const PROGRESS_EVERY_MS = 5_000;
/** Variables a node reads that never come from the environment of whoever runs this script. */
const NODE_ENV_VARS = [...SERVICE_ENV_VARS, 'LEDGER_CLUSTER_URL', 'LEDGER_NODE_URL', 'LEDGER_WITNESSES_FILE', 'LEDGER_WEBHOOK_ALLOW'];
/** Of those, the ones passed through when set (a benchmark turns rate limiting off, a debug session logs more). */
const NODE_ENV_PASSED = ['LOG_LEVEL', 'RATE_LIMIT_PER_MIN'];

interface PgState {
  /** The name `kill` and `status` use: pg-primary, pg-s1, pg-s2. */
  readonly name: string;
  /** Its PostgreSQL name: `primary`, or the standby's application_name. */
  readonly pgName: string;
  readonly port: number;
  readonly dir: string;
  /**
   * A former primary that a promoted standby replaced: its WAL may have forked from the new
   * timeline, so it is never started again (it would need pg_rewind or a new base backup).
   */
  retired?: boolean;
}

interface NodeState {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  pid: number | undefined;
}

interface ClusterState {
  readonly version: number;
  readonly databaseUrl: string;
  readonly operatorKeyFile: string;
  readonly operatorPublicKey: string;
  readonly nodeKeyFile: string;
  readonly pg: PgState[];
  readonly nodes: NodeState[];
}

class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const note = (line: string): void => {
  process.stderr.write(`cluster: ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- state ----

const stateFile = (dir: string): string => path.join(dir, STATE_FILE);

const readState = async (dir: string): Promise<ClusterState> => {
  const file = stateFile(dir);
  if (!existsSync(file)) throw new ClusterError(`no cluster in ${dir} (no ${STATE_FILE}); start one with: npm run cluster -- up --dir ${dir}`);
  const state = JSON.parse(await readFile(file, 'utf8')) as ClusterState;
  if (state.version !== STATE_VERSION) throw new ClusterError(`${file} is of version ${state.version}; this script reads version ${STATE_VERSION}`);
  return state;
};

/** Saves one after another: nodes starting at once each save their pid. */
let saving: Promise<void> = Promise.resolve();

/** Written whole to a temporary file, then renamed: a crash never leaves half a state file. */
const saveState = (dir: string, state: ClusterState): Promise<void> => {
  const file = stateFile(dir);
  const save = async (): Promise<void> => {
    await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  };
  saving = saving.then(save, save);
  return saving;
};

const pgOf = (p: PgState): PgInstance => attach({ dir: p.dir, name: p.pgName, port: p.port });

// ---- nodes ----

/** A live process whose command line runs the service (a recycled pid does not count). */
const nodeAlive = (pid: number | undefined): pid is number => {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(MAIN_JS);
  } catch {
    return false;
  }
};

const nodeEnv = (state: ClusterState, n: NodeState): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NODE_ENV_VARS) if (!NODE_ENV_PASSED.includes(name)) delete env[name];
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(n.port),
    LEDGER_NAME: 'cluster',
    LEDGER_DATA_DIR: path.join(n.dir, 'data'),
    LEDGER_NODE_KEY_FILE: state.nodeKeyFile,
    LEDGER_OPERATOR_PUBLIC_KEY: state.operatorPublicKey,
    LEDGER_CLUSTER_URL: state.databaseUrl,
    LEDGER_NODE_URL: n.url,
  };
};

/** GET a node's path: the status and the JSON body (or the text, if it is not JSON); undefined if it does not answer. */
const getJson = async (url: string): Promise<{ status: number; body: unknown } | undefined> => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: res.status, body: text };
    }
  } catch {
    return undefined;
  }
};

/**
 * Spawns a node detached (it outlives this script), its output appended to `<node>/log`, saves
 * its pid in the state file, and waits until its /readyz answers 200; fails with the log's tail if
 * it exits or times out first.
 */
const startNode = async (dir: string, state: ClusterState, n: NodeState): Promise<void> => {
  // Whatever answers there now is not this node: its /readyz would pass for the new one's.
  if ((await getJson(`${n.url}/healthz`)) !== undefined) throw new ClusterError(`something already answers at ${n.url}: stop it before starting ${n.name}`);
  await mkdir(path.join(n.dir, 'data'), { recursive: true });
  const logFile = path.join(n.dir, 'log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [MAIN_JS], { cwd: REPO_ROOT, env: nodeEnv(state, n), detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  n.pid = child.pid;
  await saveState(dir, state);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ?? `exit code ${code}`;
  });
  const started = Date.now();
  let said = started;
  for (;;) {
    if (exited !== undefined) throw new ClusterError(`${n.name} stopped (${exited}) before it was ready${logTail(logFile)}`);
    if ((await getJson(`${n.url}/readyz`))?.status === 200) return;
    const now = Date.now();
    if (now - started > NODE_READY_MS) throw new ClusterError(`${n.name} was not ready (/readyz 200) within ${NODE_READY_MS / 1000} s${logTail(logFile)}`);
    if (now - said >= PROGRESS_EVERY_MS) {
      said = now;
      note(`still waiting for ${n.name} at ${n.url}/readyz (${Math.round((now - started) / 1000)} s)`);
    }
    await sleep(200);
  }
};

/** node1 first (genesis, the node key file), then the others at once; the state is saved as pids become known. */
const startNodes = async (dir: string, state: ClusterState): Promise<void> => {
  const [first, ...rest] = state.nodes;
  if (first === undefined) return;
  await startNode(dir, state, first);
  say(`${first.name} ready at ${first.url}`);
  const others = rest.map((n) => startNode(dir, state, n).then(() => say(`${n.name} ready at ${n.url}`)));
  const results = await Promise.allSettled(others);
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length > 0) throw new ClusterError(failed.join('\n\n'));
};

const stopNode = async (n: NodeState): Promise<void> => {
  if (!nodeAlive(n.pid)) return;
  process.kill(n.pid, 'SIGTERM');
  const until = Date.now() + NODE_STOP_MS;
  while (nodeAlive(n.pid) && Date.now() < until) await sleep(100);
  if (nodeAlive(n.pid)) {
    note(`${n.name} did not stop within ${NODE_STOP_MS / 1000} s of SIGTERM: killing it`);
    process.kill(n.pid, 'SIGKILL');
  }
};

// ---- commands ----

/** `nodesGiven`: --nodes if given (default 3 for a new cluster; a restart keeps the nodes it had). */
const up = async (dir: string, nodesGiven: number | undefined): Promise<void> => {
  if (existsSync(stateFile(dir))) return restart(dir, nodesGiven);
  const nodeCount = nodesGiven ?? NODES_DEFAULT;
  if (!existsSync(MAIN_JS) && nodeCount > 0) throw new ClusterError(`${MAIN_JS} is missing: build first (node scripts/build.mjs), or run npm run cluster`);
  if (existsSync(dir) && (await readdir(dir)).length > 0)
    throw new ClusterError(`${dir} is not empty and holds no ${STATE_FILE}: choose a new or empty folder`);
  await mkdir(dir, { recursive: true });
  // The PostgreSQL servers run as the postgres user when this runs as root: it must pass through.
  await chmod(dir, 0o755);

  // The operator's key, as `rvl keygen --party operator --out <dir>/operator.key` writes it.
  const operator = generateKeyFile(OPERATOR_ID);
  const operatorKeyFile = path.join(dir, 'operator.key');
  await writeFile(operatorKeyFile, keyFileText(operator), { mode: 0o600, flag: 'wx' });
  await writeFile(path.join(dir, 'operator.pub'), `${JSON.stringify({ party: operator.party, publicKey: operator.publicKey })}\n`, { mode: 0o644, flag: 'wx' });

  say(`starting PostgreSQL 15: a primary and standbys ${STANDBYS.join(', ')} (synchronous, ANY 1) in ${dir}`);
  const primary = await startPrimary({ dir: path.join(dir, 'pg-primary'), syncStandbys: [...STANDBYS] });
  const pg: PgState[] = [{ name: 'pg-primary', pgName: primary.name, port: primary.port, dir: primary.dir }];
  const partial = (): ClusterState => ({
    version: STATE_VERSION,
    databaseUrl: '',
    operatorKeyFile,
    operatorPublicKey: operator.publicKey,
    nodeKeyFile: path.join(dir, 'node.key'),
    pg,
    nodes: [],
  });
  await saveState(dir, partial());
  const standbys = await Promise.allSettled(STANDBYS.map((name) => startStandby(primary, { dir: path.join(dir, `pg-${name}`), name })));
  for (const s of standbys) if (s.status === 'fulfilled') pg.push({ name: `pg-${s.value.name}`, pgName: s.value.name, port: s.value.port, dir: s.value.dir });
  await saveState(dir, partial());
  for (const s of standbys) if (s.status === 'rejected') throw s.reason;

  const nodes: NodeState[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const port = await freePort();
    nodes.push({ name: `node${i}`, port, url: `http://127.0.0.1:${port}`, dir: path.join(dir, `node${i}`), pid: undefined });
  }
  const state: ClusterState = { ...partial(), databaseUrl: clusterUrl(pg), nodes };
  await saveState(dir, state);
  await startNodes(dir, state).catch((err: unknown) => {
    throw new ClusterError(`${(err as Error).message}\n\nwhat did start keeps running: npm run cluster -- status --dir ${dir}, or stop it with down`, {
      cause: err,
    });
  });
  await saveState(dir, state);
  summary(dir, state);
};

/** `up` on a cluster that `down` stopped: the same servers, ports and folders, as they were left. */
const restart = async (dir: string, nodesGiven: number | undefined): Promise<void> => {
  const state = await readState(dir);
  if (nodesGiven !== undefined && nodesGiven !== state.nodes.length) {
    throw new ClusterError(
      `the cluster in ${dir} has ${state.nodes.length} nodes; a restart keeps them (start a new cluster in another --dir for another count)`,
    );
  }
  const running = [
    ...state.pg.filter((p) => pgOf(p).pid() !== undefined).map((p) => p.name),
    ...state.nodes.filter((n) => nodeAlive(n.pid)).map((n) => n.name),
  ];
  if (running.length > 0)
    throw new ClusterError(`the cluster in ${dir} is up (${running.join(', ')} running): see npm run cluster -- status, or stop it with down`);
  say(`restarting the cluster in ${dir}`);
  // Writable servers first (they have no standby.signal), then the standbys that stream from them.
  const isStandby = (p: PgState): boolean => existsSync(path.join(p.dir, 'data', 'standby.signal'));
  const live = state.pg.filter((p) => !p.retired);
  for (const p of [...live.filter((q) => !isStandby(q)), ...live.filter(isStandby)]) await pgOf(p).start();
  for (const p of state.pg.filter((q) => q.retired)) note(`${p.name} stays stopped: a standby was promoted in its place`);
  await startNodes(dir, state);
  await saveState(dir, state);
  summary(dir, state);
};

const summary = (dir: string, state: ClusterState): void => {
  say('');
  say('PostgreSQL 15 (the log of record):');
  for (const p of state.pg) say(`  ${p.name.padEnd(12)} postgres://rvl@127.0.0.1:${p.port}/rvl   log ${path.join(p.dir, 'postgres.log')}`);
  say(`  database URL  ${state.databaseUrl}`);
  say('ledger nodes:');
  for (const n of state.nodes) say(`  ${n.name.padEnd(12)} ${n.url}   log ${path.join(n.dir, 'log')}`);
  say(`operator key   ${state.operatorKeyFile}  (e.g. rvl --url ${state.nodes[0]?.url ?? 'http://…'} --key ${state.operatorKeyFile} party list)`);
  say(`node key       ${state.nodeKeyFile}`);
  say('');
  say(`npm run cluster -- status --dir ${dir}   |   kill NAME   |   down`);
};

interface PgStatus {
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  readonly role: 'primary' | 'standby' | 'down';
}
interface NodeStatus {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly alive: boolean;
  readonly readyz: { status: number; body: unknown } | undefined;
  readonly cluster: { status: number; body: unknown } | undefined;
}

const status = async (dir: string, json: boolean): Promise<void> => {
  const state = await readState(dir);
  const pg: PgStatus[] = await Promise.all(
    state.pg.map(async (p) => {
      const inst = pgOf(p);
      return { name: p.name, port: p.port, pid: inst.pid(), role: await inst.role() };
    }),
  );
  const nodes: NodeStatus[] = await Promise.all(
    state.nodes.map(async (n) => {
      const alive = nodeAlive(n.pid);
      const [readyz, cluster] = alive ? await Promise.all([getJson(`${n.url}/readyz`), getJson(`${n.url}/v1/cluster`)]) : [undefined, undefined];
      return { name: n.name, url: n.url, pid: n.pid, alive, readyz, cluster };
    }),
  );
  if (json) {
    say(JSON.stringify({ databaseUrl: state.databaseUrl, pg, nodes }, null, 2));
    return;
  }
  say(`PostgreSQL (${state.databaseUrl}):`);
  for (const p of pg) say(`  ${p.name.padEnd(12)} port ${p.port}  ${p.pid === undefined ? 'not running' : `pid ${p.pid}`}  ${p.role}`);
  say('ledger nodes:');
  for (const n of nodes) {
    if (!n.alive) {
      say(`  ${n.name.padEnd(12)} ${n.url}  not running`);
      continue;
    }
    const ready = n.readyz === undefined ? 'no answer' : n.readyz.status === 200 ? 'ready' : `/readyz ${n.readyz.status} ${JSON.stringify(n.readyz.body)}`;
    const body = n.cluster?.status === 200 ? (n.cluster.body as { leader?: string | null; nodes?: { url: string; role: string; size: number }[] }) : undefined;
    const role = body?.nodes?.find((x) => x.url === n.url);
    const cluster =
      body === undefined
        ? `/v1/cluster ${n.cluster?.status ?? 'no answer'}`
        : `${role?.role ?? '?'}, size ${role?.size ?? '?'}, leader ${body.leader ?? 'none'}`;
    say(`  ${n.name.padEnd(12)} ${n.url}  pid ${n.pid}  ${ready}  ${cluster}`);
  }
};

const down = async (dir: string): Promise<void> => {
  const state = await readState(dir);
  await Promise.all(state.nodes.map(stopNode));
  for (const n of state.nodes) n.pid = undefined;
  say(`stopped ${state.nodes.map((n) => n.name).join(', ') || 'no nodes'}`);
  // The writable server first: a fast shutdown still sends its last WAL to the standbys streaming from it.
  const roles = await Promise.all(state.pg.map(async (p) => ({ p, role: await pgOf(p).role() })));
  for (const { p } of [...roles.filter((r) => r.role === 'primary'), ...roles.filter((r) => r.role !== 'primary')]) await pgOf(p).stop();
  say(`stopped ${state.pg.map((p) => p.name).join(', ')}; the data stays in ${dir} (npm run cluster -- up --dir ${dir} starts it again)`);
  await saveState(dir, state);
};

const kill = async (dir: string, name: string, signal: NodeJS.Signals): Promise<void> => {
  const state = await readState(dir);
  const node = state.nodes.find((n) => n.name === name);
  const pg = state.pg.find((p) => p.name === name);
  if (node !== undefined) {
    if (!nodeAlive(node.pid)) throw new ClusterError(`${name} is not running`);
    process.kill(node.pid, signal);
    say(`sent ${signal} to ${name} (pid ${node.pid})`);
    return;
  }
  if (pg !== undefined) {
    const inst = pgOf(pg);
    const pid = inst.pid();
    if (pid === undefined) throw new ClusterError(`${name} is not running`);
    await inst.kill(signal);
    say(`sent ${signal} to ${name} (postmaster pid ${pid})`);
    return;
  }
  throw new ClusterError(`no ${name} in this cluster; names: ${[...state.nodes, ...state.pg].map((x) => x.name).join(', ')}`);
};

/** Starts one stopped node or PostgreSQL server again, as it was left. */
const startOne = async (dir: string, name: string): Promise<void> => {
  const state = await readState(dir);
  const node = state.nodes.find((n) => n.name === name);
  const pg = state.pg.find((p) => p.name === name);
  if (node !== undefined) {
    if (nodeAlive(node.pid)) throw new ClusterError(`${name} is running (pid ${node.pid})`);
    await startNode(dir, state, node);
    say(`${name} ready at ${node.url}`);
    return;
  }
  if (pg !== undefined) {
    if (pg.retired) throw new ClusterError(`${name} was replaced by a promoted standby and stays stopped`);
    const inst = pgOf(pg);
    if (inst.pid() !== undefined) throw new ClusterError(`${name} is running (postmaster pid ${inst.pid()})`);
    await inst.start();
    say(`${name} accepts connections on port ${pg.port}`);
    return;
  }
  throw new ClusterError(`no ${name} in this cluster; names: ${[...state.nodes, ...state.pg].map((x) => x.name).join(', ')}`);
};

/**
 * After the primary died: promotes the standby with the most WAL (or `name`), and makes every other
 * running standby stream from it, so that its commits find a synchronous standby again.
 */
const promote = async (dir: string, name: string | undefined): Promise<void> => {
  const state = await readState(dir);
  const roles = await Promise.all(state.pg.map(async (p) => ({ p, inst: pgOf(p), role: await pgOf(p).role() })));
  const writable = roles.filter((r) => r.role === 'primary');
  if (writable.length > 0)
    throw new ClusterError(`${writable.map((r) => r.p.name).join(', ')} still accepts writes: kill it first (two primaries would fork the log of record)`);
  const standbys = roles.filter((r) => r.role === 'standby');
  const withLsn = await Promise.all(standbys.map(async (r) => ({ ...r, lsn: await r.inst.lsn() })));
  withLsn.sort((a, b) => (a.lsn === b.lsn ? 0 : a.lsn > b.lsn ? -1 : 1));
  const chosen = name === undefined ? withLsn[0] : withLsn.find((r) => r.p.name === name);
  if (chosen === undefined) throw new ClusterError(name === undefined ? 'no running standby to promote' : `${name} is not a running standby`);
  await chosen.inst.promote();
  say(`promoted ${chosen.p.name} (WAL at ${chosen.lsn})`);
  for (const r of withLsn.filter((x) => x !== chosen)) {
    await r.inst.follow(chosen.inst);
    say(`${r.p.name} streams from ${chosen.p.name}`);
  }
  for (const r of roles.filter((x) => x.role === 'down' && !existsSync(path.join(x.p.dir, 'data', 'standby.signal')))) r.p.retired = true;
  await saveState(dir, state);
};

// ---- command line ----

const USAGE = `usage: npm run cluster -- up [--dir ./cluster-data] [--nodes 3]
       npm run cluster -- status [--dir …] [--json]
       npm run cluster -- down [--dir …]
       npm run cluster -- kill NAME [--signal SIGKILL] [--dir …]     NAME: node1…, pg-primary, pg-s1, pg-s2
       npm run cluster -- start NAME [--dir …]                       start one stopped node or server again
       npm run cluster -- promote [NAME] [--dir …]                  after the primary died: the standby with the most WAL
`;

const usage = (message: string): never => {
  process.stderr.write(`cluster: ${message}\n${USAGE}`);
  process.exit(2);
};

const main = async (): Promise<void> => {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: 'string', default: './cluster-data' },
        nodes: { type: 'string' },
        json: { type: 'boolean', default: false },
        signal: { type: 'string', default: 'SIGKILL' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const dir = path.resolve(values.dir);
  const [command, ...rest] = positionals;
  switch (command) {
    case 'up': {
      const given = values.nodes;
      if (given !== undefined && (!/^\d+$/.test(given) || Number(given) > NODES_MAX))
        return usage(`--nodes must be an integer from 0 to ${NODES_MAX}; got ${given}`);
      return up(dir, given === undefined ? undefined : Number(given));
    }
    case 'status':
      return status(dir, values.json);
    case 'down':
      return down(dir);
    case 'kill': {
      const [name] = rest;
      if (name === undefined) return usage('kill needs a NAME');
      if (!/^SIG[A-Z0-9]+$/.test(values.signal)) return usage(`--signal must be a signal name such as SIGKILL, SIGSTOP, SIGCONT; got ${values.signal}`);
      return kill(dir, name, values.signal as NodeJS.Signals);
    }
    case 'start': {
      const [name] = rest;
      if (name === undefined) return usage('start needs a NAME');
      return startOne(dir, name);
    }
    case 'promote':
      return promote(dir, rest[0]);
    case undefined:
      return usage('give a command');
    default:
      return usage(`unknown command ${command}`);
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
