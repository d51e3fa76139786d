/**
 * SIGKILL under concurrent load (docs/protocol.md §5, §6): an op answered 201 is durable, the log has no
 * gap, its hash chain holds, and the checkpoint signed at the restart covers exactly the log and
 * is consistent with every checkpoint signed before the crash.
 *
 * Knobs for longer soak runs: RVL_E2E_KILL_ROUNDS (default 3), RVL_E2E_KILL_OPS (ops per round,
 * default 300), RVL_E2E_KILL_WIDTH (requests in flight, default 24).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { verifyChain, ZERO_HASH } from '../../src/ledger/entry.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { rootOf, verifyConsistency } from '../../src/ledger/merkle.js';
import { Client, dueIn, operatorKey, type Answer, type Envelope, type Key, type Receipt } from './client.js';
import { cleanup, startServer, type Server } from './server.js';
import { loadCast } from '../support/cast.js';
import { envInt } from '../support/time.js';

const ROUNDS = envInt('RVL_E2E_KILL_ROUNDS', 3);
const OPS = envInt('RVL_E2E_KILL_OPS', 300);
const WIDTH = envInt('RVL_E2E_KILL_WIDTH', 24);

const { core, suppliers, bank, auditor } = loadCast('crash', 8);

interface Sent {
  readonly env: Envelope;
  /** The answer, or undefined if the connection died first (outcome unknown). */
  readonly answer: Answer<Receipt & { code?: string }> | undefined;
}

/**
 * One round of load: WIDTH workers, each running its own chain of ops on vouchers only it touches
 * (issue → accept → partial transfer → accept → co-signed pledge → …), so every op answered before
 * the kill should be a 201. SIGKILL lands when the `killAfter`-th 201 arrives. Returns what was
 * sent with its answers, and every checkpoint read from GET /v1/checkpoint meanwhile.
 */
