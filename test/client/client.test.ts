/**
 * `LedgerClient` against the real service over loopback HTTP: the story of CONTEXT.md through
 * the SDK, retry safety (§4), typed refusals (§7–§8), and every read of §8 with read tokens.
 */
import { describe, expect, it } from 'vitest';

import {
  addSignature,
  hasValidSignature,
  LedgerClient,
  LedgerHttpError,
  LedgerNetworkError,
  type LedgerRefusal,
  opIdOf,
  signEnvelope,
  verifyBundle,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherRelease,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type FetchFn,
  type WireVoucher,
} from '../../src/client/index.js';
import { verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { verifyInclusion } from '../../src/ledger/merkle.js';
import { dueIn, realFetch, refusalOf, worldPerFile, type Server, type World } from './support.js';

let server: Server;
let w: World;

worldPerFile((s, world) => {
  server = s;
  w = world;
});

const size = async (): Promise<number> => (await w.op.ledger()).size;

/** Expects `promise` to reject with a LedgerRefusal of `code` and `status`; returns it. */
const refusal = async (promise: Promise<unknown>, code: string, status: number): Promise<LedgerRefusal> => {
  const r = await refusalOf(promise);
  expect({ code: r.code, status: r.status }).toEqual({ code, status });
  expect(typeof r.detail).toBe('string');
  return r;
};

describe('the story through the SDK', () => {
  it('issues, accepts, splits, transfers, pledges (co-signed), releases, re-pledges and settles', async () => {
    const { ledgerId: ledger, core, tier1, tier2, bank } = w;
    const info = await w.op.ledger();
    expect(info).toMatchObject({ ledgerId: ledger, currency: 'CNY', maxTenorDays: 365 });

    // Issue ¥1,000,000.00; the root id is known before submitting.
    const issue = voucherIssue({
      ledger,
      issuer: core.party,
      to: tier1.party,
      amount: 100_000_000n,
      currency: info.currency,
      dueDate: dueIn(90),
      invoiceIds: ['INV-001', 'INV-002'],
    });
    const [root] = voucherIdsOf(issue);
    const issued = await w.as(core).submit(signEnvelope(issue, [core]));
    expect(issued).toMatchObject({ duplicate: false, attempts: 1, opId: opIdOf(issue) });
    expect(issued.treeSize).toBe(issued.seq + 1);
    expect(issued.effects.vouchers).toMatchObject([{ id: root, status: 'offered', holder: core.party, offeredTo: tier1.party, amount: '100000000' }]);

    await w.submit(voucherAccept({ ledger, voucherId: root! }), [tier1]);

    // Split 60/40, then pass 60 on to tier 2 (whole), who accepts.
    const split = voucherSplit({ ledger, voucherId: root!, amounts: [60_000_000n, 40_000_000n] });
    const [sixty, forty] = voucherIdsOf(split);
    const splitReceipt = await w.submit(split, [tier1]);
    expect(splitReceipt.effects.vouchers.map((v) => [v.id, v.status])).toEqual([
      [root, 'split'],
      [sixty, 'active'],
      [forty, 'active'],
    ]);
    await w.submit(voucherTransfer({ ledger, voucherId: sixty!, to: tier2.party }), [tier1]);
    await w.submit(voucherAccept({ ledger, voucherId: sixty! }), [tier2]);

    // Tier 2 prepares a partial pledge of 20; the bank checks its half and co-signs.
    const pledge = voucherPledge({ ledger, voucherId: sixty!, bank: bank.party, loanRef: 'LN-2026-001', amount: 20_000_000n });
    const [pledged, rest] = voucherIdsOf(pledge);
    const prepared = signEnvelope(pledge, [tier2]);
    expect(hasValidSignature(prepared, tier2.party, (await w.as(bank).party(tier2.party)).publicKey)).toBe(true);
    const pledgeReceipt = await w.as(bank).submit(addSignature(prepared, bank));
    const byId = new Map(pledgeReceipt.effects.vouchers.map((v) => [v.id, v]));
    expect(byId.get(pledged!)).toMatchObject({ status: 'pledged', holder: tier2.party, pledge: { bank: bank.party, loanRef: 'LN-2026-001' } });
    expect(byId.get(rest!)).toMatchObject({ status: 'active', amount: '40000000' });

    // The bank verifies the proof bundle offline, trusting only the ledger id.
    const report = verifyBundle(await w.as(bank).proof(pledged!), ledger, { voucherId: pledged! });
    expect(report.firstFailure).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.verdict).toMatchObject({
      voucherId: pledged,
      holder: tier2.party,
      amount: '20000000',
      status: 'pledged',
      pledge: { bank: bank.party, loanRef: 'LN-2026-001' },
      settlement: null,
      path: [root, sixty, pledged],
    });

    // Release and settle: payment goes to the holder; a pledged one would go to the bank.
    await w.submit(voucherRelease({ ledger, voucherId: pledged! }), [bank]);
    await w.submit(voucherPledge({ ledger, voucherId: pledged!, bank: bank.party, loanRef: 'LN-2026-002' }), [tier2, bank]);
    const settled = await w.submit(voucherSettle({ ledger, voucherId: pledged!, paymentRef: 'PAY-9' }), [core]);
    expect(settled.effects.vouchers[0]).toMatchObject({ status: 'settled', pledge: null, settlement: { payee: bank.party, paymentRef: 'PAY-9' } });
    const after = await w.as(tier2).voucher(pledged!);
    expect(after.status).toBe('settled');
  });
});

