/**
 * The single writer. Ops are shape-checked, checked against the in-memory duplicate index, and
 * their signatures verified on worker threads as they arrive; then one writer applies them one
 * after another against the current state (group commit: the ops that arrive while a batch is
 * being written form the next batch, decided on top of the one in flight). A batch is one atomic,
 * fsync'd store commit together with the checkpoint that covers it; only then are its ops answered.
 */
import type { Logger } from 'pino';
import { decide, parseOp, voucherToWire, type DecideCode, type Op } from '../domain/index.js';
import { InvariantError, wrongLedger } from '../domain/decide.js';
import { recordsRead } from '../domain/ops.js';
import type { Receipt, ReceiptEffects } from '../domain/wire.js';
import { signCheckpoint, signCheckpointAsync } from '../ledger/checkpoint.js';
import { signNode, signNodeAsync, verifyNode, verifyNodeAsync } from '../ledger/node/ed25519-node.js';
import { toHex } from '../ledger/hex.js';
import { canonicalize } from '../ledger/jcs.js';
import { opIdOfPreimage as opIdOf, opPreimage, opPreimageFromJcs } from '../ledger/op.js';
import { entryHashOfText as hashEntryText, entryTextFromPayloadJcs } from '../ledger/entry.js';
import {
  ANY_HEAD,
  HeadMovedError,
  type CommitBatch,
  type Head,
  type LedgerMeta,
  type StoredEntry,
  type Store,
  type TreeNode,
  type VoucherRecord,
} from '../store/port.js';
import { BatchView, emptyPrefetch, type Prefetched } from './batch-view.js';
import type { Frontier } from './merkle-log.js';
import type { Metrics } from './metrics.js';
import { defaultVerifyThreads, VerifyPool } from '../ledger/node/verify-pool.js';
import { OpIndex } from './op-index.js';
import { StateCache } from './state-cache.js';
import { applyWrites, type Digest, type SealKey, type SealedWrites } from './state-seal.js';
import { CheckpointKeeper } from './outside-checkpoint.js';

export type { Receipt, ReceiptEffects } from '../domain/wire.js';

/** Entries applied per local commit when taking them from the log. */
const APPLY_CHUNK = 512;

export type SubmitOutcome =
  /** `json` is JSON.stringify(receipt), built around the effects' JSON already made for the store. */
  | { readonly kind: 'accepted'; readonly receipt: Receipt; readonly json: string }
  | { readonly kind: 'duplicate'; readonly receipt: Receipt }
  | { readonly kind: 'refused'; readonly code: DecideCode; readonly detail: string }
  | { readonly kind: 'unavailable'; readonly detail: string }
  /** A programmer error (a broken invariant): nothing was written; the API answers 500. */
  | { readonly kind: 'internal' };

/**
 * JSON.stringify(receipt), with the effects' JSON spliced in rather than made a second time (the
 * same keys in the same order as the Receipt literal of #prepare; a test holds them equal).
 */
const receiptJson = (r: Receipt, effectsJson: string): string =>
  `{"opId":${JSON.stringify(r.opId)},"seq":${r.seq},"entryHash":${JSON.stringify(r.entryHash)},"time":${JSON.stringify(r.time)},"treeSize":${r.treeSize},"effects":${effectsJson}}`;

/** An op that passed the shape and ledger checks, with what was computed from it once. */
interface Submission {
  readonly op: Op;
  readonly wire: { payload: unknown; signatures: unknown };
  readonly opId: string;
  /** JCS(payload): the preimage's tail, reused for the entry text. */
  readonly payloadJcs: string;
  readonly preimage: Uint8Array;
}

/** A decided batch waiting for its turn to commit. */
interface Prepared {
  readonly jobs: readonly Job[];
  readonly outcomes: ReadonlyMap<Job, SubmitOutcome>;
  /** What to write, but its checkpoint; undefined when every op was refused or a duplicate. */
  readonly batch: Omit<CommitBatch, 'checkpoint'> | undefined;
  /** The batch's signed checkpoint, being signed off the event loop while the batch before commits. */
  readonly checkpoint: Promise<string> | undefined;
  readonly frontier: Frontier;
  /** The state after this batch (its tip), once it is durable. */
  readonly after: Tip;
  /** Whether the batch goes to the log of record first (the writer's own); entries taken from the log do not. */
  readonly toLog: boolean;
  /** Stage times (performance.now()): the batch was taken from the queue, and decided. */
  readonly takenAt: number;
  readonly decidedAt: number;
}

/** The state after every batch decided so far (see `#tip`). */
interface Tip {
  readonly head: Head;
  readonly frontier: Frontier;
  readonly view: BatchView | undefined;
  readonly digest: Digest;
}

interface Job extends Submission {
  /** `${publicKey}${sig}` → verified, for the keys known when the op arrived. */
  readonly verified: Map<string, boolean>;
  /** performance.now() when its signature checks started, and when it joined the writer's queue. */
  readonly submitted: number;
  readonly received: number;
  resolve(outcome: SubmitOutcome): void;
}

