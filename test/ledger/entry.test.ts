import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryHash, entryHashBytes, isLedgerTime, verifyChain, ZERO_HASH, type Entry, type HashedEntry } from '../../src/ledger/entry.js';
import { toHex } from '../../src/ledger/hex.js';
import { canonicalBytes } from '../../src/ledger/jcs.js';
import { hashLeaf, MerkleTree, rootOf } from '../../src/ledger/merkle.js';

const OPERATOR_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const NODE_KEY = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';

const genesis: Entry = {
  v: 1,
  seq: 0,
  time: '2026-11-28T09:30:00.000Z',
  prev: ZERO_HASH,
  op: {
    payload: {
      type: 'ledger.genesis',
      name: 'demo',
      operatorKey: OPERATOR_KEY,
      nodeKey: NODE_KEY,
      currency: 'CNY',
      maxTenorDays: 365,
      createdAt: '2026-11-28T09:30:00.000Z',
    },
    signatures: [],
  },
};

/** A chain of `n` entries; entry i > 0 carries a dummy op and time 09:30 + i seconds (two equal times). */
const makeChain = (n: number): HashedEntry[] => {
  const out: HashedEntry[] = [];
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    const entry: Entry =
      seq === 0
        ? genesis
        : {
            v: 1,
            seq,
            time: new Date(Date.parse('2026-11-28T09:30:00.000Z') + Math.max(1, seq - 1) * 1000).toISOString(),
            prev,
            op: {
              payload: { type: 'voucher.accept', ledger: 'x', nonce: `nonce-${seq}-abc`, voucherId: 'v' + '0'.repeat(24) },
              signatures: [{ signer: 'acme', sig: 'ab'.repeat(64) }],
            },
          };
    const hash = entryHash(entry);
    out.push({ entry, hash });
    prev = hash;
  }
  return out;
};

/** Rebuilds a chain from `entries`, re-linking prev and recomputing hashes (to isolate one fault). */
const relink = (entries: Entry[]): HashedEntry[] => {
  let prev = ZERO_HASH;
  return entries.map((e) => {
    const entry = { ...e, prev };
    const hash = entryHash(entry);
    prev = hash;
    return { entry, hash };
  });
};

describe('entry hash (docs/protocol.md §5)', () => {
  it('is SHA-256(0x00 ‖ JCS(entry)), checked against node:crypto over hand-written JCS', () => {
    const jcs =
      '{"op":{"payload":{"createdAt":"2026-11-28T09:30:00.000Z","currency":"CNY","maxTenorDays":365,"name":"demo",' +
      `"nodeKey":"${NODE_KEY}","operatorKey":"${OPERATOR_KEY}","type":"ledger.genesis"},"signatures":[]},` +
      `"prev":"${ZERO_HASH}","seq":0,"time":"2026-11-28T09:30:00.000Z","v":1}`;
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0x00]), Buffer.from(jcs)]))
      .digest('hex');
    expect(new TextDecoder().decode(canonicalBytes(genesis))).toBe(jcs);
    expect(entryHash(genesis)).toBe(expected);
    expect(toHex(entryHashBytes(genesis))).toBe(expected);
  });

  it('is the RFC 9162 leaf hash, so the chain and the Merkle tree use the same values', () => {
    const chain = makeChain(9);
    const tree = new MerkleTree();
    for (const { entry, hash } of chain) {
      expect(toHex(hashLeaf(canonicalBytes(entry)))).toBe(hash);
      tree.append(entryHashBytes(entry));
    }
    expect(toHex(tree.root())).toBe(toHex(rootOf(chain.map(({ entry }) => entryHashBytes(entry)))));
    expect(ZERO_HASH).toBe('0'.repeat(64));
  });
});

