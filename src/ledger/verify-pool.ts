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
  readonly worker: Worker;
  resolve(ok: Uint8Array): void;
  reject(err: unknown): void;
}

interface Queued extends VerifyRequest {
  resolve(ok: boolean): void;
}

export class VerifyPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, Waiting>();
  /** Pending on each worker: a worker with work keeps the process alive, an idle one does not. */
  readonly #busy = new Map<Worker, number>();
  #nextId = 0;
  #queue: Queued[] = [];
  #flushScheduled = false;

  constructor(threads = Math.max(1, availableParallelism())) {
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
        const waiting = this.#waiting.get(id);
        this.#waiting.delete(id);
        if (waiting) this.#done(waiting.worker);
        waiting?.resolve(ok);
      });
      w.on('error', (err) => {
        for (const waiting of this.#waiting.values()) waiting.reject(err);
        this.#waiting.clear();
      });
      w.unref();
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

  /**
   * One signature, verified together with every other one asked for in the same turn of the
   * event loop: one message per worker per turn, not one thread-pool job (and one thread wake-up)
   * per signature. Never rejects on bad input.
   */
  verify(publicKey: string, msg: Uint8Array, sig: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.#queue.push({ publicKey, msg, sig, resolve });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const queued = this.#queue;
    this.#queue = [];
    this.verifyMany(queued).then(
      (ok) => queued.forEach((q, i) => q.resolve(ok[i] === true)),
      () => queued.forEach((q) => q.resolve(false)),
    );
  }

  #done(w: Worker): void {
    const left = (this.#busy.get(w) ?? 1) - 1;
    this.#busy.set(w, left);
    if (left === 0) w.unref();
  }

  #run(w: Worker, part: readonly { x: string; msg: Uint8Array; sig: Uint8Array }[]): Promise<Uint8Array> {
    const id = this.#nextId++;
    const pending = (this.#busy.get(w) ?? 0) + 1;
    this.#busy.set(w, pending);
    if (pending === 1) w.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, { worker: w, resolve, reject });
      w.postMessage({ id, xs: part.map((p) => p.x), msgs: part.map((p) => p.msg), sigs: part.map((p) => p.sig) });
    });
  }

  /** Ends the workers once every verification asked for has been answered. */
  async close(): Promise<void> {
    while (this.#waiting.size > 0 || this.#queue.length > 0 || this.#flushScheduled) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
