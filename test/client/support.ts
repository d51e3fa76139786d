/**
 * Support for the SDK tests: a real ledger service on a loopback port (the API harness, listening
 * for real), parties as §3 key files, a world built through the SDK itself, fetch wrappers that
 * fail or lie on purpose, and a "forging node" that rewrites a log and re-signs its checkpoint
 * with the real node key (to reach the checks that only replay can do).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

import {
  LedgerClient,
  LedgerRefusal,
  signEnvelope,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  partyRegister,
  type FetchFn,
  type KeyFile,
  type LedgerClientOptions,
  type ProofBundle,
  type SignedEnvelope,
  type WirePayload,
  type WireVoucher,
} from '../../src/client/index.js';
import type { RegistrableRole } from '../../src/domain/types.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { entryHash, entryHashBytes, type Entry, type HashedEntry } from '../../src/ledger/entry.js';
import { toHex } from '../../src/ledger/hex.js';
import { inclusionProof, rootOf } from '../../src/ledger/merkle.js';
import { CAST } from '../support/cast.js';
import { Harness, dueIn, key } from '../support/harness.js';

export { dueIn };

export interface Server {
  readonly h: Harness;
  readonly baseUrl: string;
  readonly ledgerId: string;
  readonly operator: KeyFile;
  readonly node: KeyFile;
  close(): Promise<void>;
}

/** The API harness on a real loopback port. */
export const startServer = async (): Promise<Server> => {
  const h = await Harness.start();
  const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
  const node = JSON.parse(await readFile(path.join(h.dataDir, 'node.key'), 'utf8')) as KeyFile;
  return {
    h,
    baseUrl: address,
    ledgerId: h.ledgerId,
    operator: { party: 'operator', publicKey: h.operator.publicKey, secretKey: h.operator.seed },
    node,
    close: () => h.close(),
  };
};

/** A deterministic key file per id (and salt). */
export const keyFile = (id: string, salt = ''): KeyFile => {
  const k = key(id, 'supplier', salt);
  return { party: id, publicKey: k.publicKey, secretKey: k.seed };
};

export interface World {
  readonly server: Server;
  /** The client acting as the operator. */
  readonly op: LedgerClient;
  readonly ledgerId: string;
  readonly core: KeyFile;
  readonly tier1: KeyFile;
  readonly tier2: KeyFile;
  readonly bank: KeyFile;
  readonly bank2: KeyFile;
  readonly auditor: KeyFile;
  /** A client for `key` (sharing the server, with quick retries). */
  as(key: KeyFile, extra?: Partial<LedgerClientOptions>): LedgerClient;
  /** Signs and submits; returns the receipt. */
  submit(payload: WirePayload, keys: readonly KeyFile[]): ReturnType<LedgerClient['submit']>;
  /** Issues from core to tier1, accepted; returns the root id. */
  issueAccepted(amount: bigint, to?: KeyFile): Promise<string>;
}

let worldCounter = 0;

/**
 * Registers a core, two suppliers, two banks and an auditor through the SDK. Party ids get a
 * suffix so several worlds can share one ledger.
 */
export const makeWorld = async (server: Server, suffix = `w${++worldCounter}`): Promise<World> => {
  const op = new LedgerClient({ baseUrl: server.baseUrl, key: server.operator, retryDelayMs: 1 });
  const ledgerId = await op.ledgerId();
  const mk = (id: string): KeyFile => keyFile(`${id}-${suffix}`);
  const roles: [KeyFile, RegistrableRole][] = [];
  const core = mk(CAST.core.id);
  const tier1 = mk(CAST.tier1.id);
  const tier2 = mk(CAST.tier2.id);
  const bank = mk(CAST.bank.id);
  const bank2 = mk(CAST.bank2.id);
  const auditor = mk(CAST.auditor.id);
  roles.push([core, 'core'], [tier1, 'supplier'], [tier2, 'supplier'], [bank, 'bank'], [bank2, 'bank'], [auditor, 'auditor']);
  for (const [k, role] of roles) {
    await op.submit(signEnvelope(partyRegister({ ledger: ledgerId, party: { id: k.party, name: k.party, role, publicKey: k.publicKey } }), [server.operator]));
  }
  const as = (k: KeyFile, extra: Partial<LedgerClientOptions> = {}): LedgerClient =>
    new LedgerClient({ baseUrl: server.baseUrl, key: k, retryDelayMs: 1, ledgerId, ...extra });
  const submit = (payload: WirePayload, keys: readonly KeyFile[]) => op.submit(signEnvelope(payload, keys));
  let invoice = 0;
  const issueAccepted = async (amount: bigint, to: KeyFile = tier1): Promise<string> => {
    const issue = voucherIssue({
      ledger: ledgerId,
      issuer: core.party,
      to: to.party,
      amount,
      currency: 'CNY',
      dueDate: dueIn(90),
      invoiceIds: [`INV-${suffix}-${++invoice}-${Math.random().toString(36).slice(2, 8)}`],
    });
    const [root] = voucherIdsOf(issue);
    await submit(issue, [core]);
    await submit(voucherAccept({ ledger: ledgerId, voucherId: root! }), [to]);
    return root!;
  };
  return { server, op, ledgerId, core, tier1, tier2, bank, bank2, auditor, as, submit, issueAccepted };
};