describe('retry safety (§4)', () => {
  it('answers a resent envelope with the original receipt and duplicate: true', async () => {
    const root = await w.issueAccepted(1_000n);
    const env = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    const first = await w.op.submit(env);
    const before = await size();
    const again = await w.op.submit(env);
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect({ ...again, duplicate: false }).toEqual(first);
    expect(await size()).toBe(before);
  });

  it('after a network failure that lost the answer, the retry returns the original receipt and writes no second op', async () => {
    const root = await w.issueAccepted(2_000n);
    let calls = 0;
    const flaky: FetchFn = async (input, init) => {
      calls += 1;
      const res = await fetch(input, init); // the request reaches the service and is written…
      const text = await res.text();
      if (calls === 1) throw new TypeError('fetch failed: socket hang up'); // …but the answer is lost
      return new Response(text, { status: res.status, headers: res.headers });
    };
    const client = w.as(w.tier1, { fetch: flaky });
    const before = await size();
    const env = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    const receipt = await client.submit(env, { retries: 2 });
    expect(receipt).toMatchObject({ duplicate: true, attempts: 2, opId: opIdOf(env.payload), seq: before });
    expect(await size()).toBe(before + 1);
    const entries = await w.op.entries(before, 10);
    expect(entries.entries).toHaveLength(1);
  });

  it('retries a request that never left (connection refused) and then writes it once', async () => {
    const root = await w.issueAccepted(3_000n);
    let calls = 0;
    const refusedOnce: FetchFn = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed: ECONNREFUSED');
      return fetch(input, init);
    };
    const env = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    const receipt = await w.as(w.tier1, { fetch: refusedOnce }).submit(env);
    expect(receipt).toMatchObject({ duplicate: false, attempts: 2 });
  });

  it('retries 503 and 429 with the same bytes, and gives up with the refusal after the retries', async () => {
    const root = await w.issueAccepted(4_000n);
    const bodies: string[] = [];
    let calls = 0;
    const busy =
      (status: 503 | 429, times: number): FetchFn =>
      async (input, init) => {
        calls += 1;
        bodies.push(String(init?.body));
        if (calls <= times) {
          const code = status === 503 ? 'LEDGER_UNAVAILABLE' : 'RATE_LIMITED';
          return new Response(JSON.stringify({ type: 'about:blank', title: 't', status, code, detail: 'busy' }), {
            status,
            headers: { 'content-type': 'application/problem+json' },
          });
        }
        return fetch(input, init);
      };
    const env = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    const ok = await w.as(w.tier1, { fetch: busy(503, 2) }).submit(env, { retries: 3 });
    expect(ok).toMatchObject({ duplicate: false, attempts: 3 });
    expect(new Set(bodies).size).toBe(1);

    calls = 0;
    await refusal(w.as(w.tier1, { fetch: busy(429, 10) }).submit(env, { retries: 2 }), 'RATE_LIMITED', 429);
    expect(calls).toBe(3);
  });

  it('throws LedgerNetworkError when no attempt gets an answer', async () => {
    const down: FetchFn = async () => {
      throw new TypeError('fetch failed');
    };
    const env = signEnvelope(voucherAccept({ ledger: w.ledgerId, voucherId: `v${'0'.repeat(24)}` }), [w.tier1]);
    const err = await w
      .as(w.tier1, { fetch: down })
      .submit(env, { retries: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerNetworkError);
    expect((err as LedgerNetworkError).attempts).toBe(3);
  });
});

