/**
 * Signs many op preimages on worker threads (node:crypto Ed25519, one cached private KeyObject
 * per seed), so pre-signing a level's envelopes uses both cores. It signs exactly what
 * `signNode` (src/ledger/node/ed25519-node.ts) signs: Ed25519 is deterministic, and `checkSignNode`
 * cross-checks one signature against it at start.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { signNode } from '../../../src/ledger/node/ed25519-node.js';
import { toHex } from '../../../src/ledger/hex.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
// RFC 8410: PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed.
const PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const keys = new Map();
const keyOf = (seed) => {
  let k = keys.get(seed);
  if (!k) {
    k = createPrivateKey({ key: Buffer.concat([PREFIX, Buffer.from(seed, 'hex')]), format: 'der', type: 'pkcs8' });
    keys.set(seed, k);
  }
  return k;
};
parentPort.on('message', ({ id, seeds, seedIndex, bytes, offsets }) => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sigs = new Array(seedIndex.length);
  for (let i = 0; i < seedIndex.length; i++) {
    sigs[i] = sign(null, buf.subarray(offsets[i], offsets[i + 1]), keyOf(seeds[seedIndex[i]])).toString('hex');
  }
  parentPort.postMessage({ id, sigs });
});
`;

export interface SignRequest {
  readonly seed: string;
  readonly preimage: Uint8Array;
}

export class SignPool {
  readonly #workers: Worker[];
  #next = 0;

  constructor(threads = Math.max(1, Math.min(2, availableParallelism()))) {
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      return w;
    });
  }

  /** Hex signatures, in the order of `items`. */
  async sign(items: readonly SignRequest[]): Promise<string[]> {
    if (items.length === 0) return [];
    const n = this.#workers.length;
    const per = Math.ceil(items.length / n);
    const parts = await Promise.all(this.#workers.map((w, wi) => this.#signOn(w, items.slice(wi * per, (wi + 1) * per))));
    return parts.flat();
  }

  #signOn(w: Worker, items: readonly SignRequest[]): Promise<string[]> {
    if (items.length === 0) return Promise.resolve([]);
    const seeds: string[] = [];
    const seedIds = new Map<string, number>();
    const seedIndex = new Uint32Array(items.length);
    const offsets = new Uint32Array(items.length + 1);
    let total = 0;
    items.forEach((it, i) => {
      let s = seedIds.get(it.seed);
      if (s === undefined) {
        s = seeds.length;
        seeds.push(it.seed);
        seedIds.set(it.seed, s);
      }
      seedIndex[i] = s;
      offsets[i] = total;
      total += it.preimage.length;
    });
    offsets[items.length] = total;
    const bytes = new Uint8Array(total);
    items.forEach((it, i) => bytes.set(it.preimage, offsets[i]!));
    const id = (this.#next += 1);
    return new Promise((resolve, reject) => {
      const onMessage = (m: { id: number; sigs: string[] }) => {
        if (m.id !== id) return;
        w.off('message', onMessage);
        w.off('error', reject);
        resolve(m.sigs);
      };
      w.on('message', onMessage);
      w.once('error', reject);
      w.postMessage({ id, seeds, seedIndex, bytes, offsets }, [bytes.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** Throws unless the pool signs exactly as `signNode` does. */
export const checkSignPool = async (pool: SignPool, seed: string): Promise<void> => {
  const msg = new TextEncoder().encode('rvl/op/v1\n{"bench":"cross-check"}');
  const [sig] = await pool.sign([{ seed, preimage: msg }]);
  const expected = signNode(seed, msg);
  if (sig !== expected) throw new Error(`the signing pool disagrees with signNode: ${sig} ≠ ${expected} (${toHex(msg).slice(0, 8)}…)`);
};