/** A fresh server with a world registered on it (the usual start of an SDK test file). */
export const startWorld = async (suffix?: string): Promise<{ server: Server; w: World }> => {
  const server = await startServer();
  return { server, w: await makeWorld(server, suffix) };
};

/** Expects `promise` to reject with a `LedgerRefusal`; returns it. */
export const refusalOf = async (promise: Promise<unknown>): Promise<LedgerRefusal> => {
  const err = await promise.then(
    () => {
      throw new Error('expected a refusal, but the call succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LedgerRefusal);
  return err as LedgerRefusal;
};

/**
 * For a file whose tests share one server and one world: starts them before the file's tests
 * (handing them to `set`) and closes the server after them.
 */
export const worldPerFile = (set: (server: Server, w: World) => void): void => {
  let started: Server | undefined;
  beforeAll(async () => {
    const { server, w } = await startWorld();
    started = server;
    set(server, w);
  });
  afterAll(() => started?.close());
};

// ---- fetch wrappers ----

export const realFetch: FetchFn = (input, init) => fetch(input, init);

/** Rewrites the JSON answers of requests whose URL matches. */
export const lyingFetch =
  (match: (url: string) => boolean, rewrite: (body: unknown, url: string) => unknown): FetchFn =>
  async (input, init) => {
    const res = await fetch(input, init);
    if (!match(input)) return res;
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const body = type.includes('json') ? (rewrite(JSON.parse(text) as unknown, input) as unknown) : rewrite(text, input);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: res.status, headers: { 'content-type': type } });
  };

export const clone = <T>(x: T): T => structuredClone(x);

// ---- a forging node ----

export interface Forged {
  readonly entries: HashedEntry[];
  readonly checkpoint: string;
  /** A §9 bundle over the forged log: these seqs (genesis first), this voucher and state. */
  bundle(seqs: readonly number[], voucherId: string, state: WireVoucher): ProofBundle;
}

/**
 * What a node that holds the node key can do: take the real log, change entries (`edit`), re-link
 * and re-hash everything after the first change, and sign a checkpoint over the result. Only the
 * parties' signatures (and §7) stand in its way.
 */
export const forgeLog = (
  server: Server,
  real: readonly HashedEntry[],
  edit: (entries: Entry[]) => Entry[],
  /** Runs on the re-linked entries before hashing (e.g. to break a link on purpose). */
  afterLink: (entries: Entry[]) => void = () => undefined,
): Forged => {
  const edited = edit(real.map((e) => clone(e.entry)));
  const linked: Entry[] = [];
  let prev = '0'.repeat(64);
  edited.forEach((e, seq) => {
    const entry: Entry = { ...e, seq, prev };
    linked.push(entry);
    prev = entryHash(entry);
  });
  afterLink(linked);
  const entries: HashedEntry[] = linked.map((entry) => ({ entry, hash: entryHash(entry) }));
  const leaves = entries.map((e) => entryHashBytes(e.entry));
  const size = entries.length;
  const checkpoint = signCheckpoint({ ledgerId: server.ledgerId, size, root: toHex(rootOf(leaves)) }, server.node.secretKey);
  const genesis = entries[0]!.entry.op.payload as { name: string; operatorKey: string; nodeKey: string; currency: string; maxTenorDays: number };
  return {
    entries,
    checkpoint,
    bundle: (seqs, voucherId, state) => ({
      ledger: {
        ledgerId: server.ledgerId,
        name: genesis.name,
        nodeKey: genesis.nodeKey,
        operatorKey: genesis.operatorKey,
        size,
        currency: genesis.currency,
        maxTenorDays: genesis.maxTenorDays,
      },
      checkpoint,
      voucherId,
      entries: seqs.map((seq) => ({ ...entries[seq]!, inclusion: inclusionProof(leaves, seq, size).map(toHex) })),
      state,
    }),
  };
};

/** Every entry of the ledger, read as the operator. */
export const allEntries = async (client: LedgerClient): Promise<HashedEntry[]> => {
  const out: HashedEntry[] = [];
  for await (const e of client.iterateEntries()) out.push(e);
  return out;
};

export type { SignedEnvelope };
