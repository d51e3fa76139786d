/**
 * The database's own failover under a cluster (docs/protocol.md §11.6, docs/cluster.md): a
 * PostgreSQL primary with two synchronous standbys (`ANY 1 (s1, s2)`), three nodes on the
 * multi-host URL. The primary is SIGKILLed under writes and the standby with the most WAL is
 * promoted: no acknowledged op is lost, and writes resume.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, startStandby, type PgInstance } from '../../scripts/lib/pg-local.js';
import { cleanup } from '../support/service-process.js';
import type { Envelope, Receipt } from '../e2e/client.js';
import { Client, keyed, leaderOf, makeCluster, OPERATOR, pgDir, sameRoot, sendUntilAcknowledged, until } from './support.js';

let primary: PgInstance;
let s1: PgInstance;
let s2: PgInstance;

beforeAll(async () => {
  const dir = await pgDir();
  primary = await startPrimary({ dir: path.join(dir, 'primary'), syncStandbys: ['s1', 's2'] });
  s1 = await startStandby(primary, { dir: path.join(dir, 's1'), name: 's1' });
  s2 = await startStandby(primary, { dir: path.join(dir, 's2'), name: 's2' });
}, 120_000);

afterAll(async () => {
  await cleanup();
  for (const pg of [primary, s1, s2]) await pg?.stop().catch(() => undefined);
}, 60_000);

describe('a cluster over a replicated PostgreSQL', () => {
  it('SIGKILL of the primary under writes, the standby with the most WAL promoted: no acknowledged op lost, writes resume', async () => {
    const c = await makeCluster(primary, 3, { hosts: [primary, s1, s2] });
    await c.start(0);
    await c.start(1);
    await c.start(2);
    const urls = c.nodes.map((n) => n.url);
    await leaderOf(urls, 10_000);
    const client = await Client.connect(urls[0]!);
    const parties = Array.from({ length: 240 }, (_, i) => keyed(`p-${i}`, 'supplier', 'dbfail'));
    const envs: Envelope[] = parties.map((p) =>
      client.envelope({ type: 'party.register', party: { id: p.id, name: `${p.id} 有限公司`, role: 'supplier', publicKey: p.publicKey } }, [OPERATOR]),
    );

    const acknowledged = new Map<string, Receipt>();
    let next = 0;
    let killedAt: number | undefined;
    let promotedAt: number | undefined;
    let firstAfterKill: number | undefined;
    const writer = async (w: number) => {
      while (next < envs.length) {
        const env = envs[next++]!;
        const { receipt } = await sendUntilAcknowledged(urls, env, w, 90_000);
        acknowledged.set(receipt.opId, receipt);
        if (promotedAt !== undefined && firstAfterKill === undefined) firstAfterKill = performance.now();
        if (acknowledged.size === 80 && killedAt === undefined) {
          killedAt = performance.now();
          await primary.kill('SIGKILL');
          // The operator's tooling promotes the synchronous standby with the most WAL, and points
          // the other at it.
          const [ahead, behind] = (await s1.lsn()) >= (await s2.lsn()) ? [s1, s2] : [s2, s1];
          await ahead.promote();
          promotedAt = performance.now();
          await behind.follow(ahead);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
    expect(killedAt).toBeDefined();
    expect(acknowledged.size).toBe(envs.length);
    const resumeMs = firstAfterKill! - promotedAt!;

    const size = Math.max(...[...acknowledged.values()].map((r) => r.seq)) + 1;
    await sameRoot(urls, 30_000, size).catch((err: unknown) => {
      for (const n of c.nodes)
        process.stderr.write(
          `--- ${n.name} exit=${String(n.proc.proc.exitCode)} ---\n${n.proc.stderr().slice(-2000)}\n${n.proc
            .stdout()
            .split('\n')
            .filter((l) => !l.includes('"level":30'))
            .slice(-15)
            .join('\n')}\n`,
        );
      throw err;
    });
    const reader = await Client.connect(urls[1]!);
    const onLedger = new Map<string, number>();
    for (const page of await reader.allEntries(OPERATOR)) for (const item of page) onLedger.set(Client.opIdOf(item.entry.op), item.entry.seq);
    for (const [id, r] of acknowledged) expect(onLedger.get(id), `acknowledged op ${id}`).toBe(r.seq);
    await until('a leader', async () => leaderOf(urls, 1000).catch(() => undefined), 10_000);
    process.stderr.write(
      `[cluster] primary killed; promotion took ${Math.round(promotedAt! - killedAt!)} ms; writes resumed ${Math.round(resumeMs)} ms after it; ${acknowledged.size} ops acknowledged, none lost\n`,
    );
    expect(resumeMs).toBeLessThan(10_000);
  }, 240_000);
});
