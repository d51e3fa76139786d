/**
 * `npm run bench:floor`: the ceiling this machine puts on any signed, durable write service built
 * like this one, measured in three rungs under the same client as `npm run bench` (undici Pool,
 * keep-alive, one request in flight per connection, at the given concurrency):
 *
 *   http     a bare Fastify server (no plugins): the body parsed with JSON.parse, a fixed
 *            receipt-sized 201 answer;
 *   verify   + the protocol's irreducible check of each op: its payload canonicalized (JCS) into
 *            the §3 preimage, and its signatures (1.2 per op on average, as in the bench's mix)
 *            verified with node:crypto on the service's verify workers (`--verify-threads`,
 *            default the service's: one per core; 0 verifies on the event loop);
 *   durable  + a group commit: each op's preimage and signatures appended to a file, all ops that
 *            arrive while one write + fdatasync runs taken by the next, answered once durable.
 *
 * Nothing else a ledger does (strict parsing, schema checks, rules, the hash chain, the Merkle
 * tree, indexes, checkpoints, LevelDB) is in any rung, so the durable rung's ops/s is an upper
 * bound for the service on this machine, and `npm run bench`'s figure divided by it is the share
 * of the machine's limit the service reaches. Each rung also prints ops/s ÷ the two-thread
 * yardstick, the ratio of `npm run bench`.
 *
 *   npm run bench:floor -- [--concurrency 64] [--seconds 5] [--rungs http,verify,durable]
 *                          [--verify-threads N] [--yardstick-seconds 2] [--out bench-results]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { publicKeyFromSeedNode, signNode, verifyNode } from '../../src/ledger/ed25519-node.js';
import { canonicalize } from '../../src/ledger/jcs.js';
import { opPreimageFromJcs } from '../../src/ledger/op.js';
import { VerifyPool } from '../../src/ledger/verify-pool.js';
import { defaultVerifyThreads } from '../../src/service/ledger-service.js';
import { num, readArgs, runMain, UsageError } from './lib/args.js';
import { newHistogram, recordMs, summarize, type LatencySummary } from './lib/hist.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { closeRun, writeJson } from './lib/report.js';
import { processCpuUs } from './lib/server.js';
import { fmt, ms, table } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const SERVER_FLAG = '--floor-server';
const USAGE = `usage: npm run bench:floor -- [--concurrency 64] [--seconds 5] [--rungs http,verify,durable]
                              [--verify-threads N] [--yardstick-seconds 2] [--out bench-results]`;

const RUNGS = ['http', 'verify', 'durable'] as const;
type Rung = (typeof RUNGS)[number];
const RUNG_TEXT: Record<Rung, string> = {
  http: 'bare Fastify POST: JSON.parse, a fixed 201',
  verify: '+ JCS preimage, signatures verified (node:crypto)',
  durable: '+ group commit: append, fdatasync, then answer',
};

/** Distinct pre-signed bodies; streams cycle through them (no rung remembers an op). */
const BODIES = 2_000;
const SIGNERS = 24;
/** Every fifth op carries two signatures (the bench's co-signed pledges): 1.2 per op. */
const COSIGNED_EVERY = 5;

/** A 201 body the size of a split's receipt (about 1.3 KB). */
const voucher = (i: number) => ({
  id: `v${'a'.repeat(24)}:${i * 1000}-${i * 1000 + 1000}`,
  rootId: `v${'a'.repeat(24)}`,
  parentId: `v${'a'.repeat(24)}`,
  issuer: 'gz-motors',
  holder: 'dongguan-parts',
  offeredTo: null,
  amount: '1000',
  range: { start: String(i * 1000), end: String(i * 1000 + 1000) },
  status: 'active',
  createdSeq: 1234,
  updatedSeq: 1234,
});
const ANSWER = JSON.stringify({
  opId: 'b'.repeat(64),
  seq: 1234,
  entryHash: 'c'.repeat(64),
  time: '2026-11-28T12:00:00.000Z',
  treeSize: 1235,
  effects: { vouchers: [voucher(0), voucher(1), voucher(2)], parties: [] },
});

interface Signer {
  readonly id: string;
  readonly seed: string;
  readonly publicKey: string;
}

