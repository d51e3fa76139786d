/**
 * Authentication and authorization over HTTP, beyond test/api/visibility.test.ts
 * (one hand-written story) and test/api/auth.test.ts (the token checks one by one):
 *
 *  - every endpoint of §8, for every role and for no token, against a model of §8 written from
 *    the protocol's words, on generated stories (fast-check): who may read each voucher, its
 *    history, tree and proof, each party's list, the raw log;
 *  - every kind of bad token §8 names, on every authenticated endpoint: alg none, HS256 keyed
 *    with the public key, a wrong aud, expired, living over an hour, issued in the future, signed
 *    by a suspended party or a rotated-out key — each 401 UNAUTHENTICATED, alike on every endpoint;
 *    and ignored on public ones;
 *  - a bearer token grants nothing on POST /v1/ops.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/ledger/ed25519.js';
import type { WireVoucher } from '../../src/domain/wire.js';
import { Harness, dueIn, key, type Key, type Receipt } from '../support/harness.js';
import { assertProblem, runs, timeoutMs } from './support.js';

type State = WireVoucher;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// ---- the §8 model, from the protocol's words ----

/**
 * "A party may see a voucher if it is the voucher's issuer, or has been its holder, offeree,
 * sender or pledgee, or may see one of its descendants. Operator and auditor see everything."
 * Built from every state each voucher has had (the receipts' effects).
 */
class Model {
  readonly states = new Map<string, State>();
  /** Parties that have been each voucher's issuer, holder, offeree (sender = holder) or pledgee. */
  readonly involved = new Map<string, Set<string>>();
  /** The seqs of the entries whose effects changed each voucher. */
  readonly touched = new Map<string, number[]>();
  readonly children = new Map<string, string[]>();

  apply(receipt: Receipt): void {
    for (const v of receipt.effects.vouchers as unknown as State[]) {
      if (!this.states.has(v.id) && v.parentId !== null) this.children.set(v.parentId, [...(this.children.get(v.parentId) ?? []), v.id]);
      this.states.set(v.id, v);
      const set = this.involved.get(v.id) ?? new Set<string>();
      for (const p of [v.issuer, v.holder, v.offeredTo, v.pledge?.bank, v.settlement?.payee]) if (p) set.add(p);
      this.involved.set(v.id, set);
      this.touched.set(v.id, [...(this.touched.get(v.id) ?? []), receipt.seq]);
    }
  }

  maySee(reader: Key, id: string): boolean {
    if (reader.role === 'operator' || reader.role === 'auditor') return true;
    if (this.involved.get(id)?.has(reader.id)) return true;
    return (this.children.get(id) ?? []).some((c) => this.maySee(reader, c));
  }

  lineage(id: string): string[] {
    const out: string[] = [];
    for (let at: string | null = id; at !== null; at = this.states.get(at)?.parentId ?? null) out.unshift(at);
    return out;
  }

  /** "Every entry that touched the voucher or its ancestors, in order." */
  history(id: string): number[] {
    return [...new Set(this.lineage(id).flatMap((v) => this.touched.get(v) ?? []))].sort((a, b) => a - b);
  }

  /** The root's tree cut to what `reader` may see (visible vouchers' ancestors are visible too). */
  tree(reader: Key, id: string): string[] {
    const root = this.states.get(id)!.rootId;
    const out: string[] = [];
    const walk = (v: string) => {
      out.push(v);
      for (const c of this.children.get(v) ?? []) if (this.maySee(reader, c)) walk(c);
    };
    walk(root);
    return out.sort();
  }

  /** "every voucher whose holder, offeredTo, pledge.bank, settlement.payee or issuer is the party". */
  listOf(party: string): string[] {
    return [...this.states.values()]
      .filter((v) => [v.holder, v.offeredTo, v.pledge?.bank, v.settlement?.payee, v.issuer].includes(party))
      .map((v) => v.id)
      .sort();
  }
}

