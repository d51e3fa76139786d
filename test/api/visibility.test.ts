/**
 * Who may read what (docs/protocol.md §8), over HTTP with real EdDSA tokens: UNAUTHENTICATED for every
 * kind of bad token, NOT_FOUND for what the caller may not see (answered exactly as for what does
 * not exist, so ids cannot be probed), and the visibility of vouchers, histories, trees, proof
 * bundles, voucher lists and the raw log for every role.
 *
 * The story, on one root R of 100 issued by core A:
 *   s1 accepts R and splits it into R:0-60 and R:60-100;
 *   s1 transfers 25 of R:0-60 to s2 (R:0-25 offered, R:25-60 kept); s2 accepts R:0-25;
 *   s2 pledges 20 of R:0-25 to b1 (R:0-20 pledged, R:20-25 kept);
 *   s1 offers R:60-100 to s3, who rejects it (s3 was its offeree).
 * Besides: core B issues Q to s4 (accepted); core A issues Z to s4, who rejects it (Z cancelled).
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToken } from '../../src/api/auth.js';
import { Harness, dueIn, key, type Key, type Receipt } from '../support/harness.js';
import { expectProblem, type ProblemJson } from './helpers.js';

const coreA = key('gz-motors', 'core');
const coreB = key('sz-auto', 'core');
const s1 = key('dongguan-parts', 'supplier');
const s2 = key('chen-electronics', 'supplier');
const s3 = key('foshan-metal', 'supplier');
const s4 = key('xiamen-wire', 'supplier');
const b1 = key('icbc-gz', 'bank');
const b2 = key('cmb-sz', 'bank');
const auditor = key('csrc-audit', 'auditor');

type Name = 'R' | 'R:0-60' | 'R:60-100' | 'R:0-25' | 'R:25-60' | 'R:0-20' | 'R:20-25' | 'Q' | 'Z';
const NAMES: Name[] = ['R', 'R:0-60', 'R:60-100', 'R:0-25', 'R:25-60', 'R:0-20', 'R:20-25', 'Q', 'Z'];
const R_FAMILY: Name[] = ['R', 'R:0-60', 'R:60-100', 'R:0-25', 'R:25-60', 'R:0-20', 'R:20-25'];

interface HashedEntry {
  entry: { seq: number; op: { payload: { type: string; voucherId?: string } } };
  hash: string;
}
interface TreeNode {
  id: string;
  children: TreeNode[];
}

describe('§8 visibility and authentication', () => {
  let h: Harness;
  let operator: Key;
  const ids = {} as Record<Name, string>;
  /** Receipts by label, to know which entries belong to whom. */
  const seqOf: Record<string, number> = {};
  const regSeq: Record<string, number> = {};

  const name = (id: string): string => {
    const found = NAMES.find((n) => ids[n] === id);
    return found ?? id;
  };
  const ok = async (label: string, payload: Record<string, unknown>, signers: Key[]): Promise<Receipt> => {
    const r = await h.ok(payload, signers);
    seqOf[label] = r.seq;
    return r;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const getWith = (url: string, headers: Record<string, string>): Promise<LightMyRequestResponse> => h.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    h = await Harness.start();
    operator = h.operator;
    for (const k of [coreA, coreB, s1, s2, s3, s4, b1, b2, auditor]) regSeq[k.id] = (await h.register(k)).seq;
    regSeq.operator = 0;

    const issued = await ok(
      'issue R',
      { type: 'voucher.issue', issuer: coreA.id, to: s1.id, amount: '100', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['INV-R'] },
      [coreA],
    );
    const R = issued.effects.vouchers[0]?.id ?? '';
    for (const n of R_FAMILY) ids[n] = n === 'R' ? R : `${R}${n.slice(1)}`;
    await ok('accept R', { type: 'voucher.accept', voucherId: R }, [s1]);
    await ok('split R', { type: 'voucher.split', voucherId: R, amounts: ['60', '40'] }, [s1]);
    await ok('transfer R:0-60', { type: 'voucher.transfer', voucherId: ids['R:0-60'], to: s2.id, amount: '25' }, [s1]);
    await ok('accept R:0-25', { type: 'voucher.accept', voucherId: ids['R:0-25'] }, [s2]);
    await ok('pledge R:0-25', { type: 'voucher.pledge', voucherId: ids['R:0-25'], bank: b1.id, loanRef: 'LOAN-1', amount: '20' }, [s2, b1]);
    await ok('transfer R:60-100', { type: 'voucher.transfer', voucherId: ids['R:60-100'], to: s3.id }, [s1]);
    await ok('reject R:60-100', { type: 'voucher.reject', voucherId: ids['R:60-100'], reason: 'not needed' }, [s3]);

    ids.Q =
      (
        await ok('issue Q', { type: 'voucher.issue', issuer: coreB.id, to: s4.id, amount: '50', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['INV-Q'] }, [
          coreB,
        ])
      ).effects.vouchers[0]?.id ?? '';
    await ok('accept Q', { type: 'voucher.accept', voucherId: ids.Q }, [s4]);
    ids.Z =
      (
        await ok('issue Z', { type: 'voucher.issue', issuer: coreA.id, to: s4.id, amount: '70', currency: 'CNY', dueDate: dueIn(60), invoiceIds: ['INV-Z'] }, [
          coreA,
        ])
      ).effects.vouchers[0]?.id ?? '';
    await ok('reject Z', { type: 'voucher.reject', voucherId: ids.Z }, [s4]);
  });
  afterAll(async () => {
    await h.close();
  });

  describe('UNAUTHENTICATED (401)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const rows: [string, () => Promise<Record<string, string>>][] = [
      ['no Authorization header', async () => ({})],
      ['an empty Authorization header', async () => ({ authorization: '' })],
      ['a garbage bearer token', async () => ({ authorization: 'Bearer not.a.token' })],
      ['a Basic credential', async () => ({ authorization: `Basic ${Buffer.from('s1:pw').toString('base64')}` })],
      ['the token without the Bearer scheme', async () => ({ authorization: await h.token(s1) })],
      ['an expired token', async () => bearer(await h.token(s1, { nowSeconds: now() - 4000, lifetimeSeconds: 300 }))],
      ['a token issued more than 5 minutes in the future', async () => bearer(await h.token(s1, { nowSeconds: now() + 600 }))],
      ['a token for another ledger (aud)', async () => bearer(await h.token(s1, { ledgerId: 'f'.repeat(64) }))],
      ['a token of an unregistered party', async () => bearer(await h.token(key('nobody-co', 'supplier')))],
      [
        'a token naming s1 signed with s2’s key',
        async () => bearer(await makeToken({ partyId: s1.id, secretKeyHex: s2.seed, ledgerId: h.ledgerId, nowSeconds: now() })),
      ],
      [
        'a token with a tampered claim',
        async () => {
          const [head = '', , sig = ''] = (await h.token(s2)).split('.');
          const claims = Buffer.from(JSON.stringify({ iss: s1.id, aud: h.ledgerId, iat: now(), exp: now() + 60 })).toString('base64url');
          return bearer(`${head}.${claims}.${sig}`);
        },
      ],
    ];
    it.each(rows)('%s', async (_name, headers) => {
      expectProblem(await getWith(`/v1/vouchers/${ids['R:0-20']}`, await headers()), 401, 'UNAUTHENTICATED');
    });

    it('a token issued a little in the future (within 5 minutes) is accepted', async () => {
      const res = await getWith(`/v1/vouchers/${ids['R:0-20']}`, bearer(await h.token(b1, { nowSeconds: now() + 120 })));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('a token signed with a key rotated away is 401; the new key’s token works', async () => {
      const rot = key('rotating-parts', 'supplier');
      const rotNext = key('rotating-parts', 'supplier', '-next');
      await h.register(rot);
      const oldToken = await h.token(rot);
      expect((await getWith('/v1/parties', bearer(oldToken))).statusCode).toBe(200);
      await h.ok({ type: 'party.update', partyId: rot.id, publicKey: rotNext.publicKey }, [operator]);
      expectProblem(await getWith('/v1/parties', bearer(oldToken)), 401, 'UNAUTHENTICATED');
      expectProblem(await getWith('/v1/parties', bearer(await h.token(rot))), 401, 'UNAUTHENTICATED');
      expect((await getWith('/v1/parties', bearer(await h.token(rotNext)))).statusCode).toBe(200);
    });

    it('a token of a suspended party is 401, and works again once the party is reactivated', async () => {
      const nap = key('napping-parts', 'supplier');
      await h.register(nap);
      const token = await h.token(nap);
      await h.ok({ type: 'party.update', partyId: nap.id, status: 'suspended' }, [operator]);
      expectProblem(await getWith('/v1/parties', bearer(token)), 401, 'UNAUTHENTICATED');
      await h.ok({ type: 'party.update', partyId: nap.id, status: 'active' }, [operator]);
      expect((await getWith('/v1/parties', bearer(token))).statusCode).toBe(200);
    });

    const authenticated = (): string[] => [
      '/v1/entries',
      '/v1/entries/0',
      '/v1/parties',
      `/v1/parties/${s1.id}`,
      `/v1/parties/${s1.id}/vouchers`,
      `/v1/vouchers/${ids.R}`,
      `/v1/vouchers/${ids.R}/history`,
      `/v1/vouchers/${ids.R}/tree`,
      `/v1/vouchers/${ids.R}/proof`,
    ];
    it('every non-public read needs a token; the public ones do not', async () => {
      for (const url of authenticated()) expectProblem(await h.get(url), 401, 'UNAUTHENTICATED');
      for (const url of ['/v1/ledger', '/v1/checkpoint', '/v1/proofs/inclusion?seq=0', '/v1/proofs/consistency?from=1']) {
        expect((await h.get(url)).statusCode, url).toBe(200);
      }
    });
  });

  describe('who sees which voucher', () => {
    const all = NAMES;
    const family = R_FAMILY;
    const rows: [string, () => Key, Name[]][] = [
      ['operator', () => operator, all],
      ['auditor', () => auditor, all],
      ['core A (issuer of R and Z)', () => coreA, [...family, 'Z']],
      ['core B (issuer of Q only)', () => coreB, ['Q']],
      ['s1 (held R, R:0-60, R:60-100, R:25-60; sent R:0-25)', () => s1, ['R', 'R:0-60', 'R:60-100', 'R:0-25', 'R:25-60']],
      ['s2 (offered and held R:0-25, holds its parts)', () => s2, ['R', 'R:0-60', 'R:0-25', 'R:0-20', 'R:20-25']],
      ['s3 (offered R:60-100, rejected it)', () => s3, ['R', 'R:60-100']],
      ['s4 (holds Q, was offered Z)', () => s4, ['Q', 'Z']],
      ['bank 1 (pledgee of R:0-20)', () => b1, ['R', 'R:0-60', 'R:0-25', 'R:0-20']],
      ['bank 2 (nothing)', () => b2, []],
    ];

    it.each(rows)('%s', async (_label, who, visible) => {
      const k = who();
      const seen: string[] = [];
      for (const n of NAMES) {
        const res = await h.get(`/v1/vouchers/${ids[n]}`, k);
        if (res.statusCode === 200) {
          seen.push(n);
          expect(res.json().id).toBe(ids[n]);
          for (const suffix of ['/history', '/tree', '/proof'])
            expect((await h.get(`/v1/vouchers/${ids[n]}${suffix}`, k)).statusCode, `${n}${suffix}`).toBe(200);
        } else {
          expectProblem(res, 404, 'NOT_FOUND');
          for (const suffix of ['/history', '/tree', '/proof']) expectProblem(await h.get(`/v1/vouchers/${ids[n]}${suffix}`, k), 404, 'NOT_FOUND');
        }
      }
      expect(seen).toEqual(visible);
    });
  });

  describe('trees are cut to the visible vouchers and their ancestors', () => {
    const shape = (n: TreeNode): unknown => ({ [n.id.replace(ids.R, 'R')]: n.children.map(shape) });
    const full = { R: [{ 'R:0-60': [{ 'R:0-25': [{ 'R:0-20': [] }, { 'R:20-25': [] }] }, { 'R:25-60': [] }] }, { 'R:60-100': [] }] };
    const rows: [string, () => Key, Name, unknown][] = [
      ['operator: the whole tree', () => operator, 'R', full],
      ['auditor: the whole tree', () => auditor, 'R:0-20', full],
      ['core A: the whole tree', () => coreA, 'R:20-25', full],
      ['s1: not the parts of R:0-25 made after it left s1', () => s1, 'R', { R: [{ 'R:0-60': [{ 'R:0-25': [] }, { 'R:25-60': [] }] }, { 'R:60-100': [] }] }],
      [
        's2: its branch only, never the sibling R:25-60 or R:60-100',
        () => s2,
        'R:20-25',
        { R: [{ 'R:0-60': [{ 'R:0-25': [{ 'R:0-20': [] }, { 'R:20-25': [] }] }] }] },
      ],
      ['s3: R and the voucher it was offered', () => s3, 'R:60-100', { R: [{ 'R:60-100': [] }] }],
      ['bank 1: the pledged voucher and its ancestors, not its sibling R:20-25', () => b1, 'R:0-20', { R: [{ 'R:0-60': [{ 'R:0-25': [{ 'R:0-20': [] }] }] }] }],
      ['bank 1 asking through an ancestor gets the same cut tree', () => b1, 'R', { R: [{ 'R:0-60': [{ 'R:0-25': [{ 'R:0-20': [] }] }] }] }],
    ];
    it.each(rows)('%s', async (_label, who, asked, expected) => {
      const res = await h.get(`/v1/vouchers/${ids[asked]}/tree`, who());
      expect(res.statusCode, res.body).toBe(200);
      expect(shape((res.json() as { root: TreeNode }).root)).toEqual(expected);
    });
  });

  describe('histories and proof bundles hold own and ancestors’ entries, never a sibling’s', () => {
    const historyOf = async (n: Name, k: Key): Promise<number[]> => {
      const res = await h.get(`/v1/vouchers/${ids[n]}/history`, k);
      expect(res.statusCode).toBe(200);
      return (res.json() as { entries: HashedEntry[] }).entries.map((e) => e.entry.seq);
    };
    const labels = (...ls: string[]) => ls.map((l) => seqOf[l] as number);

    it('bank 1, R:0-20: the lineage R → R:0-60 → R:0-25 → R:0-20 and nothing of R:60-100', async () => {
      expect(await historyOf('R:0-20', b1)).toEqual(labels('issue R', 'accept R', 'split R', 'transfer R:0-60', 'accept R:0-25', 'pledge R:0-25'));
    });

    it('s3, R:60-100: its own offer and rejection, its ancestor R, nothing of R:0-60’s branch', async () => {
      expect(await historyOf('R:60-100', s3)).toEqual(labels('issue R', 'accept R', 'split R', 'transfer R:60-100', 'reject R:60-100'));
    });

    it('s2, R:20-25: the same lineage as R:0-20 (it was made by the same pledge)', async () => {
      expect(await historyOf('R:20-25', s2)).toEqual(labels('issue R', 'accept R', 'split R', 'transfer R:0-60', 'accept R:0-25', 'pledge R:0-25'));
    });

    it('the operator sees the same history as the party for the same voucher', async () => {
      expect(await historyOf('R:0-20', operator)).toEqual(await historyOf('R:0-20', b1));
    });

    it('bank 1’s proof bundle: genesis, registrations of the parties named, the history; nothing else', async () => {
      const res = await h.get(`/v1/vouchers/${ids['R:0-20']}/proof`, b1);
      expect(res.statusCode).toBe(200);
      const seqs = (res.json() as { entries: HashedEntry[] }).entries.map((e) => e.entry.seq);
      const expected = [
        0,
        ...[coreA, s1, s2, b1].map((k) => regSeq[k.id] as number),
        ...labels('issue R', 'accept R', 'split R', 'transfer R:0-60', 'accept R:0-25', 'pledge R:0-25'),
      ];
      expect(seqs).toEqual([...new Set(expected)].sort((a, b) => a - b));
    });

    it('s3’s proof bundle does not name s2, bank 1 or their entries', async () => {
      const res = await h.get(`/v1/vouchers/${ids['R:60-100']}/proof`, s3);
      const seqs = (res.json() as { entries: HashedEntry[] }).entries.map((e) => e.entry.seq);
      for (const hidden of [regSeq[s2.id], regSeq[b1.id], ...labels('transfer R:0-60', 'accept R:0-25', 'pledge R:0-25')]) expect(seqs).not.toContain(hidden);
    });
  });

  describe('GET /v1/parties/:id/vouchers: that party, operator, auditor; others 404', () => {
    const list = async (party: Key, k: Key): Promise<LightMyRequestResponse> => h.get(`/v1/parties/${party.id}/vouchers`, k);
    const rows: [string, () => Key, () => Key, number][] = [
      ['s2 reads its own list', () => s2, () => s2, 200],
      ['the operator reads s2’s list', () => s2, () => operator, 200],
      ['the auditor reads s2’s list', () => s2, () => auditor, 200],
      ['s1 reads s2’s list', () => s2, () => s1, 404],
      ['bank 1 reads s2’s list (although it sees some of s2’s vouchers)', () => s2, () => b1, 404],
      ['core A reads s2’s list (although it issued every voucher on it)', () => s2, () => coreA, 404],
      ['s2 reads bank 1’s list', () => b1, () => s2, 404],
      ['bank 1 reads core A’s list', () => coreA, () => b1, 404],
      ['the operator reads the auditor’s list', () => auditor, () => operator, 200],
    ];
    it.each(rows)('%s: %i', async (_label, party, reader, status) => {
      const res = await list(party(), reader());
      if (status === 200) expect(res.statusCode, res.body).toBe(200);
      else expectProblem(res, 404, 'NOT_FOUND');
    });

    it('lists hold the vouchers whose current fields name the party', async () => {
      const names = async (party: Key) => ((await list(party, party)).json() as { items: { id: string }[] }).items.map((v) => name(v.id));
      expect(await names(s2)).toEqual(['R:0-25', 'R:0-20', 'R:20-25']);
      expect(await names(s1)).toEqual(['R', 'R:0-60', 'R:60-100', 'R:25-60']);
      expect(await names(b1)).toEqual(['R:0-20']);
      expect(await names(s3)).toEqual([]);
      expect(await names(coreA)).toEqual(['R', 'R:0-60', 'R:60-100', 'R:0-25', 'R:25-60', 'R:0-20', 'R:20-25', 'Z']);
      expect(await names(coreB)).toEqual(['Q']);
    });

    it('another party’s list and a nonexistent party’s list answer alike', async () => {
      const other = expectProblem(await h.get(`/v1/parties/${s2.id}/vouchers`, s1), 404, 'NOT_FOUND');
      const none = expectProblem(await h.get(`/v1/parties/${'x'.repeat(s2.id.length)}/vouchers`, s1), 404, 'NOT_FOUND');
      expect({ ...other, detail: other.detail.replace(s2.id, '<id>') }).toEqual({ ...none, detail: none.detail.replace('x'.repeat(s2.id.length), '<id>') });
    });
  });

  describe('the raw log is for the operator and auditors', () => {
    const rows: [string, () => Key, number][] = [
      ['operator', () => operator, 200],
      ['auditor', () => auditor, 200],
      ['core', () => coreA, 404],
      ['supplier', () => s1, 404],
      ['bank', () => b1, 404],
    ];
    it.each(rows)('%s: GET /v1/entries and /v1/entries/:seq answer %i', async (_label, who, status) => {
      for (const url of ['/v1/entries', '/v1/entries/0', '/v1/entries?from=1&limit=2', `/v1/entries/${seqOf['issue R']}`]) {
        const res = await h.get(url, who());
        if (status === 200) expect(res.statusCode, url).toBe(200);
        else expectProblem(res, 404, 'NOT_FOUND');
      }
    });

    it('an entry past the end and a forbidden entry look alike to a supplier', async () => {
      const within = expectProblem(await h.get('/v1/entries/1', s1), 404, 'NOT_FOUND');
      const beyond = expectProblem(await h.get('/v1/entries/999999', s1), 404, 'NOT_FOUND');
      expect({ ...within, detail: '' }).toEqual({ ...beyond, detail: '' });
    });
  });

  describe('ids cannot be probed: invisible and nonexistent vouchers answer alike', () => {
    const sameLength = (id: string) => id.replace(/^v[0-9a-f]{24}/, `v${'0'.repeat(24)}`);
    const rows: [string, Name][] = [
      ['a root', 'R'],
      ['a child', 'R:25-60'],
      ['a grandchild', 'R:20-25'],
    ];
    for (const suffix of ['', '/history', '/tree', '/proof']) {
      it.each(rows)(`GET /v1/vouchers/:id${suffix}, %s, as bank 2`, async (_label, n) => {
        const hiddenId = ids[n];
        const missingId = sameLength(hiddenId);
        expect(missingId).not.toBe(hiddenId);
        const hidden = await h.get(`/v1/vouchers/${hiddenId}${suffix}`, b2);
        const missing = await h.get(`/v1/vouchers/${missingId}${suffix}`, b2);
        const a = expectProblem(hidden, 404, 'NOT_FOUND');
        const b = expectProblem(missing, 404, 'NOT_FOUND');
        const blank = (p: ProblemJson, id: string) => ({ ...p, detail: p.detail.split(id).join('<id>') });
        expect(blank(a, hiddenId)).toEqual(blank(b, missingId));
        expect(hidden.headers['content-type']).toBe(missing.headers['content-type']);
        expect(hidden.body.length).toBe(missing.body.length);
      });
    }
  });
});
