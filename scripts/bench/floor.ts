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
 *   durable  + a group commit: each op's preimage and signatures appended to a file opened with
 *            O_DSYNC (a write returns once durable, as write + fdatasync, in one trip to libuv's
 *            pool); the ops that arrive during one write go in the next; answered once durable.
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
import { defaultVerifyThreads } from '../../src/ledger/node/verify-pool.js';
import { num, readArgs, runMain, UsageError } from './lib/args.js';
import {
  ANSWER,
  BODIES,
  COSIGNED_EVERY,
  FLOOR_SERVER_FLAG,
  floorInput,
  measureRung,
  RUNG_TEXT,
  RUNGS,
  type Rung,
  type RungFigures,
  serveFloor,
} from './lib/floor.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { closeRun, writeJson } from './lib/report.js';
import { fmt, ms, table } from './lib/table.js';
import { measureVerifyRate } from './lib/yardstick.js';

const USAGE = `usage: npm run bench:floor -- [--concurrency 64] [--seconds 5] [--rungs http,verify,durable]
                              [--verify-threads N] [--yardstick-seconds 2] [--out bench-results]`;

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
  // 0 is allowed here: the signatures are then verified on the floor server's event loop.
  const verifyThreads = a['verify-threads'] === '0' ? 0 : num(a['verify-threads'], 'verify-threads', defaultVerifyThreads())!;
  const rungs = (typeof a.rungs === 'string' ? a.rungs.split(',') : [...RUNGS]) as Rung[];
  for (const r of rungs) if (!RUNGS.includes(r)) throw new UsageError(`--rungs: ${r} is not one of ${RUNGS.join(', ')}`);
  const outDir = typeof a.out === 'string' ? a.out : 'bench-results';
  const startedAt = new Date();
  const say = (line = '') => process.stdout.write(`${line}\n`);
  const machine = machineInfo();
  say(`rvl bench:floor — ${startedAt.toISOString()}`);
  say(`machine: ${describeMachine(machine)}`);

  const input = floorInput();
  const yardBefore = await measureVerifyRate(2, yardSeconds);
  // The yardstick is read before and after the rungs; the ratios use the mean.
  const measured: RungFigures[] = [];
  for (const rung of rungs) {
    say(`${rung}: ${RUNG_TEXT[rung]} …`);
    measured.push(await measureRung(rung, { ...input, concurrency, seconds, verifyThreads }));
  }
  const yardAfter = await measureVerifyRate(2, yardSeconds);
  const yardstick = (yardBefore.verifiesPerSecond + yardAfter.verifiesPerSecond) / 2;
  const figures = measured.map((f) => ({ ...f, ratio: +(f.perSecond / yardstick).toFixed(4) }));

  say();
  say(
    `floor at concurrency ${concurrency}, ${fmt(input.bodies[0]!.length)}-byte signed bodies (${(1 + 1 / COSIGNED_EVERY).toFixed(1)} signatures per op), a ${fmt(ANSWER.length)}-byte answer; verify threads ${verifyThreads}`,
  );
  say(
    `yardstick: node:crypto Ed25519 verifies/s on 2 threads ${fmt(yardstick)} (before ${fmt(yardBefore.verifiesPerSecond)}, after ${fmt(yardAfter.verifiesPerSecond)})`,
  );
  say();
  say(
    table(
      [
        { header: 'rung', align: 'left' },
        'requests/s',
        'ratio',
        'p50 ms',
        'p99 ms',
        'server CPU µs/req',
        'server cores',
        'client CPU µs/req',
        { header: 'what the server does', align: 'left' },
      ],
      figures.map((f) => [
        f.rung,
        fmt(f.perSecond),
        f.ratio.toFixed(3),
        ms(f.latencyUs.p50),
        ms(f.latencyUs.p99),
        fmt(f.serverCpuUsPerRequest),
        f.serverCores.toFixed(2),
        fmt(f.clientCpuUsPerRequest),
        RUNG_TEXT[f.rung],
      ]),
    ),
  );
  const top = figures.at(-1);
  if (top)
    say(
      `\nceiling: ${fmt(top.perSecond)} ops/s = ratio ${top.ratio.toFixed(3)} (${top.rung}); npm run bench's ops/s ÷ this is the share of the machine's limit the service reaches`,
    );
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

if (process.argv.includes(FLOOR_SERVER_FLAG)) {
  serveFloor().catch((err: unknown) => {
    process.stderr.write(`floor server failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  runMain('bench:floor', USAGE, main);
}
