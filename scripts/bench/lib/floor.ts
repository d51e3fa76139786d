/**
 * The floor servers of `npm run bench:floor` (see floor.ts for the rungs) and their measurement,
 * shared with `npm run bench`, which measures the durable rung beside its own level at 64.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { publicKeyFromSeedNode, signNode, verifyNode } from '../../../src/ledger/node/ed25519-node.js';
import { canonicalize } from '../../../src/ledger/jcs.js';
import { opPreimageFromJcs } from '../../../src/ledger/op.js';
import { VerifyPool } from '../../../src/ledger/node/verify-pool.js';
import { newHistogram, recordMs, summarize, type LatencySummary } from './hist.js';
import { processCpuUs } from './server.js';

export const RUNGS = ['http', 'verify', 'durable'] as const;
export type Rung = (typeof RUNGS)[number];
export const RUNG_TEXT: Record<Rung, string> = {
  http: 'bare Fastify POST: JSON.parse, a fixed 201',
  verify: '+ JCS preimage, signatures verified (node:crypto)',
  durable: '+ group commit: a durable append (O_DSYNC), then answer',
};

/** Distinct pre-signed bodies; streams cycle through them (no rung remembers an op). */
export const BODIES = 2_000;
const SIGNERS = 24;
/** Every fifth op carries two signatures (the bench's co-signed pledges): 1.2 per op. */
export const COSIGNED_EVERY = 5;

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
export const ANSWER = JSON.stringify({
  opId: 'b'.repeat(64),
  seq: 1234,
  entryHash: 'c'.repeat(64),
  time: '2026-11-28T12:00:00.000Z',
  treeSize: 1235,
  effects: { vouchers: [voucher(0), voucher(1), voucher(2)], parties: [] },
});

export interface Signer {
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
  /** Where the durable rung appends (made and removed by the measuring side: the server is killed). */
  readonly dir: string;
}

/** Appends records and makes them durable in groups: every record waits for the next durable write after it. */
const groupCommitter = async (file: string) => {
  // O_DSYNC: each write returns once its data is durable (as write + fdatasync), in one trip to
  // libuv's pool instead of two; the cheapest durable append Node offers.
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC);
  let waiting: { bytes: Buffer; done: () => void }[] = [];
  let running = false;
  const run = async () => {
    running = true;
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      await fh.write(Buffer.concat(group.map((g) => g.bytes)));
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

/** The floor server's side (the child process): waits for its rung and keys, then listens. */
export const serveFloor = async (): Promise<void> => {
  const start = await new Promise<ServerStart>((resolve) => process.once('message', (m) => resolve(m as ServerStart)));
  const keys = new Map(Object.entries(start.keys));
  const pool = start.rung !== 'http' && start.verifyThreads > 0 ? new VerifyPool(start.verifyThreads) : undefined;
  const verify = pool
    ? (k: string, m: Uint8Array, s: string) => pool.verify(k, m, s)
    : (k: string, m: Uint8Array, s: string) => Promise.resolve(verifyNode(k, m, s));
  const append = start.rung === 'durable' ? await groupCommitter(path.join(start.dir, 'log')) : undefined;

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

export interface RungFigures {
  readonly rung: Rung;
  readonly concurrency: number;
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly serverCpuUsPerRequest: number;
  readonly serverCores: number;
  readonly clientCpuUsPerRequest: number;
  readonly latencyUs: LatencySummary;
}

/** Signers and their pre-signed bodies, made once per run. */
export interface FloorInput {
  readonly signers: readonly Signer[];
  readonly bodies: readonly string[];
}

export const floorInput = (): FloorInput => {
  const signers = Array.from({ length: SIGNERS }, (_, i) => {
    const seed = randomBytes(32).toString('hex');
    return { id: `floor-party-${i}`, seed, publicKey: publicKeyFromSeedNode(seed) };
  });
  return { signers, bodies: signedBodies(signers) };
};

/** The entry that runs a floor server when given this flag (scripts/bench/floor.ts). */
export const FLOOR_SERVER_FLAG = '--floor-server';
const FLOOR_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'floor.ts');

/** Starts one rung's server in its own process and measures it under `concurrency` keep-alive streams for `seconds`. */
export const measureRung = async (rung: Rung, o: FloorInput & { concurrency: number; seconds: number; verifyThreads: number }): Promise<RungFigures> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-floor-'));
  const server = fork(FLOOR_ENTRY, [FLOOR_SERVER_FLAG], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m: { port: number }) => resolve(m.port));
      server.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
      const start: ServerStart = { rung, verifyThreads: o.verifyThreads, keys: Object.fromEntries(o.signers.map((s) => [s.id, s.publicKey])), dir };
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
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = 0; i < 50; i += 1) await once();
      }),
    );
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
      concurrency: o.concurrency,
      requests: n,
      seconds: +wall.toFixed(3),
      perSecond: +(n / wall).toFixed(1),
      serverCpuUsPerRequest: Math.round(serverUs / n),
      serverCores: +(serverUs / 1e6 / wall).toFixed(2),
      clientCpuUsPerRequest: Math.round((client.user + client.system) / n),
      latencyUs: summarize(hist),
    };
  } finally {
    server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
};
