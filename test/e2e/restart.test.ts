/**
 * A graceful restart (docs/protocol.md §6, §10): SIGTERM/SIGINT stop the service with exit code 0, and a
 * start on the same data folder serves the same ledger — same id, size and checkpoint root — and
 * answers every earlier op with its original receipt and `"duplicate": true`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { Client, dueIn, key, operatorKey, type Envelope, type Receipt } from './client.js';
import { cleanup, startServer, type Exit } from './server.js';

const core = key('sz-electric', 'core');
const s1 = key('foshan-wire', 'supplier');
const s2 = key('zhuhai-pcb', 'supplier');
const bank = key('boc-sz', 'bank');

const GRACE_MS = 5_000;

describe('e2e: restart', () => {
  afterAll(cleanup);

  it('SIGTERM exits 0; the restarted service has the same ledger and replays every op as a duplicate', async () => {
    const first = await startServer();
    const c = await Client.connect(first.url);
    const operator = await operatorKey(first.dataDir);
    const done: { env: Envelope; receipt: Receipt }[] = [];
    const ok = async (payload: Record<string, unknown>, signers: Parameters<Client['envelope']>[1]) => {
      const env = c.envelope(payload, signers);
      const res = await c.post(env);
      expect(res.status, res.text).toBe(201);
      done.push({ env, receipt: res.body });
      return res.body;
    };
    for (const k of [core, s1, s2, bank]) {
      await ok({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [operator]);
    }
    const issued = await ok({ type: 'voucher.issue', issuer: core.id, to: s1.id, amount: '900000', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['R-1'] }, [
      core,
    ]);
    const root = issued.effects.vouchers[0]!.id;
    await ok({ type: 'voucher.accept', voucherId: root }, [s1]);
    await ok({ type: 'voucher.transfer', voucherId: root, to: s2.id, amount: '300000' }, [s1]);
    await ok({ type: 'voucher.accept', voucherId: `${root}:0-300000` }, [s2]);
    await ok({ type: 'voucher.pledge', voucherId: `${root}:300000-900000`, bank: bank.id, loanRef: 'L-1' }, [s1, bank]);

    const before = await c.info();
    const noteBefore = await c.checkpoint();
    expect(before.size).toBe(done.length + 1);

    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = await startServer({ dataDir: first.dataDir });
    expect(second.stdout()).not.toMatch(/key written to/);
    const c2 = await Client.connect(second.url);
    const after = c2.ledger;
    expect(after).toEqual(before);
    const noteAfter = await c2.checkpoint();
    const cpBefore = verifyCheckpoint(noteBefore, { ledgerId: before.ledgerId, nodePublicKey: before.nodeKey });
    const cpAfter = verifyCheckpoint(noteAfter, { ledgerId: after.ledgerId, nodePublicKey: after.nodeKey });
    expect(cpAfter).toMatchObject({ ok: true, size: before.size });
    expect(cpAfter).toEqual(cpBefore);

    for (const { env, receipt } of done) {
      const res = await c2.post(env);
      expect(res.status, `${String(env.payload.type)} seq ${receipt.seq}: ${res.text}`).toBe(200);
      expect(res.body).toEqual({ ...receipt, duplicate: true });
    }
    expect((await c2.info()).size).toBe(before.size);
    // The restarted service still writes, right after the old head.
    const next = await c2.ok({ type: 'voucher.release', voucherId: `${root}:300000-900000` }, [bank]);
    expect(next.seq).toBe(before.size);

    // SIGINT is a graceful stop too, and the write made after the restart survives it.
    expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null });
    const third = await startServer({ dataDir: first.dataDir });
    const c3 = await Client.connect(third.url);
    expect(c3.ledger).toMatchObject({ ledgerId: before.ledgerId, size: before.size + 1 });
    expect(verifyCheckpoint(await c3.checkpoint(), { ledgerId: before.ledgerId, nodePublicKey: before.nodeKey })).toMatchObject({
      ok: true,
      size: before.size + 1,
    });
    await third.stop();
  });

  it('SIGTERM while writes are in flight: exits 0 within 5 s, and every acknowledged op is on the ledger after the restart', async () => {
    const server = await startServer();
    const c = await Client.connect(server.url);
    const operator = await operatorKey(server.dataDir);
    // 40 registrations at once over keep-alive connections; the stop lands after the first answer.
    const parties = Array.from({ length: 40 }, (_, i) => key(`grace-${i}`, 'supplier'));
    const envs = parties.map((k) => c.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [operator]));
    let stopping: Promise<Exit | Error> | undefined;
    const outcomes = await Promise.all(
      envs.map(async (env) => {
        try {
          const res = await c.post(env);
          // Well inside a container runtime's grace period (10 s for docker) before its SIGKILL.
          stopping ??= server.stop('SIGTERM', GRACE_MS).catch((err: Error) => err);
          return res;
        } catch {
          return undefined; // the connection was closed under the request: outcome unknown
        }
      }),
    );
    const exit = await stopping;
    expect.soft(exit instanceof Error ? exit.message : exit, `a graceful stop within ${GRACE_MS} ms`).toEqual({ code: 0, signal: null });
    const acked = outcomes.flatMap((r, i) => (r?.status === 201 ? [{ env: envs[i]!, receipt: r.body }] : []));
    expect(acked.length).toBeGreaterThan(0);
    for (const r of outcomes) if (r) expect([201, 503]).toContain(r.status);

    const again = await startServer({ dataDir: server.dataDir });
    const c2 = await Client.connect(again.url);
    for (const { env, receipt } of acked) {
      const res = await c2.post(env);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ seq: receipt.seq, entryHash: receipt.entryHash, duplicate: true });
    }
    // The ops that got no answer can be sent again safely: each is either on the ledger or goes on now.
    for (const [i, r] of outcomes.entries()) {
      if (r?.status === 201) continue;
      const res = await c2.post(envs[i]!);
      expect([200, 201]).toContain(res.status);
    }
    expect((await c2.info()).size).toBe(1 + envs.length);
    await again.stop();
  });
});
