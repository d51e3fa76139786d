/**
 * Cluster mode under faults (docs/protocol.md §11.6, docs/cluster.md), with real processes and a
 * real PostgreSQL 15: the leader SIGKILLed under concurrent signed writes spread over every node;
 * a paused leader (SIGSTOP, SIGCONT); nodes joining empty and coming back after an absence; a
 * node whose folder was edited; and configurations a node must refuse.
 */
import path from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgInstance } from '../../scripts/lib/pg-local.js';
import { cleanup, tempDir } from '../support/service-process.js';
import { newKeyFile, writeKeyFile } from '../../src/service/keyfile.js';
import { nodeKey } from '../../src/store/keys.js';
import { Client, clusterOf, keyed, leaderOf, makeCluster, OPERATOR, pgDir, sameRoot, sendUntilAcknowledged, until, type ClusterUnderTest } from './support.js';
import type { Envelope, Receipt } from '../e2e/client.js';

let pg: PgInstance;

beforeAll(async () => {
  pg = await startPrimary({ dir: path.join(await pgDir(), 'primary') });
}, 60_000);

afterAll(async () => {
  await cleanup();
  await pg?.stop();
}, 60_000);

const dueIn = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** Starts node 1 (genesis), then the others; returns a client on node 1 and every URL. */
const startAll = async (c: ClusterUnderTest, n: number): Promise<{ client: Client; urls: string[] }> => {
  await c.start(0);
  await Promise.all(Array.from({ length: n - 1 }, (_, i) => c.start(i + 1)));
  const urls = c.nodes.map((x) => x.url);
  await leaderOf(urls, 10_000);
  return { client: await Client.connect(urls[0]!), urls };
};

/** Every entry a node serves (read as the operator), as seq → op id. */
const opsOn = async (url: string): Promise<Map<number, string>> => {
  const client = await Client.connect(url);
  const out = new Map<number, string>();
  for (const page of await client.allEntries(OPERATOR)) {
    for (const item of page) out.set(item.entry.seq, Client.opIdOf(item.entry.op));
  }
  return out;
};

/**
 * Envelopes of mixed signed writes: the operator registers suppliers and the core issues a voucher
 * to each supplier registered before it (two signers, two op types, a dependency between them).
 */
const workload = (client: Client, count: number) => {
  const core = keyed('core-1', 'core', 'cluster');
  const suppliers = Array.from({ length: count }, (_, i) => keyed(`sup-${i}`, 'supplier', 'cluster'));
  const registerCore = client.envelope({ type: 'party.register', party: { id: core.id, name: '核心企业', role: 'core', publicKey: core.publicKey } }, [
    OPERATOR,
  ]);
  const registers = suppliers.map((s) =>
    client.envelope({ type: 'party.register', party: { id: s.id, name: `${s.id} 有限公司`, role: 'supplier', publicKey: s.publicKey } }, [OPERATOR]),
  );
  const issues = suppliers.map((s, i) =>
    client.envelope(
      { type: 'voucher.issue', issuer: core.id, to: s.id, amount: String(100_000 + i), currency: 'CNY', dueDate: dueIn(90), invoiceIds: [`INV-${i}`] },
      [core],
    ),
  );
  return { registerCore, registers, issues };
};