/** Envelopes the size and shape of the bench's splits, signed with node:crypto. */
const signedBodies = (signers: readonly Signer[]): string[] => {
  const ledger = randomBytes(32).toString('hex');
  return Array.from({ length: BODIES }, (_, i) => {
    const payload = {
      type: 'voucher.split',
      ledger,
      voucherId: `v${randomBytes(12).toString('hex')}`,
      amounts: ['1000', String(2000 + i)],
      nonce: randomBytes(16).toString('hex'),
    };
    const preimage = opPreimageFromJcs(canonicalize(payload));
    const by = i % COSIGNED_EVERY === COSIGNED_EVERY - 1 ? [signers[i % SIGNERS]!, signers[(i + 1) % SIGNERS]!] : [signers[i % SIGNERS]!];
    return JSON.stringify({ payload, signatures: by.map((s) => ({ signer: s.id, sig: signNode(s.seed, preimage) })) });
  });
};

interface ServerStart {
  readonly rung: Rung;
  readonly verifyThreads: number;
  readonly keys: Readonly<Record<string, string>>;
}

/** Appends records and makes them durable in groups: every record waits for the next write + fdatasync after it. */
const groupCommitter = async (file: string) => {
  const fh = await open(file, 'a');
  let waiting: { bytes: Buffer; done: () => void }[] = [];
  let running = false;
  const run = async () => {
    running = true;
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      await fh.write(Buffer.concat(group.map((g) => g.bytes)));
      await fh.datasync();
      for (const g of group) g.done();
    }
    running = false;
  };
  return (bytes: Buffer): Promise<void> =>
    new Promise<void>((done) => {
      waiting.push({ bytes, done });
      if (!running) void run();
    });
};

const serve = async (): Promise<void> => {
  const start = await new Promise<ServerStart>((resolve) => process.once('message', (m) => resolve(m as ServerStart)));
  const keys = new Map(Object.entries(start.keys));
  const pool = start.rung !== 'http' && start.verifyThreads > 0 ? new VerifyPool(start.verifyThreads) : undefined;
  const verify = pool ? (k: string, m: Uint8Array, s: string) => pool.verify(k, m, s) : (k: string, m: Uint8Array, s: string) => Promise.resolve(verifyNode(k, m, s));
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-floor-'));
  const append = start.rung === 'durable' ? await groupCommitter(path.join(dir, 'log')) : undefined;
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));

  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.post('/v1/ops', async (req, reply) => {
    const env = req.body as { payload?: unknown; signatures?: { signer: string; sig: string }[] } | null;
    if (typeof env !== 'object' || env === null) return reply.code(400).send({ code: 'MALFORMED_REQUEST' });
    if (start.rung !== 'http') {
      const preimage = opPreimageFromJcs(canonicalize(env.payload));
      const sigs = env.signatures ?? [];
      const ok = await Promise.all(sigs.map((s) => verify(keys.get(s.signer) ?? '', preimage, s.sig)));
      if (sigs.length === 0 || ok.includes(false)) return reply.code(400).send({ code: 'BAD_SIGNATURE' });
      if (append) await append(Buffer.concat([preimage, Buffer.from(JSON.stringify(sigs))]));
    }
    return reply.code(201).type('application/json; charset=utf-8').send(ANSWER);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
};

interface RungFigures {
  readonly rung: Rung;
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly ratio: number;
  readonly serverCpuUsPerRequest: number;
  readonly serverCores: number;
  readonly clientCpuUsPerRequest: number;
  readonly latencyUs: LatencySummary;
}

const measureRung = async (
  rung: Rung,
  o: { concurrency: number; seconds: number; verifyThreads: number; signers: readonly Signer[]; bodies: readonly string[]; yardstick: number },
): Promise<RungFigures> => {
  const server = fork(fileURLToPath(import.meta.url), [SERVER_FLAG], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m: { port: number }) => resolve(m.port));
      server.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
      const start: ServerStart = { rung, verifyThreads: o.verifyThreads, keys: Object.fromEntries(o.signers.map((s) => [s.id, s.publicKey])) };
      server.send(start);
    });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: o.concurrency, pipelining: 1 });
    const hist = newHistogram();
    let next = 0;
    const once = async (): Promise<void> => {
      const body = o.bodies[next++ % o.bodies.length]!;
      const t = performance.now();
      const res = await pool.request({ method: 'POST', path: '/v1/ops', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`the floor server (${rung}) answered ${res.statusCode}`);
      recordMs(hist, performance.now() - t);
    };
    // Warm-up: connections open, both sides' code optimized.
    await Promise.all(Array.from({ length: o.concurrency }, async () => {
      for (let i = 0; i < 50; i += 1) await once();
    }));
    hist.reset();
    const server0 = processCpuUs(server.pid!);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (performance.now() < end) {
          await once();
          n += 1;
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    const serverUs = processCpuUs(server.pid!) - server0;
    const client = process.cpuUsage(client0);
    await pool.close();
    return {
      rung,
      requests: n,
      seconds: +wall.toFixed(3),
      perSecond: +(n / wall).toFixed(1),
      ratio: +(n / wall / o.yardstick).toFixed(4),
      serverCpuUsPerRequest: Math.round(serverUs / n),
      serverCores: +(serverUs / 1e6 / wall).toFixed(2),
      clientCpuUsPerRequest: Math.round((client.user + client.system) / n),
      latencyUs: summarize(hist),
    };
  } finally {
    server.kill('SIGKILL');
  }
};

