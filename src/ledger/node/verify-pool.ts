/**
 * Ed25519 verification on worker threads (node:crypto), for the writer and the auditor: one core
 * verifies about 4–8k signatures a second here, and the event loop has better things to do. The
 * strict screens of `ed25519-node.ts` (S < L, canonical key of prime order L, 64-byte
 * signature) run on the calling thread; the workers only do the curve arithmetic
 * (`crypto.verify`, cofactorless, as `verifyNode` does), with each key imported once per worker.
 *
 * Work goes to a worker as one packed, transferred buffer (no structured clone of arrays of
 * strings and byte arrays). Single signatures (`verify`) are gathered over the current turn of
 * the event loop (every request read in one poll phase) and sent at its end to the workers with
 * room (fewer than DEPTH messages in flight); while no worker has room they queue and go together
 * to the first worker that comes back. So an idle service answers with the latency of one
 * verification, and a busy one sends few, large messages: a message costs the event loop far more
 * than a signature's bytes (a structured clone, a transfer, a wake-up of the worker and an answer
 * back). Gathering per turn rather than per microtask burst (one per socket read) costs the main
 * thread about 9 % less CPU per write at concurrency 64 (docs/performance.md).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { screenForNode } from './ed25519-node.js';

/**
 * Buffer layout: u32 count, then per item: 32-byte key, 64-byte signature, u32 message length,
 * the message. The worker answers with one byte per item (1 = verified).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
const keyOf = (buf, at) => {
  const id = buf.toString('latin1', at, at + 32);
  let k = keys.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI, buf.subarray(at, at + 32)]), format: 'der', type: 'spki' });
    if (keys.size >= 100000) keys.clear();
    keys.set(id, k);
  }
  return k;
};
parentPort.on('message', ({ id, work }) => {
  const buf = Buffer.from(work);
  const count = buf.readUInt32LE(0);
  const ok = new Uint8Array(count);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const len = buf.readUInt32LE(at + 96);
    try {
      ok[i] = verify(null, buf.subarray(at + 96 + 4, at + 100 + len), keyOf(buf, at), buf.subarray(at + 32, at + 96)) ? 1 : 0;
    } catch {
      ok[i] = 0;
    }
    at += 100 + len;
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

/**
 * Messages in flight per worker. A worker's answer waits for the main thread to take it (about
 * 5 ms at concurrency 64, measured); with a second message already queued, the worker does not
 * sit idle meanwhile. (Measured at concurrency 16: 935 → 1,012 ops/s from depth 1 to 2; at 64 the
 * same within noise.)
 */
const DEPTH = 2;

/**
 * One verify worker per core (the writer's, the floor's and the auditor's default). On 2 cores a
 * single worker gives no measurable difference in ops/s at concurrency 64, and bench:floor's
 * verify rung runs faster with two (docs/performance.md).
 */
export const defaultVerifyThreads = (): number => Math.max(1, availableParallelism());

export interface VerifyRequest {
  readonly publicKey: string;
  readonly msg: Uint8Array;
  readonly sig: string;
}

interface Screened {
  readonly key: Uint8Array;
  readonly msg: Uint8Array;
  readonly sig: Uint8Array;
}

interface Queued extends Screened {
  resolve(ok: boolean): void;
}

interface Waiting {
  readonly worker: Worker;
  resolve(ok: Uint8Array): void;
  reject(err: unknown): void;
}

/** Packs screened items into one transferable buffer (the layout above). */
const pack = (items: readonly Screened[]): ArrayBuffer => {
  let bytes = 4;
  for (const it of items) bytes += 100 + it.msg.length;
  const buf = new Uint8Array(bytes);
  const view = new DataView(buf.buffer);
  view.setUint32(0, items.length, true);
  let at = 4;
  for (const it of items) {
    buf.set(it.key, at);
    buf.set(it.sig, at + 32);
    view.setUint32(at + 96, it.msg.length, true);
    buf.set(it.msg, at + 100);
    at += 100 + it.msg.length;
  }
  return buf.buffer;
};

