/**
 * Model checking, short version: a concurrent run over HTTP whose history is
 * checked against the pure domain model (lib/model-run.ts, lib/check.ts). Then the checker's own
 * tests, on the same real history: an altered receipt, a lost acknowledged op, a refusal the model
 * would not give, a changed served voucher and a missing entry must each be reported.
 *
 * RVL_SEED=<n> replays a seed's choices of ops.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedFromEnv } from '../support/faults.js';
import { checkLog, checkModel, type Snapshot } from './lib/check.js';
import { runModelCheck, type ModelRun } from './lib/model-run.js';
import { cleanup } from '../support/service-process.js';
import type { Call } from './lib/workload.js';

const SEED = seedFromEnv(7_000_003);

describe('reliability: a concurrent history checked against the domain model', () => {
  let run: ModelRun;
  beforeAll(async () => {
    run = await runModelCheck({ mainJs: inject('rvlMainJs'), seed: SEED, workers: 24, ops: 900 });
  }, 120_000);
  afterAll(async () => {
    await run?.server.stop();
    await cleanup();
  });

  it(`every receipt, every refusal and the final state are the model's (seed ${SEED})`, () => {
    const why = `seed ${SEED} (replay: RVL_SEED=${SEED} npx vitest run test/reliability/model.test.ts)\n${run.findings.join('\n')}`;
    expect(run.findings, why).toEqual([]);
    const t = run.report;
    expect(t.lost).toBe(0);
    expect(t.serverErrors).toBe(0);
    // The run must have exercised what it claims to check.
    expect(t.receiptsChecked).toBeGreaterThan(300);
    expect(t.refusalsChecked).toBeGreaterThan(60);
    for (const code of [
      'VOUCHER_STATE_CONFLICT',
      'VOUCHER_PLEDGED',
      'SIGNERS_MISMATCH',
      'PARTY_SUSPENDED',
      'AMOUNT_INVALID',
      'OP_EXPIRED',
      'INVALID_RECIPIENT',
      'ROLE_NOT_ALLOWED',
      'INVOICE_ALREADY_USED',
    ])
      expect(Object.keys(t.codes)).toContain(code);
    const statuses = new Set(run.snap.vouchers.map((v) => v.status));
    for (const s of ['offered', 'active', 'pledged', 'split', 'settled', 'cancelled']) expect(statuses).toContain(s);
    console.info(
      `[reliability model] seed ${SEED}: ${run.calls.length} requests in ${run.seconds.toFixed(1)} s, ${t.receiptsChecked} receipts and ${t.refusalsChecked} refusals checked, ${run.snap.entries.length} entries, ${run.snap.vouchers.length} vouchers; refusals ${JSON.stringify(t.codes)}`,
    );
  });

  describe('the checker fails when it should', () => {
    const withAnswer = (c: Call, body: unknown, status = c.answer?.status ?? 201): Call => ({
      ...c,
      answer: { status, contentType: 'application/json', text: JSON.stringify(body), body },
    });
    const acked = () => run.calls.filter((c) => c.answer?.status === 201 && (c.answer.body?.effects?.vouchers?.length ?? 0) > 0);

    it('a receipt whose effects differ from the model by one unit', () => {
      const c = acked()[3]!;
      const body = structuredClone(c.answer!.body);
      body.effects.vouchers[0].amount = String(BigInt(body.effects.vouchers[0].amount) + 1n);
      const r = checkModel(
        run.snap,
        run.calls.map((x) => (x === c ? withAnswer(c, body) : x)),
      );
      expect(r.findings.join('\n')).toMatch(/receipt's effects are not the model's/);
    });

    it('an acknowledged op that is not on the ledger', () => {
      const c = acked()[5]!;
      const ghost: Call = { ...withAnswer(c, { ...c.answer!.body, opId: 'f'.repeat(64) }), opId: 'f'.repeat(64), n: 999_999 };
      const r = checkModel(run.snap, [...run.calls, ghost]);
      expect(r.lost).toBe(1);
      expect(r.findings.join('\n')).toMatch(/\(LOST\)/);
    });

    it('a refusal the model never gives (an accepted accept answered AMOUNT_INVALID)', () => {
      const c = run.calls.find((x) => x.answer?.status === 201 && x.env.payload.type === 'voucher.accept')!;
      const fake: Call = { ...withAnswer(c, { code: 'AMOUNT_INVALID' }, 422), n: 999_998 };
      const r = checkModel(run.snap, [...run.calls.filter((x) => x !== c), fake]);
      expect(r.findings.join('\n')).toMatch(/refused AMOUNT_INVALID, but the model at every seq/);
    });

    it('a served voucher that differs from the model (another holder)', () => {
      const snap: Snapshot = { ...run.snap, vouchers: run.snap.vouchers.map((v, i) => (i === 7 ? { ...v, holder: run.operator.id } : v)) };
      expect(checkModel(snap, run.calls).findings.join('\n')).toMatch(/served .* model/s);
    });

    it('a missing entry, and a checkpoint that does not cover the log', () => {
      const snap: Snapshot = { ...run.snap, entries: run.snap.entries.filter((e) => e.entry.seq !== 40) };
      const f = checkLog(snap).findings.join('\n');
      expect(f).toMatch(/the log is broken at seq 40/);
      expect(f).toMatch(/checkpoint covers/);
    });
  });
});