const treeIds = (node: { id: string; children: unknown[] }): string[] => [
  node.id,
  ...(node.children as { id: string; children: unknown[] }[]).flatMap(treeIds),
];

// ---- generated stories ----

type Intent =
  | { op: 'issue'; core: number; to: number; amount: number }
  | { op: 'accept' | 'reject' | 'cancel' | 'release' | 'settle'; v: number }
  | { op: 'split'; v: number; parts: number }
  | { op: 'transfer'; v: number; to: number; part: number }
  | { op: 'pledge'; v: number; bank: number; part: number };

const intent: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('issue' as const), core: fc.nat(), to: fc.nat(), amount: fc.integer({ min: 2, max: 1_000_000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constantFrom('accept' as const, 'reject' as const, 'cancel' as const, 'release' as const, 'settle' as const), v: fc.nat() }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('split' as const), v: fc.nat(), parts: fc.integer({ min: 2, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('transfer' as const), v: fc.nat(), to: fc.nat(), part: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pledge' as const), v: fc.nat(), bank: fc.nat(), part: fc.integer({ min: 0, max: 99 }) }) },
);

describe('§8 on every endpoint, for every role, on generated stories', () => {
  it(
    'every read answers as the §8 model says, for every party, voucher and endpoint',
    async () => {
      const seen = { vouchers: 0, hidden: 0, statuses: new Set<string>() };
      // Every story starts with two issues, accepted, so that there is something to read.
      const opening: Intent[] = [
        { op: 'issue', core: 0, to: 0, amount: 600_000 },
        { op: 'issue', core: 1, to: 1, amount: 400_000 },
        { op: 'accept', v: 0 },
        { op: 'accept', v: 0 },
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.array(intent, { minLength: 4, maxLength: 14 }).map((tail) => [...opening, ...tail]),
          async (intents) => {
            const h = await Harness.start();
            try {
              const cores = [key('gz-motors', 'core'), key('sz-auto', 'core')];
              const suppliers = [key('dongguan-parts', 'supplier'), key('chen-electronics', 'supplier'), key('foshan-metal', 'supplier')];
              const banks = [key('icbc-gz', 'bank'), key('cmb-sz', 'bank')];
              const auditor = key('csrc-audit', 'auditor');
              const everyone = [...cores, ...suppliers, ...banks, auditor];
              for (const k of everyone) await h.register(k);
              const byId = new Map([...everyone, h.operator].map((k) => [k.id, k]));
              const model = new Model();
              const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);
              const withStatus = (...statuses: string[]) =>
                [...model.states.values()].filter((v) => statuses.includes(v.status)).sort((a, b) => a.id.localeCompare(b.id));
              const submit = async (payload: Record<string, unknown>, signers: (Key | undefined)[]) => {
                if (signers.some((s) => s === undefined)) return;
                const res = await h.submit(payload, signers as Key[]);
                if (res.statusCode === 201) model.apply(res.json() as Receipt);
                else assertProblem(res);
              };
              for (const i of intents) {
                if (i.op === 'issue') {
                  const core = cores[i.core % 2]!;
                  await submit(
                    {
                      type: 'voucher.issue',
                      issuer: core.id,
                      to: suppliers[i.to % 3]!.id,
                      amount: String(i.amount),
                      currency: 'CNY',
                      dueDate: dueIn(60),
                      invoiceIds: [`INV-${h.nonce()}`],
                    },
                    [core],
                  );
                } else if (i.op === 'accept' || i.op === 'reject' || i.op === 'cancel') {
                  const v = pick(withStatus('offered'), i.v);
                  if (v) await submit({ type: `voucher.${i.op}`, voucherId: v.id }, [byId.get(i.op === 'cancel' ? v.holder : v.offeredTo!)]);
                } else if (i.op === 'release') {
                  const v = pick(withStatus('pledged'), i.v);
                  if (v) await submit({ type: 'voucher.release', voucherId: v.id }, [byId.get(v.pledge!.bank)]);
                } else if (i.op === 'settle') {
                  const v = pick(withStatus('active', 'pledged'), i.v);
                  if (v) await submit({ type: 'voucher.settle', voucherId: v.id, paymentRef: `PAY-${h.nonce()}` }, [byId.get(v.issuer)]);
                } else if (i.op === 'split') {
                  const v = pick(
                    withStatus('active').filter((x) => BigInt(x.amount) >= BigInt(i.parts)),
                    i.v,
                  );
                  if (v) {
                    const n = BigInt(v.amount);
                    const first = n / BigInt(i.parts);
                    const amounts = [...Array.from({ length: i.parts - 1 }, () => first), n - first * BigInt(i.parts - 1)].map(String);
                    await submit({ type: 'voucher.split', voucherId: v.id, amounts }, [byId.get(v.holder)]);
                  }
                } else if (i.op === 'transfer' || i.op === 'pledge') {
                  const v = pick(withStatus('active'), i.v);
                  if (!v) continue;
                  const n = BigInt(v.amount);
                  const part = i.part === 0 || n < 2n ? undefined : String(1n + ((n - 1n) * BigInt(i.part)) / 100n);
                  const amount = part !== undefined && BigInt(part) < n ? { amount: part } : {};
                  if (i.op === 'transfer') {
                    const to = pick(
                      [...suppliers, ...banks].filter((k) => k.id !== v.holder),
                      i.to,
                    )!;
                    await submit({ type: 'voucher.transfer', voucherId: v.id, to: to.id, ...amount }, [byId.get(v.holder)]);
                  } else {
                    const bank = pick(
                      banks.filter((k) => k.id !== v.holder),
                      i.bank,
                    )!;
                    await submit({ type: 'voucher.pledge', voucherId: v.id, bank: bank.id, loanRef: `LOAN-${h.nonce()}`, ...amount }, [
                      byId.get(v.holder),
                      bank,
                    ]);
                  }
                }
              }

              const readers = [...everyone, h.operator];
              const tokens = new Map<string, Record<string, string>>();
              for (const r of readers) tokens.set(r.id, bearer(await h.token(r)));
              const get = (url: string, r?: Key) => h.app.inject({ method: 'GET', url, headers: r ? tokens.get(r.id)! : {} });
              const ids = [...model.states.keys()].sort();
              seen.vouchers += ids.length;
              for (const v of model.states.values()) seen.statuses.add(v.status);

              for (const id of ids) {
                for (const suffix of ['', '/history', '/tree', '/proof']) assertProblem(await get(`/v1/vouchers/${id}${suffix}`), 401, 'UNAUTHENTICATED');
                for (const r of readers) {
                  const res = await get(`/v1/vouchers/${id}`, r);
                  if (!model.maySee(r, id)) {
                    seen.hidden += 1;
                    assertProblem(res, 404, 'NOT_FOUND');
                    for (const suffix of ['/history', '/tree', '/proof']) assertProblem(await get(`/v1/vouchers/${id}${suffix}`, r), 404, 'NOT_FOUND');
                    continue;
                  }
                  expect(res.statusCode, `${r.id} may see ${id}: ${res.body}`).toBe(200);
                  expect(res.json()).toEqual(model.states.get(id));
                  const history = await get(`/v1/vouchers/${id}/history`, r);
                  expect(
                    (history.json() as { entries: { entry: { seq: number } }[] }).entries.map((e) => e.entry.seq),
                    `history of ${id} for ${r.id}`,
                  ).toEqual(model.history(id));
                  const tree = await get(`/v1/vouchers/${id}/tree`, r);
                  expect(treeIds((tree.json() as { root: { id: string; children: unknown[] } }).root).sort(), `tree of ${id} for ${r.id}`).toEqual(
                    model.tree(r, id),
                  );
                  const proof = await get(`/v1/vouchers/${id}/proof`, r);
                  expect(proof.statusCode, proof.body).toBe(200);
                  // The bundle never holds an entry of a voucher the reader may not see, but for genesis and registrations.
                  const hidden = new Set(ids.filter((v) => !model.maySee(r, v)).flatMap((v) => model.touched.get(v) ?? []));
                  const shown = new Set(model.history(id));
                  for (const e of (proof.json() as { entries: { entry: { seq: number; op: { payload: { type: string } } } }[] }).entries) {
                    if (hidden.has(e.entry.seq)) expect(shown.has(e.entry.seq), `the proof of ${id} for ${r.id} holds hidden entry ${e.entry.seq}`).toBe(true);
                  }
                }
              }
              for (const party of readers) {
                assertProblem(await get(`/v1/parties/${party.id}/vouchers`), 401, 'UNAUTHENTICATED');
                for (const r of readers) {
                  const res = await get(`/v1/parties/${party.id}/vouchers?limit=1000`, r);
                  if (r.id === party.id || r.role === 'operator' || r.role === 'auditor') {
                    expect(res.statusCode, res.body).toBe(200);
                    expect((res.json() as { items: { id: string }[] }).items.map((v) => v.id).sort()).toEqual(model.listOf(party.id));
                  } else {
                    assertProblem(res, 404, 'NOT_FOUND');
                  }
                }
              }
            } finally {
              await h.close();
            }
          },
        ),
        runs(5),
      );
      // The stories were not trivial: many vouchers, in many states, many of them hidden from someone.
      expect(seen.vouchers).toBeGreaterThan(10);
      expect(seen.hidden).toBeGreaterThan(20);
      expect(seen.statuses.size).toBeGreaterThanOrEqual(3);
    },
    timeoutMs(180_000),
  );
});