describe('typed refusals (§7–§8)', () => {
  it('refuses a second pledge of a pledged voucher with VOUCHER_PLEDGED (409), writing nothing', async () => {
    const root = await w.issueAccepted(5_000n);
    await w.submit(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank.party, loanRef: 'A' }), [w.tier1, w.bank]);
    const before = await size();
    const r = await refusal(
      w.op.submit(signEnvelope(voucherPledge({ ledger: w.ledgerId, voucherId: root, bank: w.bank2.party, loanRef: 'B' }), [w.tier1, w.bank2])),
      'VOUCHER_PLEDGED',
      409,
    );
    expect(r.detail).toContain(root);
    expect(await size()).toBe(before);
  });

  it('maps each refusal to its code and status', async () => {
    const root = await w.issueAccepted(6_000n);
    const transfer = voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party });
    await refusal(w.op.submit(signEnvelope(transfer, [w.tier2])), 'VOUCHER_NOT_FOUND', 404); // tier 2 may not see it
    await refusal(w.op.submit(signEnvelope(transfer, [w.core])), 'SIGNERS_MISMATCH', 403); // the issuer may, but is not the holder
    const forged = { payload: transfer, signatures: [{ signer: w.tier1.party, sig: signEnvelope(transfer, [w.tier2]).signatures[0]!.sig }] };
    await refusal(w.op.submit(forged), 'BAD_SIGNATURE', 401);
    await refusal(w.op.submit(signEnvelope({ ...transfer, ledger: 'cd'.repeat(32) }, [w.tier1])), 'WRONG_LEDGER', 422);
    await refusal(w.op.submit(signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.core.party }), [w.tier1])), 'ROLE_NOT_ALLOWED', 422);
    await refusal(w.op.submit({ payload: { ...transfer, extra: 1 } as never, signatures: [] }), 'MALFORMED_REQUEST', 400);
    await refusal(w.op.submit(signEnvelope(voucherAccept({ ledger: w.ledgerId, voucherId: root }), [w.tier1])), 'VOUCHER_STATE_CONFLICT', 409);
  });

  it('gives LedgerHttpError for answers that are not problems, unknown codes, and receipts of another op', async () => {
    const html: FetchFn = async () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    const err1 = await w
      .as(w.tier1, { fetch: html })
      .voucher(`v${'0'.repeat(24)}`)
      .catch((e: unknown) => e);
    expect(err1).toBeInstanceOf(LedgerHttpError);
    expect((err1 as LedgerHttpError).reason).toBe('NOT_PROBLEM');
    expect((err1 as LedgerHttpError).status).toBe(502);

    const internal: FetchFn = async () =>
      new Response(JSON.stringify({ type: 'about:blank', title: 'Internal error', status: 500, code: 'INTERNAL', detail: 'x' }), {
        status: 500,
        headers: { 'content-type': 'application/problem+json' },
      });
    const err2 = await w
      .as(w.tier1, { fetch: internal })
      .ledger()
      .catch((e: unknown) => e);
    expect((err2 as LedgerHttpError).reason).toBe('UNKNOWN_CODE');

    const root = await w.issueAccepted(7_000n);
    const first = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.tier2.party }), [w.tier1]);
    await w.op.submit(first);
    const replaying: FetchFn = async (input, init) => fetch(input, { ...init, body: JSON.stringify(first) });
    const other = signEnvelope(voucherTransfer({ ledger: w.ledgerId, voucherId: root, to: w.bank.party }), [w.tier1]);
    const err3 = await w
      .as(w.tier1, { fetch: replaying })
      .submit(other)
      .catch((e: unknown) => e);
    expect((err3 as LedgerHttpError).reason).toBe('OP_MISMATCH');
  });

  it('refuses to talk to another ledger than the pinned one', async () => {
    const pinned = new LedgerClient({ baseUrl: server.baseUrl, ledgerId: 'cd'.repeat(32) });
    const err = await pinned.ledger().catch((e: unknown) => e);
    expect((err as LedgerHttpError).reason).toBe('WRONG_LEDGER');
  });
});

