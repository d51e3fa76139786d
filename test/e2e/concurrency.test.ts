/**
 * Races over real HTTP (docs/protocol.md §7 rule 5, CONTEXT.md "double pledging"): many concurrent ops on
 * one voucher, each valid on its own; exactly one wins, every other is refused with the code §7
 * gives, and the ledger grows by exactly one entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, dueIn, key, operatorKey, pool, type Key } from './client.js';
import { cleanup, startServer, type Server } from './server.js';

const N = 50;
const core = key('race-core', 'core');
const holder = key('race-holder', 'supplier');
const banks = Array.from({ length: N }, (_, i) => key(`race-bank-${i}`, 'bank'));
const suppliers = Array.from({ length: N }, (_, i) => key(`race-supplier-${i}`, 'supplier'));

describe('e2e: concurrent ops on one voucher', () => {
  let server: Server;
  let c: Client;
  let operator: Key;

  beforeAll(async () => {
    server = await startServer();
    c = await Client.connect(server.url);
    operator = await operatorKey(server.dataDir);
    await c.register(operator, core);
    await c.register(operator, holder);
    // Registrations themselves go in concurrently: 100 independent ops.
    const regs = await Promise.all(
      [...banks, ...suppliers].map((k) =>
        c.submit({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [operator]),
      ),
    );
    expect(regs.filter((r) => r.status !== 201).map((r) => r.text)).toEqual([]);
    expect(new Set(regs.map((r) => r.body.seq)).size).toBe(2 * N);
  }, 60_000);
  afterAll(cleanup);

  const activeVoucher = async (invoice: string): Promise<string> => {
    const issued = await c.ok(
      { type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '7000000', currency: 'CNY', dueDate: dueIn(60), invoiceIds: [invoice] },
      [core],
    );
    const id = issued.effects.vouchers[0]!.id;
    await c.ok({ type: 'voucher.accept', voucherId: id }, [holder]);
    return id;
  };

  /** Signs all first, then fires them at once. */
  const race = async (envs: ReturnType<Client['envelope']>[]) => {
    const sizeBefore = (await c.info()).size;
    const answers = await Promise.all(envs.map((e) => c.post(e)));
    const sizeAfter = (await c.info()).size;
    return { answers, grew: sizeAfter - sizeBefore };
  };

  it(`${N} co-signed pledges of one voucher to ${N} banks: one 201, ${N - 1} × 409 VOUCHER_PLEDGED`, async () => {
    const v = await activeVoucher('RACE-P');
    const envs = banks.map((b, i) => c.envelope({ type: 'voucher.pledge', voucherId: v, bank: b.id, loanRef: `LOAN-${i}` }, [holder, b]));
    const { answers, grew } = await race(envs);
    const winners = answers.flatMap((a, i) => (a.status === 201 ? [i] : []));
    expect(winners).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body.code}`);
    expect(losers).toEqual(Array.from({ length: N - 1 }, () => '409 VOUCHER_PLEDGED'));
    expect(grew).toBe(1);
    const winner = banks[winners[0]!]!;
    const state = await c.getOk(`/v1/vouchers/${v}`, holder);
    expect(state).toMatchObject({ id: v, status: 'pledged', pledge: { bank: winner.id, loanRef: `LOAN-${winners[0]}` } });
    // Only the winning bank can see it; a losing one cannot even learn it exists.
    expect((await c.get(`/v1/vouchers/${v}`, winner)).status).toBe(200);
    const loser = banks[(winners[0]! + 1) % N]!;
    expect((await c.get(`/v1/vouchers/${v}`, loser)).status).toBe(404);
    // A refused op consumed nothing: once released, a loser's very envelope goes through.
    await c.ok({ type: 'voucher.release', voucherId: v }, [winner]);
    const retry = await c.post(envs[(winners[0]! + 1) % N]!);
    expect(retry.status).toBe(201);
  });

  it(`${N} whole transfers of one voucher to ${N} suppliers: one 201, ${N - 1} × 409 VOUCHER_STATE_CONFLICT`, async () => {
    const v = await activeVoucher('RACE-T');
    const envs = suppliers.map((s) => c.envelope({ type: 'voucher.transfer', voucherId: v, to: s.id }, [holder]));
    const { answers, grew } = await race(envs);
    const winners = answers.flatMap((a, i) => (a.status === 201 ? [i] : []));
    expect(winners).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body.code}`);
    expect(losers).toEqual(Array.from({ length: N - 1 }, () => '409 VOUCHER_STATE_CONFLICT'));
    expect(grew).toBe(1);
    const winner = suppliers[winners[0]!]!;
    expect(await c.getOk(`/v1/vouchers/${v}`, holder)).toMatchObject({ status: 'offered', holder: holder.id, offeredTo: winner.id });
    expect((await c.ok({ type: 'voucher.accept', voucherId: v }, [winner])).effects.vouchers[0]).toMatchObject({ status: 'active', holder: winner.id });
  });

  it('the same envelope sent 20 times at once: one 201, the rest 200 duplicates of the same receipt', async () => {
    const v = await activeVoucher('RACE-D');
    const env = c.envelope({ type: 'voucher.split', voucherId: v, amounts: ['1', '6999999'] }, [holder]);
    const { answers, grew } = await race(Array.from({ length: 20 }, () => env));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array.from({ length: 19 }, () => 200), 201]);
    const first = answers.find((a) => a.status === 201)!.body;
    for (const a of answers) if (a.status === 200) expect(a.body).toEqual({ ...first, duplicate: true });
    expect(grew).toBe(1);
  });

  it('many parties racing over different vouchers all get through', async () => {
    const ids = await pool(
      Array.from({ length: 10 }, (_, i) => `RACE-M${i}`),
      10,
      (inv) => activeVoucher(inv),
    );
    const answers = await Promise.all(
      ids.map((v, i) => c.submit({ type: 'voucher.pledge', voucherId: v, bank: banks[i]!.id, loanRef: 'M' }, [holder, banks[i]!])),
    );
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 201));
  });
});
