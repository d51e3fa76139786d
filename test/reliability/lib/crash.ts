/**
 * Crash safety, for the short CI run and the long soak alike.
 *
 * test/e2e/crash.test.ts kills the server a few times under load, after a chosen number of 201s,
 * with workers on disjoint vouchers, and checks the log and that every acknowledged op replays
 * as a duplicate. This run adds what that one leaves out:
 *  - kills at random moments of the clock (seeded), under a workload where workers share
 *    vouchers, so refusals and races are in flight when the process dies;
 *  - kills during start-up: during the very first start (key files, genesis), and during later
 *    starts (opening LevelDB, checking the log, signing a checkpoint, the background check),
 *    at random delays spread over the measured start-up time;
 *  - after every kill, the whole history checked against the pure domain model (check.ts): every
 *    acknowledged op present at its seq with its receipt, no seq missing, the root recomputed
 *    from the entries equal to the signed checkpoint, every earlier checkpoint a prefix, §7 holding
 *    in the served state, every receipt and every refusal what the model says;
 *  - every op that was in flight at the kill sent again: the same op id is answered 200 with its
 *    original seq if it made it, else it is decided afresh (201, or the model's refusal), and never
 *    written twice; and the SDK's `audit` (src/client) passes on the restarted ledger.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { audit } from '../../../src/client/audit.js';
import { LedgerClient } from '../../../src/client/client.js';
import { verifyNode } from '../../../src/ledger/node/ed25519-node.js';
import { Rng } from '../../support/faults.js';
import { checkLog, checkModel, checkVouchers, readSnapshot, type SignedSize, type Snapshot } from './check.js';
import { logLines, spawnService, startService, tempDir, type Proc } from '../../support/service-process.js';
import { httpTarget, registerAll, type Key, type Target } from './target.js';
import { History, makeCast, runWorkload, Workload, type Call } from './workload.js';

export interface CrashOptions {
  readonly mainJs: string;
  readonly seed: number;
  /** Kills during the first start of a new ledger (genesis). */
  readonly genesisKills: number;
  /** Kills under load. */
  readonly loadKills: number;
  /** Kills during later starts (one after a load kill, while there are any left). */
  readonly startupKills: number;
  readonly workers: number;
  /** How long the load runs before the kill, ms (drawn uniformly). */
  readonly loadMs: readonly [number, number];
  /** Run the SDK audit after every n-th restart (default 1: each). */
  readonly auditEvery?: number;
  /** Stop starting new rounds at this performance.now() (the minimum kills still happen). */
  readonly deadline?: number;
  /** A floor on the kills, whatever the deadline. */
  readonly minKills?: number;
  readonly log?: (line: string) => void;
}

export interface Kill {
  readonly kind: 'genesis' | 'load' | 'startup';
  /** Milliseconds after spawn (start-up kills) or after the load started. */
  readonly afterMs: number;
  /** How far the process had got: the last thing it logged, or `listening`. */
  readonly phase: string;
}

export interface CrashReport {
  readonly seed: number;
  readonly kills: Kill[];
  /** Restarts after a kill that came up and passed every check. */
  readonly killsSurvived: number;
  readonly acked: number;
  readonly lost: number;
  readonly inFlight: number;
  readonly inFlightOnLedger: number;
  readonly entries: number;
  readonly serverErrors: number;
  readonly refusalsChecked: number;
  readonly findings: string[];
}

/** How far a start-up got, from its log lines and its files. */
const phaseOf = (p: Proc, dataDir: string): string => {
  if (p.url() !== undefined) return 'listening';
  const msgs = logLines(p.stdout()).map((l) => String(l.msg));
  const last = msgs.at(-1);
  if (last !== undefined) return `after "${last}"`;
  const files = ['node.key', 'operator.key', 'db'].filter((f) => existsSync(path.join(dataDir, f)));
  return files.length === 0 ? 'loading (no file yet)' : `loading or opening (${files.join(', ')} present)`;
};