export interface LedgerServiceOptions {
  readonly store: Store;
  readonly meta: LedgerMeta;
  readonly head: Head;
  readonly frontier: Frontier;
  readonly checkpoint: string;
  readonly nodeSeed: string;
  /** kState, and the digest of the sealed records as of `head` (the stored seal's). */
  readonly sealKey: SealKey;
  readonly digest: Digest;
  /**
   * Where the newest signed checkpoint is kept outside the database (beside the node key), written
   * at most about once a second while the log grows and on close; undefined: not kept.
   */
  readonly checkpointFile?: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Wall clock in ms; ledger time never goes below the last entry's. */
  readonly now?: () => number;
  /** The most ops one commit takes; more wait for the next. */
  readonly batchOpsMax?: number;
  /**
   * Worker threads for signature verification (default: {@link defaultVerifyThreads}); 0
   * verifies on libuv's thread pool, one job per signature.
   */
  readonly verifyThreads?: number;
  /**
   * The log of record (cluster mode): each batch the writer decides is appended there, only on
   * top of the head the writer decided it on, before the local store commits it; its ops are
   * answered once that append is durable. Undefined (a single node): the local store is the log.
   */
  readonly log?: LogOfRecord;
}

/** A log of record the writer appends to before its own store (src/cluster/pg-log.ts). */
export interface LogOfRecord {
  /**
   * Appends the batch's entries with its checkpoint, durably, only if the log's head is still
   * `batch.expectedHead` and this node may still append; throws otherwise, having appended
   * nothing, or (a lost connection) without knowing whether it appended.
   */
  append(batch: CommitBatch): Promise<void>;
}

export class LedgerService {
  readonly meta: LedgerMeta;
  readonly store: Store;
  readonly cache: StateCache;
  /** The op ids on the ledger, so a new op's duplicate check needs no store lookup. */
  readonly opIndex = new OpIndex();
  readonly #nodeSeed: string;
  readonly #sealKey: SealKey;
  readonly #keeper: CheckpointKeeper | undefined;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #now: () => number;
  readonly #batchOpsMax: number;
  readonly #verifyPool: VerifyPool | undefined;
  readonly #verify: (publicKey: string, msg: Uint8Array, sig: string) => Promise<boolean>;

  /**
   * The end of the log after every batch decided so far, durable or not, the last one's changes,
   * and the digest of the sealed records after it.
   */
  #tip: Tip;
  #checkpoint: string;
  #queue: Job[] = [];
  #draining: Promise<void> | undefined;
  #inFlight = new Map<string, Promise<SubmitOutcome>>();
  #unavailable: string | undefined;
  /**
   * Why this node takes no writes now although it is sound (cluster mode: it follows the leader,
   * or it stopped leading and is catching up). Ops are answered 503; reads and /readyz go on.
   */
  #paused: string | undefined;
  /**
   * The state after the last durable batch: the durable head (`size`, `head`), and where the
   * writer restarts after a failed append.
   */
  #committed: Tip;
  readonly #log: LogOfRecord | undefined;
  /** Called once when an append to the log of record fails (the cluster's controller steps down). */
  onAppendFailed: ((err: unknown) => void) | undefined;
  #closing = false;
  /** The background check of the whole log: running, done, or failed (then writes stop). */
  #logCheck: 'none' | 'running' | 'passed' | 'failed' = 'none';
  #logCheckRun: Promise<void> | undefined;
  /**
   * The check of the stored decision state against its seal. Ops are held (queued, not decided)
   * while it runs, and refused (503) if it fails: nothing is decided on unverified state.
   */
  #stateCheck: 'none' | 'running' | 'passed' | 'failed' = 'none';
  #stateCheckRun: Promise<void> | undefined;

