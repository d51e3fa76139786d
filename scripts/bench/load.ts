/**
 * The load generator: a separate process (forked by run.ts / scale.ts, commands over IPC, see
 * lib/protocol.ts), so that its CPU is not the harness's and the server is measured from outside.
 *
 * - Writes: every envelope is built with the SDK and signed before the clock starts (on two
 *   worker threads); each of `concurrency` streams sends its own chain of dependent ops, one at a
 *   time, over an undici Pool with one keep-alive connection per stream. Every answer must be
 *   201; a failure is counted and sampled, and the stream skips the rest of that cycle (its later
 *   ops depend on the failed one).
 * - Reads: `GET /v1/vouchers/:id` with a read token made once per party, and inclusion or
 *   consistency proofs at random positions; every answer must be 200.
 */
import { Pool } from 'undici';
import { makeToken, partyRegister, type WirePayload } from '../../src/client/index.js';
import type { RegistrableRole } from '../../src/domain/types.js';
import { opPreimage } from '../../src/ledger/op.js';
import { encode, newHistogram, recordMs, summarize, type Histogram } from './lib/hist.js';
import type {
  Command,
  FailureSample,
  InitCommand,
  InitResult,
  PrepareReadsCommand,
  PrepareResult,
  PrepareWritesCommand,
  Reply,
  RunResult,
} from './lib/protocol.js';
import { checkSignPool, SignPool } from './lib/sign-pool.js';
import { allParties, benchParties, OPS_PER_CYCLE, WorkloadPlanner, type BenchParties, type PlannedOp, type Visible } from './lib/workload.js';

interface Context {
  url: string;
  ledgerId: string;
  parties: BenchParties;
  planner: WorkloadPlanner;
}

let ctx: Context | undefined;
let prepared: (() => Promise<RunResult>) | undefined;
const signPool = new SignPool();

/** Vouchers the writes created, each with a party that may read it (a bounded random sample). */
const RESERVOIR_MAX = 20_000;
const reservoir: Visible[] = [];
let reservoirSeen = 0;
const remember = (v: Visible): void => {
  reservoirSeen += 1;
  if (reservoir.length < RESERVOIR_MAX) reservoir.push(v);
  else {
    const j = Math.floor(Math.random() * reservoirSeen);
    if (j < RESERVOIR_MAX) reservoir[j] = v;
  }
};

const JSON_HEADERS = { 'content-type': 'application/json' };
const MAX_SAMPLES = 8;

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** One request; the body is read only when the status is not the expected one. */
const request = async (pool: Pool, method: 'GET' | 'POST', path: string, expected: number, headers: Record<string, string>, body?: string): Promise<Answer> => {
  try {
    const res = await pool.request({ method, path, headers, body });
    if (res.statusCode === expected) {
      await res.body.dump({ limit: 16 * 1024 * 1024 });
      return { status: res.statusCode, text: '' };
    }
    return { status: res.statusCode, text: (await res.body.text()).slice(0, 400) };
  } catch (err) {
    return { status: 0, text: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
};

const need = (): Context => {
  if (!ctx) throw new Error('the load process has no ledger yet: send init first');
  return ctx;
};

/** Runs `tasks` with at most `n` at once. */
const pooled = async <T>(tasks: readonly T[], n: number, run: (t: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) {
        const t = tasks[next]!;
        next += 1;
        await run(t);
      }
    }),
  );
};

const signAll = async (ops: readonly PlannedOp[]): Promise<{ bodies: string[]; signatures: number }> => {
  const requests: { seed: string; preimage: Uint8Array }[] = [];
  const preimages = ops.map((o) => opPreimage(o.payload));
  ops.forEach((o, i) => {
    for (const s of o.signers) requests.push({ seed: s.seed, preimage: preimages[i]! });
  });
  const sigs = await signPool.sign(requests);
  let at = 0;
  const bodies = ops.map((o) => {
    const signatures = o.signers.map((s) => ({ signer: s.id, sig: sigs[at++]! }));
    return JSON.stringify({ payload: o.payload, signatures });
  });
  return { bodies, signatures: sigs.length };
};