describe('reads with tokens (§8)', () => {
  it('reads a voucher, its history and its tree as a party that may see them', async () => {
    const root = await w.issueAccepted(10_000n);
    const split = voucherSplit({ ledger: w.ledgerId, voucherId: root, amounts: [4_000n, 6_000n] });
    const [a, b] = voucherIdsOf(split);
    await w.submit(split, [w.tier1]);
    await w.submit(voucherTransfer({ ledger: w.ledgerId, voucherId: a!, to: w.tier2.party }), [w.tier1]);
    const t2 = w.as(w.tier2);
    const v = await t2.voucher(a!);
    expect(v).toMatchObject({ id: a, status: 'offered', offeredTo: w.tier2.party, amount: '4000' });
    const history = await t2.history(a!);
    expect(history.map((e) => e.entry.op.payload.type)).toEqual(['voucher.issue', 'voucher.accept', 'voucher.split', 'voucher.transfer']);
    const tree = await t2.tree(a!);
    expect(tree.id).toBe(root);
    expect(tree.children.map((c) => c.id)).toEqual([a]); // the sibling is not tier 2's to see
    expect((await w.as(w.tier1).tree(a!)).children.map((c) => c.id)).toEqual([a, b]);
    await refusal(w.as(w.bank2).voucher(a!), 'NOT_FOUND', 404);
  });

  it("pages through parties and a party's vouchers with a status filter", async () => {
    const parties: string[] = [];
    for await (const p of w.as(w.tier1).parties({ limit: 2 })) parties.push(p.id);
    expect(parties).toEqual([...parties].sort());
    expect(parties).toEqual(expect.arrayContaining(['operator', w.core.party, w.tier1.party, w.bank.party]));
    expect(await w.as(w.tier1).party(w.bank.party)).toMatchObject({ id: w.bank.party, role: 'bank', status: 'active', publicKey: w.bank.publicKey });

    const mine: WireVoucher[] = [];
    for await (const v of w.as(w.tier1).vouchersOf(w.tier1.party, { limit: 2 })) mine.push(v);
    expect(mine.length).toBeGreaterThan(4);
    const active: WireVoucher[] = [];
    for await (const v of w.as(w.tier1).vouchersOf(w.tier1.party, { status: ['active', 'split'], limit: 3 })) active.push(v);
    expect(active.every((v) => v.status === 'active' || v.status === 'split')).toBe(true);
    expect(active.length).toBe(mine.filter((v) => v.status === 'active' || v.status === 'split').length);
    await refusal(w.as(w.tier2).vouchersOfPage(w.tier1.party), 'NOT_FOUND', 404);
  });

  it('iterates all entries with progress, for the operator and auditor only', async () => {
    const progress: number[] = [];
    const seqs: number[] = [];
    const total = await size();
    for await (const e of w.as(w.auditor).iterateEntries({ limit: 7, onProgress: (p) => progress.push(p.done) })) seqs.push(e.entry.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(progress.at(-1)).toBe(total);
    expect(progress.length).toBe(Math.ceil(total / 7));
    expect((await w.op.entry(0)).hash).toBe(w.ledgerId);
    await refusal(w.as(w.tier1).entries(0, 5), 'NOT_FOUND', 404);
  });

  it('gets inclusion and consistency proofs that verify against the signed checkpoint', async () => {
    const info = await w.op.ledger();
    const cp = verifyCheckpoint(await w.op.checkpoint(), { ledgerId: w.ledgerId, nodePublicKey: info.nodeKey });
    if (!cp.ok) throw new Error(cp.detail);
    const last = cp.size - 1;
    const inc = await w.op.inclusion(last, cp.size);
    expect(verifyInclusion(inc.entryHash, last, cp.size, inc.hashes, cp.root).ok).toBe(true);
    expect(inc.entryHash).toBe((await w.op.entry(last)).hash);
    const early = await w.op.consistency(3, cp.size);
    expect(early).toMatchObject({ from: 3, to: cp.size });
    await refusal(w.op.inclusion(cp.size + 10), 'NOT_FOUND', 404);
  });

  it('caches the token until shortly before exp, and makes a fresh one after', async () => {
    let clock = Date.now();
    const seen: string[] = [];
    const recording: FetchFn = async (input, init) => {
      const auth = (init?.headers as Record<string, string> | undefined)?.authorization;
      if (auth) seen.push(auth);
      return fetch(input, init);
    };
    const c = w.as(w.tier1, { fetch: recording, now: () => clock, tokenLifetimeSeconds: 120 });
    await c.party(w.core.party);
    await c.party(w.core.party);
    clock += 60_000;
    await c.party(w.core.party);
    expect(new Set(seen).size).toBe(1);
    clock += 31_000; // past exp − 30 s
    await c.party(w.core.party);
    expect(new Set(seen).size).toBe(2);
  });

  it('makes one fresh token after UNAUTHENTICATED, then reports it', async () => {
    let calls = 0;
    const counting: FetchFn = async (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    // A clock an hour ahead: iat is too far in the future for the service (§8: 5 minutes).
    const c = w.as(w.tier1, { fetch: counting, now: () => Date.now() + 3_600_000 });
    await refusal(c.party(w.core.party), 'UNAUTHENTICATED', 401);
    expect(calls).toBe(2);
  });

  it('needs a key for authenticated reads, not for public ones', async () => {
    const anon = new LedgerClient({ baseUrl: `${server.baseUrl}/`, fetch: realFetch });
    expect((await anon.ledger()).ledgerId).toBe(w.ledgerId);
    expect(await anon.checkpoint()).toMatch(/^rvl\/[0-9a-f]{64}\n/);
    await expect(anon.party('operator')).rejects.toThrow(TypeError);
  });
});
