/**
 * Real clusters for the cluster tests and the cluster soak: a throwaway PostgreSQL 15
 * (scripts/lib/pg-local.ts) and ledger nodes as child processes of the compiled service, each on
 * its own port and folder, all sharing one node key file. Every database gets its own name, so
 * the tests of a file can share one PostgreSQL. Free of vitest (the soak script uses it), so the
 * path of main.js is a parameter; test/cluster/support.ts adds vitest's private build.
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { freePort, type PgInstance } from '../../scripts/lib/pg-local.js';
import { spawnService, tempDir, type Proc } from './service-process.js';
import { until } from './time.js';
import { keyed, type Keyed } from './world.js';
import { Client, type Envelope, type Receipt } from '../e2e/client.js';

/** The operator whose public key every cluster of these tests is created with. */
export const OPERATOR: Keyed = keyed('operator', 'operator', 'cluster');

/** A temporary folder the postgres user can enter (mkdtemp makes 0700 ones), removed by cleanup(). */
export const pgDir = async (): Promise<string> => {
  const dir = await tempDir('rvl-pg-');
  await chmod(dir, 0o755);
  return dir;
};

let databases = 0;

/** A new, empty database on `pg`; its URL (several hosts may be given for failover tests). */
export const newDatabase = async (pg: PgInstance, hosts: readonly PgInstance[] = [pg]): Promise<string> => {
  const name = `rvl_t${process.pid}_${(databases += 1)}`;
  const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  const list = hosts.map((h) => `127.0.0.1:${h.port}`).join(',');
  return `postgres://rvl@${list}/${name}?target_session_attrs=read-write`;
};

export interface NodeProc {
  readonly name: string;
  readonly url: string;
  readonly dataDir: string;
  proc: Proc;
}

export interface ClusterUnderTest {
  readonly dbUrl: string;
  readonly keyFile: string;
  readonly nodes: NodeProc[];
  /** Starts (or restarts) node `i` on its folder and port; waits until it listens. */
  start(i: number, env?: Record<string, string>): Promise<NodeProc>;
  /** Spawns node `i` without waiting (for a start that must fail). */
  spawn(i: number, env?: Record<string, string>): NodeProc;
}

/** A cluster of `n` node slots over a new database; none started yet. */
export const makeCluster = async (pg: PgInstance, n: number, o: { mainJs: string; hosts?: readonly PgInstance[] }): Promise<ClusterUnderTest> => {
  const dbUrl = await newDatabase(pg, o.hosts);
  const root = await tempDir('rvl-cluster-');
  const keyFile = path.join(root, 'node.key');
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const nodes: NodeProc[] = [];
  const spawn = (i: number, env: Record<string, string> = {}): NodeProc => {
    const port = ports[i]!;
    const url = `http://127.0.0.1:${port}`;
    const dataDir = path.join(root, `node${i + 1}`);
    const proc = spawnService({
      mainJs: o.mainJs,
      dataDir,
      env: {
        PORT: String(port),
        LEDGER_NODE_KEY_FILE: keyFile,
        LEDGER_OPERATOR_PUBLIC_KEY: OPERATOR.publicKey,
        LEDGER_CLUSTER_URL: dbUrl,
        LEDGER_NODE_URL: url,
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    const node = nodes[i] ?? { name: `node${i + 1}`, url, dataDir, proc };
    node.proc = proc;
    nodes[i] = node;
    return node;
  };
  return {
    dbUrl,
    keyFile,
    nodes,
    spawn,
    async start(i, env) {
      const node = spawn(i, env);
      await node.proc.waitListening(30_000);
      return node;
    },
  };
};

export interface ClusterInfo {
  readonly leader: string | null;
  readonly nodes: readonly { url: string; role: string; size: number }[];
}

export const clusterOf = async (url: string): Promise<ClusterInfo | undefined> => {
  try {
    const res = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as ClusterInfo) : undefined;
  } catch {
    return undefined;
  }
};

/** The leader URL once one of `urls` reports one that is not `not`. */
export const leaderOf = (urls: readonly string[], ms: number, not?: string): Promise<string> =>
  until(
    `a leader${not ? ` other than ${not}` : ''}`,
    async () => {
      for (const u of urls) {
        const c = await clusterOf(u);
        if (c?.leader && c.leader !== not && urls.includes(c.leader)) return c.leader;
      }
      return undefined;
    },
    ms,
  );

/** Each node's checkpoint line 2 and 3 (size and root) once all agree at `size` or more. */
export const sameRoot = (urls: readonly string[], ms: number, size: number): Promise<string> => {
  let last: (string | undefined)[] = [];
  return until(
    `every node at size ${size} with one root`,
    async () => {
      const notes = await Promise.all(
        urls.map(async (u) => {
          try {
            const res = await fetch(`${u}/v1/checkpoint`, { signal: AbortSignal.timeout(2000) });
            return res.ok ? (await res.text()).split('\n').slice(1, 3).join(' ') : undefined;
          } catch {
            return undefined;
          }
        }),
      );
      last = notes;
      if (notes.some((n) => n === undefined)) return undefined;
      if (new Set(notes).size !== 1) return undefined;
      return Number(notes[0]!.split(' ')[0]) >= size ? notes[0] : undefined;
    },
    ms,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; the nodes' checkpoints (size root): ${JSON.stringify(last)}`);
  });
};

/**
 * Sends an envelope until some node acknowledges it (201, or 200 as a duplicate), trying the
 * nodes in turn from `start`; gives up after `ms`. 503s and refused connections are retried.
 */
export const sendUntilAcknowledged = async (
  urls: readonly string[],
  env: Envelope,
  start: number,
  ms: number,
): Promise<{ receipt: Receipt; status: number; via: string; tries: number }> => {
  const deadline = performance.now() + ms;
  for (let tries = 1, i = start; ; tries += 1, i += 1) {
    const via = urls[i % urls.length]!;
    try {
      const res = await fetch(`${via}/v1/ops`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(env),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (res.status === 201 || res.status === 200) return { receipt: JSON.parse(text) as Receipt, status: res.status, via, tries };
      if (res.status !== 503) throw new Error(`${via} answered ${res.status}: ${text}`);
    } catch (err) {
      if (err instanceof Error && /answered \d{3}/.test(err.message)) throw err;
    }
    if (performance.now() > deadline) throw new Error(`no node acknowledged op ${Client.opIdOf(env)} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export { Client, keyed, type Keyed, until };
