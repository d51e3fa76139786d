/**
 * `audit` over the real service: a clean ledger passes, and a service that serves one altered,
 * re-hashed or missing entry is caught at that entry's seq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  audit,
  LedgerRefusal,
  voucherSplit,
  voucherIdsOf,
  voucherTransfer,
  type AuditProgress,
  type FetchFn,
  type LedgerClient,
} from '../../src/client/index.js';
import { verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { entryHash, type HashedEntry } from '../../src/ledger/entry.js';
import { VerifyPool } from '../../src/ledger/node/verify-pool.js';
import { lyingFetch, startWorld, type Server, type World } from './support.js';

let server: Server;
let w: World;
let size = 0;

beforeAll(async () => {
  ({ server, w } = await startWorld());
  for (let i = 0; i < 3; i++) {
    const root = await w.issueAccepted(BigInt(10_000 * (i + 1)));
    const split = voucherSplit({ ledger: w.ledgerId, voucherId: root, amounts: [1_000n, BigInt(10_000 * (i + 1) - 1_000)] });
    await w.submit(split, [w.tier1]);
    await w.submit(voucherTransfer({ ledger: w.ledgerId, voucherId: voucherIdsOf(split)[0]!, to: w.tier2.party }), [w.tier1]);
  }
  size = (await w.op.ledger()).size;
});
afterAll(() => server.close());

/** An auditor client whose /v1/entries answers are rewritten by `edit`. */
const lying = (edit: (entries: HashedEntry[]) => HashedEntry[]): LedgerClient =>
  w.as(w.auditor, {
    fetch: lyingFetch(
      (url) => /\/v1\/entries\?/.test(url),
      (body) => {
        const page = body as { entries: HashedEntry[]; next: number | null };
        return { ...page, entries: edit(page.entries) };
      },
    ),
  });

const alterAmount =
  (seq: number, rehash: boolean) =>
  (entries: HashedEntry[]): HashedEntry[] =>
    entries.map((e) => {
      if (e.entry.seq !== seq) return e;
      const entry = structuredClone(e.entry) as unknown as { op: { payload: Record<string, unknown> } };
      entry.op.payload.amount = '99999999';
      return { entry: entry as never, hash: rehash ? entryHash(entry as never) : e.hash };
    });

