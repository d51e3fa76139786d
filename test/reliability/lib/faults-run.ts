/**
 * Storage faults: one seeded run. The service runs in this process over a real
 * LevelDB wrapped by the fault injector (test/support/faults.ts); a concurrent workload runs until
 * the planned commit fails, and a little after. Then:
 *
 *  1. while it is read-only: every op of the failed batch, and every op sent after the failure, is
 *     answered 503 LEDGER_UNAVAILABLE (a duplicate of a durable op still 200); no 201 is for an op
 *     the store did not commit; no further commit is even attempted; /readyz is 503; reads go on
 *     and show exactly the durable ledger (the model check of the served state);
 *  2. the folder is left as a power loss would leave it (nothing, the whole batch, or its log
 *     record torn), and, for a full disk, first restarted while still full (it starts, and
 *     refuses writes with 503);
 *  3. a fresh service on the same folder: every acknowledged op is there with its receipt, the
 *     failed batch is there whole or not at all (as the plan says: see below), every checkpoint
 *     signed before is a prefix, the whole history passes the model check; every op that got a
 *     503 is sent again and is a duplicate if it survived, else decided afresh.
 *
 * Which recovered state is right (docs/protocol.md §4–§6): the failed batch was never acknowledged, so
 * the protocol allows either outcome, exactly as for a crash in the middle of a request: losing it
 * loses nothing acknowledged, and keeping it is keeping a batch that is complete, hash-linked and
 * covered by the checkpoint signed in the same atomic write. What it does not allow is anything in
 * between (a batch partly applied), an acknowledged op missing, or a checkpoint inconsistent with
 * one signed before. The injector decides which survives from the seed, and the check demands
 * exactly that outcome: all of the batch when it survived whole, none of it when it was lost or
 * torn (LevelDB drops a write-ahead-log record whose tail is missing).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Harness } from '../../support/harness.js';
import { applyPowerLoss, describePlan, FaultInjector, planFor, Rng, type FaultPlan } from '../../support/faults.js';
import { checkAll, type SignedSize } from './check.js';
import { tempDir } from '../../support/service-process.js';
import { harnessTarget, key, sign, type Key, type Target } from './target.js';
import { History, makeCast, runWorkload, Workload } from './workload.js';

export interface FaultReport {
  readonly seed: number;
  readonly plan: FaultPlan;
  readonly description: string;
  /** What the restart found of the failed batch. */
  readonly survived: 'none' | 'whole' | 'n/a';
  readonly acked: number;
  readonly lost: number;
  readonly unavailable: number;
  readonly serverErrors: number;
  readonly findings: string[];
}

export interface FaultRunOptions {
  readonly workers?: number;
  /** `lie`: the store acknowledges the planned commit without writing it (the checker's own test). */
  readonly mode?: 'fault' | 'lie';
  /** Ops the workload may send before the fault must have happened. */
  readonly opsMax?: number;
}

const registerVia = async (t: Target, history: History, operator: Key, parties: readonly Key[]): Promise<void> => {
  await Promise.all(
    parties.map((k) =>
      history.send(
        t,
        sign(t.ledgerId, { type: 'party.register', nonce: `reg-${k.id}`, party: { id: k.id, name: `${k.id} Ltd.`, role: k.role, publicKey: k.publicKey } }, [
          operator,
        ]),
        {
          worker: -1,
          intent: `register ${k.id}`,
          tag: 'setup',
        },
      ),
    ),
  );
};

/** Runs one seed; anything that stops a check from running is a finding too (with the seed). */
export const runFaultSeed = async (seed: number, o: FaultRunOptions = {}): Promise<FaultReport> => {
  try {
    return await runOnce(seed, o);
  } catch (err) {
    const plan = planFor(seed);
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return {
      seed,
      plan,
      description: describePlan(plan),
      survived: 'n/a',
      acked: 0,
      lost: 0,
      unavailable: 0,
      serverErrors: 0,
      findings: [`a check could not run: ${why}`],
    };
  }
};