const postAll201 = async (pool: Pool, chains: readonly (readonly string[])[], concurrency: number, what: string, tolerate?: RegExp): Promise<number> => {
  let sent = 0;
  await pooled(chains, concurrency, async (chain) => {
    for (const body of chain) {
      const a = await request(pool, 'POST', '/v1/ops', 201, JSON_HEADERS, body);
      sent += 1;
      if (a.status !== 201 && !(tolerate && tolerate.test(a.text))) {
        const payload = (JSON.parse(body) as { payload: WirePayload }).payload;
        throw new Error(`${what}: ${payload.type} answered ${a.status} ${a.text}`);
      }
    }
  });
  return sent;
};

const init = async (c: InitCommand): Promise<InitResult> => {
  const parties = benchParties(c.suppliers, c.banks);
  ctx = { url: c.url, ledgerId: c.ledgerId, parties, planner: ctx?.ledgerId === c.ledgerId ? ctx.planner : new WorkloadPlanner(c.ledgerId, parties) };
  await checkSignPool(signPool, parties.core.seed);
  if (c.operatorSeed === undefined) return { registered: 0 };
  const operator = { id: 'operator', role: 'operator' as const, seed: c.operatorSeed, publicKey: '' };
  const ops: PlannedOp[] = allParties(parties).map((p) => ({
    payload: partyRegister({ ledger: c.ledgerId, party: { id: p.id, name: `Bench ${p.id}`, role: p.role as RegistrableRole, publicKey: p.publicKey } }),
    signers: [operator],
  }));
  const { bodies } = await signAll(ops);
  const pool = new Pool(c.url, { connections: 8 });
  try {
    // On a ledger a previous bench built (scale --data), the same deterministic parties exist.
    await postAll201(
      pool,
      bodies.map((b) => [b]),
      8,
      'registering the bench parties',
      /"code":"PARTY_EXISTS"/,
    );
  } finally {
    await pool.close();
  }
  return { registered: bodies.length };
};

const warmUp = async (pool: Pool, n: number): Promise<void> => {
  await Promise.all(Array.from({ length: n }, () => request(pool, 'GET', '/healthz', 200, {})));
};

