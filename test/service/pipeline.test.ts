/**
 * The writer decides the next batch while the previous one's commit is in flight. A
 * batch decided on top of an uncommitted one must see its effects, commit after it, and be
 * answered 503 with nothing written if the commit below it fails.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signCheckpoint, signCheckpointAsync, verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { signNode, signNodeAsync, verifyNode } from '../../src/ledger/node/ed25519-node.js';
import type { CommitBatch } from '../../src/store/port.js';
import { gate, wrapStore } from '../api/helpers.js';
import { Harness, dueIn, key } from '../support/harness.js';

const core = key('gz-motors', 'core');
const tier1 = key('dongguan-parts', 'supplier');

/**
 * A ledger whose first `voucher.issue` is held in its prefetch (the invoice lookup) until
 * `prefetch.open()`, and whose next commit is held until `commit.open()` (or fails, with
 * `failCommit`). Commits are recorded in order.
 */
const heldLedger = async (failCommit = false) => {
  const prefetch = gate();
  const commitReached = gate();
  const commit = gate();
  const commits: CommitBatch[] = [];
  let armed = false;
  const h = await Harness.start({
    wrapStore: wrapStore((real) => ({
      invoiceRoot: async (id: string) => {
        if (armed) await prefetch.promise;
        return real.invoiceRoot(id);
      },
      commit: async (batch: CommitBatch) => {
        if (armed && commits.length === 0) {
          commits.push(batch);
          commitReached.open();
          await commit.promise;
          if (failCommit) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
          return real.commit(batch);
        }
        if (armed) commits.push(batch);
        return real.commit(batch);
      },
    })),
  });
  for (const k of [core, tier1]) await h.register(k);
  armed = true;
  return { h, prefetch, commitReached, commit, commits };
};

type Gate = ReturnType<typeof gate>;

/**
 * Posts an issue (held in its prefetch) and then an accept of the voucher it creates, so the
 * accept is queued behind it; lets the issue's batch reach its commit, leaves the accept to be
 * decided on top of it for a moment (`whileHeld` runs then), and lets the commit go.
 */
const issueThenAccept = async (h: Harness, prefetch: Gate, commitReached: Gate, commit: Gate, whileHeld?: () => void) => {
  const issue = h.envelope(
    { type: 'voucher.issue', issuer: core.id, to: tier1.id, amount: '100000', currency: 'CNY', dueDate: dueIn(30), invoiceIds: ['INV-9'] },
    [core],
  );
  const voucherId = `v${h.opIdOf(issue).slice(0, 24)}`;
  const pause = () => new Promise((r) => setTimeout(r, 20));
  const issued = h.post(issue);
  await pause();
  const accepted = h.post(h.envelope({ type: 'voucher.accept', voucherId }, [tier1]));
  await pause();
  prefetch.open();
  await commitReached.promise;
  // Batch 1 (the issue) is committing; batch 2 (the accept) is decided on top of it.
  await pause();
  whileHeld?.();
  commit.open();
  return { voucherId, answers: Promise.all([issued, accepted]) };
};

describe('pipelined batches', () => {
  it('decides an accept on top of the uncommitted issue it depends on, and commits them in order', async () => {
    const { h, prefetch, commitReached, commit, commits } = await heldLedger();
    try {
      const size = h.service.size;
      const { voucherId, answers } = await issueThenAccept(h, prefetch, commitReached, commit, () => {
        expect(h.service.size).toBe(size);
      });
      const [a, b] = await answers;
      expect(a.statusCode).toBe(201);
      expect(b.statusCode).toBe(201);
      expect(b.json().seq).toBe(a.json().seq + 1);
      expect(b.json().effects.vouchers[0]).toMatchObject({ id: voucherId, status: 'active', holder: tier1.id });
      expect(commits.map((c) => c.entries.map((e) => e.seq))).toEqual([[size], [size + 1]]);
      expect(h.service.size).toBe(size + 2);
      const read = await h.get(`/v1/vouchers/${voucherId}`, tier1);
      expect(read.json()).toMatchObject({ status: 'active', holder: tier1.id });
    } finally {
      prefetch.open();
      commit.open();
      await h.close();
    }
  });

  it('signs the checkpoint of a batch decided behind a commit off the event loop: the same note, served once durable; receipts are JSON.stringify of the receipt', async () => {
    const { h, prefetch, commitReached, commit, commits } = await heldLedger();
    try {
      const size = h.service.size;
      const { answers } = await issueThenAccept(h, prefetch, commitReached, commit);
      const [a, b] = await answers;
      expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
      // Batch 2 was decided while batch 1 committed: its checkpoint took the asynchronous path.
      expect(commits.map((c) => c.head.size)).toEqual([size + 1, size + 2]);
      const seed = (JSON.parse(await readFile(path.join(h.dataDir, 'node.key'), 'utf8')) as { secretKey: string }).secretKey;
      const nodeKey = h.service.meta.nodeKey;
      const served = (await h.app.inject({ method: 'GET', url: '/v1/checkpoint' })).body;
      const root = verifyCheckpoint(served, { ledgerId: h.ledgerId, nodePublicKey: nodeKey, verify: verifyNode });
      expect(root.ok && root.size).toBe(size + 2);
      // Ed25519 is deterministic: the thread pool's signature is the one signNode makes.
      const tree = { ledgerId: h.ledgerId, size: size + 2, root: root.ok ? root.root : '' };
      expect(served).toBe(signCheckpoint(tree, seed, signNode, nodeKey));
      expect(await signCheckpointAsync(tree, seed, signNodeAsync, nodeKey)).toBe(served);
      for (const answer of [a, b]) {
        expect(Object.keys(answer.json())).toEqual(['opId', 'seq', 'entryHash', 'time', 'treeSize', 'effects']);
        expect(answer.body).toBe(JSON.stringify(answer.json()));
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      }
    } finally {
      prefetch.open();
      commit.open();
      await h.close();
    }
  });

  it('answers 503 for a batch decided on top of a commit that failed, and writes neither', async () => {
    const { h, prefetch, commitReached, commit } = await heldLedger(true);
    try {
      const size = h.service.size;
      const { voucherId, answers } = await issueThenAccept(h, prefetch, commitReached, commit);
      const [a, b] = await answers;
      expect([a.statusCode, b.statusCode]).toEqual([503, 503]);
      expect(b.json().code).toBe('LEDGER_UNAVAILABLE');
      expect(h.service.size).toBe(size);
      expect((await h.get(`/v1/vouchers/${voucherId}`, tier1)).statusCode).toBe(404);
    } finally {
      prefetch.open();
      commit.open();
      await h.close();
    }
  });
});
