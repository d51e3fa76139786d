/**
 * Ed25519 verification of many signatures on worker threads (node:crypto), for the auditor: a
 * whole log has more signatures than one core verifies quickly. The strict screens of
 * `ed25519-node.ts` (S < L, canonical key not of small order, 64-byte signature) run here on the
 * calling thread; the workers only do the curve arithmetic (`crypto.verify`, cofactorless, as the
 * service does), with each key imported once per worker.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { screenForNode } from './ed25519-node.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
const keyOf = (x) => {
  let k = keys.get(x);
  if (!k) {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size > 100000) keys.clear();
    keys.set(x, k);
  }
  return k;
};
parentPort.on('message', ({ id, xs, msgs, sigs }) => {
  const ok = new Uint8Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    try { ok[i] = verify(null, msgs[i], keyOf(xs[i]), sigs[i]) ? 1 : 0; } catch { ok[i] = 0; }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

export interface VerifyRequest {
  readonly publicKey: string;
  readonly msg: Uint8Array;
  readonly sig: string;
}

interface Waiting {
  resolve(ok: Uint8Array): void;
  reject(err: unknown): void;
}

export class VerifyPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;

  constructor(threads = Math.max(1, availableParallelism())) {
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
        const waiting = this.#waiting.get(id);
        this.#waiting.delete(id);
        waiting?.resolve(ok);
      });
      w.on('error', (err) => {
        for (const waiting of this.#waiting.values()) waiting.reject(err);
        this.#waiting.clear();
      });
      // Not unref'd: a pending verification must keep the process alive. `close` ends them.
      return w;
    });
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Verifies every request under the same strict rules as `verifyNode`; results in order. Never rejects on bad input. */
  async verifyMany(items: readonly VerifyRequest[]): Promise<boolean[]> {
    const out = new Array<boolean>(items.length).fill(false);
    const screened: { at: number; x: string; msg: Uint8Array; sig: Uint8Array }[] = [];
    items.forEach((item, at) => {
      const s = screenForNode(item.publicKey, item.msg, item.sig);
      if (s) screened.push({ at, ...s });
    });
    if (screened.length === 0) return out;
    const n = this.#workers.length;
    const per = Math.ceil(screened.length / n);
    await Promise.all(
      this.#workers.map(async (w, wi) => {
        const part = screened.slice(wi * per, (wi + 1) * per);
        if (part.length === 0) return;
        const ok = await this.#run(w, part);
        part.forEach((p, i) => {
          out[p.at] = ok[i] === 1;
        });
      }),
    );
    return out;
  }

  #run(w: Worker, part: readonly { x: string; msg: Uint8Array; sig: Uint8Array }[]): Promise<Uint8Array> {
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      w.postMessage({ id, xs: part.map((p) => p.x), msgs: part.map((p) => p.msg), sigs: part.map((p) => p.sig) });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
