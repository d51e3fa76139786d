/**
 * `npm run bench:floor`: what HTTP alone costs on this machine, as a floor under `npm run bench`.
 * A bare Fastify server (the same Fastify, no plugins) in its own process answers `POST /v1/ops`
 * with a fixed 201 receipt-sized JSON body after parsing the request body as JSON; the client
 * here sends an envelope-sized body over keep-alive connections (undici Pool, as the load
 * process does) at the given concurrency. Prints requests/s, the server's and the client's CPU
 * per request, and the same two-thread yardstick as `npm run bench`, so the write figures can
 * be read against it: whatever the ledger does beyond this is its own cost.
 *
 *   npm run bench:floor -- [--concurrency 64] [--seconds 5] [--yardstick-seconds 2]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { num, readArgs, runMain } from './lib/args.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { processCpuUs } from './lib/server.js';
import { fmt } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const SERVER_FLAG = '--floor-server';
const USAGE = 'usage: npm run bench:floor -- [--concurrency 64] [--seconds 5] [--yardstick-seconds 2]';

/** A 201 body the size of a split's receipt (about 1.3 KB), and a request body the size of an envelope. */
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
const BODY = JSON.stringify({
  payload: { type: 'voucher.split', ledger: 'd'.repeat(64), voucherId: `v${'a'.repeat(24)}`, amounts: ['1000', '2000'], nonce: 'e'.repeat(32) },
  signatures: [{ signer: 'dongguan-parts', sig: 'f'.repeat(128) }],
});

const serve = async (): Promise<void> => {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.post('/v1/ops', async (req, reply) => {
    if (typeof req.body !== 'object' || req.body === null) return reply.code(400).send({ code: 'MALFORMED_REQUEST' });
    return reply.code(201).type('application/json; charset=utf-8').send(ANSWER);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
};

const main = async (): Promise<number> => {
  const a = readArgs({ concurrency: { type: 'string' }, seconds: { type: 'string' }, 'yardstick-seconds': { type: 'string' }, help: { type: 'boolean' } });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const concurrency = num(a.concurrency, 'concurrency', 64)!;
  const seconds = num(a.seconds, 'seconds', 5, true)!;
  const yardSeconds = num(a['yardstick-seconds'], 'yardstick-seconds', 2, true)!;
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`rvl bench:floor — ${new Date().toISOString()}`);
  say(`machine: ${describeMachine(machineInfo())}`);
  const yardBefore = await measureVerifyRate(2, yardSeconds);

  const server = fork(fileURLToPath(import.meta.url), [SERVER_FLAG], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m: { port: number }) => resolve(m.port));
      server.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
    });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
    const once = async (): Promise<void> => {
      const res = await pool.request({ method: 'POST', path: '/v1/ops', headers: { 'content-type': 'application/json' }, body: BODY });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`the floor server answered ${res.statusCode}`);
    };
    // Warm-up: connections open, both sides' code optimized.
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < 50; i += 1) await once();
    }));
    const server0 = processCpuUs(server.pid!);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
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
    const yardAfter = await measureVerifyRate(2, yardSeconds);
    const yardstick = (yardBefore.verifiesPerSecond + yardAfter.verifiesPerSecond) / 2;
    say();
    say(`HTTP floor at concurrency ${concurrency}: a bare Fastify POST (JSON body parsed, a ${fmt(ANSWER.length)}-byte JSON answer), ${fmt(BODY.length)}-byte bodies`);
    say(`  ${fmt(n / wall)} requests/s (${fmt(n)} in ${wall.toFixed(1)} s) = ${(n / wall / yardstick).toFixed(3)} × the yardstick`);
    say(`  server CPU ${fmt(serverUs / n)} µs/request (${(serverUs / 1e6 / wall).toFixed(2)} cores); client CPU ${fmt((client.user + client.system) / n)} µs/request`);
    say(`  yardstick: node:crypto Ed25519 verifies/s on 2 threads ${fmt(yardstick)} (before ${fmt(yardBefore.verifiesPerSecond)}, after ${fmt(yardAfter.verifiesPerSecond)})`);
  } finally {
    server.kill('SIGKILL');
  }
  return 0;
};

if (process.argv.includes(SERVER_FLAG)) {
  serve().catch((err: unknown) => {
    process.stderr.write(`floor server failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  runMain('bench:floor', USAGE, main);
}