  constructor(o: LedgerServiceOptions) {
    this.meta = o.meta;
    this.store = o.store;
    this.cache = new StateCache(o.store);
    this.#tip = { head: o.head, frontier: o.frontier, view: undefined, digest: o.digest };
    this.#committed = this.#tip;
    this.#log = o.log;
    this.#checkpoint = o.checkpoint;
    this.#nodeSeed = o.nodeSeed;
    this.#sealKey = o.sealKey;
    this.#logger = o.logger;
    this.#metrics = o.metrics;
    this.#now = o.now ?? Date.now;
    this.#batchOpsMax = o.batchOpsMax ?? 1024;
    const threads = o.verifyThreads ?? defaultVerifyThreads();
    this.#verifyPool = threads > 0 ? new VerifyPool(threads) : undefined;
    const pool = this.#verifyPool;
    this.#verify = pool ? (k, m, s) => pool.verify(k, m, s) : verifyNodeAsync;
    this.#keeper =
      o.checkpointFile === undefined
        ? undefined
        : new CheckpointKeeper(o.checkpointFile, o.logger, () => ({ size: this.#committed.head.size, note: this.#checkpoint }));
  }

  /** The durable size of the log. */
  get size(): number {
    return this.#committed.head.size;
  }

  get head(): Head {
    return this.#committed.head;
  }

  /** The latest signed checkpoint; it always covers exactly the durable log. */
  get checkpoint(): string {
    return this.#checkpoint;
  }

  /** Why writes are refused, once a commit has failed; reads go on. */
  get unavailable(): string | undefined {
    return this.#unavailable;
  }

  /** Why writes are paused on a sound node (see `pauseWrites`), if they are. */
  get paused(): string | undefined {
    return this.#paused;
  }

  /**
   * Stops taking writes on a sound node (cluster mode: it follows the leader): new ops, and ops
   * queued or decided but not yet durable, are answered 503 with `reason`. Reads go on.
   */
  pauseWrites(reason: string): void {
    this.#paused = reason;
  }

  /**
   * Takes writes again, deciding on the state after the last durable batch (after every batch
   * decided on top of a failed append has been answered). Call once this node leads and its
   * store holds the whole log of record.
   */
  async resumeWrites(): Promise<void> {
    await this.settle();
    this.#paused = undefined;
  }

  /**
   * Waits until every batch decided so far is answered (durable, or refused after a failed
   * append), and sets the writer back to the state after the last durable batch.
   */
  async settle(): Promise<void> {
    while (this.#draining) await this.#draining;
    this.#tip = this.#committed;
  }

  /** Takes one envelope (the JSON value of a request body) and answers once it is decided and durable. */
  async submit(input: unknown): Promise<SubmitOutcome> {
    const parsed = parseOp(input);
    if (!parsed.ok) return { kind: 'refused', code: parsed.code, detail: parsed.detail };
    const op = parsed.op;
    const otherLedger = wrongLedger(op, this.meta.ledgerId);
    if (otherLedger) return { kind: 'refused', code: otherLedger.code, detail: otherLedger.detail };
    const wire = input as Job['wire'];
    const payloadJcs = canonicalize(wire.payload);
    const preimage = opPreimageFromJcs(payloadJcs);
    const opId = opIdOf(preimage);

    // A copy of an op still being decided waits for it. The check and the registration below
    // run with no await between them, and an op leaves #inFlight only once it is durable (and in
    // the duplicate index), so a copy that finds no op in flight finds the committed one: no op is
    // written twice.
    const inFlight = this.#inFlight.get(opId);
    if (inFlight) {
      const first = await inFlight;
      return first.kind === 'accepted' ? { kind: 'duplicate', receipt: first.receipt } : first;
    }
    const outcome = this.#submitNew({ op, wire, opId, payloadJcs, preimage });
    this.#inFlight.set(opId, outcome);
    try {
      return await outcome;
    } finally {
      this.#inFlight.delete(opId);
    }
  }

  async #submitNew(submission: Submission): Promise<SubmitOutcome> {
    const duplicate = await this.#duplicate(submission.opId);
    if (duplicate) return duplicate;
    if (this.#unavailable !== undefined) return { kind: 'unavailable', detail: this.#unavailable };
    if (this.#paused !== undefined) return { kind: 'unavailable', detail: this.#paused };
    if (this.#closing) return { kind: 'unavailable', detail: 'the service is shutting down' };
    return this.#enqueue(submission);
  }

  /**
   * Fills the duplicate index from the store in the background; until it is complete, every
   * duplicate check asks the store. Ops committed meanwhile are added by the writer.
   */
  fillOpIndex(): Promise<void> {
    this.#opIndexFill ??= this.#fillOpIndex().catch((err: unknown) => {
      if (!this.#closing) this.#logger.warn({ err }, 'the duplicate index could not be loaded; duplicate checks use the store');
    });
    return this.#opIndexFill;
  }

  #opIndexFill: Promise<void> | undefined;

  async #fillOpIndex(): Promise<void> {
    const started = performance.now();
    for await (const chunk of this.store.opIds()) {
      if (this.#closing) return;
      for (const id of chunk) this.opIndex.add(id);
    }
    this.opIndex.markComplete();
    this.#logger.info({ ops: this.opIndex.size, ms: Math.round(performance.now() - started) }, 'duplicate index loaded');
  }

  /** The original receipt of an op already on the ledger, rebuilt from its entry (§4). */
  async #duplicate(opId: string): Promise<SubmitOutcome | undefined> {
    if (this.opIndex.complete && !this.opIndex.mayContain(opId)) return undefined;
    const seq = await this.store.seqOfOp(opId);
    if (seq === undefined || seq >= this.#committed.head.size) return undefined;
    return { kind: 'duplicate', receipt: await this.receiptOf(seq) };
  }

  /** The receipt of the entry at `seq`, from what the store keeps of it. */
  async receiptOf(seq: number): Promise<Receipt> {
    const [text, effects, leaf] = await Promise.all([this.store.entry(seq), this.store.effects(seq), this.store.treeNode({ level: 0, index: seq })]);
    if (text === undefined || effects === undefined) throw new InvariantError(`entry ${seq} is missing its records`);
    const entry = JSON.parse(text) as { time: string; op: { payload: unknown } };
    return {
      opId: opIdOf(opPreimage(entry.op.payload)),
      seq,
      entryHash: leaf ? toHex(leaf) : toHex(hashEntryText(text)),
      time: entry.time,
      treeSize: seq + 1,
      effects: JSON.parse(effects) as ReceiptEffects,
    };
  }

  /**
   * Admission (the API's per-party rate limit): called with a new op's id and signers once every
   * one of its signatures verified under its signer's current key, before the op is decided. Copies
   * of an op in flight wait for it, and ops already on the ledger are answered as duplicates, so it
   * is called once per op that reaches the writer. It may throw to refuse the op undecided; the
   * throw is what `submit` answers.
   */
  admit: ((opId: string, signers: readonly string[]) => void) | undefined;

  async #enqueue(submission: Submission): Promise<SubmitOutcome> {
    const submitted = performance.now();
    const verified = await this.#preverify(submission.op, submission.preimage);
    const { signatures } = submission.op;
    if (this.admit && verified.size === signatures.length && [...verified.values()].every(Boolean)) {
      this.admit(
        submission.opId,
        signatures.map((s) => s.signer),
      );
    }
    return new Promise<SubmitOutcome>((resolve) => {
      this.#queue.push({ ...submission, verified, submitted, received: performance.now(), resolve });
      this.#startDrain();
    });
  }

  /**
   * Starts the writer loop unless it runs. A job queued after the loop found the queue empty but
   * before its promise settled (its `finally` runs a few microtasks later) would otherwise wait
   * for the next op to start a loop: the loop is started again for it.
   */
  #startDrain(): void {
    if (this.#draining) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0) this.#startDrain();
    });
  }

  /**
   * Verifies each signature under its signer's current key, off the event loop (verify workers),
   * unless this op is the only one in the service: then nothing else waits for the event loop,
   * and verifying here (about 0.2 ms a signature) beats a worker's round trip (a thread woken and
   * an answer posted back: about 0.7 ms at concurrency 1, measured).
   */
  async #preverify(op: Op, preimage: Uint8Array): Promise<Map<string, boolean>> {
    const verified = new Map<string, boolean>();
    await Promise.all(
      op.signatures.map(async ({ signer, sig }) => {
        const party = await this.cache.party(signer);
        if (!party) return;
        const alone = this.#inFlight.size <= 1;
        verified.set(party.publicKey + sig, alone ? verifyNode(party.publicKey, preimage, sig) : await this.#verify(party.publicKey, preimage, sig));
      }),
    );
    return verified;
  }

  /**
   * The writer loop, two stages deep: while one batch's commit (and fsync) is in flight, the next
   * batch is decided on top of it (`#tip`), and its commit starts as soon as the first is durable.
   * Answers still go out only after the batch that holds them is durable; if a commit fails, every
   * batch decided on top of it is answered 503 and nothing more is written.
   */
  async #drain(): Promise<void> {
    // Held until the stored state is known to be the sealed one; refused if it is not.
    if (this.#stateCheckRun) await this.#stateCheckRun;
    if (this.#stateCheck === 'running' || this.#stateCheck === 'failed' || this.#unavailable !== undefined || this.#paused !== undefined) {
      const detail = this.#unavailable ?? this.#paused ?? 'the service is shutting down';
      for (const job of this.#queue.splice(0)) job.resolve({ kind: 'unavailable', detail });
      return;
    }
    let inFlight: Promise<void> | undefined;
    for (;;) {
      if (this.#queue.length === 0) {
        if (!inFlight) return;
        await inFlight;
        inFlight = undefined;
        continue;
      }
      const jobs = this.#queue.splice(0, this.#batchOpsMax);
      let prepared: Prepared;
      try {
        prepared = await this.#prepare(jobs, performance.now(), inFlight !== undefined);
      } catch (err) {
        // A programmer error: answer the batch's ops with it, write nothing, keep serving.
        this.#logger.error({ err }, 'batch failed before commit');
        for (const job of jobs) job.resolve({ kind: 'internal' });
        continue;
      }
      const previous = inFlight;
      inFlight = this.#commitAfter(previous, prepared);
      // At most one batch is decided ahead of the commit in flight: the next one is prepared
      // once this one's predecessor is durable (so its cache reads see it).
      if (previous) await previous;
    }
  }

  /**
   * Decides a batch against the state after every batch decided so far (durable or in flight).
   * With a commit in flight (`behindCommit`), the checkpoint is signed on libuv's thread pool
   * while that commit finishes; with none, there is nothing to overlap, and signing here is
   * quicker than a hand-off.
   */
  async #prepare(jobs: Job[], takenAt: number, behindCommit: boolean): Promise<Prepared> {
    const tip = this.#tip;
    const prefetched = emptyPrefetch();
    await Promise.all(jobs.map((job) => this.#prefetch(job.op, prefetched, tip.view)));
    const view = new BatchView(prefetched);
    const frontier = tip.frontier.fork();
    const outcomes = new Map<Job, SubmitOutcome>();
    const entries: CommitBatch['entries'][number][] = [];
    const nodes: TreeNode[] = [];
    const accepted = new Map<string, Receipt>();
    let { size: seq, lastHash: prev, lastTime } = tip.head;

    for (const job of jobs) {
      const earlier = accepted.get(job.opId);
      if (earlier) {
        outcomes.set(job, { kind: 'duplicate', receipt: earlier });
        continue;
      }
      const now = new Date(this.#now()).toISOString();
      const time = now > lastTime ? now : lastTime;
      const decision = decide(view, job.op, {
        ledgerId: this.meta.ledgerId,
        currency: this.meta.currency,
        maxTenorDays: this.meta.maxTenorDays,
        seq,
        time,
        opId: job.opId,
        nodeKey: this.meta.nodeKey,
        verifySignature: (publicKey, sig) => job.verified.get(publicKey + sig) ?? verifyNode(publicKey, job.preimage, sig),
      });
      if (!decision.ok) {
        outcomes.set(job, { kind: 'refused', code: decision.code, detail: decision.detail });
        continue;
      }
      const text = entryTextFromPayloadJcs(job.payloadJcs, job.op.signatures, prev, seq, time);
      const hash = hashEntryText(text);
      const effects: ReceiptEffects = {
        vouchers: decision.effects.vouchers.map(voucherToWire),
        parties: [...decision.effects.parties],
      };
      view.apply(decision.effects, seq);
      nodes.push(...frontier.append(hash));
      const effectsJson = JSON.stringify(effects);
      const receipt: Receipt = { opId: job.opId, seq, entryHash: toHex(hash), time, treeSize: seq + 1, effects };
      entries.push({ seq, text, hash: receipt.entryHash, opId: job.opId, effects: effectsJson });
      accepted.set(job.opId, receipt);
      outcomes.set(job, { kind: 'accepted', receipt, json: receiptJson(receipt, effectsJson) });
      seq += 1;
      prev = receipt.entryHash;
      lastTime = time;
    }

    const head: Head = { size: seq, lastHash: prev, lastTime };
    let batch: Prepared['batch'];
    let checkpoint: Promise<string> | undefined;
    if (entries.length > 0) {
      const tree = { ledgerId: this.meta.ledgerId, size: seq, root: frontier.root() };
      checkpoint = behindCommit
        ? signCheckpointAsync(tree, this.#nodeSeed, signNodeAsync, this.meta.nodeKey)
        : Promise.resolve(signCheckpoint(tree, this.#nodeSeed, signNode, this.meta.nodeKey));
      // Awaited in #commitAfter, which may return first (after a failed commit): never unhandled.
      checkpoint.catch(() => undefined);
      const { batch: built, digest } = await this.#sealedBatch(view, prefetched, tip, entries, nodes, head, frontier, tip.head);
      batch = built;
      this.#tip = { head, frontier, view, digest };
      // Built now, while the batch before is being written, not after it is durable.
      if (behindCommit) this.store.prepare(batch);
    }
    return { jobs, outcomes, batch, checkpoint, frontier, after: this.#tip, toLog: true, takenAt, decidedAt: performance.now() };
  }

  /**
   * What a decided batch writes, with the state seal after it: the tip's digest, each changed
   * sealed record's old term out (its value before the batch: prefetched, or read now if `decide`
   * did not need it) and its new one in.
   */
  async #sealedBatch(
    view: BatchView,
    prefetched: Prefetched,
    tip: Tip,
    entries: CommitBatch['entries'],
    nodes: CommitBatch['treeNodes'],
    head: Head,
    frontier: Frontier,
    expectedHead: CommitBatch['expectedHead'],
  ): Promise<{ batch: Omit<CommitBatch, 'checkpoint'>; digest: Digest }> {
    const invoices = view.invoiceWrites();
    const writes: SealedWrites = {
      parties: view.changedParties(),
      keyOwners: view.changedKeyOwners(),
      vouchers: view.changedVouchers(),
      invoicesUsed: invoices.used,
      invoicesFreed: invoices.freed,
    };
    await this.#prefetchOriginals(writes, prefetched, tip.view);
    const digest = tip.digest.copy();
    applyWrites(this.#sealKey, digest, writes, {
      party: (id) => prefetched.parties.get(id) ?? null,
      keyOwner: (key) => prefetched.keyOwners.get(key) ?? null,
      // A voucher not prefetched is one this batch created: its id derives from a new op id
      // (roots) or from a range no other voucher of its root has (children), so none is stored.
      voucher: (id) => prefetched.vouchers.get(id) ?? null,
      invoice: (id) => prefetched.invoices.get(id) ?? null,
    });
    const batch: Omit<CommitBatch, 'checkpoint'> = {
      expectedHead,
      entries,
      ...writes,
      listed: [...view.listed.values()],
      unlisted: [...view.unlisted.values()],
      partySeqs: view.partySeqs,
      treeNodes: nodes,
      head,
      seal: this.#sealKey.seal(head.size, toHex(frontier.root()), digest),
    };
    return { batch, digest };
  }

  /**
   * Reads the values before the batch of the sealed records it changes that `decide` did not
   * need (a party's unchanged key re-written by party.update, invoices freed): from the batch
   * decided ahead, else the cache or the store.
   */
  async #prefetchOriginals(writes: SealedWrites, into: Prefetched, ahead: BatchView | undefined): Promise<void> {
    const loads: Promise<unknown>[] = [];
    for (const party of writes.parties) {
      if (into.parties.has(party.id)) continue;
      const changed = ahead?.changedParty(party.id);
      if (changed) into.parties.set(party.id, changed);
      else loads.push(this.cache.party(party.id).then((v) => into.parties.set(party.id, v ?? null)));
    }
    for (const [key] of writes.keyOwners) {
      if (into.keyOwners.has(key)) continue;
      const changed = ahead?.changedKeyOwner(key);
      if (changed !== undefined) into.keyOwners.set(key, changed);
      else loads.push(this.cache.keyOwner(key).then((v) => into.keyOwners.set(key, v ?? null)));
    }
    for (const id of [...writes.invoicesFreed, ...writes.invoicesUsed.map(([id]) => id)]) {
      if (into.invoices.has(id)) continue;
      const changed = ahead?.changedInvoice(id);
      if (changed !== undefined) into.invoices.set(id, changed);
      else loads.push(this.store.invoiceRoot(id).then((v) => into.invoices.set(id, v ?? null)));
    }
    if (loads.length > 0) await Promise.all(loads);
  }

  /** Commits a prepared batch once `previous` (the batch before it) is durable, then answers its ops. */
  async #commitAfter(previous: Promise<void> | undefined, p: Prepared): Promise<void> {
    await previous;
    const commitStart = performance.now();
    const { jobs, outcomes, batch } = p;
    // Entries taken from the log are applied while writes are paused (a follower).
    const refusal = this.#unavailable ?? (p.toLog ? this.#paused : undefined);
    if (refusal !== undefined) {
      // A commit failed, or this node stopped leading: what is decided on top of the last
      // durable batch is not written.
      for (const job of jobs) job.resolve({ kind: 'unavailable', detail: refusal });
      return;
    }
    if (batch) {
      const started = performance.now();
      let checkpoint: string;
      try {
        checkpoint = await p.checkpoint!;
      } catch (err) {
        this.#unavailable = 'the node could not sign a checkpoint; the service is read-only until restarted';
        this.#logger.error({ err }, 'signing a checkpoint failed; going read-only');
        for (const job of jobs) job.resolve({ kind: 'unavailable', detail: this.#unavailable });
        return;
      }
      const full: CommitBatch = { ...batch, checkpoint };
      if (this.#log && p.toLog) {
        try {
          await this.#log.append(full);
        } catch (err) {
          // Not appended, or not known to be: this node decides nothing more until it has caught
          // up with the log of record (an op whose append did land is found there, and a client
          // that sends it again gets its receipt as a duplicate).
          this.#paused = 'this node is not appending to the log of record now (a leader change or a database failover); retry';
          this.#logger.warn({ err, seq: this.#committed.head.size, ops: batch.entries.length }, 'append to the log of record failed; writes paused');
          for (const job of jobs) job.resolve({ kind: 'unavailable', detail: this.#paused });
          this.onAppendFailed?.(err);
          return;
        }
      }
      try {
        await this.store.commit(full);
      } catch (err) {
        this.#unavailable =
          err instanceof HeadMovedError
            ? 'the stored log moved on without this writer; the service is read-only until restarted'
            : 'the store failed to write durably; the service is read-only until restarted';
        this.#logger.error({ err, seq: this.#committed.head.size, ops: batch.entries.length }, 'commit failed; going read-only');
        this.#metrics?.commitFailed();
        for (const job of jobs) job.resolve({ kind: 'unavailable', detail: this.#unavailable });
        return;
      }
      this.#metrics?.committed(batch.entries.length, (performance.now() - started) / 1000, batch.head.size);
      this.#committed = p.after;
      this.#checkpoint = checkpoint;
      for (const e of batch.entries) this.opIndex.add(e.opId);
      this.cache.committed(batch.parties, batch.keyOwners, batch.vouchers);
    }

    this.#observeStages(p, commitStart);
    for (const job of jobs) {
      const outcome = outcomes.get(job);
      if (!outcome) throw new InvariantError('a job of the batch has no outcome');
      this.#metrics?.decided(job.op.payload.type, outcome.kind === 'refused' ? 'refused' : 'accepted');
      this.#logger.debug(
        {
          opId: job.opId,
          type: job.op.payload.type,
          outcome: outcome.kind === 'refused' ? outcome.code : outcome.kind,
          ms: +(performance.now() - job.received).toFixed(2),
        },
        'op decided',
      );
      job.resolve(outcome);
    }
  }

  /** Adds a committed batch's stage times to the metrics (sums over its ops: a few adds per batch). */
  #observeStages(p: Prepared, commitStart: number): void {
    if (!this.#metrics) return;
    const n = p.jobs.length;
    let verifyMs = 0;
    let queueMs = 0;
    for (const job of p.jobs) {
      verifyMs += job.received - job.submitted;
      queueMs += p.takenAt - job.received;
    }
    const seconds = (ms: number) => ms / 1000;
    this.#metrics.stages(
      {
        verify: seconds(verifyMs),
        queue: seconds(queueMs),
        decide: seconds((p.decidedAt - p.takenAt) * n),
        wait: seconds((commitStart - p.decidedAt) * n),
        commit: seconds((performance.now() - commitStart) * n),
      },
      n,
    );
  }

  /** Loads every record `decide` and `apply` may read for this op into `into`. */
  async #prefetch(op: Op, into: Prefetched, ahead: BatchView | undefined): Promise<void> {
    // Exactly the records `decide` reads for this op, as its declaration in domain/ops.ts lists them.
    const reads = recordsRead(op.payload);
    const partyIds = [...op.signatures.map((s) => s.signer), ...reads.parties];
    const { keys, invoices } = reads;
    const loads: Promise<unknown>[] = [];
    // What the batch decided ahead (not yet durable) wins over the cache and the store.
    for (const id of partyIds) {
      if (into.parties.has(id)) continue;
      const changed = ahead?.changedParty(id);
      if (changed) into.parties.set(id, changed);
      else loads.push(this.cache.party(id).then((v) => into.parties.set(id, v ?? null)));
    }
    for (const key of keys) {
      if (into.keyOwners.has(key)) continue;
      const changed = ahead?.changedKeyOwner(key);
      if (changed !== undefined) into.keyOwners.set(key, changed);
      else loads.push(this.cache.keyOwner(key).then((v) => into.keyOwners.set(key, v ?? null)));
    }
    // An invoice already used: its root is read too, so that the refusal can tell whether the
    // issuer may see it (and name it). A rare path: only an op that will be refused takes it.
    const withRoot = async (id: string, root: string | null): Promise<void> => {
      into.invoices.set(id, root);
      if (root !== null) await this.#prefetchLineage(root, into, ahead);
    };
    for (const id of invoices) {
      if (into.invoices.has(id)) continue;
      const changed = ahead?.changedInvoice(id);
      if (changed !== undefined) loads.push(withRoot(id, changed));
      else loads.push(this.store.invoiceRoot(id).then((v) => withRoot(id, v ?? null)));
    }
    if (reads.lineageOf !== undefined) loads.push(this.#prefetchLineage(reads.lineageOf, into, ahead));
    await Promise.all(loads);
  }

  /** A voucher and all its ancestors (visibility is granted up the chain). */
  async #prefetchLineage(voucherId: string, into: Prefetched, ahead: BatchView | undefined): Promise<void> {
    let id: string | null = voucherId;
    while (id !== null && !into.vouchers.has(id)) {
      const record: VoucherRecord | undefined = ahead?.changedRecord(id) ?? (await this.cache.voucher(id));
      into.vouchers.set(id, record ?? null);
      id = record?.state.parentId ?? null;
    }
  }

  /** The background check of the whole stored log (after a quick start). */
  get logCheck(): 'none' | 'running' | 'passed' | 'failed' {
    return this.#logCheck;
  }

  /**
   * Runs `check` (a verification of the whole stored log) without holding up the service. If it
   * fails, the service stops writing (503 LEDGER_UNAVAILABLE, /readyz 503) and the error, naming
   * the first bad seq, is logged: what is on disk can no longer be trusted.
   */
  verifyInBackground(check: (progress: (verified: number) => void) => Promise<void>): void {
    const started = performance.now();
    this.#logCheck = 'running';
    let logged = 0;
    const progress = (verified: number) => {
      // Closing stops the check between chunks (the catch below ignores the throw then).
      if (this.#closing) throw new Error('the service is closing');
      if (verified - logged >= 250_000) {
        logged = verified;
        this.#logger.info({ verified }, 'checking the stored log in the background');
      }
    };
    this.#logCheckRun = check(progress).then(
      () => {
        this.#logCheck = 'passed';
        this.#logger.info({ size: this.#committed.head.size, ms: Math.round(performance.now() - started) }, 'the whole stored log verified');
      },
      (err: unknown) => {
        if (this.#closing) return;
        this.#logCheck = 'failed';
        const seq = (err as { seq?: number }).seq;
        this.#unavailable = `the stored log failed verification${seq === undefined ? '' : ` at seq ${seq}`}; the service is read-only until the data is repaired`;
        this.#logger.error({ err, seq }, 'the stored log failed verification; going read-only');
      },
    );
  }

  /** The check of the stored decision state against its seal: none (a new ledger), running, passed or failed. */
  get stateCheck(): 'none' | 'running' | 'passed' | 'failed' {
    return this.#stateCheck;
  }

  /**
   * Runs `check` (the stored decision state against the seal); ops are held until it ends. If it
   * fails, the service is read-only (503 LEDGER_UNAVAILABLE, /readyz 503) with the error's
   * message as the reason. Resolves when it ends, either way.
   */
  checkState(check: (progress: (records: number) => void) => Promise<void>): Promise<void> {
    const started = performance.now();
    this.#stateCheck = 'running';
    let logged = 0;
    const progress = (records: number) => {
      if (this.#closing) throw new Error('the service is closing');
      if (records - logged >= 500_000) {
        logged = records;
        this.#logger.info({ records }, 'checking the stored state against its seal');
      }
    };
    this.#stateCheckRun = check(progress).then(
      () => {
        this.#stateCheck = 'passed';
        this.#logger.info({ size: this.#committed.head.size, ms: Math.round(performance.now() - started) }, 'the stored state matches its seal; writes flow');
      },
      (err: unknown) => {
        if (this.#closing) return;
        const seq = (err as { seq?: number }).seq;
        this.refuseWrites(err instanceof Error ? err.message : String(err), seq);
      },
    );
    return this.#stateCheckRun;
  }

  /**
   * The stored state cannot be trusted (the reason names what, and the first bad seq where it is
   * known): writes are refused from now on, reads go on.
   */
  refuseWrites(reason: string, seq?: number): void {
    this.#stateCheck = 'failed';
    this.#unavailable = `${reason}; the service is read-only until the data is repaired`;
    this.#logger.error({ seq, reason }, 'the stored state failed its check; going read-only');
  }

  /**
   * Takes entries stored past the sealed state (`head`) at start-up: see `applyLogged`. The
   * stored head record may already be past them, so their commits are repairs (`ANY_HEAD`).
   * Call before any op is submitted.
   */
  async adoptUncovered(stored: readonly StoredEntry[]): Promise<{ seq: number; detail: string } | undefined> {
    for (let i = 0; i < stored.length; i += APPLY_CHUNK) {
      const bad = await this.applyLogged(stored.slice(i, i + APPLY_CHUNK), ANY_HEAD);
      if (bad) return bad;
    }
    if (stored.length > 0) this.#logger.warn({ from: stored[0]!.seq, to: stored.at(-1)!.seq }, 'verified and applied entries stored past the sealed state');
    return undefined;
  }

  /**
   * Applies entries that are already in the log (a cluster follower's from the log of record;
   * entries stored past the seal at start-up), each verified in full before anything is signed
   * over it: its text parses to an op for this ledger, every signature verifies under its
   * signer's key at that point, §7 (`decide`, at its seq and time, against the state so far)
   * accepts it, its seq, time and prev link continue the log, and its text rebuilt from the op
   * is the stored text byte for byte. They are applied as the writer applies ops (BatchView) and
   * committed to the local store as one batch with its checkpoint and seal, over `expectedHead`
   * (default: the head the node holds). Stops at the first entry that fails, writing nothing of
   * the chunk, and returns its seq and why. Not while this node is writing.
   */
  async applyLogged(stored: readonly StoredEntry[], expectedHead?: typeof ANY_HEAD): Promise<{ seq: number; detail: string } | undefined> {
    if (stored.length === 0) return undefined;
    const tip = this.#tip;
    const parsed: { seq: number; text: string; op: Op; time: unknown; prev: unknown; payloadJcs: string }[] = [];
    for (const { seq, text } of stored) {
      let entry: { time?: unknown; prev?: unknown; op?: { payload?: unknown; signatures?: unknown } };
      try {
        entry = JSON.parse(text) as typeof entry;
      } catch {
        return { seq, detail: `entry ${seq} is not JSON` };
      }
      const op = parseOp(entry.op);
      if (!op.ok) return { seq, detail: `entry ${seq} holds no valid op: ${op.code} ${op.detail}` };
      if (op.op.payload.ledger !== this.meta.ledgerId) return { seq, detail: `entry ${seq}'s op is for ledger ${op.op.payload.ledger}` };
      parsed.push({ seq, text, op: op.op, time: entry.time, prev: entry.prev, payloadJcs: canonicalize(entry.op!.payload) });
    }
    const prefetched = emptyPrefetch();
    await Promise.all(parsed.map((e) => this.#prefetch(e.op, prefetched, tip.view)));
    const view = new BatchView(prefetched);
    const frontier = tip.frontier.fork();
    const entries: CommitBatch['entries'][number][] = [];
    const nodes: TreeNode[] = [];
    let head = tip.head;
    for (const { seq, text, op, time, prev, payloadJcs } of parsed) {
      const bad = (detail: string) => ({ seq, detail });
      if (seq !== head.size) return bad(`entry ${seq} is not the next one (${head.size})`);
      if (typeof time !== 'string' || time < head.lastTime || prev !== head.lastHash) return bad(`entry ${seq}'s time or prev link is wrong`);
      const preimage = opPreimageFromJcs(payloadJcs);
      const id = opIdOf(preimage);
      if (entryTextFromPayloadJcs(payloadJcs, op.signatures, head.lastHash, seq, time) !== text) {
        return bad(`entry ${seq}'s stored text is not the entry its op makes`);
      }
      for (const { signer, sig } of op.signatures) {
        const party = view.party(signer);
        if (!party) return bad(`entry ${seq} is signed by ${signer}, who has no key`);
        if (!verifyNode(party.publicKey, preimage, sig)) return bad(`the signature of ${signer} on entry ${seq} does not verify under its key`);
      }
      const decision = decide(view, op, {
        ledgerId: this.meta.ledgerId,
        currency: this.meta.currency,
        maxTenorDays: this.meta.maxTenorDays,
        seq,
        time,
        opId: id,
        nodeKey: this.meta.nodeKey,
        verifySignature: (publicKey, sig) => verifyNode(publicKey, preimage, sig),
      });
      if (!decision.ok) return bad(`entry ${seq} (${op.payload.type}) is refused by the rules: ${decision.code}`);
      const effects: ReceiptEffects = { vouchers: decision.effects.vouchers.map(voucherToWire), parties: [...decision.effects.parties] };
      view.apply(decision.effects, seq);
      const hash = hashEntryText(text);
      nodes.push(...frontier.append(hash));
      const hex = toHex(hash);
      entries.push({ seq, text, hash: hex, opId: id, effects: JSON.stringify(effects) });
      head = { size: seq + 1, lastHash: hex, lastTime: time };
    }
    const { batch, digest } = await this.#sealedBatch(view, prefetched, tip, entries, nodes, head, frontier, expectedHead ?? tip.head);
    const after: Tip = { head, frontier, view, digest };
    this.#tip = after;
    const checkpoint = Promise.resolve(
      signCheckpoint({ ledgerId: this.meta.ledgerId, size: head.size, root: frontier.root() }, this.#nodeSeed, signNode, this.meta.nodeKey),
    );
    const now = performance.now();
    await this.#commitAfter(undefined, { jobs: [], outcomes: new Map(), batch, checkpoint, frontier, after, toLog: false, takenAt: now, decidedAt: now });
    if (this.#unavailable !== undefined) return { seq: head.size - 1, detail: this.#unavailable };
    return undefined;
  }

  /** Starts keeping the newest signed checkpoint beside the node key (see `checkpointFile`). */
  keepCheckpoint(): void {
    this.#keeper?.start();
  }

  /** Stops taking ops and waits for the batch in flight and the background work. */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#draining) await this.#draining;
    await this.#stateCheckRun;
    await this.#keeper?.stop();
    await this.#logCheckRun;
    await this.#opIndexFill;
    await this.#verifyPool?.close();
  }
}
