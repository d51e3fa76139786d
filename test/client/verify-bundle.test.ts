/**
 * `verifyBundle` (§9) on real bundles from the real service, then on tampered copies: each kind
 * of tampering is found by the step that should find it, with its code. Some tampering needs the
 * node key (a forging node re-signs its checkpoint over a rewritten log); only the parties'
 * signatures and the replay under §7 stand in its way.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  generateKeyFile,
  partyUpdate,
  signEnvelope,
  verifyBundle,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherTransfer,
  type BundleFailureCode,
  type BundleReport,
  type ProofBundle,
  type WireVoucher,
} from '../../src/client/index.js';
import { entryHash, type HashedEntry } from '../../src/ledger/entry.js';
import { entryAt as at, rehash, resign, type MBundle, type MEntry } from '../support/bundle-edit.js';
import { allEntries, clone, dueIn, forgeLog, makeWorld, startServer, type Server, type World } from './support.js';

const CODES: readonly BundleFailureCode[] = [
  'MALFORMED_BUNDLE',
  'WRONG_VOUCHER',
  'GENESIS_MISMATCH',
  'BAD_CHECKPOINT',
  'ENTRY_HASH_MISMATCH',
  'NOT_INCLUDED',
  'CHAIN_BROKEN',
  'UNKNOWN_SIGNER',
  'BAD_SIGNATURE',
  'MISSING_ENTRY',
  'REPLAY_REFUSED',
  'STATE_MISMATCH',
];

let server: Server;
let other: Server;
let w: World;
let root = '';
let pledged = ''; // root:0-60000000, transferred to tier 2 and pledged whole to the bank
const seqs = { issue: 0, accept: 0, transfer: 0, accept2: 0, pledge: 0, registerTier2: 0 };
let bundle: ProofBundle;
let otherBundle: ProofBundle;

const copy = (): MBundle => clone(bundle) as unknown as MBundle;
const check = (r: BundleReport, name: string) => r.checks.find((c) => c.name === name);
const expectFailure = (r: BundleReport, code: BundleFailureCode, seq?: number) => {
  expect(r.ok).toBe(false);
  expect(r.verdict).toBeUndefined();
  expect(r.firstFailure?.code, JSON.stringify(r.firstFailure)).toBe(code);
  if (seq !== undefined) expect(r.firstFailure?.seq).toBe(seq);
};

beforeAll(async () => {
  [server, other] = await Promise.all([startServer(), startServer()]);
  w = await makeWorld(server, 'vb');
  const ledger = w.ledgerId;
  seqs.registerTier2 = 3; // operator registers core (1), tier1 (2), tier2 (3), …
  expect((await w.op.entry(3)).entry.op.payload).toMatchObject({ party: { id: w.tier2.party } });

  const issue = voucherIssue({
    ledger,
    issuer: w.core.party,
    to: w.tier1.party,
    amount: 100_000_000n,
    currency: 'CNY',
    dueDate: dueIn(90),
    invoiceIds: ['INV-VB-1'],
  });
  [root] = voucherIdsOf(issue) as [string];
  seqs.issue = (await w.submit(issue, [w.core])).seq;
  seqs.accept = (await w.submit(voucherAccept({ ledger, voucherId: root }), [w.tier1])).seq;
  const transfer = voucherTransfer({ ledger, voucherId: root, to: w.tier2.party, amount: 60_000_000n });
  [pledged] = voucherIdsOf(transfer, { id: root, range: { start: '0', end: '100000000' } }) as [string];
  seqs.transfer = (await w.submit(transfer, [w.tier1])).seq;
  seqs.accept2 = (await w.submit(voucherAccept({ ledger, voucherId: pledged }), [w.tier2])).seq;
  seqs.pledge = (await w.submit(voucherPledge({ ledger, voucherId: pledged, bank: w.bank.party, loanRef: 'LN-VB' }), [w.tier2, w.bank])).seq;
  bundle = await w.as(w.bank).proof(pledged);

  const o = await makeWorld(other, 'ob');
  const otherRoot = await o.issueAccepted(5_000n);
  otherBundle = await o.as(o.tier1).proof(otherRoot);
});
afterAll(() => Promise.all([server.close(), other.close()]));

describe('verifyBundle on real bundles', () => {
  it("accepts the bank's bundle and gives the verdict, every step passing in checklist order", () => {
    const r = verifyBundle(bundle, w.ledgerId, { voucherId: pledged });
    expect(r.firstFailure).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([
      'bundle shape',
      'voucher',
      'genesis',
      'checkpoint',
      'ledger info',
      'entry hashes',
      'inclusion',
      'hash links',
      'signatures',
      'state entries',
      'replay',
      'state',
    ]);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.verdict).toEqual({
      voucherId: pledged,
      issuer: w.core.party,
      holder: w.tier2.party,
      offeredTo: null,
      amount: '60000000',
      currency: 'CNY',
      dueDate: bundle.state.dueDate,
      status: 'pledged',
      pledge: bundle.state.pledge,
      settlement: null,
      path: [root, pledged],
      checkpointSize: bundle.ledger.size,
      checkpointRoot: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
    });
  });

  it("holds genesis, the parties' registrations and the voucher's history, in seq order", () => {
    const types = bundle.entries.map((e) => e.entry.op.payload.type);
    expect(types[0]).toBe('ledger.genesis');
    expect(bundle.entries.map((e) => e.entry.seq)).toEqual([...bundle.entries.map((e) => e.entry.seq)].sort((a, b) => a - b));
    for (const s of Object.values(seqs)) expect(bundle.entries.some((e) => e.entry.seq === s)).toBe(true);
  });

  it('accepts a bundle of a split root (status split), and one across a key rotation', async () => {
    const r1 = verifyBundle(await w.as(w.tier1).proof(root), w.ledgerId);
    expect(r1.ok).toBe(true);
    expect(r1.verdict).toMatchObject({ status: 'split', path: [root] });

    // Tier 1 gets a new key after accepting; its next op is signed with the new one.
    const v = await w.issueAccepted(9_000n);
    const next = generateKeyFile(w.tier1.party);
    const rotation = await w.submit(partyUpdate({ ledger: w.ledgerId, partyId: w.tier1.party, publicKey: next.publicKey }), [server.operator]);
    await w.submit(voucherTransfer({ ledger: w.ledgerId, voucherId: v, to: w.tier2.party }), [next]);
    const rotated = await w.as(w.tier2).proof(v);
    const r2 = verifyBundle(rotated, w.ledgerId);
    expect(r2.firstFailure).toBeUndefined();
    expect(r2.verdict).toMatchObject({ status: 'offered', holder: w.tier1.party, offeredTo: w.tier2.party });

    // Without the rotation entry, the new key's signature fails under the old key.
    const withoutRotation = clone(rotated) as unknown as MBundle;
    withoutRotation.entries = withoutRotation.entries.filter((e) => e.entry.seq !== rotation.seq);
    const r3 = verifyBundle(withoutRotation, w.ledgerId);
    expectFailure(r3, 'BAD_SIGNATURE', rotation.seq + 1);
    expect(r3.firstFailure?.signer).toBe(w.tier1.party);
    // Restore tier 1's key for the other tests.
    await w.submit(partyUpdate({ ledger: w.ledgerId, partyId: w.tier1.party, publicKey: w.tier1.publicKey }), [server.operator]).catch(() => undefined);
  });
});

describe('verifyBundle finds tampering, each with its code', () => {
  it('an entry removed: the last change of the state → MISSING_ENTRY', () => {
    const b = copy();
    b.entries = b.entries.filter((e) => e.entry.seq !== seqs.pledge);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'MISSING_ENTRY', seqs.pledge);
    expect(r.firstFailure?.check).toBe('state entries');
  });

  it('an entry removed: the issue of the root → MISSING_ENTRY at the first op that needs it', () => {
    const b = copy();
    b.entries = b.entries.filter((e) => e.entry.seq !== seqs.issue);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'MISSING_ENTRY', seqs.accept);
    expect(r.firstFailure?.check).toBe('replay');
  });

  it("an entry removed: a party's registration → UNKNOWN_SIGNER naming the seq and signer", () => {
    const b = copy();
    b.entries = b.entries.filter((e) => e.entry.seq !== seqs.registerTier2);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'UNKNOWN_SIGNER', seqs.accept2);
    expect(r.firstFailure?.signer).toBe(w.tier2.party);
  });

  it('an entry altered (amount changed) → ENTRY_HASH_MISMATCH, and its signature no longer verifies', () => {
    const b = copy();
    at(b, seqs.transfer).entry.op.payload.amount = '70000000';
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'ENTRY_HASH_MISMATCH', seqs.transfer);
    expect(check(r, 'inclusion')).toMatchObject({ ok: false, code: 'NOT_INCLUDED', seq: seqs.transfer });
    expect(check(r, 'signatures')).toMatchObject({ ok: false, code: 'BAD_SIGNATURE', seq: seqs.transfer, signer: w.tier1.party });
  });

  it("an entry altered with its hash recomputed → NOT_INCLUDED; the next entry's link breaks too", () => {
    const b = copy();
    const item = at(b, seqs.transfer);
    item.entry.op.payload.amount = '70000000';
    rehash(item);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'NOT_INCLUDED', seqs.transfer);
    expect(check(r, 'hash links')).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', seq: seqs.transfer + 1 });
  });

  it('an inclusion proof with one flipped bit → NOT_INCLUDED', () => {
    const b = copy();
    const item = at(b, seqs.accept);
    const h = item.inclusion[0]!;
    item.inclusion[0] = h.slice(0, 63) + (parseInt(h[63]!, 16) ^ 1).toString(16);
    expectFailure(verifyBundle(b, w.ledgerId), 'NOT_INCLUDED', seqs.accept);
  });

  it.each([
    ['status', (s: Record<string, unknown>) => ({ ...s, status: 'active', pledge: null })],
    ['holder', (s: Record<string, unknown>) => ({ ...s, holder: w.tier1.party })],
    ['amount', (s: Record<string, unknown>) => ({ ...s, amount: '90000000' })],
    ['its fields (an extra one)', (s: Record<string, unknown>) => ({ ...s, note: 'trust me' })],
  ])('a state that lies about its %s → STATE_MISMATCH', (_what, lie) => {
    const b = copy();
    b.state = lie(b.state);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'STATE_MISMATCH');
    expect(check(r, 'replay')?.ok).toBe(true);
  });

  it('a state that claims a later change than any entry → MISSING_ENTRY', () => {
    const b = copy();
    const present = new Set(b.entries.map((e) => e.entry.seq));
    const absent = Array.from({ length: seqs.pledge }, (_, i) => i).find((s) => !present.has(s))!;
    b.state.updatedSeq = absent;
    expectFailure(verifyBundle(b, w.ledgerId), 'MISSING_ENTRY', absent);
    b.state.updatedSeq = bundle.ledger.size; // past the checkpoint: the state is not "as of" it
    expectFailure(verifyBundle(b, w.ledgerId), 'STATE_MISMATCH');
  });

  it('a forged root (a fake issue entry not in the tree) → NOT_INCLUDED, its signature BAD_SIGNATURE', () => {
    const b = copy();
    const mallory = generateKeyFile(w.core.party); // claims to be the core enterprise
    const fakeIssue = voucherIssue({
      ledger: w.ledgerId,
      issuer: w.core.party,
      to: w.tier2.party,
      amount: 500_000_000n,
      currency: 'CNY',
      dueDate: dueIn(60),
      invoiceIds: ['FAKE-1'],
    });
    const [fakeRoot] = voucherIdsOf(fakeIssue);
    const last = b.entries.at(-1)!;
    const fake: MEntry = { v: 1, seq: last.entry.seq + 1, time: last.entry.time, prev: last.hash, op: signEnvelope(fakeIssue, [mallory]) as never };
    b.entries.push({ entry: fake, hash: entryHash(fake as never), inclusion: [...last.inclusion] });
    b.voucherId = fakeRoot!;
    b.state = {
      ...b.state,
      id: fakeRoot,
      rootId: fakeRoot,
      parentId: null,
      holder: w.core.party,
      offeredTo: w.tier2.party,
      amount: '500000000',
      range: { start: '0', end: '500000000' },
      invoiceIds: ['FAKE-1'],
      status: 'offered',
      pledge: null,
      createdSeq: fake.seq,
      updatedSeq: fake.seq,
    };
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'NOT_INCLUDED', fake.seq);
    expect(check(r, 'signatures')).toMatchObject({ ok: false, code: 'BAD_SIGNATURE', seq: fake.seq, signer: w.core.party });
  });

  it("a swapped key (a registration with another key, the party's ops re-signed with it) → ENTRY_HASH_MISMATCH, though every signature verifies", () => {
    const b = copy();
    const mallory = generateKeyFile(w.tier2.party);
    const register = at(b, seqs.registerTier2);
    (register.entry.op.payload.party as { publicKey: string }).publicKey = mallory.publicKey;
    resign(register.entry, server.operator); // even with the operator's collusion
    for (const s of [seqs.accept2, seqs.pledge]) resign(at(b, s).entry, mallory);
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'ENTRY_HASH_MISMATCH', seqs.registerTier2);
    expect(check(r, 'signatures')?.ok).toBe(true);

    for (const s of [seqs.registerTier2, seqs.accept2, seqs.pledge]) rehash(at(b, s));
    expectFailure(verifyBundle(b, w.ledgerId), 'NOT_INCLUDED', seqs.registerTier2);
  });

  it('a checkpoint from another ledger → BAD_CHECKPOINT', () => {
    const b = copy();
    b.checkpoint = otherBundle.checkpoint;
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'BAD_CHECKPOINT');
    expect(check(r, 'inclusion')).toBeUndefined(); // nothing to check inclusion against
  });

  it('a bundle for another ledger id → GENESIS_MISMATCH, both ways', () => {
    expectFailure(verifyBundle(bundle, other.ledgerId), 'GENESIS_MISMATCH', 0);
    expectFailure(verifyBundle(otherBundle, w.ledgerId), 'GENESIS_MISMATCH', 0);
    expect(verifyBundle(otherBundle, other.ledgerId).ok).toBe(true);
  });

  it('bundle.ledger contradicting genesis or the checkpoint → GENESIS_MISMATCH (ledger info)', () => {
    const b = copy();
    b.ledger.size = (b.ledger.size as number) + 5;
    const r = verifyBundle(b, w.ledgerId);
    expectFailure(r, 'GENESIS_MISMATCH');
    expect(r.firstFailure?.check).toBe('ledger info');
  });

  it('a bundle for another voucher than the one asked about → WRONG_VOUCHER', () => {
    expectFailure(verifyBundle(bundle, w.ledgerId, { voucherId: root }), 'WRONG_VOUCHER');
  });

  it('no genesis, entries out of order, or a malformed trusted id → coded failures', () => {
    const noGenesis = copy();
    noGenesis.entries.shift();
    expectFailure(verifyBundle(noGenesis, w.ledgerId), 'GENESIS_MISMATCH');
    const reordered = copy();
    reordered.entries.reverse();
    expectFailure(verifyBundle(reordered, w.ledgerId), 'MALFORMED_BUNDLE');
    expectFailure(verifyBundle(bundle, 'not-a-ledger-id'), 'GENESIS_MISMATCH');
  });
});

describe('verifyBundle against a forging node (it holds the node key)', () => {
  let log: HashedEntry[];
  beforeAll(async () => {
    log = (await allEntries(w.op)).slice(0, bundle.ledger.size);
  });
  const seqsOf = (b: ProofBundle) => b.entries.map((e) => e.entry.seq);

  it('re-signing the real log gives a bundle that verifies (the forging helper is faithful)', () => {
    const forged = forgeLog(server, log, (es) => es);
    expect(forged.checkpoint.split('\n').slice(0, 3)).toEqual(bundle.checkpoint.split('\n').slice(0, 3));
    expect(verifyBundle(forged.bundle(seqsOf(bundle), pledged, bundle.state), w.ledgerId).ok).toBe(true);
  });

  it('an altered amount re-signed by a colluding holder → REPLAY_REFUSED (AMOUNT_INVALID)', () => {
    const forged = forgeLog(server, log, (es) => {
      const t = es[seqs.transfer] as unknown as MEntry;
      t.op.payload.amount = '150000000';
      resign(t, w.tier1);
      return es;
    });
    const r = verifyBundle(forged.bundle(seqsOf(bundle), pledged, bundle.state), w.ledgerId);
    expectFailure(r, 'REPLAY_REFUSED', seqs.transfer);
    expect(r.firstFailure?.detail).toContain('AMOUNT_INVALID');
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['replay']);
  });

  it('a forged root issued by a supplier → REPLAY_REFUSED (ROLE_NOT_ALLOWED)', () => {
    const issue = voucherIssue({
      ledger: w.ledgerId,
      issuer: w.tier1.party,
      to: w.tier2.party,
      amount: 1_000n,
      currency: 'CNY',
      dueDate: dueIn(30),
      invoiceIds: ['FAKE-2'],
    });
    const [fakeRoot] = voucherIdsOf(issue);
    const last = log.at(-1)!.entry;
    const forged = forgeLog(server, log, (es) => [...es, { ...last, op: signEnvelope(issue, [w.tier1]) } as never]);
    const seq = log.length;
    const state = { ...bundle.state, id: fakeRoot!, rootId: fakeRoot!, createdSeq: seq, updatedSeq: seq } as WireVoucher;
    const r = verifyBundle(forged.bundle([0, 1, 2, 3, seq], fakeRoot!, state), w.ledgerId);
    expectFailure(r, 'REPLAY_REFUSED', seq);
    expect(r.firstFailure?.detail).toContain('ROLE_NOT_ALLOWED');
  });

  it('a broken hash link between consecutive entries → CHAIN_BROKEN', () => {
    const forged = forgeLog(
      server,
      log,
      (es) => es,
      (es) => {
        (es[seqs.accept2] as unknown as MEntry).prev = 'ab'.repeat(32);
      },
    );
    expectFailure(verifyBundle(forged.bundle(seqsOf(bundle), pledged, bundle.state), w.ledgerId), 'CHAIN_BROKEN', seqs.accept2);
  });
});

describe('verifyBundle on garbage (never throws, never ok)', () => {
  it('property: any JSON value gives ok:false with a code of the closed list', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = verifyBundle(value, w.ledgerId);
        expect(r.ok).toBe(false);
        expect(CODES).toContain(r.firstFailure?.code);
      }),
      { numRuns: 300 },
    );
  });

  it('property: bundle-shaped garbage gives ok:false', () => {
    const entry = fc.record({
      entry: fc.jsonValue(),
      hash: fc.oneof(fc.string(), fc.constant('ab'.repeat(32))),
      inclusion: fc.array(fc.jsonValue(), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.record({
          ledger: fc.jsonValue(),
          checkpoint: fc.oneof(fc.string(), fc.constant(bundle.checkpoint)),
          voucherId: fc.oneof(fc.string(), fc.constant(pledged)),
          entries: fc.array(entry, { maxLength: 4 }),
          state: fc.jsonValue(),
        }),
        (value) => {
          const r = verifyBundle(value, w.ledgerId);
          expect(r.ok).toBe(false);
          expect(CODES).toContain(r.firstFailure?.code);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: changing any single value of a real bundle makes it fail', () => {
    const leaves: (string | number)[][] = [];
    const walk = (x: unknown, path: (string | number)[]) => {
      if (Array.isArray(x)) x.forEach((v, i) => walk(v, [...path, i]));
      else if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) walk(v, [...path, k]);
      else leaves.push(path);
    };
    walk(bundle, []);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: leaves.length - 1 }), fc.integer({ min: 0, max: 3 }), (i, how) => {
        const b = clone(bundle) as unknown as Record<string | number, unknown>;
        const path = leaves[i]!;
        let parent = b as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        const key = path.at(-1)!;
        const v = parent[key];
        parent[key] =
          typeof v === 'string'
            ? how === 0
              ? `${v}x`
              : how === 1
                ? v.slice(1)
                : how === 2
                  ? v.toUpperCase() + '!'
                  : ''
            : typeof v === 'number'
              ? v + 1 + how
              : v === null
                ? how
                : !v;
        const r = verifyBundle(b, w.ledgerId);
        expect(r.ok, `changing ${path.join('.')} was not noticed`).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});