export class VerifyPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, Waiting>();
  /** Messages in flight on each worker: one with work keeps the process alive, an idle one does not. */
  readonly #busy = new Map<Worker, number>();
  #nextId = 0;
  #messages = 0;
  #queue: Queued[] = [];
  #dispatchScheduled = false;
  #failed: unknown;

  constructor(threads = defaultVerifyThreads()) {
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      this.#busy.set(w, 0);
      w.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
        const waiting = this.#waiting.get(id);
        this.#waiting.delete(id);
        this.#done(w);
        waiting?.resolve(ok);
        // A worker came back: whatever queued while all were busy goes now.
        if (this.#queue.length > 0) this.#dispatch();
      });
      w.on('error', (err) => {
        // A worker that dies fails what it held and everything after: verification is refused
        // (false), never guessed.
        this.#failed = err;
        for (const waiting of this.#waiting.values()) waiting.reject(err);
        this.#waiting.clear();
        const queued = this.#queue;
        this.#queue = [];
        for (const q of queued) q.resolve(false);
      });
      w.unref();
      return w;
    });
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Messages posted to the workers so far (each a packed set of signatures). */
  get messages(): number {
    return this.#messages;
  }

  /** Verifies every request under the same strict rules as `verifyNode`; results in order. Never rejects on bad input. */
  async verifyMany(items: readonly VerifyRequest[]): Promise<boolean[]> {
    const out = new Array<boolean>(items.length).fill(false);
    const screened: (Screened & { at: number })[] = [];
    items.forEach((item, at) => {
      const s = screenForNode(item.publicKey, item.msg, item.sig);
      if (s) screened.push({ at, ...s });
    });
    if (screened.length === 0) return out;
    // A large set (an audit page) is split evenly over the workers.
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
   * One signature: sent at the end of this turn of the event loop, with the others asked for in
   * it, to a worker with room, or, when none has room, with everything queued to the first one
   * back. Never rejects on bad input.
   */
  verify(publicKey: string, msg: Uint8Array, sig: string): Promise<boolean> {
    const s = screenForNode(publicKey, msg, sig);
    if (s === undefined || this.#failed !== undefined) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.#queue.push({ ...s, resolve });
      if (!this.#dispatchScheduled) {
        this.#dispatchScheduled = true;
        setImmediate(() => {
          this.#dispatchScheduled = false;
          this.#dispatch();
        });
      }
    });
  }

  /**
   * Hands the queue to the workers with room (fewer than DEPTH messages in flight), shared
   * evenly, least busy first; with none, it waits for one to come back.
   */
  #dispatch(): void {
    const open = this.#workers.filter((w) => this.#busy.get(w)! < DEPTH).sort((a, b) => this.#busy.get(a)! - this.#busy.get(b)!);
    let left = open.length;
    for (const w of open) {
      if (this.#queue.length === 0) return;
      const part = this.#queue.splice(0, Math.ceil(this.#queue.length / left));
      left -= 1;
      this.#run(w, part).then(
        (ok) => part.forEach((q, i) => q.resolve(ok[i] === 1)),
        () => part.forEach((q) => q.resolve(false)),
      );
    }
  }

  #done(w: Worker): void {
    const left = (this.#busy.get(w) ?? 1) - 1;
    this.#busy.set(w, left);
    if (left === 0) w.unref();
  }

  #run(w: Worker, part: readonly Screened[]): Promise<Uint8Array> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    this.#messages += 1;
    const pending = (this.#busy.get(w) ?? 0) + 1;
    this.#busy.set(w, pending);
    if (pending === 1) w.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, { worker: w, resolve, reject });
      const work = pack(part);
      w.postMessage({ id, work }, [work]);
    });
  }

  /** Ends the workers once every verification asked for has been answered. */
  async close(): Promise<void> {
    while (this.#waiting.size > 0 || this.#queue.length > 0 || this.#dispatchScheduled) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