const prepareWrites = async (c: PrepareWritesCommand): Promise<PrepareResult> => {
  const started = performance.now();
  const { url, planner } = need();
  const cyclesPerRoot = c.cyclesPerRoot ?? 2;
  const streams = c.concurrency;
  const total = c.ops ?? c.budgetOps ?? 0;
  if (total <= 0) throw new Error('prepare-writes needs ops, or seconds with budgetOps');
  // Ops per stream: as even as possible; every stream gets at least one when there are enough.
  const perStream = Array.from({ length: streams }, (_, s) => Math.floor(total / streams) + (s < total % streams ? 1 : 0));

  const setupOps: PlannedOp[] = [];
  const timedOps: PlannedOp[] = [];
  interface StreamPlan {
    setup: [number, number][];
    cycles: { first: number; count: number; visible: readonly Visible[] }[];
  }
  const plans: StreamPlan[] = perStream.map((n, s) => {
    const plan: StreamPlan = { setup: [], cycles: [] };
    let left = n;
    while (left > 0) {
      const root = planner.root(s, cyclesPerRoot);
      plan.setup.push([setupOps.length, setupOps.length + 1]);
      setupOps.push(root.issue, root.accept);
      for (const cycle of root.cycles) {
        if (left <= 0) break;
        const count = Math.min(left, OPS_PER_CYCLE);
        plan.cycles.push({ first: timedOps.length, count, visible: count === OPS_PER_CYCLE ? cycle.visible : [] });
        timedOps.push(...cycle.ops.slice(0, count));
        left -= count;
      }
    }
    return plan;
  });

  const signStarted = performance.now();
  const setupSigned = await signAll(setupOps);
  const timedSigned = await signAll(timedOps);
  const signSeconds = (performance.now() - signStarted) / 1000;

  const setupStarted = performance.now();
  const setupConcurrency = c.setupConcurrency ?? 128;
  const setupPool = new Pool(url, { connections: setupConcurrency });
  let setupSent = 0;
  try {
    const chains = plans.flatMap((p) => p.setup.map(([i, a]) => [setupSigned.bodies[i]!, setupSigned.bodies[a]!]));
    setupSent = await postAll201(setupPool, chains, setupConcurrency, 'setup (issue and accept root vouchers)');
  } finally {
    await setupPool.close();
  }
  const setupSeconds = (performance.now() - setupStarted) / 1000;

  // One pool per target, with one connection for each stream sent to it.
  const targets = c.targets && c.targets.length > 0 ? c.targets : [url];
  const pools = targets.map((t, i) => {
    const streamsHere = Math.ceil((c.concurrency - i) / targets.length);
    return { pool: new Pool(t, { connections: Math.max(1, streamsHere), pipelining: 1, keepAliveTimeout: 120_000 }), streams: streamsHere };
  });
  await Promise.all(pools.map((p) => warmUp(p.pool, p.streams)));

  const streamsOfBodies = plans.map((p) =>
    p.cycles.map((cy) => ({
      bodies: timedSigned.bodies.slice(cy.first, cy.first + cy.count),
      types: timedOps.slice(cy.first, cy.first + cy.count).map((o) => o.payload.type),
      visible: cy.visible,
    })),
  );

  prepared = async (): Promise<RunResult> => {
    const hist = newHistogram();
    const byType: Record<string, number> = {};
    const samples: FailureSample[] = [];
    let requests = 0;
    let ok = 0;
    let failed = 0;
    let stoppedBy: RunResult['stoppedBy'] = 'ops';
    let stop = false;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = c.seconds === undefined ? Infinity : t0 + c.seconds * 1000;
    await Promise.all(
      streamsOfBodies.map(async (cycles, stream) => {
        const pool = pools[stream % pools.length]!.pool;
        for (const cycle of cycles) {
          let complete = true;
          for (let i = 0; i < cycle.bodies.length; i += 1) {
            if (stop) return;
            if (performance.now() >= deadline) {
              stop = true;
              stoppedBy = 'deadline';
              return;
            }
            const t = performance.now();
            const a = await request(pool, 'POST', '/v1/ops', 201, JSON_HEADERS, cycle.bodies[i]);
            recordMs(hist, performance.now() - t);
            requests += 1;
            const type = cycle.types[i]!;
            if (a.status === 201) {
              ok += 1;
              byType[type] = (byType[type] ?? 0) + 1;
            } else {
              failed += 1;
              if (samples.length < MAX_SAMPLES) samples.push({ status: a.status, what: type, detail: a.text });
              complete = false;
              break; // the rest of this cycle depends on this op
            }
          }
          if (complete) for (const v of cycle.visible) remember(v);
        }
        if (c.seconds !== undefined && !stop) {
          // Out of pre-signed ops before the time was up: end the window for every stream, so the
          // measured concurrency stays what was asked.
          stop = true;
          stoppedBy = 'exhausted';
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await Promise.all(pools.map((p) => p.pool.close()));
    return finish(c.label, 'writes', c.concurrency, hist, { requests, ok, failed, samples, seconds, byType, stoppedBy, loadCpuUs: cpu.user + cpu.system });
  };
  return {
    requests: timedOps.length,
    setupOps: setupSent,
    setupSeconds,
    signatures: setupSigned.signatures + timedSigned.signatures,
    signSeconds,
    prepareSeconds: (performance.now() - started) / 1000,
  };
};

const finish = (
  label: string,
  kind: RunResult['kind'],
  concurrency: number,
  hist: Histogram,
  r: {
    requests: number;
    ok: number;
    failed: number;
    samples: FailureSample[];
    seconds: number;
    byType: Record<string, number>;
    stoppedBy: RunResult['stoppedBy'];
    loadCpuUs: number;
  },
): RunResult => ({
  label,
  kind,
  concurrency,
  requests: r.requests,
  ok: r.ok,
  failed: r.failed,
  failureSamples: r.samples,
  seconds: r.seconds,
  perSecond: r.seconds > 0 ? r.ok / r.seconds : 0,
  latencyUs: summarize(hist),
  histogram: encode(hist),
  byType: r.byType,
  stoppedBy: r.stoppedBy,
  loadCpuUs: r.loadCpuUs,
});

const ledgerSize = async (url: string): Promise<number> => {
  const res = await fetch(`${url}/v1/ledger`);
  return ((await res.json()) as { size: number }).size;
};

const prepareReads = async (c: PrepareReadsCommand): Promise<PrepareResult> => {
  const started = performance.now();
  const { url, ledgerId, parties } = need();
  const size = c.size ?? (await ledgerSize(url));
  const n = c.ops ?? 50_000;
  const paths: string[] = [];
  const auth: (Record<string, string> | undefined)[] = [];
  const random = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo));
  if (c.kind === 'voucher') {
    if (reservoir.length === 0) throw new Error('no vouchers to read: run writes first');
    const keys = new Map(allParties(parties).map((p) => [p.id, p.seed]));
    const tokens = new Map<string, Record<string, string>>();
    for (const viewer of new Set(reservoir.map((v) => v.viewer))) {
      const token = await makeToken({ partyId: viewer, secretKeyHex: keys.get(viewer)!, ledgerId, nowSeconds: Date.now() / 1000, lifetimeSeconds: 3600 });
      tokens.set(viewer, { authorization: `Bearer ${token}` });
    }
    for (let i = 0; i < n; i += 1) {
      const v = reservoir[random(0, reservoir.length)]!;
      paths.push(`/v1/vouchers/${v.voucherId}`);
      auth.push(tokens.get(v.viewer));
    }
  } else if (c.kind === 'inclusion') {
    for (let i = 0; i < n; i += 1) paths.push(`/v1/proofs/inclusion?seq=${random(0, size)}&size=${size}`);
  } else {
    if (size < 2) throw new Error('a consistency proof needs a ledger of 2 entries or more');
    for (let i = 0; i < n; i += 1) paths.push(`/v1/proofs/consistency?from=${random(1, size)}&to=${size}`);
  }
  const pool = new Pool(url, { connections: c.concurrency, pipelining: 1, keepAliveTimeout: 120_000 });
  await warmUp(pool, c.concurrency);
  prepared = async (): Promise<RunResult> => {
    const hist = newHistogram();
    const samples: FailureSample[] = [];
    let requests = 0;
    let ok = 0;
    let failed = 0;
    let next = 0;
    let stoppedBy: RunResult['stoppedBy'] = 'ops';
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = c.seconds === undefined ? Infinity : t0 + c.seconds * 1000;
    const bounded = c.seconds === undefined;
    await Promise.all(
      Array.from({ length: c.concurrency }, async () => {
        for (;;) {
          if (bounded && next >= paths.length) return;
          if (performance.now() >= deadline) {
            stoppedBy = 'deadline';
            return;
          }
          const i = next % paths.length;
          next += 1;
          const t = performance.now();
          const a = await request(pool, 'GET', paths[i]!, 200, auth[i] ?? {});
          recordMs(hist, performance.now() - t);
          requests += 1;
          if (a.status === 200) ok += 1;
          else {
            failed += 1;
            if (samples.length < MAX_SAMPLES) samples.push({ status: a.status, what: paths[i]!, detail: a.text });
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await pool.close();
    return finish(c.label, c.kind, c.concurrency, hist, { requests, ok, failed, samples, seconds, byType: {}, stoppedBy, loadCpuUs: cpu.user + cpu.system });
  };
  return { requests: paths.length, setupOps: 0, setupSeconds: 0, signatures: 0, signSeconds: 0, prepareSeconds: (performance.now() - started) / 1000 };
};

const handle = async (c: Command): Promise<unknown> => {
  switch (c.cmd) {
    case 'init':
      return init(c);
    case 'prepare-writes':
      return prepareWrites(c);
    case 'prepare-reads':
      return prepareReads(c);
    case 'go': {
      const run = prepared;
      prepared = undefined;
      if (!run) throw new Error('go without prepare');
      return run();
    }
    case 'close':
      await signPool.close();
      setImmediate(() => process.exit(0));
      return {};
  }
};

if (!process.send) {
  process.stderr.write('scripts/bench/load.ts is the load process of `npm run bench` and `npm run bench:scale`; it takes commands over IPC.\n');
  process.exit(2);
}
process.on('message', (m: Command & { id: number }) => {
  handle(m).then(
    (result) => process.send!({ id: m.id, ok: true, result } satisfies Reply),
    (err: unknown) => process.send!({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
  );
});
// The harness going away ends this process too.
process.on('disconnect', () => process.exit(0));