describe('verifyChain', () => {
  const chain = makeChain(10);

  it('accepts a well-formed chain and reports its head', () => {
    expect(verifyChain(chain)).toEqual({ ok: true, count: 10, head: chain[9]!.hash, nextSeq: 10, lastTime: chain[9]!.entry.time });
    expect(verifyChain([])).toMatchObject({ ok: true, count: 0, head: ZERO_HASH, nextSeq: 0 });
  });

  it('accepts a page from the middle given the previous hash (with or without its seq), as JSON from the wire', () => {
    const page = JSON.parse(JSON.stringify(chain.slice(5))) as unknown;
    expect(verifyChain(page, chain[4]!.hash, { startSeq: 5, startTime: chain[4]!.entry.time })).toMatchObject({ ok: true, count: 5, nextSeq: 10 });
    expect(verifyChain(page, chain[4]!.hash)).toMatchObject({ ok: true, head: chain[9]!.hash });
    expect(verifyChain(page, chain[3]!.hash)).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', seq: 5, position: 0 });
    expect(verifyChain(page, chain[4]!.hash, { startSeq: 6 })).toMatchObject({ ok: false, code: 'SEQ_GAP', seq: 6 });
  });

  it('a tampered entry is HASH_MISMATCH, naming its seq', () => {
    const tampered = structuredClone(chain);
    (tampered[6]!.entry.op.payload as Record<string, unknown>)['nonce'] = 'nonce-6-abd';
    expect(verifyChain(tampered)).toMatchObject({ ok: false, code: 'HASH_MISMATCH', seq: 6, position: 6 });
  });

  it('a replaced entry with a correct hash but the wrong prev is CHAIN_BROKEN', () => {
    const forged = chain.slice();
    const entry = { ...chain[3]!.entry, prev: chain[1]!.hash };
    forged[3] = { entry, hash: entryHash(entry) };
    expect(verifyChain(forged)).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', seq: 3 });
  });

  it('a missing seq is SEQ_GAP, and genesis must be seq 0', () => {
    const entries = chain.map((c) => c.entry).filter((e) => e.seq !== 4);
    expect(verifyChain(relink(entries))).toMatchObject({ ok: false, code: 'SEQ_GAP', seq: 4, position: 4 });
    expect(verifyChain(relink(chain.slice(1).map((c) => c.entry)))).toMatchObject({ ok: false, code: 'SEQ_GAP', seq: 0 });
  });

  it('time may repeat but never decrease: TIME_DECREASED', () => {
    expect(chain[1]!.entry.time).toBe(chain[2]!.entry.time);
    const entries = chain.map((c) => c.entry);
    entries[7] = { ...entries[7]!, time: '2026-11-28T09:30:01.999Z' };
    expect(verifyChain(relink(entries))).toMatchObject({ ok: false, code: 'TIME_DECREASED', seq: 7 });
  });

  it('malformed entries are BAD_ENTRY', () => {
    const e = chain[0]!.entry;
    const bad: Array<[string, unknown]> = [
      ['extra field', { ...e, extra: 1 }],
      ['v 2', { ...e, v: 2 }],
      ['negative seq', { ...e, seq: -1 }],
      ['fractional seq', { ...e, seq: 0.5 }],
      ['time without milliseconds', { ...e, time: '2026-11-28T09:30:00Z' }],
      ['impossible date', { ...e, time: '2026-02-30T09:30:00.000Z' }],
      ['uppercase prev', { ...e, prev: 'A'.repeat(64) }],
      ['op without signatures', { ...e, op: { payload: {} } }],
      ['payload not an object', { ...e, op: { payload: [], signatures: [] } }],
      ['lone surrogate in the payload', { ...e, op: { payload: { name: '\ud800' }, signatures: [] } }],
      ['not an object', 'entry'],
    ];
    for (const [name, entry] of bad) {
      const hash = (() => {
        try {
          return entryHash(entry as Entry);
        } catch {
          return chain[0]!.hash;
        }
      })();
      expect(verifyChain([{ entry, hash }]), name).toMatchObject({ ok: false, code: 'BAD_ENTRY', seq: 0, position: 0 });
    }
    expect(verifyChain([{ entry: e, hash: chain[0]!.hash.toUpperCase() }])).toMatchObject({ code: 'BAD_ENTRY' });
    expect(verifyChain('not an array')).toMatchObject({ code: 'BAD_ENTRY' });
  });

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.anything(),
        (entries, prev) => verifyChain(entries, typeof prev === 'string' ? prev : undefined).ok === false || Array.isArray(entries),
      ),
      { numRuns: 300 },
    );
  });

  it('any change to any string or number in a wire chain is detected (property)', () => {
    const wire = JSON.stringify(chain);
    const positions = [...wire.matchAll(/[0-9a-z]/g)].map((m) => m.index);
    fc.assert(
      fc.property(fc.constantFrom(...positions), (at) => {
        const c = wire[at]!;
        const replacement = c === '0' ? '1' : c === 'a' ? 'b' : /[0-9]/.test(c) ? '0' : 'a';
        let mutated: unknown;
        try {
          mutated = JSON.parse(wire.slice(0, at) + replacement + wire.slice(at + 1));
        } catch {
          return true; // not JSON any more (e.g. "true" → "trua")
        }
        return verifyChain(mutated).ok === false;
      }),
      { numRuns: 300 },
    );
  });

  it('isLedgerTime accepts exactly toISOString output', () => {
    expect(isLedgerTime('2026-11-28T09:30:00.000Z')).toBe(true);
    for (const t of ['2026-11-28T09:30:00.000+00:00', '2026-11-28 09:30:00.000Z', '2026-13-01T00:00:00.000Z', '2026-11-28T24:00:00.000Z', 1]) {
      expect(isLedgerTime(t)).toBe(false);
    }
  });
});