const main = async (): Promise<number> => {
  const a = readArgs({
    concurrency: { type: 'string' },
    seconds: { type: 'string' },
    rungs: { type: 'string' },
    'verify-threads': { type: 'string' },
    'yardstick-seconds': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const concurrency = num(a.concurrency, 'concurrency', 64)!;
  const seconds = num(a.seconds, 'seconds', 5, true)!;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 2, true)!;
  const verifyThreads = num(a['verify-threads'], 'verify-threads', defaultVerifyThreads())!;
  const rungs = (typeof a.rungs === 'string' ? a.rungs.split(',') : [...RUNGS]) as Rung[];
  for (const r of rungs) if (!RUNGS.includes(r)) throw new UsageError(`--rungs: ${r} is not one of ${RUNGS.join(', ')}`);
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const startedAt = new Date();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  const machine = machineInfo();
  say(`rvl bench:floor — ${startedAt.toISOString()}`);
  say(`machine: ${describeMachine(machine)}`);

  const signers = Array.from({ length: SIGNERS }, (_, i) => {
    const seed = randomBytes(32).toString('hex');
    return { id: `floor-party-${i}`, seed, publicKey: publicKeyFromSeedNode(seed) };
  });
  const bodies = signedBodies(signers);
  const yardBefore = await measureVerifyRate(2, yardSeconds);
  // The rungs are measured against the yardstick read before them; it is read again after, and
  // the table's ratios use the mean.
  const measured: RungFigures[] = [];
  for (const rung of rungs) {
    say(`${rung}: ${RUNG_TEXT[rung]} …`);
    measured.push(await measureRung(rung, { concurrency, seconds, verifyThreads, signers, bodies, yardstick: yardBefore.verifiesPerSecond }));
  }
  const yardAfter = await measureVerifyRate(2, yardSeconds);
  const yardstick = (yardBefore.verifiesPerSecond + yardAfter.verifiesPerSecond) / 2;
  const figures = measured.map((f) => ({ ...f, ratio: +(f.perSecond / yardstick).toFixed(4) }));

  say();
  say(`floor at concurrency ${concurrency}, ${fmt(bodies[0]!.length)}-byte signed bodies (${(1 + 1 / COSIGNED_EVERY).toFixed(1)} signatures per op), a ${fmt(ANSWER.length)}-byte answer; verify threads ${verifyThreads}`);
  say(`yardstick: node:crypto Ed25519 verifies/s on 2 threads ${fmt(yardstick)} (before ${fmt(yardBefore.verifiesPerSecond)}, after ${fmt(yardAfter.verifiesPerSecond)})`);
  say();
  say(
    table(
      [{ header: 'rung', align: 'left' }, 'requests/s', 'ratio', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'server cores', 'client CPU µs/req', { header: 'what the server does', align: 'left' }],
      figures.map((f) => [f.rung, fmt(f.perSecond), f.ratio.toFixed(3), ms(f.latencyUs.p50), ms(f.latencyUs.p99), fmt(f.serverCpuUsPerRequest), f.serverCores.toFixed(2), fmt(f.clientCpuUsPerRequest), RUNG_TEXT[f.rung]]),
    ),
  );
  const top = figures.at(-1);
  if (top) say(`\nceiling: ${fmt(top.perSecond)} ops/s = ratio ${top.ratio.toFixed(3)} (${top.rung}); npm run bench's ops/s ÷ this is the share of the machine's limit the service reaches`);
  const file = await writeJson(outDir, 'bench-floor', startedAt, {
    kind: 'rvl-bench-floor',
    startedAt: startedAt.toISOString(),
    machine,
    config: { concurrency, seconds, verifyThreads, bodies: BODIES, signaturesPerOp: 1 + 1 / COSIGNED_EVERY, answerBytes: ANSWER.length },
    yardstick: { before: yardBefore.verifiesPerSecond, after: yardAfter.verifiesPerSecond, mean: yardstick },
    rungs: figures,
  });
  return closeRun(say, file, undefined);
};

if (process.argv.includes(SERVER_FLAG)) {
  serve().catch((err: unknown) => {
    process.stderr.write(`floor server failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  runMain('bench:floor', USAGE, main);
}