describe('every endpoint, every role, no token', () => {
  let h: Harness;
  const core = key('gz-motors', 'core');
  const supplier = key('dongguan-parts', 'supplier');
  const bank = key('icbc-gz', 'bank');
  const auditor = key('csrc-audit', 'auditor');
  const stranger = key('foshan-metal', 'supplier');
  const suspended = key('idle-parts', 'supplier');
  const rotated = key('rotor-parts', 'supplier');
  const rotatedNext = key('rotor-parts', 'supplier', '-next');
  let voucher = '';
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, supplier, bank, auditor, stranger, suspended, rotated]) await h.register(k);
    voucher = await h.issueAccepted(core, supplier, '1000');
    await h.ok({ type: 'voucher.pledge', voucherId: voucher, bank: bank.id, loanRef: 'L-1' }, [supplier, bank]);
  });
  afterAll(async () => {
    await h.close();
  });

  type Who = 'none' | 'operator' | 'core' | 'supplier' | 'bank' | 'auditor' | 'stranger';
  const WHO: Who[] = ['none', 'operator', 'core', 'supplier', 'bank', 'auditor', 'stranger'];
  const keyOf = (w: Who): Key | undefined => ({ none: undefined, operator: h.operator, core, supplier, bank, auditor, stranger })[w];

  /** The §8 table: the answer each caller gets. */
  const ROUTES: [string, () => string, (w: Who) => number][] = [
    ['GET /v1/ledger', () => '/v1/ledger', () => 200],
    ['GET /v1/checkpoint', () => '/v1/checkpoint', () => 200],
    ['GET /v1/proofs/inclusion', () => '/v1/proofs/inclusion?seq=1', () => 200],
    ['GET /v1/proofs/consistency', () => '/v1/proofs/consistency?from=1', () => 200],
    ['GET /v1/entries', () => '/v1/entries', (w) => (w === 'none' ? 401 : w === 'operator' || w === 'auditor' ? 200 : 404)],
    ['GET /v1/entries/:seq', () => '/v1/entries/1', (w) => (w === 'none' ? 401 : w === 'operator' || w === 'auditor' ? 200 : 404)],
    ['GET /v1/parties', () => '/v1/parties', (w) => (w === 'none' ? 401 : 200)],
    ['GET /v1/parties/:id', () => `/v1/parties/${supplier.id}`, (w) => (w === 'none' ? 401 : 200)],
    [
      'GET /v1/parties/:id/vouchers',
      () => `/v1/parties/${supplier.id}/vouchers`,
      (w) => (w === 'none' ? 401 : ['operator', 'auditor', 'supplier'].includes(w) ? 200 : 404),
    ],
    ...['', '/history', '/tree', '/proof'].map((s): [string, () => string, (w: Who) => number] => [
      `GET /v1/vouchers/:id${s}`,
      () => `/v1/vouchers/${voucher}${s}`,
      (w) => (w === 'none' ? 401 : w === 'stranger' ? 404 : 200),
    ]),
    ['GET /healthz', () => '/healthz', () => 200],
    ['GET /readyz', () => '/readyz', () => 200],
    ['GET /metrics', () => '/metrics', (w) => (w === 'none' ? 401 : w === 'operator' || w === 'auditor' ? 200 : 404)],
    ['GET /openapi.json', () => '/openapi.json', () => 200],
  ];

  it.each(ROUTES.flatMap(([name, url, expected]) => WHO.map((w): [string, Who, () => string, number] => [name, w, url, expected(w)])))(
    '%s as %s',
    async (_name, who, url, expected) => {
      const k = keyOf(who);
      const res = await h.app.inject({ method: 'GET', url: url(), headers: k ? bearer(await h.token(k)) : {} });
      if (expected === 200) expect(res.statusCode, res.body).toBe(200);
      else assertProblem(res, expected, expected === 401 ? 'UNAUTHENTICATED' : 'NOT_FOUND');
    },
  );

  it('POST /v1/ops: a bearer token grants nothing, the signatures decide', async () => {
    const newcomer = key('newcomer-parts', 'supplier');
    const payload = { type: 'party.register', party: { id: newcomer.id, name: newcomer.id, role: 'supplier', publicKey: newcomer.publicKey } };
    // Signed by a supplier, sent with the operator's valid token.
    const forged = h.envelope(payload, [supplier]);
    const res = await h.app.inject({ method: 'POST', url: '/v1/ops', payload: forged, headers: bearer(await h.token(h.operator)) });
    assertProblem(res, 403, 'SIGNERS_MISMATCH');
    // Signed by the operator, sent with a garbage token: accepted.
    const signed = h.envelope(payload, [h.operator]);
    const ok = await h.app.inject({ method: 'POST', url: '/v1/ops', payload: signed, headers: { authorization: 'Bearer not.a.token' } });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  describe('every kind of bad token, on every authenticated endpoint', () => {
    const authenticated = () => ROUTES.filter(([, url]) => url().startsWith('/v1/') && !/\/v1\/(ledger|checkpoint|proofs)/.test(url()));

    /** A compact JWS over any header and claims, EdDSA-signed with `seed` (or not at all). */
    const jws = (header: object, claims: object, seed?: string): string => {
      const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
      if (seed === undefined) return `${input}.`;
      return `${input}.${base64url.encode(Buffer.from(sign(seed, new TextEncoder().encode(input)), 'hex'))}`;
    };
    const claims = (k: Key, o: Partial<{ iat: number; exp: number; aud: string }> = {}) => ({
      iss: k.id,
      aud: h.ledgerId,
      iat: now() - 10,
      exp: now() + 290,
      ...o,
    });

    const KINDS: [string, () => Promise<string>, RegExp][] = [
      ['alg none, unsigned', async () => jws({ alg: 'none', typ: 'JWT' }, claims(auditor)), /compact JWS|"alg"/],
      ['alg none, with an EdDSA signature', async () => jws({ alg: 'none' }, claims(auditor), auditor.seed), /"alg" must be "EdDSA"/],
      [
        'HS256 keyed with the public key bytes (key confusion)',
        async () => {
          const input = `${base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims(auditor)))}`;
          return `${input}.${base64url.encode(createHmac('sha256', Buffer.from(auditor.publicKey, 'hex')).update(input).digest())}`;
        },
        /"alg" must be "EdDSA"/,
      ],
      [
        'HS256 keyed with the public key hex (key confusion)',
        async () => {
          const input = `${base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims(auditor)))}`;
          return `${input}.${base64url.encode(createHmac('sha256', auditor.publicKey).update(input).digest())}`;
        },
        /"alg" must be "EdDSA"/,
      ],
      ['a wrong aud (another ledger)', () => h.token(auditor, { ledgerId: 'f'.repeat(64) }), /"aud"/],
      ['an aud array', async () => jws({ alg: 'EdDSA' }, { ...claims(auditor), aud: [h.ledgerId] }, auditor.seed), /"aud"/],
      ['expired', async () => jws({ alg: 'EdDSA' }, claims(auditor, { iat: now() - 400, exp: now() - 1 }), auditor.seed), /expired/],
      [
        'living 3601 s (over an hour)',
        async () => jws({ alg: 'EdDSA' }, claims(auditor, { iat: now() - 10, exp: now() - 10 + 3601 }), auditor.seed),
        /lifetime/,
      ],
      ['issued 6 minutes in the future', async () => jws({ alg: 'EdDSA' }, claims(auditor, { iat: now() + 360, exp: now() + 600 }), auditor.seed), /future/],
      ['signed by a suspended party', () => h.token(suspended), /suspended/],
      ['signed by a rotated-out key', () => h.token(rotated), /signature does not verify/],
      ['naming the operator, signed by the auditor', async () => jws({ alg: 'EdDSA' }, claims(h.operator), auditor.seed), /signature does not verify/],
    ];

    beforeAll(async () => {
      await h.ok({ type: 'party.update', partyId: suspended.id, status: 'suspended' }, [h.operator]);
      await h.ok({ type: 'party.update', partyId: rotated.id, publicKey: rotatedNext.publicKey }, [h.operator]);
    });

    it.each(KINDS)('%s: 401 on every authenticated endpoint, with the same answer; ignored on public ones', async (_name, make, detail) => {
      const token = await make();
      const answers = new Set<string>();
      for (const [name, url] of authenticated()) {
        const res = await h.app.inject({ method: 'GET', url: url(), headers: bearer(token) });
        const body = assertProblem(res, 401, 'UNAUTHENTICATED');
        expect(body.detail, name).toMatch(detail);
        answers.add(res.body);
      }
      expect(answers.size).toBe(1);
      for (const url of ['/v1/ledger', '/v1/checkpoint', '/v1/proofs/inclusion?seq=0']) {
        expect((await h.app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode, url).toBe(200);
      }
    });

    it('the same claims, properly signed by the current key, are accepted (the cases above differ in one thing)', async () => {
      const good = [
        jws({ alg: 'EdDSA', typ: 'JWT' }, claims(auditor), auditor.seed),
        jws({ alg: 'EdDSA' }, claims(auditor, { iat: now() - 10, exp: now() - 10 + 3600 }), auditor.seed),
        jws({ alg: 'EdDSA' }, claims(auditor, { iat: now() + 240, exp: now() + 600 }), auditor.seed),
        await h.token(rotatedNext),
      ];
      for (const token of good) {
        for (const [name, url] of authenticated()) {
          const res = await h.app.inject({ method: 'GET', url: url(), headers: bearer(token) });
          expect(res.statusCode === 200 || (res.statusCode === 404 && token === good[3]), `${name}: ${res.body}`).toBe(true);
        }
      }
    });
  });
});
