/**
 * The local PostgreSQL 15 instances of scripts/lib/pg-local.ts, for real: a primary with two
 * synchronous quorum standbys (`ANY 1 (s1, s2)`), what a commit waits for, and a failover that a
 * client on the multi-host URL (`target_session_attrs=read-write`, postgres.js) follows. This is
 * the engine the cluster mode's log of record stands on (docs/protocol.md §11.6).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterUrl, type PgInstance, startPrimary, startStandby } from '../../scripts/lib/pg-local.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; fails the test past `timeoutMs`. */
const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
};

let root = '';
let primary: PgInstance;
let s1: PgInstance;
let s2: PgInstance;
const instances: PgInstance[] = [];
const clients: postgres.Sql[] = [];

/** A client that afterAll closes; notices go to `notices` when given. */
const client = (url: string, notices?: string[]): postgres.Sql => {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: (n) => notices?.push(String(n.message)) });
  clients.push(sql);
  return sql;
};

/** One reading client per server, for the polls. */
const readers = new Map<string, postgres.Sql>();
const reader = (url: string): postgres.Sql => readers.get(url) ?? (readers.set(url, client(url)).get(url) as postgres.Sql);

const valuesOn = async (inst: PgInstance): Promise<string[]> => {
  const rows = await reader(inst.url)<{ v: string }[]>`select v from pg_local_test order by id`;
  return rows.map((r) => r.v);
};

const streaming = async (): Promise<Map<string, string>> => {
  const rows = await reader(primary.url)<{ name: string; sync: string }[]>`
    select application_name as name, sync_state as sync from pg_stat_replication where state = 'streaming'`;
  return new Map(rows.map((r) => [r.name, r.sync]));
};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rvl-pg-local-'));
  // When root, the servers run as the postgres user, which must pass through this folder.
  await chmod(root, 0o755);
  primary = await startPrimary({ dir: path.join(root, 'primary'), syncStandbys: ['s1', 's2'] });
  instances.push(primary);
  const standbys = await Promise.allSettled([
    startStandby(primary, { dir: path.join(root, 's1'), name: 's1' }),
    startStandby(primary, { dir: path.join(root, 's2'), name: 's2' }),
  ]);
  for (const s of standbys) if (s.status === 'fulfilled') instances.push(s.value);
  for (const s of standbys) if (s.status === 'rejected') throw s.reason;
  [, s1, s2] = instances as [PgInstance, PgInstance, PgInstance];
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.end({ timeout: 1 })));
  // SIGKILL: these servers hold nothing worth a clean shutdown, and it is quickest.
  await Promise.allSettled(instances.map((i) => i.kill('SIGKILL')));
  if (root !== '') await rm(root, { recursive: true, force: true });
}, 30_000);

describe('local PostgreSQL 15 with two synchronous standbys', () => {
  it('starts a durable primary whose two standbys stream as a quorum of one', async () => {
    const sql = client(primary.url);
    const [settings] = await sql<{ names: string; commit: string; fsync: string; wal: string; db: string; owner: string }[]>`
      select current_setting('synchronous_standby_names') as names, current_setting('synchronous_commit') as commit,
             current_setting('fsync') as fsync, current_setting('wal_level') as wal, current_database() as db,
             (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner`;
    expect(settings).toEqual({ names: 'ANY 1 (s1, s2)', commit: 'on', fsync: 'on', wal: 'replica', db: 'rvl', owner: 'rvl' });
    expect(Object.fromEntries(await streaming())).toEqual({ s1: 'quorum', s2: 'quorum' });
    expect(await primary.role()).toBe('primary');
    expect(await s1.role()).toBe('standby');
    expect(await s2.role()).toBe('standby');
    expect(new Set(instances.map((i) => i.port)).size).toBe(3);
    expect(primary.pid()).toBeGreaterThan(0);
  });

  it('shows a write on the primary on both standbys', async () => {
    const sql = client(primary.url);
    await sql`create table pg_local_test (id serial primary key, v text not null)`;
    await sql`insert into pg_local_test (v) values ('first')`;
    for (const s of [s1, s2]) await eventually(`the row on ${s.name}`, async () => (await valuesOn(s)).includes('first'));
  });

  it('holds a commit while no standby has it, and returns it once one is back', async () => {
    await Promise.all([s1.stop(), s2.stop()]);
    expect(s1.pid()).toBeUndefined();

    // The commit stays unanswered past a 1 s deadline…
    const heldSql = client(primary.url);
    const [{ pid } = { pid: 0 }] = await heldSql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    let answered = false;
    const held = heldSql`insert into pg_local_test (v) values ('held')`.then(() => {
      answered = true;
    });
    const deadline = await Promise.race([held.then(() => 'answered'), sleep(1_000).then(() => 'still waiting')]);
    expect(deadline).toBe('still waiting');
    expect(answered).toBe(false);
    // …and the server says why: its backend waits for synchronous replication.
    const [activity] = await reader(primary.url)<{ event: string | null }[]>`select wait_event as event from pg_stat_activity where pid = ${pid}`;
    expect(activity?.event).toBe('SyncRep');

    // …until one standby (of the two named) has it on disk.
    await s1.start();
    await held;
    expect(answered).toBe(true);
    await eventually('the held row on s1', async () => (await valuesOn(s1)).includes('held'));
    await s2.start();
    await eventually('both standbys streaming again', async () => (await streaming()).size === 2);
  });

  it('fails over: SIGKILL the primary, promote the standby with the most WAL, write through the multi-host URL', async () => {
    const url = clusterUrl([primary, s1, s2]);
    expect(url).toBe(`postgres://rvl@127.0.0.1:${primary.port},127.0.0.1:${s1.port},127.0.0.1:${s2.port}/rvl?target_session_attrs=read-write`);
    const app = client(url);
    const [before] = await app<{ port: number }[]>`insert into pg_local_test (v) values ('before') returning inet_server_port() as port`;
    expect(before?.port).toBe(primary.port);

    await primary.kill('SIGKILL');
    expect(primary.pid()).toBeUndefined();
    expect(await primary.isReady()).toBe(false);

    const [lsn1, lsn2] = await Promise.all([s1.lsn(), s2.lsn()]);
    const [next, other] = lsn1 >= lsn2 ? [s1, s2] : [s2, s1];
    await next.promote();
    expect(await next.role()).toBe('primary');
    // The promoted server's commits wait for the other standby (its own ANY 1 (s1, s2)).
    await other.follow(next);

    // The same client reconnects: the dead host and the read-only standby are passed over.
    const [after] = await app<{ port: number }[]>`insert into pg_local_test (v) values ('after') returning inet_server_port() as port`;
    expect(after?.port).toBe(next.port);
    // A fresh client finds the writable server too, and every acknowledged commit is there.
    const values = (await client(url)<{ v: string }[]>`select v from pg_local_test order by id`).map((r) => r.v);
    expect(values).toEqual(['first', 'held', 'before', 'after']);
    await eventually(`the new row on ${other.name}`, async () => (await valuesOn(other)).includes('after'));
  });
});