describe('a cluster of three nodes over PostgreSQL', () => {
  it('SIGKILL of the leader under writes at concurrency 64 spread over every node: another leads within 5 s; every acknowledged op is on every node once, at its acknowledged seq; resending gets duplicates; one root', async () => {
    const c = await makeCluster(pg, 3);
    const { client, urls } = await startAll(c, 3);
    const first = await leaderOf(urls, 10_000);
    const { registerCore, registers, issues } = workload(client, 300);
    await sendUntilAcknowledged(urls, registerCore, 1, 10_000);

    // 64 writers, each taking the next op and sending it to the next node until it is acknowledged.
    const acknowledged = new Map<string, Receipt>();
    const queue: Envelope[] = registers.flatMap((r, i) => [r, issues[i]!]);
    let next = 0;
    let killedAt: number | undefined;
    const killAfter = 150;
    const writer = async (w: number) => {
      while (next < queue.length) {
        const i = next++;
        const env = queue[i]!;
        // A voucher to a supplier waits until its registration is acknowledged.
        if (i % 2 === 1) await until('the supplier registered', async () => acknowledged.has(Client.opIdOf(queue[i - 1]!)), 60_000);
        const { receipt } = await sendUntilAcknowledged(
          urls.filter((u) => u !== (killedAt ? first : '')),
          env,
          w,
          60_000,
        );
        expect(acknowledged.has(receipt.opId)).toBe(false);
        acknowledged.set(receipt.opId, receipt);
        if (acknowledged.size === killAfter && killedAt === undefined) {
          killedAt = performance.now();
          await c.nodes[urls.indexOf(first)]!.proc.kill();
        }
      }
    };
    const writing = Promise.all(Array.from({ length: 64 }, (_, w) => writer(w)));
    const second = await until('the leader killed', async () => killedAt !== undefined, 60_000).then(() =>
      leaderOf(
        urls.filter((u) => u !== first),
        10_000,
        first,
      ),
    );
    const failoverMs = performance.now() - killedAt!;
    await writing;
    expect(second).not.toBe(first);
    expect(failoverMs).toBeLessThan(5000);
    expect(acknowledged.size).toBe(queue.length);

    // The killed node comes back, catches up, and every node holds every acknowledged op once, at its seq.
    await c.start(urls.indexOf(first));
    const size = Math.max(...[...acknowledged.values()].map((r) => r.seq)) + 1;
    await sameRoot(urls, 30_000, size);
    for (const url of urls) {
      const ops = await opsOn(url);
      const seen = new Map<string, number>();
      for (const [seq, id] of ops) {
        expect(seen.has(id), `op ${id} twice on ${url}`).toBe(false);
        seen.set(id, seq);
      }
      for (const [id, r] of acknowledged) expect(seen.get(id), `op ${id} on ${url}`).toBe(r.seq);
    }
    // Resending an acknowledged envelope to any node is a duplicate with the same receipt.
    for (const [i, env] of queue.slice(0, 10).entries()) {
      const again = await sendUntilAcknowledged(urls, env, i, 10_000);
      expect(again.status).toBe(200);
      expect(again.receipt.seq).toBe(acknowledged.get(Client.opIdOf(env))!.seq);
    }
    process.stderr.write(`[cluster] failover after SIGKILL of the leader: ${Math.round(failoverMs)} ms; ${acknowledged.size} ops acknowledged\n`);
  }, 240_000);

  it('a paused leader (SIGSTOP, another leads, SIGCONT) acknowledges nothing that is not in the log, and steps down', async () => {
    const c = await makeCluster(pg, 3);
    const { client, urls } = await startAll(c, 3);
    const first = await leaderOf(urls, 10_000);
    const paused = c.nodes[urls.indexOf(first)]!;
    const { registerCore, registers } = workload(client, 40);
    await sendUntilAcknowledged(urls, registerCore, 0, 10_000);
    paused.proc.proc.kill('SIGSTOP');
    // Writes sent to the paused leader wait in its socket; others go to whoever leads next.
    const toPaused = registers.slice(0, 10).map((env) =>
      fetch(`${first}/v1/ops`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(env),
        signal: AbortSignal.timeout(60_000),
      }).then(async (res) => ({ env, status: res.status, body: (await res.json()) as Receipt })),
    );
    const others = urls.filter((u) => u !== first);
    const second = await leaderOf(others, 10_000, first);
    const acknowledged = new Map<string, Receipt>();
    for (const [i, env] of registers.slice(10).entries()) acknowledged.set(Client.opIdOf(env), (await sendUntilAcknowledged(others, env, i, 20_000)).receipt);
    paused.proc.proc.kill('SIGCONT');
    const answers = await Promise.all(toPaused);
    for (const a of answers) {
      // Whatever the old leader acknowledged is in the log at that seq; the rest is 503.
      expect([201, 200, 503]).toContain(a.status);
      if (a.status !== 503) acknowledged.set(a.body.opId, a.body);
    }
    // The old leader follows, and forwards to the new one.
    await until(
      'the old leader to follow the new one',
      async () => {
        const view = await clusterOf(first);
        return view?.nodes.find((n) => n.url === first)?.role === 'follower' && view.leader === second;
      },
      10_000,
    );
    const size = Math.max(...[...acknowledged.values()].map((r) => r.seq)) + 1;
    await sameRoot(urls, 20_000, size);
    const ops = await opsOn(second);
    for (const [id, r] of acknowledged) expect(ops.get(r.seq), `op ${id}`).toBe(id);
  }, 120_000);

  it('a node joins with an empty folder and catches up; a node back after an absence catches up', async () => {
    const c = await makeCluster(pg, 3);
    await c.start(0);
    await c.start(1);
    const urls2 = c.nodes.map((n) => n.url);
    const client = await Client.connect(urls2[0]!);
    const { registerCore, registers } = workload(client, 200);
    await sendUntilAcknowledged(urls2, registerCore, 0, 10_000);
    for (const [i, env] of registers.slice(0, 50).entries()) await sendUntilAcknowledged(urls2, env, i, 10_000);
    // node2 leaves (SIGTERM); 150 more entries; node3 joins empty; node2 comes back.
    await c.nodes[1]!.proc.stop();
    for (const [i, env] of registers.slice(50).entries()) await sendUntilAcknowledged([urls2[0]!], env, i, 10_000);
    await c.start(2);
    await c.start(1);
    const urls = c.nodes.map((n) => n.url);
    await sameRoot(urls, 30_000, 1 + 1 + 200);
  }, 120_000);

  it('a node whose folder was edited refuses to start and names the first bad seq', async () => {
    const c = await makeCluster(pg, 2);
    await c.start(0);
    await c.start(1);
    const urls = c.nodes.map((n) => n.url);
    const client = await Client.connect(urls[0]!);
    const { registerCore, registers } = workload(client, 20);
    await sendUntilAcknowledged(urls, registerCore, 0, 10_000);
    for (const [i, env] of registers.entries()) await sendUntilAcknowledged(urls, env, i, 10_000);
    await sameRoot(urls, 20_000, 22);
    await c.nodes[1]!.proc.stop();
    // Entry 7's leaf (its hash in the Merkle tree) is changed in node2's LevelDB.
    const db = new Level<string, string>(path.join(c.nodes[1]!.dataDir, 'db'));
    await db.open();
    await db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' }).put(nodeKey(0, 7), new Uint8Array(32).fill(7));
    await db.close();
    const again = c.spawn(1);
    const exit = await again.proc.exited;
    expect(exit.code).not.toBe(0);
    expect(again.proc.stderr()).toMatch(/entry 7\b/);
  }, 120_000);

  it('a read-only follower applies the log but never leads: with the leader gone, writes get 503 and reads go on', async () => {
    const c = await makeCluster(pg, 2);
    await c.start(0);
    await c.start(1, { LEDGER_CLUSTER_ROLE: 'follower' });
    const urls = c.nodes.map((n) => n.url);
    const client = await Client.connect(urls[0]!);
    const { registerCore, registers } = workload(client, 5);
    await sendUntilAcknowledged(urls, registerCore, 1, 10_000);
    for (const [i, env] of registers.entries()) await sendUntilAcknowledged(urls, env, i, 10_000);
    await sameRoot(urls, 10_000, 7);
    await c.nodes[0]!.proc.kill();
    // Long past the lease: nobody leads, and the follower still serves what it verified.
    await new Promise((r) => setTimeout(r, 4000));
    const view = await clusterOf(urls[1]!);
    expect(view?.leader).toBeNull();
    expect(view?.nodes.find((n) => n.url === urls[1])?.role).toBe('follower');
    const res = await fetch(`${urls[1]}/v1/ops`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(workload(client, 6).registers[5]),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('LEDGER_UNAVAILABLE');
    const ledger = (await (await fetch(`${urls[1]}/v1/ledger`)).json()) as { size: number };
    expect(ledger.size).toBe(7);
  }, 60_000);

  describe('configurations a node refuses', () => {
    it('a node key that is not the ledger’s: refuses to join, naming both keys', async () => {
      const c = await makeCluster(pg, 2);
      await c.start(0);
      const other = await tempDir('rvl-otherkey-');
      const keyFile = path.join(other, 'node.key');
      const key = newKeyFile('node');
      await writeKeyFile(keyFile, key);
      const bad = c.spawn(1, { LEDGER_NODE_KEY_FILE: keyFile });
      const exit = await bad.proc.exited;
      expect(exit.code).not.toBe(0);
      expect(bad.proc.stderr()).toContain(key.publicKey);
      expect(bad.proc.stderr()).toMatch(/refusing to join/);
    }, 60_000);

    it('an operator key that is not the ledger’s: refuses to join', async () => {
      const c = await makeCluster(pg, 2);
      await c.start(0);
      const bad = c.spawn(1, { LEDGER_OPERATOR_PUBLIC_KEY: keyed('someone', 'operator', 'else').publicKey });
      const exit = await bad.proc.exited;
      expect(exit.code).not.toBe(0);
      expect(bad.proc.stderr()).toMatch(/LEDGER_OPERATOR_PUBLIC_KEY .* refusing to join/);
    }, 60_000);

    it('a data folder that holds another ledger: refuses to start, naming both ids', async () => {
      const a = await makeCluster(pg, 1);
      const b = await makeCluster(pg, 1);
      const na = await a.start(0);
      const nb = await b.start(0);
      const idA = (await (await fetch(`${na.url}/v1/ledger`)).json()) as { ledgerId: string };
      const idB = (await (await fetch(`${nb.url}/v1/ledger`)).json()) as { ledgerId: string };
      await na.proc.stop();
      await nb.proc.stop();
      // Ledger A's folder, with its node key, against ledger B's database.
      const wrong = b.spawn(0, { LEDGER_DATA_DIR: na.dataDir, LEDGER_NODE_KEY_FILE: a.keyFile });
      const exit = await wrong.proc.exited;
      expect(exit.code).not.toBe(0);
      expect(wrong.proc.stderr()).toContain(idA.ledgerId);
      expect(wrong.proc.stderr()).toContain(idB.ledgerId);
    }, 60_000);

    it('a database that cannot be reached at start: /readyz says so while it retries, and the node starts once it answers', async () => {
      const dir = await pgDir();
      const late = await startPrimary({ dir: path.join(dir, 'late') });
      const c = await makeCluster(late, 1);
      await late.stop();
      const node = c.spawn(0);
      const ready = await until(
        '/readyz to answer 503',
        async () => {
          try {
            const res = await fetch(`${node.url}/readyz`);
            return res.status === 503 ? ((await res.json()) as { code: string; detail: string }) : undefined;
          } catch {
            return undefined;
          }
        },
        20_000,
      );
      expect(ready.code).toBe('LEDGER_UNAVAILABLE');
      expect(ready.detail).toMatch(/cluster database cannot be reached/);
      expect(node.proc.stderr() + node.proc.stdout()).toMatch(/cannot be reached; retrying/);
      await late.start();
      await node.proc.waitListening(30_000);
      expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
      await node.proc.stop();
      await late.stop();
    }, 90_000);
  });
});
