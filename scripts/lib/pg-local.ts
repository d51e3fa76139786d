/**
 * Throwaway local PostgreSQL 15 instances for the tests and the dev cluster (`npm run cluster`):
 * a primary with synchronous streaming standbys on loopback ports, each in its own folder.
 *
 *   const primary = await startPrimary({ dir: '/tmp/x/primary', syncStandbys: ['s1', 's2'] });
 *   const s1 = await startStandby(primary, { dir: '/tmp/x/s1', name: 's1' });
 *   const s2 = await startStandby(primary, { dir: '/tmp/x/s2', name: 's2' });
 *   const url = clusterUrl([primary, s1, s2]); // postgres://rvl@…,…,…/rvl?target_session_attrs=read-write
 *
 * An instance's folder holds `data/` (PGDATA), `sock/` (its unix socket: there is no
 * /var/run/postgresql here) and `postgres.log` (the server's log). Every instance listens on
 * 127.0.0.1 only and trusts every local connection: these are test and development servers, never
 * a production layout (docs/cluster.md describes that).
 *
 * Durability is real: `fsync` stays on and `synchronous_commit = on`; with `syncStandbys` the
 * primary names them in `synchronous_standby_names = 'ANY 1 (…)'`, so a commit returns only once
 * the primary and at least one of them have it on disk. Only the initial copies skip their fsync
 * (`initdb --no-sync`, `pg_basebackup --no-sync`) to start fast: a machine crash in the first
 * seconds of an instance's life may lose the instance, never an acknowledged commit after it.
 *
 * PostgreSQL refuses to run as root: when this process is root, the server binaries run as the
 * `postgres` system user (runuser) and the instance folders belong to it. Every wait has a timeout
 * and fails with an error that quotes the tail of the instance's log; a wait longer than a few
 * seconds says so on stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

const execFileP = promisify(execFile);

/** Where Debian's PostgreSQL 15 binaries are. */
export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
/** The role and database every instance has (the role is the superuser initdb makes). */
export const PG_USER = 'rvl';
export const PG_DATABASE = 'rvl';
/** Loopback only: nothing outside this machine reaches a throwaway instance. */
const HOST = '127.0.0.1';
/** How long a start, a base backup, a promotion or a standby's first streaming may take. */
const WAIT_MS = 60_000;
/** A wait says it is still waiting on stderr this often. */
const PROGRESS_EVERY_MS = 5_000;
/** Lines of the server log quoted in an error. */
const LOG_TAIL_LINES = 30;
/** A unix socket path is at most 107 bytes on Linux (sun_path); `.s.PGSQL.65535` takes 14 of them. */
const SOCKET_DIR_MAX = 90;
/** Standby names go into synchronous_standby_names and application_name unquoted. */
const STANDBY_NAME = /^[a-z][a-z0-9_]{0,30}$/;

const isRoot = (): boolean => process.getuid?.() === 0;

export class PgLocalError extends Error {
  override readonly name = 'PgLocalError';
}

export type PgRole = 'primary' | 'standby' | 'down';

export interface PgInstance {
  /** `primary` for a primary started here (or the name given); a standby's application_name. */
  readonly name: string;
  readonly port: number;
  /** The instance's folder (`data/`, `sock/`, `postgres.log`). */
  readonly dir: string;
  /** `postgres://rvl@127.0.0.1:PORT/rvl`: this server only. */
  readonly url: string;
  /** The server log's path. */
  readonly logFile: string;
  /** The postmaster's pid while it runs (a stale postmaster.pid gives undefined). */
  pid(): number | undefined;
  /** Sends `signal` to the postmaster; after SIGKILL, resolves once it is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts the server on its existing data folder (after `stop` or `kill`); waits until it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`; nothing if it is not running. */
  stop(): Promise<void>;
  /**
   * `pg_ctl promote`, then waits until the server is out of recovery and so accepts write
   * transactions. Their commits still wait for a synchronous standby of its own
   * `synchronous_standby_names`: make a remaining standby `follow` it.
   */
  promote(): Promise<void>;
  /**
   * Makes this standby stream from `primary` (after a promotion): rewrites primary_conninfo and
   * reloads, then waits until `primary` sees it streaming. It must not be ahead of the promoted
   * server's WAL (promote the standby with the most WAL: `lsn()`).
   */
  follow(primary: PgInstance): Promise<void>;
  /** Whether it accepts connections (and answers `select 1`) now. */
  isReady(): Promise<boolean>;
  /** Writable primary, read-only standby, or not answering. */
  role(): Promise<PgRole>;
  /** The WAL position it has: a primary's insert position, a standby's received (or replayed) one. */
  lsn(): Promise<bigint>;
}

export interface PrimaryOptions {
  readonly dir: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Default `primary`. */
  readonly name?: string;
  /** Standby names for `synchronous_standby_names = 'ANY 1 (…)'`; none: commits wait for no standby. */
  readonly syncStandbys?: readonly string[];
}

