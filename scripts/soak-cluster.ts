/**
 * `npm run soak:cluster -- [--rounds 20] [--ops 300] [--concurrency 32]` (not in CI): the
 * cluster's faults again and again, each round on a fresh PostgreSQL (a primary and two
 * synchronous standbys) and three fresh nodes. Rounds take turns: the leader SIGKILLed, the
 * leader paused (SIGSTOP until another leads, then SIGCONT), the PostgreSQL primary SIGKILLed and
 * the standby with the most WAL promoted. Writes run at the given concurrency over every node,
 * each op resent until a node acknowledges it; after each round every node must reach one root,
 * and the ledger is read back. Prints, per round and in total, the ops acknowledged, lost (an
 * acknowledged op not on the ledger at its seq) and duplicated (an op on the ledger twice).
 * Exits 1 if any was lost or duplicated.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPrimary, startStandby, type PgInstance } from './lib/pg-local.js';
import { num, readArgs, runMain } from './bench/lib/args.js';
import { Client, keyed, leaderOf, makeCluster, OPERATOR, sameRoot, sendUntilAcknowledged, until } from '../test/support/cluster.js';
import { cleanup, REPO_ROOT } from '../test/support/service-process.js';
import type { Envelope, Receipt } from '../test/e2e/client.js';

const FAULTS = ['kill-leader', 'pause-leader', 'kill-primary'] as const;
type Fault = (typeof FAULTS)[number];

const say = (line: string) => process.stderr.write(`${line}\n`);

const round = async (
  n: number,
  fault: Fault,
  ops: number,
  concurrency: number,
): Promise<{ acknowledged: number; lost: number; duplicated: number; ms: number }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-soak-pg-'));
  await chmod(dir, 0o755);
  const pgs: PgInstance[] = [];
  try {
    const primary = await startPrimary({ dir: path.join(dir, 'primary'), syncStandbys: ['s1', 's2'] });
    pgs.push(primary);
    const s1 = await startStandby(primary, { dir: path.join(dir, 's1'), name: 's1' });
    const s2 = await startStandby(primary, { dir: path.join(dir, 's2'), name: 's2' });
    pgs.push(s1, s2);
    const c = await makeCluster(primary, 3, { mainJs: path.join(REPO_ROOT, 'dist', 'src', 'main.js'), hosts: [primary, s1, s2] });
    await c.start(0);
    await Promise.all([c.start(1), c.start(2)]);
    const urls = c.nodes.map((x) => x.url);
    const leader = await leaderOf(urls, 10_000);
    const client = await Client.connect(urls[0]!);
    const envs: Envelope[] = Array.from({ length: ops }, (_, i) => {
      const p = keyed(`soak-${n}-${i}`, 'supplier', 'soak');
      return client.envelope({ type: 'party.register', party: { id: p.id, name: `${p.id} 有限公司`, role: 'supplier', publicKey: p.publicKey } }, [OPERATOR]);
    });
    const acknowledged = new Map<string, Receipt>();
    let next = 0;
    let faulted: Promise<void> | undefined;
    const started = performance.now();
    const inject = async () => {
      const node = c.nodes[urls.indexOf(leader)]!;
      switch (fault) {
        case 'kill-leader':
          await node.proc.kill();
          await leaderOf(
            urls.filter((u) => u !== leader),
            10_000,
            leader,
          );
          await c.start(urls.indexOf(leader));
          return;
        case 'pause-leader':
          node.proc.proc.kill('SIGSTOP');
          await leaderOf(
            urls.filter((u) => u !== leader),
            10_000,
            leader,
          );
          node.proc.proc.kill('SIGCONT');
          return;
        case 'kill-primary': {
          await primary.kill('SIGKILL');
          const [ahead, behind] = (await s1.lsn()) >= (await s2.lsn()) ? [s1, s2] : [s2, s1];
          await ahead.promote();
          await behind.follow(ahead);
          return;
        }
      }
    };
    const writer = async (w: number) => {
      while (next < envs.length) {
        const env = envs[next++]!;
        const { receipt } = await sendUntilAcknowledged(urls, env, w, 120_000);
        acknowledged.set(receipt.opId, receipt);
        if (acknowledged.size === Math.floor(ops / 3) && !faulted) faulted = inject(); // awaited below
      }
    };
    const writing = Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
    // The fault's own failure (no new leader in time) is the round's failure, not an unhandled one.
    await until('the fault to be injected', async () => faulted !== undefined, 120_000);
    await Promise.all([writing, faulted]);
    const size = Math.max(...[...acknowledged.values()].map((r) => r.seq)) + 1;
    await sameRoot(urls, 60_000, size);
    const seen = new Map<string, number>();
    let duplicated = 0;
    const reader = await Client.connect(urls[(urls.indexOf(leader) + 1) % urls.length]!);
    for (const page of await reader.allEntries(OPERATOR)) {
      for (const item of page) {
        const id = Client.opIdOf(item.entry.op);
        if (seen.has(id)) duplicated += 1;
        seen.set(id, item.entry.seq);
      }
    }
    let lost = 0;
    for (const [id, r] of acknowledged) if (seen.get(id) !== r.seq) lost += 1;
    // Each stop sends SIGTERM and SIGKILLs after 15 s.
    await Promise.all(c.nodes.map((x) => x.proc.stop().catch(() => undefined)));
    return { acknowledged: acknowledged.size, lost, duplicated, ms: Math.round(performance.now() - started) };
  } finally {
    await cleanup();
    for (const pg of pgs) await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
};

runMain('soak:cluster', 'npm run soak:cluster -- [--rounds 20] [--ops 300] [--concurrency 32]', async () => {
  const args = readArgs({ rounds: { type: 'string' }, ops: { type: 'string' }, concurrency: { type: 'string' } });
  const rounds = num(args.rounds, 'rounds', 20)!;
  const ops = num(args.ops, 'ops', 300)!;
  const concurrency = num(args.concurrency, 'concurrency', 32)!;
  const total = { acknowledged: 0, lost: 0, duplicated: 0 };
  for (let i = 1; i <= rounds; i += 1) {
    const fault = FAULTS[(i - 1) % FAULTS.length]!;
    say(`round ${i}/${rounds}: ${fault}…`);
    const r = await round(i, fault, ops, concurrency);
    total.acknowledged += r.acknowledged;
    total.lost += r.lost;
    total.duplicated += r.duplicated;
    process.stdout.write(`round ${i} ${fault}: acknowledged ${r.acknowledged}, lost ${r.lost}, duplicated ${r.duplicated} (${r.ms} ms)\n`);
  }
  process.stdout.write(`total over ${rounds} rounds: acknowledged ${total.acknowledged}, lost ${total.lost}, duplicated ${total.duplicated}\n`);
  return total.lost + total.duplicated === 0 ? 0 : 1;
});
