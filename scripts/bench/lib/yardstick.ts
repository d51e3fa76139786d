/**
 * The yardstick: how many Ed25519 signatures node:crypto verifies a second on this machine, now,
 * on one thread and on two. Each worker thread verifies one fixed signature over a 300-byte
 * message (about an op's preimage) in a loop with the synchronous `crypto.verify` and a cached
 * KeyObject, for a fixed time; the workers start together and their rates are summed.
 *
 * Signature verification bounds the service (every op carries one or two), so ops/s divided by
 * this figure is a ratio that holds on a machine whose speed varies with its neighbours' load.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { generateKeyPairSync, sign, verify } = require('node:crypto');
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const msg = Buffer.alloc(300, 0x5a);
const sig = sign(null, msg, privateKey);
if (!verify(null, msg, publicKey, sig)) throw new Error('yardstick signature does not verify');
parentPort.postMessage({ ready: true });
parentPort.once('message', () => {
  const until = performance.now() + workerData.ms;
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t < until) {
    for (let i = 0; i < 64; i++) if (verify(null, msg, publicKey, sig)) n++;
    t = performance.now();
  }
  parentPort.postMessage({ n, ms: t - t0 });
});
`;

export interface YardstickRun {
  readonly threads: number;
  /** Verifies a second, summed over the threads. */
  readonly verifiesPerSecond: number;
  readonly seconds: number;
}

export const measureVerifyRate = async (threads: number, seconds: number): Promise<YardstickRun> => {
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { ms: seconds * 1000 } }));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    );
    const results = await Promise.all(
      workers.map(
        (w) =>
          new Promise<{ n: number; ms: number }>((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
            w.postMessage('go');
          }),
      ),
    );
    const rate = results.reduce((a, r) => a + r.n / (r.ms / 1000), 0);
    return { threads, verifiesPerSecond: Math.round(rate), seconds };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
};