export interface StandbyOptions {
  readonly dir: string;
  /** Its application_name, as the primary's synchronous_standby_names lists it. */
  readonly name: string;
  readonly port?: number;
}

// ---- processes ----

/** Runs a PostgreSQL binary (as the postgres user when root); rejects with its stderr. */
const runPg = async (bin: string, args: readonly string[], timeoutMs = WAIT_MS): Promise<string> => {
  const file = path.join(PG_BIN_DIR, bin);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, [...args]];
  try {
    const { stdout } = await execFileP(cmd, argv, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const said = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || e.message;
    throw new PgLocalError(`${bin} ${args.join(' ')} failed: ${said}`, { cause: err });
  }
};

/** True for a live process; a zombie (a killed postmaster nobody reaped yet) counts as gone. */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns true; past `timeoutMs` throws `what` with the log's tail. Says on
 * stderr every few seconds that it is still waiting.
 */
const waitFor = async (what: string, inst: { logFile: string }, check: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> => {
  const started = Date.now();
  let said = started;
  for (;;) {
    if (await check()) return;
    const now = Date.now();
    if (now - started > timeoutMs) throw new PgLocalError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${logTail(inst.logFile)}`);
    if (now - said >= PROGRESS_EVERY_MS) {
      said = now;
      process.stderr.write(`pg-local: still waiting for ${what} (${Math.round((now - started) / 1000)} s)\n`);
    }
    await sleep(100);
  }
};

/** The last lines of a server log, as a suffix for an error message. */
export const logTail = (logFile: string): string => {
  try {
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES);
    return `\n--- last lines of ${logFile} ---\n${lines.join('\n')}`;
  } catch {
    return ` (no log at ${logFile})`;
  }
};

/** A port free on 127.0.0.1 right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new PgLocalError('no free port'))));
    });
  });

/**
 * One short connection to `port`, for the checks and setup statements here. They use the
 * `postgres` database, which exists from initdb on, before `rvl` is created.
 */
const withSql = async <T>(port: number, database: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
  const sql = postgres({ host: HOST, port, user: PG_USER, database, max: 1, connect_timeout: 2, idle_timeout: 1, onnotice: () => undefined });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
};

// ---- folders and configuration ----

/**
 * Creates the instance folder (and `sock/`), owned by the postgres user when root, and checks that
 * this user can reach it: every folder above it must let others pass (mode o+x).
 */
const prepareDir = async (dir: string): Promise<void> => {
  if (existsSync(path.join(dir, 'data'))) throw new PgLocalError(`${dir}/data already exists: give an empty or new folder`);
  await mkdir(path.join(dir, 'sock'), { recursive: true, mode: 0o700 });
  if (!isRoot()) return;
  const { uid, gid } = postgresUser();
  await chown(dir, uid, gid);
  await chown(path.join(dir, 'sock'), uid, gid);
  try {
    await execFileP('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]);
  } catch {
    throw new PgLocalError(`the postgres user cannot reach ${dir}: every folder above it must let others pass (chmod o+x), or choose a folder under /tmp`);
  }
};

const postgresUser = (): { uid: number; gid: number } => {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new PgLocalError("running as root needs the postgres system user (Debian's postgresql-15 package makes it)");
  return { uid: Number(uid), gid: Number(gid) };
};

const socketDirOf = (dir: string): string => {
  const sock = path.join(dir, 'sock');
  if (Buffer.byteLength(sock) > SOCKET_DIR_MAX) throw new PgLocalError(`${sock} is too long for a unix socket path; choose a shorter folder`);
  return sock;
};

/** Writes a file in a data folder as its owner (the postgres user when root). */
const writeOwned = async (file: string, text: string): Promise<void> => {
  await writeFile(file, text, { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    await chown(file, uid, gid);
  }
};

/**
 * Settings of every instance of a cluster, appended to the primary's postgresql.conf (a standby's
 * base backup copies them). The file then includes `instance.conf`, which each instance rewrites
 * with what is its own: port, socket folder, name.
 */
const sharedSettings = (syncStandbys: readonly string[]): string =>
  [
    '',
    '# pg-local: streaming replication with durable, synchronous commits',
    "listen_addresses = '127.0.0.1'",
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    // A standby stopped for a while catches up from the primary's kept WAL.
    "wal_keep_size = '512MB'",
    // A standby retries its primary every second (default 5 s): a failover is followed quickly.
    "wal_retrieve_retry_interval = '1s'",
    'fsync = on',
    'synchronous_commit = on',
    syncStandbys.length > 0 ? `synchronous_standby_names = 'ANY 1 (${syncStandbys.join(', ')})'` : "synchronous_standby_names = ''",
    "include_if_exists = 'instance.conf'",
    '',
  ].join('\n');

const instanceConf = (name: string, port: number, sockDir: string): string =>
  ['# pg-local: this instance only', `port = ${port}`, `unix_socket_directories = '${sockDir}'`, `cluster_name = '${name}'`, ''].join('\n');

/** Every connection from this machine is trusted, replication included; nothing else connects. */
const HBA = [
  '# pg-local: trust on this machine only',
  'local all all trust',
  'host all all 127.0.0.1/32 trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

// ---- instances ----

const conninfoOf = (port: number, name: string): string => `host=${HOST} port=${port} user=${PG_USER} application_name=${name}`;

const urlOf = (port: number): string => `postgres://${PG_USER}@${HOST}:${port}/${PG_DATABASE}`;

/**
 * A handle on the instance in `dir` listening on `port`, running or not (nothing is started):
 * the cluster script re-attaches with it to what `up` started.
 */
export const attach = (o: { dir: string; name: string; port: number }): PgInstance => {
  const dir = path.resolve(o.dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const inst: PgInstance = {
    name: o.name,
    port: o.port,
    dir,
    url: urlOf(o.port),
    logFile,
    pid: () => {
      try {
        const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
        return Number.isSafeInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    kill: async (signal) => {
      const pid = inst.pid();
      if (pid === undefined) return;
      process.kill(pid, signal);
      if (signal === 'SIGKILL') await waitFor(`${o.name}'s postmaster (pid ${pid}) to die`, inst, async () => !processAlive(pid), 10_000);
    },
    start: async () => {
      const ticker = setInterval(() => process.stderr.write(`pg-local: still starting ${o.name} on port ${o.port}\n`), PROGRESS_EVERY_MS);
      try {
        await runPg('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(WAIT_MS / 1000)], WAIT_MS + 5_000);
      } catch (err) {
        throw new PgLocalError(`${o.name} did not start on port ${o.port}: ${(err as Error).message}${logTail(logFile)}`, { cause: err });
      } finally {
        clearInterval(ticker);
      }
      await waitFor(`${o.name} to accept connections on port ${o.port}`, inst, inst.isReady);
    },
    stop: async () => {
      if (inst.pid() === undefined) return;
      await runPg('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', String(WAIT_MS / 1000)], WAIT_MS + 5_000);
    },
    promote: async () => {
      try {
        await runPg('pg_ctl', ['promote', '-D', dataDir, '-w', '-t', String(WAIT_MS / 1000)], WAIT_MS + 5_000);
      } catch (err) {
        throw new PgLocalError(`${o.name} was not promoted: ${(err as Error).message}${logTail(logFile)}`, { cause: err });
      }
      await waitFor(`${o.name} to leave recovery after its promotion`, inst, async () => (await inst.role()) === 'primary');
    },
    follow: async (primary) => {
      await withSql(o.port, 'postgres', async (sql) => {
        await sql.unsafe(`ALTER SYSTEM SET primary_conninfo = '${conninfoOf(primary.port, o.name)}'`);
        await sql`select pg_reload_conf()`;
      });
      await waitStreaming(primary, o.name, inst);
    },
    isReady: async () => {
      try {
        return await withSql(o.port, 'postgres', async (sql) => (await sql`select 1 as one`)[0]?.one === 1);
      } catch {
        return false;
      }
    },
    role: async () => {
      try {
        const rows = await withSql(o.port, 'postgres', (sql) => sql<{ recovering: boolean }[]>`select pg_is_in_recovery() as recovering`);
        return rows[0]?.recovering ? 'standby' : 'primary';
      } catch {
        return 'down';
      }
    },
    lsn: () =>
      withSql(o.port, 'postgres', async (sql) => {
        const rows = await sql<{ lsn: string }[]>`
          select pg_wal_lsn_diff(
            case when pg_is_in_recovery()
              then greatest(coalesce(pg_last_wal_receive_lsn(), '0/0'), coalesce(pg_last_wal_replay_lsn(), '0/0'))
              else pg_current_wal_insert_lsn() end,
            '0/0')::text as lsn`;
        return BigInt(rows[0]?.lsn ?? '0');
      }),
  };
  return inst;
};

/**
 * Waits until `primary` sees standby `name` streaming, and, when its synchronous_standby_names
 * lists the name, as a synchronous (quorum) standby.
 */
const waitStreaming = (primary: PgInstance, name: string, standby: PgInstance): Promise<void> =>
  waitFor(`${name} to stream from ${primary.name} (port ${primary.port})`, standby, async () => {
    try {
      return await withSql(primary.port, 'postgres', async (sql) => {
        const [setting] = await sql<{ names: string }[]>`select current_setting('synchronous_standby_names') as names`;
        const mustBeSync = new RegExp(`[(,\\s]${name}[),\\s]`).test(` ${setting?.names ?? ''} `);
        const rows = await sql<{ state: string; sync_state: string }[]>`
          select state, sync_state from pg_stat_replication where application_name = ${name}`;
        return rows.some((r) => r.state === 'streaming' && (!mustBeSync || r.sync_state === 'sync' || r.sync_state === 'quorum'));
      });
    } catch {
      return false;
    }
  });

/** Runs `start` with a free port, trying another if a race took it; or once with the given port. */
const onFreePort = async (given: number | undefined, start: (port: number) => Promise<PgInstance>): Promise<PgInstance> => {
  if (given !== undefined) return start(given);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      // Another process bound the port between our check and the server's start.
      if (attempt >= 3 || !/could not bind|Address already in use/i.test((err as Error).message)) throw err;
    }
  }
};

/**
 * initdb (superuser `rvl`, trust), replication and durability settings, start, and database `rvl`
 * owned by `rvl`. Resolves once it accepts connections.
 */
export const startPrimary = async (o: PrimaryOptions): Promise<PgInstance> => {
  const dir = path.resolve(o.dir);
  const name = o.name ?? 'primary';
  const syncStandbys = o.syncStandbys ?? [];
  for (const s of syncStandbys) if (!STANDBY_NAME.test(s)) throw new PgLocalError(`standby name ${JSON.stringify(s)} must match ${STANDBY_NAME}`);
  await prepareDir(dir);
  const dataDir = path.join(dir, 'data');
  await runPg('initdb', ['-D', dataDir, '-A', 'trust', '-U', PG_USER, '--no-sync', '-E', 'UTF8', '--locale=C']);
  const conf = path.join(dataDir, 'postgresql.conf');
  await writeOwned(conf, (await readFile(conf, 'utf8')) + sharedSettings(syncStandbys));
  await writeOwned(path.join(dataDir, 'pg_hba.conf'), HBA);
  const inst = await onFreePort(o.port, async (port) => {
    await writeOwned(path.join(dataDir, 'instance.conf'), instanceConf(name, port, socketDirOf(dir)));
    const started = attach({ dir, name, port });
    await started.start();
    return started;
  });
  // No standby exists yet: this one commit must not wait for one (the session's only connection).
  await withSql(inst.port, 'postgres', async (sql) => {
    await sql`set synchronous_commit = local`;
    await sql.unsafe(`CREATE DATABASE ${PG_DATABASE} OWNER ${PG_USER}`);
  });
  return inst;
};

/**
 * A streaming standby of `primary`: `pg_basebackup -R` (its primary_conninfo carries
 * `application_name=<name>`), start, and wait until the primary sees it streaming, synchronously
 * when its synchronous_standby_names lists the name.
 */
export const startStandby = async (primary: PgInstance, o: StandbyOptions): Promise<PgInstance> => {
  if (!STANDBY_NAME.test(o.name)) throw new PgLocalError(`standby name ${JSON.stringify(o.name)} must match ${STANDBY_NAME}`);
  const dir = path.resolve(o.dir);
  await prepareDir(dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const ticker = setInterval(() => process.stderr.write(`pg-local: still copying ${primary.name} for standby ${o.name}\n`), PROGRESS_EVERY_MS);
  try {
    await runPg('pg_basebackup', ['-D', dataDir, '-d', conninfoOf(primary.port, o.name), '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
  } catch (err) {
    throw new PgLocalError(`the base backup of ${primary.name} for ${o.name} failed: ${(err as Error).message}${logTail(primary.logFile)}`, { cause: err });
  } finally {
    clearInterval(ticker);
  }
  // -R wrote standby.signal and primary_conninfo from the connection above; make sure of the name.
  const auto = await readFile(path.join(dataDir, 'postgresql.auto.conf'), 'utf8');
  if (!auto.includes(`application_name=${o.name}`)) {
    throw new PgLocalError(`pg_basebackup -R wrote no application_name=${o.name} into primary_conninfo:\n${auto}${logTail(logFile)}`);
  }
  const inst = await onFreePort(o.port, async (port) => {
    await writeOwned(path.join(dataDir, 'instance.conf'), instanceConf(o.name, port, socketDirOf(dir)));
    const started = attach({ dir, name: o.name, port });
    await started.start();
    return started;
  });
  await waitStreaming(primary, o.name, inst);
  return inst;
};

/**
 * libpq's multi-host URL over `instances`, for a client that must always reach the writable one:
 * `postgres://rvl@127.0.0.1:p1,127.0.0.1:p2/rvl?target_session_attrs=read-write`.
 */
export const clusterUrl = (instances: readonly Pick<PgInstance, 'port'>[]): string =>
  `postgres://${PG_USER}@${instances.map((i) => `${HOST}:${i.port}`).join(',')}/${PG_DATABASE}?target_session_attrs=read-write`;