const load = async (c: Client, server: Server, round: number, killAfter: number): Promise<{ sent: Sent[]; notes: string[] }> => {
  const sent: Sent[] = [];
  let budget = OPS;
  let acks = 0;
  let killed: Promise<unknown> | undefined;
  const send = async (payload: Record<string, unknown>, signers: Key[]): Promise<Receipt | undefined> => {
    if (budget <= 0 || killed) return undefined;
    budget -= 1;
    const env = c.envelope(payload, signers);
    let answer: Sent['answer'];
    try {
      answer = await c.post(env);
    } catch {
      answer = undefined;
    }
    sent.push({ env, answer });
    if (answer?.status !== 201) return undefined;
    acks += 1;
    if (acks === killAfter) killed = server.kill();
    return answer.body;
  };
  const worker = async (w: number): Promise<void> => {
    const holder = suppliers[w % suppliers.length]!;
    const next = suppliers[(w + 1) % suppliers.length]!;
    for (let i = 0; budget > 0 && !killed; i++) {
      const issued = await send(
        { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '1000000', currency: 'CNY', dueDate: dueIn(120), invoiceIds: [`K${round}-${w}-${i}`] },
        [core],
      );
      if (!issued) return;
      const v = issued.effects.vouchers[0]!.id;
      if (!(await send({ type: 'voucher.accept', voucherId: v }, [holder]))) return;
      if (!(await send({ type: 'voucher.transfer', voucherId: v, to: next.id, amount: '400000' }, [holder]))) return;
      if (!(await send({ type: 'voucher.accept', voucherId: `${v}:0-400000` }, [next]))) return;
      if (!(await send({ type: 'voucher.pledge', voucherId: `${v}:400000-1000000`, bank: bank.id, loanRef: `L${round}-${w}-${i}` }, [holder, bank]))) return;
    }
  };
  // Meanwhile a reader keeps taking the public checkpoint, as a witness would.
  const notes: string[] = [];
  let workersDone = false;
  const witness = async () => {
    while (!killed && !workersDone) {
      try {
        notes.push(await c.checkpoint());
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const workers = Promise.all(Array.from({ length: WIDTH }, (_, w) => worker(w))).finally(() => {
    workersDone = true;
  });
  await Promise.all([witness(), workers]);
  if (!killed) killed = server.kill(); // fewer acks than planned: kill now anyway
  await killed;
  return { sent, notes };
};

/**
 * Checks the restarted ledger from the outside; returns its verified checkpoint. `seen` are the
 * checkpoints served before the crash: each covered durable entries only (§6), so each must be a
 * prefix of the log that survived.
 */
const audit = async (
  c: Client,
  acked: readonly { env: Envelope; receipt: Receipt }[],
  earlier: { size: number; root: string } | undefined,
  seen: readonly string[],
) => {
  const ledger = await c.info();
  const cp = verifyCheckpoint(await c.checkpoint(), { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
  expect(cp).toMatchObject({ ok: true, size: ledger.size });
  if (!cp.ok) throw new Error('checkpoint does not verify');

  // Every seq 0..size-1, hash-linked across pages, and the signed root recomputed from them.
  const pages = await c.allEntries(auditor, 200); // several pages, stitched by the chain check
  let prev = ZERO_HASH;
  let nextSeq = 0;
  let lastTime: string | undefined;
  const hashes: Uint8Array[] = [];
  for (const page of pages) {
    const chain = verifyChain(page, prev, { startSeq: nextSeq, ...(lastTime ? { startTime: lastTime } : {}) });
    expect(chain, `entries from seq ${nextSeq}`).toMatchObject({ ok: true });
    if (!chain.ok) throw new Error('chain broken');
    for (const e of page) hashes.push(fromHex(e.hash));
    prev = chain.head;
    nextSeq = chain.nextSeq;
    lastTime = chain.lastTime;
  }
  expect(nextSeq).toBe(ledger.size);
  expect(toHex(rootOf(hashes))).toBe(cp.root);

  // Every acknowledged op is there, at the seq and with the hash its receipt gave.
  const mismatches: string[] = [];
  for (const { receipt } of acked) {
    const at = hashes[receipt.seq];
    if (!at || toHex(at) !== receipt.entryHash) mismatches.push(`seq ${receipt.seq}`);
  }
  expect(mismatches, 'acknowledged entries missing or changed').toEqual([]);

  const notPrefixes: string[] = [];
  for (const note of new Set(seen)) {
    const old = verifyCheckpoint(note, { ledgerId: ledger.ledgerId, nodePublicKey: ledger.nodeKey });
    if (!old.ok) notPrefixes.push(`does not verify: ${note}`);
    else if (old.size > hashes.length || toHex(rootOf(hashes, old.size)) !== old.root) notPrefixes.push(`size ${old.size} is not a prefix`);
  }
  expect(notPrefixes, 'checkpoints served before the crash').toEqual([]);
  const resubmitted = await Promise.all(
    acked.map(async ({ env, receipt }) => {
      const res = await c.post(env);
      return res.status === 200 && res.body.duplicate === true && res.body.seq === receipt.seq && res.body.entryHash === receipt.entryHash
        ? undefined
        : `${receipt.seq}: ${res.status} ${res.text.slice(0, 200)}`;
    }),
  );
  expect(resubmitted.filter((x) => x !== undefined)).toEqual([]);
  expect((await c.info()).size, 'replays wrote nothing').toBe(ledger.size);

  // The new checkpoint extends the one seen after the previous restart.
  if (earlier && earlier.size > 0) {
    const cons = await c.getOk<{ hashes: string[] }>(`/v1/proofs/consistency?from=${earlier.size}&to=${cp.size}`);
    expect(
      verifyConsistency(
        earlier.size,
        cp.size,
        cons.hashes.map((h) => fromHex(h)),
        fromHex(earlier.root),
        fromHex(cp.root),
      ),
    ).toEqual({ ok: true });
  }
  return cp;
};

describe('e2e: SIGKILL under concurrent load', () => {
  afterAll(cleanup);

  it(`keeps every acknowledged op across ${ROUNDS} kill(s) of ${OPS} ops from ${WIDTH} requests in flight`, { timeout: 60_000 + ROUNDS * 30_000 }, async () => {
    let server = await startServer();
    const dataDir = server.dataDir;
    let c = await Client.connect(server.url);
    const operator = await operatorKey(dataDir);
    for (const k of [core, bank, auditor, ...suppliers]) await c.register(operator, k);

    const acked: { env: Envelope; receipt: Receipt }[] = [];
    let earlier: { size: number; root: string } | undefined;
    const report: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const killAfter = Math.floor(OPS * (0.1 + 0.7 * Math.random()));
      const { sent, notes } = await load(c, server, round, killAfter);
      expect(notes.length).toBeGreaterThan(0);
      const answered = sent.filter((s) => s.answer !== undefined);
      const bad = answered.filter((s) => s.answer!.status !== 201);
      // Workers touch disjoint vouchers, so nothing answered before the kill may be refused.
      expect(bad.map((s) => `${String(s.env.payload.type)}: ${s.answer!.status} ${s.answer!.text.slice(0, 200)}`)).toEqual([]);
      const thisRound = answered.map((s) => ({ env: s.env, receipt: s.answer!.body }));
      acked.push(...thisRound);
      const unknown = sent.filter((s) => s.answer === undefined);
      report.push(`round ${round}: kill after ${killAfter} acks; ${thisRound.length} acked, ${unknown.length} unanswered, ${notes.length} checkpoints read`);

      server = await startServer({ dataDir });
      c = await Client.connect(server.url);
      const maxAcked = Math.max(0, ...thisRound.map((a) => a.receipt.treeSize));
      expect(c.ledger.size, report.join('\n')).toBeGreaterThanOrEqual(maxAcked);
      const cp = await audit(c, acked, earlier, notes);

      // The ops that got no answer may or may not be on the ledger; sending them again is safe.
      for (const s of unknown) {
        const res = await c.post(s.env);
        expect([200, 201], `${String(s.env.payload.type)}: ${res.text.slice(0, 200)}`).toContain(res.status);
        if (res.status === 200) expect(res.body.seq).toBeLessThan(cp.size);
        acked.push({ env: s.env, receipt: res.body });
      }
      earlier = { size: cp.size, root: cp.root };
    }
    await server.stop();
    console.info(`[e2e crash] ${report.join('; ')}`);
  });
});
