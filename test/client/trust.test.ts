/**
 * `CheckpointTracker` against the real service: it trusts the first verified checkpoint, follows
 * growth only along verified consistency proofs, persists as JSON, and refuses — with a code and
 * without moving — a forged checkpoint, a lying proof, a rollback, a fork and another ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CheckpointTracker, generateKeyFile, LedgerClient, TrustError, type FetchFn } from '../../src/client/index.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { lyingFetch, makeWorld, startServer, type Server, type World } from './support.js';

let server: Server;
let other: Server;
let w: World;
let nodeKey: string;

beforeAll(async () => {
  [server, other] = await Promise.all([startServer(), startServer()]);
  w = await makeWorld(server);
  nodeKey = (await w.op.ledger()).nodeKey;
});
afterAll(() => Promise.all([server.close(), other.close()]));

const tracker = () => new CheckpointTracker({ ledgerId: w.ledgerId, nodeKey });
const client = (fetch?: FetchFn) => new LedgerClient({ baseUrl: server.baseUrl, retryDelayMs: 1, ...(fetch ? { fetch } : {}) });

/** Expects a TrustError with `code`, and the tracker still at `size`. */
const refused = async (t: CheckpointTracker, run: Promise<unknown>, code: string): Promise<TrustError> => {
  const before = t.trusted;
  const err = await run.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrustError);
  expect((err as TrustError).code).toBe(code);
  expect(t.trusted).toEqual(before);
  return err as TrustError;
};

describe('CheckpointTracker', () => {
  it('trusts the first verified checkpoint, then follows growth along consistency proofs', async () => {
    const t = tracker();
    const first = await t.update(client());
    expect(first).toMatchObject({ from: 0, changed: true, to: (await w.op.ledger()).size });
    const same = await t.update(client());
    expect(same).toMatchObject({ from: first.to, to: first.to, changed: false });
    await w.issueAccepted(1_000n);
    const grown = await t.update(client());
    expect(grown).toMatchObject({ from: first.to, to: first.to + 2, changed: true });
    expect(t.trusted?.size).toBe(first.to + 2);
  });

  it('persists as JSON and resumes from it (re-verifying the stored note)', async () => {
    const t = tracker();
    await t.update(client());
    const saved = JSON.stringify(t);
    await w.issueAccepted(2_000n);
    const resumed = CheckpointTracker.fromJSON(saved);
    expect(resumed.trusted).toEqual(t.trusted);
    const r = await resumed.update(client());
    expect(r.from).toBe(t.trusted!.size);
    expect(r.to).toBe(t.trusted!.size + 2);

    const tampered = JSON.parse(saved) as { checkpoint: { size: number } };
    tampered.checkpoint.size += 1;
    expect(() => CheckpointTracker.fromJSON(tampered)).toThrowError(expect.objectContaining({ code: 'BAD_STATE' }) as Error);
    expect(() => CheckpointTracker.fromJSON('not json')).toThrowError(expect.objectContaining({ code: 'BAD_STATE' }) as Error);
    expect(() => CheckpointTracker.fromJSON({ v: 2 })).toThrowError(expect.objectContaining({ code: 'BAD_STATE' }) as Error);
  });

  it('refuses a checkpoint signed by another key (BAD_CHECKPOINT)', async () => {
    const t = tracker();
    await t.update(client());
    await w.issueAccepted(3_000n);
    const impostor = generateKeyFile('node');
    const forging = lyingFetch(
      (url) => url.endsWith('/v1/checkpoint'),
      (text) => {
        const [, size, root] = /^[^\n]*\n(\d+)\n([^\n]+)\n/.exec(text as string)!;
        const rootHex = Buffer.from(root!, 'base64').toString('hex');
        return signCheckpoint({ ledgerId: w.ledgerId, size: Number(size), root: rootHex }, impostor.secretKey);
      },
    );
    const err = await refused(t, t.update(client(forging)), 'BAD_CHECKPOINT');
    expect(err.evidence.trusted).toBe(t.trusted?.note);
  });

  it('refuses a consistency proof with one flipped bit (BAD_CONSISTENCY_PROOF)', async () => {
    const t = tracker();
    await t.update(client());
    await w.issueAccepted(4_000n);
    const flipping = lyingFetch(
      (url) => url.includes('/v1/proofs/consistency'),
      (body) => {
        const b = body as { hashes: string[] };
        const h = b.hashes[0]!;
        b.hashes[0] = (parseInt(h[0]!, 16) ^ 1).toString(16) + h.slice(1);
        return b;
      },
    );
    await refused(t, t.update(client(flipping)), 'BAD_CONSISTENCY_PROOF');
    const wrongRange = lyingFetch(
      (url) => url.includes('/v1/proofs/consistency'),
      (body) => ({ ...(body as object), from: 1 }),
    );
    await refused(t, t.update(client(wrongRange)), 'BAD_CONSISTENCY_PROOF');
    // The honest service still moves it.
    expect((await t.update(client())).changed).toBe(true);
  });

  it('refuses a smaller checkpoint than the trusted one (ROLLBACK)', async () => {
    const old = await client().checkpoint();
    await w.issueAccepted(5_000n);
    const t = tracker();
    await t.update(client());
    const replaying = lyingFetch(
      (url) => url.endsWith('/v1/checkpoint'),
      () => old,
    );
    await refused(t, t.update(client(replaying)), 'ROLLBACK');
  });

  it('refuses a node-signed checkpoint of the same size with another root (FORK), keeping both notes', async () => {
    const t = tracker();
    await t.update(client());
    const size = t.trusted!.size;
    const fork = signCheckpoint({ ledgerId: w.ledgerId, size, root: 'ee'.repeat(32) }, server.node.secretKey);
    const forking = lyingFetch(
      (url) => url.endsWith('/v1/checkpoint'),
      () => fork,
    );
    const err = await refused(t, t.update(client(forking)), 'FORK');
    expect(err.evidence).toEqual({ trusted: t.trusted!.note, offered: fork });
  });

  it('refuses another ledger: its service, or its checkpoint served in place of ours (WRONG_LEDGER)', async () => {
    const t = tracker();
    await t.update(client());
    await refused(t, t.update(new LedgerClient({ baseUrl: other.baseUrl })), 'WRONG_LEDGER');
    const theirs = await new LedgerClient({ baseUrl: other.baseUrl }).checkpoint();
    const swapping = lyingFetch(
      (url) => url.endsWith('/v1/checkpoint'),
      () => theirs,
    );
    await refused(t, t.update(client(swapping)), 'WRONG_LEDGER');
  });

  it('checks its own trust anchors', () => {
    expect(() => new CheckpointTracker({ ledgerId: 'xyz', nodeKey })).toThrow(TrustError);
    expect(() => new CheckpointTracker({ ledgerId: w.ledgerId, nodeKey: '00'.repeat(32) })).toThrow(TrustError);
    expect(() => new CheckpointTracker({ ledgerId: w.ledgerId, nodeKey, initial: 'garbage' })).toThrowError(
      expect.objectContaining({ code: 'BAD_CHECKPOINT' }) as Error,
    );
  });
});