const runOnce = async (seed: number, o: FaultRunOptions): Promise<FaultReport> => {
  const plan = planFor(seed);
  const mode = o.mode ?? 'fault';
  const injector = new FaultInjector(plan, mode);
  const findings: string[] = [];
  const fail = (s: string) => findings.push(s);
  const rng = new Rng(seed).fork('faults');
  const dataDir = await tempDir('rvl-fault-');
  const cast = makeCast('flt', { cores: 2, suppliers: 5, banks: 3 });
  const history = new History();
  const report = (survived: FaultReport['survived'], acked = 0, lost = 0): FaultReport => {
    const tally = history.tally();
    return { seed, plan, description: describePlan(plan), survived, acked, lost, unavailable: tally.unavailable, serverErrors: tally.serverErrors, findings };
  };

  // Genesis itself fails: the service refuses to start; a restart starts over cleanly.
  let h: Harness;
  try {
    h = await Harness.start({ dataDir, wrapStore: injector.wrap });
  } catch (err) {
    if (injector.failed?.index !== 0) {
      fail(`the service failed to start, though genesis did not fail: ${(err as Error).message}`);
      return report('n/a');
    }
    const power = await applyPowerLoss(dataDir, injector);
    let again: Harness;
    try {
      again = await Harness.start({ dataDir });
    } catch (err2) {
      fail(`after a failed genesis (${power.persisted} of it on disk), the service does not start: ${(err2 as Error).message}`);
      return report(power.persisted);
    }
    try {
      const meta = injector.failed.batch.meta;
      if (power.persisted === 'whole' && again.ledgerId !== meta?.ledgerId) fail('the genesis that reached the disk was not the one served after the restart');
      if (power.persisted === 'none' && again.ledgerId === meta?.ledgerId) fail('the genesis that did not survive is served after the restart');
      if (again.operator.publicKey !== meta?.operatorKey) fail('the operator key changed between the failed genesis and the restart');
      const t = harnessTarget(again);
      await registerVia(t, history, again.operator, cast.all);
      const w = new Workload(cast, again.operator, seed);
      await runWorkload(t, w, history, rng.fork('after'), { workers: o.workers ?? 12, ops: 150, tag: 'after a failed genesis' });
      const r = await checkAll(t, again.operator, history.calls);
      findings.push(...r.findings);
      return report(power.persisted, r.model.acked, r.model.lost);
    } finally {
      await again.close(false);
    }
  }

  if (plan.commitIndex === 0 && !injector.triggered) fail('genesis was planned to fail, but the service started');
  const t1 = harnessTarget(h);
  const operator = h.operator as Key;
  let signedBefore: SignedSize | undefined;
  try {
    await registerVia(t1, history, operator, cast.all);
    const w = new Workload(cast, operator, seed);
    // Until the fault, and then 40 more ops (all must be 503).
    let after = 0;
    const opsMax = o.opsMax ?? 3000;
    await runWorkload(t1, w, history, rng.fork('load'), {
      workers: o.workers ?? 12,
      ops: opsMax,
      stop: () => injector.triggered && (after += 1) > 40 + (o.workers ?? 12),
      tag: 'load',
    });
    if (!injector.triggered) {
      fail(`the planned fault (${describePlan(plan)}) never happened in ${opsMax} ops (${injector.commits.length} commits)`);
      return report('n/a');
    }
    const failed = injector.failed!;
    const failedIds = new Set(failed.batch.entries.map((e) => e.opId));
    const committed = new Set(injector.commits.filter((c) => c.outcome === 'ok').flatMap((c) => c.opIds));

    // 1. Read-only, and nothing acknowledged that was not committed.
    if (mode === 'fault') {
      for (const c of history.calls) {
        const s = c.answer?.status;
        const at = `${c.intent} (call ${c.n})`;
        if (s === 201 && !committed.has(c.opId)) fail(`${at}: 201 for an op the store never committed`);
        if (failedIds.has(c.opId) && !(s === 503 && c.answer?.body?.code === 'LEDGER_UNAVAILABLE')) {
          fail(`${at}: its batch failed to commit, but it was answered ${s} ${c.answer?.text.slice(0, 160)}`);
        }
        if (c.start > failed.at && s !== 503 && !(s === 200 && c.answer?.body?.duplicate === true)) {
          fail(`${at}: sent after the store failed, answered ${s} ${c.answer?.text.slice(0, 160)}`);
        }
      }
      if (injector.commitsAfterFailure > 0)
        fail(`${injector.commitsAfterFailure} commit(s) were attempted after a commit failed (the service must go read-only)`);
      const ready = await t1.get('/readyz');
      if (ready.status !== 503 || ready.body?.code !== 'LEDGER_UNAVAILABLE')
        fail(`/readyz answers ${ready.status} ${ready.text.slice(0, 100)} after a failed commit`);
      if ((await t1.get('/healthz')).status !== 200) fail('/healthz is not 200 after a failed commit');
      const acked = history.calls.filter((c) => c.answer?.status === 201).slice(0, 5);
      for (const c of acked) {
        const a = await t1.post(c.env);
        if (a.status !== 200 || a.body?.duplicate !== true || a.body?.seq !== c.answer?.body?.seq)
          fail(`a duplicate of a durable op while read-only: ${a.status} ${a.text.slice(0, 160)}`);
      }
      const readOnly = await checkAll(t1, operator, history.calls, { allowUnavailable: true });
      for (const x of readOnly.findings) fail(`while read-only: ${x}`);
      const lastOk = injector.commits.filter((c) => c.outcome === 'ok').at(-1);
      if (lastOk && readOnly.snap.entries.length !== lastOk.size)
        fail(`while read-only the service serves ${readOnly.snap.entries.length} entries; the store committed ${lastOk.size}`);
      signedBefore = readOnly.log.signed;
    }
  } finally {
    await h.close(false);
  }

  // 2. The disk as a power loss leaves it; a full disk is restarted while still full first.
  const power = await applyPowerLoss(dataDir, injector);
  if (mode === 'lie') {
    // The node kept the checkpoints it signed over the commits the store only claimed to write
    // beside its key: it must refuse to start on the shorter log. The file is then moved aside,
    // so that the checks below show they catch the loss on their own.
    const refused = await Harness.start({ dataDir }).then(
      async (again) => {
        await again.close(false);
        return '';
      },
      (err: unknown) => String(err),
    );
    if (!/entries were removed/.test(refused))
      fail(`a store that lied about its commits: the restart did not refuse the shorter log (${refused || 'it started'})`);
    await rm(path.join(dataDir, 'node.key.checkpoint'), { force: true });
  }
  if (plan.kind === 'disk-full' && mode === 'fault') {
    const full = FaultInjector.diskFull(seed);
    // Refusing to start on a full disk would be acceptable too; starting and refusing writes is
    // what the service does (it writes nothing at start over a log its checkpoint covers).
    const h2 = await Harness.start({ dataDir, wrapStore: full.wrap }).catch(() => undefined);
    if (h2)
      try {
        // An op that must be written (a new party) cannot be: 503. (An op that decide refuses needs
        // no write, so its refusal may still be answered: the state it was decided on is durable.)
        const probe = key(`flt-probe-${seed % 1000}`, 'supplier');
        const t2 = harnessTarget(h2);
        const env = sign(
          t2.ledgerId,
          { type: 'party.register', nonce: `disk-full-probe-${seed}`, party: { id: probe.id, name: 'probe', role: 'supplier', publicKey: probe.publicKey } },
          [operator],
        );
        const a = (await history.send(t2, env, { worker: -1, intent: 'register a party while the disk is still full', tag: 'disk still full' })).answer;
        if (a?.status !== 503 || a.body?.code !== 'LEDGER_UNAVAILABLE') fail(`restarted on a full disk, a write got ${a?.status} ${a?.text.slice(0, 160)}`);
        if ((await t2.get('/v1/ledger')).status !== 200) fail('restarted on a full disk, reads fail');
      } finally {
        await h2.close(false);
      }
  }

  // 3. A fresh service on the same folder.
  let h3: Harness;
  try {
    h3 = await Harness.start({ dataDir });
  } catch (err) {
    fail(`after the fault (${power.persisted} of the batch on disk), the service does not start: ${(err as Error).message}`);
    return report(power.persisted);
  }
  try {
    const t3 = harnessTarget(h3);
    const failed = injector.failed!;
    const failedIds = failed.batch.entries.map((e) => e.opId);
    const first = await checkAll(t3, operator, history.calls, {
      allowUnavailable: true,
      earlier: signedBefore ? [signedBefore] : [],
      ...(power.persisted === 'none' ? { mustBeAbsent: new Set(failedIds) } : {}),
    });
    findings.push(...first.findings.map((x) => `after the restart: ${x}`));
    if (power.persisted === 'whole') {
      failed.batch.entries.forEach((e, i) => {
        const seq = first.snap.opSeq.get(e.opId);
        if (seq !== failed.batch.entries[0]!.seq + i)
          fail(`the failed batch survived whole, but its op ${i} is at seq ${seq}, not ${failed.batch.entries[0]!.seq + i}`);
      });
      if (first.snap.entries.length !== failed.batch.head.size)
        fail(`the failed batch survived whole, but the log has ${first.snap.entries.length} entries, not ${failed.batch.head.size}`);
    } else if (mode === 'fault' && first.snap.entries.length !== failed.batch.entries[0]?.seq && failed.batch.entries.length > 0) {
      fail(`the failed batch did not survive, but the log has ${first.snap.entries.length} entries, not ${failed.batch.entries[0]?.seq}`);
    }
    // Every op answered 503, sent again in order: a duplicate if it survived, else decided afresh.
    const seen = new Set<string>();
    for (const c of history.calls.filter((x) => x.answer?.status === 503)) {
      if (seen.has(c.opId)) continue;
      seen.add(c.opId);
      const was = first.snap.opSeq.get(c.opId);
      const again = await history.send(t3, c.env, { worker: c.worker, intent: `${c.intent} (resent)`, tag: 'resend' });
      const a = again.answer;
      if (was !== undefined && (a?.status !== 200 || a.body?.seq !== was))
        fail(`${c.intent}: survived at seq ${was}, resent it got ${a?.status} ${a?.text.slice(0, 160)}`);
      if (a && a.status >= 500) fail(`${c.intent}: resent after the restart: ${a.status} ${a.text.slice(0, 160)}`);
    }
    const final = await checkAll(t3, operator, history.calls, { allowUnavailable: true, ...(signedBefore ? { earlier: [signedBefore] } : {}) });
    findings.push(...final.findings.map((x) => `after resending: ${x}`));
    return report(power.persisted, final.model.acked, final.model.lost);
  } finally {
    await h3.close(false);
  }
};