/** A cheap signature of what is in the data folder and its LevelDB folder (names, sizes, times). */
const folderState = (dataDir: string): string => {
  const list = (dir: string) => {
    try {
      return readdirSync(dir).map((n) => {
        const st = statSync(path.join(dir, n));
        return `${n}:${st.size}:${st.mtimeMs}`;
      });
    } catch {
      return [];
    }
  };
  return [...list(dataDir), ...list(path.join(dataDir, 'db'))].sort().join('|');
};

/** Resolves once the folder changes (the process started writing: key files, LevelDB opening). */
const folderChange = async (dataDir: string, p: Proc, timeoutMs = 30_000): Promise<boolean> => {
  const before = folderState(dataDir);
  const until = performance.now() + timeoutMs;
  while (performance.now() < until && p.proc.exitCode === null && p.proc.signalCode === null) {
    if (folderState(dataDir) !== before) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readKey = (file: string): { publicKey: string; secretKey: string } => JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; secretKey: string };

export const runCrash = async (o: CrashOptions): Promise<CrashReport> => {
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed).fork('crash');
  /** A stream of its own, so that sampling does not move the kill moments of a seed. */
  const sampler = new Rng(o.seed).fork('sample');
  const findings: string[] = [];
  const kills: Kill[] = [];
  let survived = 0;
  let serverErrors = 0;
  let refusalsChecked = 0;
  let inFlight = 0;
  let inFlightOnLedger = 0;
  const dataDir = await tempDir('rvl-crash-');
  const spawnOpts = { mainJs: o.mainJs, dataDir };
  /** Start-up time to listening, measured (ms); kills are spread over it. */
  let startMs = 900;
  const measure = (p: Proc) => {
    const at = p.listeningAt();
    if (at !== undefined) startMs = at - p.spawnedAt;
  };
  const fail = (what: string) => {
    findings.push(`seed ${o.seed}: ${what}`);
    log(`  FINDING ${what.split('\n')[0]}`);
  };

  // 1. Kills during the first start (key files and genesis), then a start that must come up.
  for (let i = 0; i < o.genesisKills; i++) {
    const p = spawnService({ ...spawnOpts, env: { LOG_LEVEL: 'info' } });
    // Every other one just after it starts writing (LevelDB opening, key files, genesis), where a
    // crash can leave a half-made folder; the others at any moment of the start-up.
    let how: string;
    if (i % 2 === 1) {
      how = 'at a random moment';
      await sleep(rng.next() * startMs * 1.15);
    } else {
      const extra = rng.next() * 50;
      how = `${Math.round(extra)} ms after it first wrote to the folder`;
      if (await folderChange(dataDir, p)) await sleep(extra);
    }
    await p.kill();
    measure(p);
    const delay = performance.now() - p.spawnedAt;
    const phase = phaseOf(p, dataDir);
    kills.push({ kind: 'genesis', afterMs: Math.round(delay), phase: `${how}: ${phase}` });
    log(`  kill ${kills.length}: during the first start, ${how}, ${Math.round(delay)} ms after spawn: ${phase}`);
  }
  let server: Proc;
  try {
    server = await startService(spawnOpts);
  } catch (err) {
    fail(`the service does not come back after ${kills.length} kill(s) during its first start: ${(err as Error).message}`);
    return {
      seed: o.seed,
      kills,
      killsSurvived: 0,
      acked: 0,
      lost: 0,
      inFlight: 0,
      inFlightOnLedger: 0,
      entries: 0,
      serverErrors: 0,
      refusalsChecked: 0,
      findings,
    };
  }
  measure(server);
  let t: Target = await httpTarget(server.url() as string);
  const ledgerId = t.ledgerId;
  const opFile = readKey(path.join(dataDir, 'operator.key'));
  const nodeFile = readKey(path.join(dataDir, 'node.key'));
  const info = (await (await fetch(`${server.url()}/v1/ledger`)).json()) as { operatorKey: string; nodeKey: string };
  if (info.operatorKey !== opFile.publicKey) fail("the ledger's operator key is not the one in operator.key");
  if (info.nodeKey !== nodeFile.publicKey) fail("the ledger's node key is not the one in node.key");
  // Each kill of the first start was followed by a start; the last one came up, with its keys.
  if (findings.length === 0) survived += o.genesisKills;
  const operator: Key = { id: 'operator', role: 'operator', seed: opFile.secretKey, publicKey: opFile.publicKey };
  const cast = makeCast('crash');
  await registerAll(t, operator, cast.all);
  const w = new Workload(cast, operator, o.seed);
  const history = new History();
  const earlier: SignedSize[] = [];
  /** Acknowledged ops found missing (the most at any check). */
  let lost = 0;

  /** Log checks and acknowledged-op presence on a fresh snapshot. */
  const quickCheck = async (what: string): Promise<Snapshot> => {
    const snap = await readSnapshot(t, operator);
    const logCheck = checkLog(snap, earlier);
    for (const x of logCheck.findings) fail(`${what}: ${x}`);
    if (snap.info.ledgerId !== ledgerId) fail(`${what}: the ledger id changed`);
    const missing = new Set<string>();
    for (const c of history.calls) {
      if ((c.answer?.status === 201 || c.answer?.status === 200) && snap.opSeq.get(c.opId) !== c.answer.body?.seq && !missing.has(c.opId)) {
        missing.add(c.opId);
        if (missing.size <= 5) fail(`${what}: acknowledged ${c.intent} (call ${c.n}, seq ${c.answer.body?.seq}) is not on the ledger at its seq`);
      }
    }
    if (missing.size > 5) fail(`${what}: ${missing.size} acknowledged ops in all are not on the ledger at their seq`);
    // GET /v1/entries/:seq too, for a sample of the acknowledged ops: the same entry, the same hash.
    const ackedCalls = history.calls.filter((c) => c.answer?.status === 201);
    for (let i = 0; i < Math.min(12, ackedCalls.length); i++) {
      const c = ackedCalls[sampler.int(0, ackedCalls.length - 1)] as Call;
      const seq = c.answer?.body?.seq as number;
      const one = await t.get(`/v1/entries/${seq}`, operator);
      if (one.status !== 200 || one.body?.hash !== c.answer?.body?.entryHash || one.body?.entry?.seq !== seq) {
        fail(`${what}: GET /v1/entries/${seq} (acknowledged ${c.intent}): ${one.status} ${one.text.slice(0, 160)}`);
      }
    }
    lost = Math.max(lost, missing.size);
    for (const x of checkVouchers(snap.vouchers, new Map(snap.parties.map((p) => [p.id, p])), snap.entries.length).slice(0, 10)) fail(`${what}: ${x}`);
    if (logCheck.signed) earlier.push(logCheck.signed);
    return snap;
  };

  let round = 0;
  let startupLeft = o.startupKills;
  let acked = 0;
  let entries = 0;
  const more = () => round < o.loadKills && (o.deadline === undefined || performance.now() < o.deadline || kills.length < (o.minKills ?? 0));
  try {
    while (more()) {
      const tag = `round ${round}`;
      // 2. Load, then SIGKILL at a random moment.
      const delay = o.loadMs[0] + rng.next() * (o.loadMs[1] - o.loadMs[0]);
      let killed = false;
      const victim = server;
      const timer = setTimeout(() => {
        killed = true;
        void victim.kill();
      }, delay);
      const before = history.calls.length;
      await runWorkload(t, w, history, rng.fork(tag), { workers: o.workers, stop: () => killed, tag });
      clearTimeout(timer);
      killed = true;
      await victim.kill();
      const roundCalls = history.calls.slice(before);
      const unanswered = roundCalls.filter((c) => c.answer === undefined);
      const t201 = roundCalls.filter((c) => c.answer?.status === 201).length;
      kills.push({ kind: 'load', afterMs: Math.round(delay), phase: `${roundCalls.length} ops sent, ${t201} acknowledged, ${unanswered.length} in flight` });
      log(`  kill ${kills.length}: under load after ${Math.round(delay)} ms: ${roundCalls.length} sent, ${t201} acknowledged, ${unanswered.length} in flight`);

      // 3. Restart; the log and every acknowledged op.
      const findingsBefore = findings.length;
      try {
        server = await startService(spawnOpts);
      } catch (err) {
        fail(`${tag}: the service does not come back: ${(err as Error).message}`);
        break;
      }
      measure(server);
      t = await httpTarget(server.url() as string);
      const snap = await quickCheck(`${tag}, after the restart`);
      w.beliefs.learn(snap.vouchers);
      for (const p of snap.parties)
        if (p.status === 'suspended') w.beliefs.suspended.add(p.id);
        else w.beliefs.suspended.delete(p.id);

      // 4. What was in flight, sent again (in the order it was first sent).
      inFlight += unanswered.length;
      /** Where each resent op is on the ledger after the first resend (undefined: refused). */
      const placed = new Map<string, number>();
      for (const c of unanswered) {
        const was = snap.opSeq.get(c.opId);
        if (was !== undefined) inFlightOnLedger += 1;
        const again = await history.send(t, c.env, { worker: c.worker, intent: `${c.intent} (resent)`, tag: `${tag} resend` });
        const a = again.answer;
        if (a && (a.status === 201 || a.status === 200) && typeof a.body?.seq === 'number') placed.set(c.opId, a.body.seq as number);
        if (!a) fail(`${tag}: no answer to a resent op`);
        else if (was !== undefined) {
          if (a.status !== 200 || a.body?.duplicate !== true || a.body?.seq !== was || a.body?.opId !== c.opId) {
            fail(`${tag}: ${c.intent} was in flight and made it to seq ${was}; resent, it got ${a.status} ${a.text.slice(0, 200)}`);
          }
        } else if (a.status >= 500) {
          fail(`${tag}: ${c.intent} resent: ${a.status} ${a.text.slice(0, 200)}`);
        }
        if (a && (a.status === 201 || a.status === 200)) w.beliefs.learnReceipt(a.body);
      }
      // …and once more: an op now on the ledger is a duplicate at its seq, never a second entry.
      // (One refused the first time may be accepted now: a later resent op can have made it
      // valid, e.g. the accept that makes a voucher active again; the model checks that below.)
      const sizeBefore = (await t.get('/v1/ledger')).body?.size as number;
      let newlyAccepted = 0;
      for (const c of unanswered) {
        const a = (await history.send(t, c.env, { worker: c.worker, intent: `${c.intent} (resent twice)`, tag: `${tag} resend 2` })).answer;
        const at = placed.get(c.opId);
        if (at !== undefined && (a?.status !== 200 || a.body?.duplicate !== true || a.body?.seq !== at)) {
          fail(`${tag}: ${c.intent} is on the ledger at seq ${at}; resent a second time it got ${a?.status} ${a?.text.slice(0, 160)}`);
        }
        if (a?.status === 201) {
          newlyAccepted += 1;
          if (at !== undefined) fail(`${tag}: ${c.intent} was written a second time`);
          else placed.set(c.opId, a.body?.seq as number);
        }
      }
      const sizeAfter = (await t.get('/v1/ledger')).body?.size as number;
      if (sizeAfter !== sizeBefore + newlyAccepted)
        fail(`${tag}: resending ${unanswered.length} ops grew the ledger from ${sizeBefore} to ${sizeAfter} with ${newlyAccepted} accepted`);

      // 5. The whole history against the model, and the SDK's audit.
      const full = await readSnapshot(t, operator);
      const logCheck = checkLog(full, earlier);
      const model = checkModel(full, history.calls);
      for (const x of [...logCheck.findings, ...model.findings].slice(0, 20)) fail(`${tag}: ${x}`);
      if (logCheck.signed) earlier.push(logCheck.signed);
      lost = model.lost;
      acked = model.acked;
      entries = full.entries.length;
      serverErrors = model.serverErrors;
      refusalsChecked = model.refusalsChecked;
      if (round % (o.auditEvery ?? 1) === 0) {
        const report = await audit(new LedgerClient({ baseUrl: server.url() as string, key: { party: operator.id, secretKey: operator.seed } }), {
          verify: verifyNode,
        });
        if (!report.ok || report.checkpointSize !== full.entries.length) {
          fail(`${tag}: the SDK audit fails: ${JSON.stringify(report.firstFailure)} (checked ${report.entriesChecked} of ${full.entries.length})`);
        }
      }
      const clean = findings.length === findingsBefore;
      if (clean) survived += 1;
      log(
        `    restarted in ${Math.round(startMs)} ms; ${full.entries.length} entries; ${model.acked} acknowledged so far, ${model.lost} lost; ${model.receiptsChecked} receipts and ${model.refusalsChecked} refusals match the model${clean ? '' : '; FINDINGS'}`,
      );
      round += 1;

      // 6. Sometimes, a kill during the next start-up (opening, checking the log, just after).
      if (startupLeft > 0 && (more() || round >= o.loadKills)) {
        startupLeft -= 1;
        const size = full.entries.length;
        const findingsBeforeStart = findings.length;
        await server.stop();
        const p = spawnService({ ...spawnOpts, env: { LOG_LEVEL: 'info' } });
        // In turn: during recovery (LevelDB opening, the log checked against the checkpoint: it
        // starts when the folder changes), just after it listens (the background check of the
        // whole log, the duplicate index), and at any moment of the start-up.
        const mode = (o.startupKills - startupLeft - 1) % 3 === 0 ? 1 : (o.startupKills - startupLeft - 1) % 3 === 1 ? 2 : 0;
        let how: string;
        if (mode === 0) {
          how = 'at a random moment';
          await sleep(rng.next() * startMs * 1.15);
        } else if (mode === 1) {
          const extra = rng.next() * 60;
          how = `during recovery, ${Math.round(extra)} ms after LevelDB began opening`;
          if (await folderChange(dataDir, p)) await sleep(extra);
        } else {
          const extra = rng.next() * 300;
          how = `${Math.round(extra)} ms after it listened`;
          await p.waitListening().catch(() => undefined);
          await sleep(extra);
        }
        await p.kill();
        const d = performance.now() - p.spawnedAt;
        const phase = phaseOf(p, dataDir);
        kills.push({ kind: 'startup', afterMs: Math.round(d), phase: `${how}: ${phase}` });
        log(`  kill ${kills.length}: during start-up, ${how}, ${Math.round(d)} ms after spawn (start-up takes ~${Math.round(startMs)} ms): ${phase}`);
        try {
          server = await startService(spawnOpts);
        } catch (err) {
          fail(`after a kill during start-up (${phase}): the service does not come back: ${(err as Error).message}`);
          break;
        }
        measure(server);
        t = await httpTarget(server.url() as string);
        const after = await quickCheck(`after a kill during start-up (${phase})`);
        if (after.entries.length !== size) fail(`a kill during start-up changed the log from ${size} to ${after.entries.length} entries`);
        if (findings.length === findingsBeforeStart) survived += 1;
      }
    }
  } catch (err) {
    // A check that could not even run (a read refused, a restart that hangs) is a finding too.
    fail(`round ${round}: ${(err as Error).stack ?? String(err)}`);
  }
  await server.kill();
  const tally = history.tally();
  serverErrors = Math.max(serverErrors, tally.serverErrors);
  return { seed: o.seed, kills, killsSurvived: survived, acked, lost, inFlight, inFlightOnLedger, entries, serverErrors, refusalsChecked, findings };
};

export type { Call };