describe('audit', () => {
  it('passes a clean ledger, with progress and entries per second', async () => {
    const progress: AuditProgress[] = [];
    const report = await audit(w.as(w.auditor), { pageLimit: 5, onProgress: (p) => progress.push(p) });
    expect(report.firstFailure).toBeUndefined();
    expect(report).toMatchObject({ ok: true, ledgerId: w.ledgerId, checkpointSize: size, entriesChecked: size });
    expect(report.signaturesChecked).toBe(size - 1); // one signer each here
    expect(report.entriesPerSecond).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ checked: size, total: size });
    expect(progress.length).toBe(Math.ceil(size / 5));
  });

  it('takes an injected verifier (node:crypto for the CLI), and works for the operator too', async () => {
    let calls = 0;
    const report = await audit(w.op, {
      verify: (k, m, s) => {
        calls += 1;
        return verifyNode(k, m, s);
      },
    });
    expect(report.ok).toBe(true);
    expect(calls).toBe(size); // size − 1 op signatures + the checkpoint
  });

  it('reports the seq of an entry altered in transit (ENTRY_HASH_MISMATCH)', async () => {
    const target = size - 4;
    const report = await audit(lying(alterAmount(target, false)), { pageLimit: 4 });
    expect(report.ok).toBe(false);
    expect(report.firstFailure).toMatchObject({ code: 'ENTRY_HASH_MISMATCH', seq: target });
    expect(report.entriesChecked).toBe(target);
  });

  /**
   * An entry whose `time` (which no signature covers) is moved back to its predecessor's, and
   * re-hashed: shape, hash, signatures and replay all pass; only the tree can tell.
   */
  const backdate = async (pick: (candidates: number[]) => number): Promise<{ seq: number; client: LedgerClient }> => {
    const page = await w.op.entries(0, 1000);
    const times = page.entries.map((e) => e.entry.time);
    const candidates = times.map((t, i) => i).filter((i) => i > 0 && times[i]! > times[i - 1]!);
    const seq = pick(candidates);
    const client = lying((es) =>
      es.map((e) => {
        if (e.entry.seq !== seq) return e;
        const entry = { ...e.entry, time: times[seq - 1]! };
        return { entry, hash: entryHash(entry) };
      }),
    );
    return { seq, client };
  };

  it('names the altered entry, not its successor, when the liar also recomputes its hash (ENTRY_NOT_IN_TREE)', async () => {
    const { seq, client } = await backdate((c) => c.find((s) => s > 2 && s < size - 1)!);
    for (const pageLimit of [1000, seq, seq + 1]) {
      const report = await audit(client, { pageLimit });
      expect(report.firstFailure, `pageLimit ${pageLimit}`).toMatchObject({ code: 'ENTRY_NOT_IN_TREE', seq });
    }
  });

  it('finds an altered, re-hashed last entry by bisection over consistency proofs', async () => {
    const { seq, client } = await backdate((c) => c.at(-1)!);
    expect(seq).toBe(size - 1);
    const report = await audit(client);
    expect(report.firstFailure).toMatchObject({ code: 'ENTRY_NOT_IN_TREE', seq });
  });

  it('reports an altered amount re-hashed by the liar at its seq, as a bad signature', async () => {
    const report = await audit(lying(alterAmount(9, true)));
    expect(report.firstFailure).toMatchObject({ code: 'BAD_SIGNATURE', seq: 9 });
  });

  it('reports a missing entry (MISSING_ENTRY) and a changed link (CHAIN_BROKEN) at their seqs', async () => {
    const missing = await audit(lying((es) => es.filter((e) => e.entry.seq !== 7)));
    expect(missing.firstFailure).toMatchObject({ code: 'MISSING_ENTRY', seq: 7 });

    const relinked = await audit(
      lying((es) =>
        es.map((e) => {
          if (e.entry.seq !== 8) return e;
          const entry = { ...e.entry, prev: 'ab'.repeat(32) };
          return { entry, hash: entryHash(entry) };
        }),
      ),
    );
    expect(relinked.firstFailure).toMatchObject({ code: 'CHAIN_BROKEN', seq: 8 });
  });

  it('verifies each page on worker threads (verifyMany) with the same report, and finds a forged signature there too', async () => {
    const pool = new VerifyPool(2);
    try {
      let batched = 0;
      let single = 0;
      const opts = {
        pageLimit: 7,
        verify: (k: string, m: Uint8Array, s: string) => {
          single += 1;
          return verifyNode(k, m, s);
        },
        verifyMany: async (items: readonly { publicKey: string; msg: Uint8Array; sig: string }[]) => {
          batched += items.length;
          return pool.verifyMany(items);
        },
      };
      const report = await audit(w.as(w.auditor), opts);
      expect(report).toMatchObject({ ok: true, entriesChecked: size, signaturesChecked: size - 1 });
      expect(batched).toBe(size - 1);
      expect(single).toBe(1); // the checkpoint only
      const target = 9;
      const forged = lying((es) =>
        es.map((e) => {
          if (e.entry.seq !== target) return e;
          const entry = structuredClone(e.entry) as unknown as { op: { signatures: { signer: string; sig: string }[] } };
          entry.op.signatures[0]!.sig = 'cd'.repeat(64);
          return { entry: entry as never, hash: entryHash(entry as never) };
        }),
      );
      const bad = await audit(forged, { ...opts, replay: false });
      expect(bad.firstFailure).toMatchObject({ code: 'BAD_SIGNATURE', seq: target });
      expect(await pool.verifyMany([{ publicKey: 'zz', msg: new Uint8Array(1), sig: 'ab' }])).toEqual([false]);
    } finally {
      await pool.close();
    }
  });

  it('reports the earlier of two findings in neighbouring pages (a page is replayed while the next one is already checked)', async () => {
    const pool = new VerifyPool(2);
    try {
      // A forged signature on the last entry of page [5, 10), re-hashed so that page's chain holds,
      // and a broken link, a missing entry or an altered entry on page [10, 15).
      const forgeAt = (es: HashedEntry[], seq: number): HashedEntry[] =>
        es.map((e) => {
          if (e.entry.seq !== seq) return e;
          const entry = structuredClone(e.entry) as unknown as { op: { signatures: { signer: string; sig: string }[] } };
          entry.op.signatures[0]!.sig = 'cd'.repeat(64);
          return { entry: entry as never, hash: entryHash(entry as never) };
        });
      const later: [string, (es: HashedEntry[]) => HashedEntry[]][] = [
        [
          'a broken link',
          (es) =>
            es.map((e) => (e.entry.seq === 11 ? { entry: { ...e.entry, prev: 'ab'.repeat(32) }, hash: entryHash({ ...e.entry, prev: 'ab'.repeat(32) }) } : e)),
        ],
        ['a missing entry', (es) => es.filter((e) => e.entry.seq < 10)],
        ['an altered entry', alterAmount(12, false)],
      ];
      for (const [what, edit] of later) {
        const client = lying((es) => edit(forgeAt(es, 9)));
        for (const opts of [
          { pageLimit: 5 },
          { pageLimit: 5, verify: verifyNode, verifyMany: (items: Parameters<VerifyPool['verifyMany']>[0]) => pool.verifyMany(items) },
        ]) {
          const report = await audit(client, opts);
          expect(report.firstFailure, `${what}, ${'verifyMany' in opts ? 'workers' : 'one thread'}`).toMatchObject({ code: 'BAD_SIGNATURE', seq: 9 });
          expect(report.entriesChecked).toBe(9);
        }
      }
    } finally {
      await pool.close();
    }
  });

  it('reports a forged signature with seq and signer (BAD_SIGNATURE)', async () => {
    const target = 12;
    const forged = lying((es) =>
      es.map((e) => {
        if (e.entry.seq !== target) return e;
        const entry = structuredClone(e.entry) as unknown as { op: { signatures: { signer: string; sig: string }[] } };
        entry.op.signatures[0]!.sig = 'ab'.repeat(64);
        return { entry: entry as never, hash: entryHash(entry as never) };
      }),
    );
    const report = await audit(forged, { replay: false });
    // The entry as served is re-hashed, so it is also not the checkpoint's; the signature is checked first.
    expect(report.firstFailure).toMatchObject({ code: 'BAD_SIGNATURE', seq: target });
    expect(report.firstFailure?.signer).toMatch(/-w\d+$/);
  });

  it("refuses a ledger id that genesis does not hash to (GENESIS_MISMATCH), and a supplier's audit (NOT_FOUND)", async () => {
    const report = await audit(w.as(w.auditor), { ledgerId: 'cd'.repeat(32) });
    expect(report.firstFailure).toMatchObject({ code: 'GENESIS_MISMATCH', seq: 0 });
    await expect(audit(w.as(w.tier1))).rejects.toBeInstanceOf(LedgerRefusal);
  });

  it('refuses a checkpoint the node key did not sign (BAD_CHECKPOINT)', async () => {
    const swap: FetchFn = lyingFetch(
      (url) => url.endsWith('/v1/checkpoint'),
      (text) => (text as string).replace(/ [A-Za-z0-9+/=]+\n$/, ` ${Buffer.alloc(68, 7).toString('base64')}\n`),
    );
    const report = await audit(w.as(w.auditor, { fetch: swap }));
    expect(report.firstFailure?.code).toBe('BAD_CHECKPOINT');
  });
});
