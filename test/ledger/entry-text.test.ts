/**
 * The writer builds entry text from the payload's JCS text; it must be byte for byte
 * `canonicalize(entry)`, or entry hashes would differ from every verifier's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryHash, entryHashOfText, entryTextFromPayloadJcs, verifyChain, type Entry } from '../../src/ledger/entry.js';
import { canonicalize } from '../../src/ledger/jcs.js';
import { toHex } from '../../src/ledger/hex.js';
import { installSha256, nobleSha256Of } from '../../src/ledger/sha256.js';
import { installNodeSha256 } from '../../src/ledger/node/sha256-node.js';
import { utf8 } from '../../src/ledger/utf8.js';

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const time = fc.integer({ min: Date.parse('2000-01-01T00:00:00.000Z'), max: Date.parse('2099-12-31T23:59:59.999Z') }).map((ms) => new Date(ms).toISOString());
const payload = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 4 })),
);
const signatures = fc.array(fc.record({ signer: fc.string({ minLength: 1, maxLength: 20 }), sig: hex(128) }), { minLength: 1, maxLength: 2 });

describe('entryTextFromPayloadJcs', () => {
  it('equals canonicalize(entry) for random payloads, signatures, seqs and times', () => {
    fc.assert(
      fc.property(payload, signatures, hex(64), fc.nat(2 ** 48), time, (p, sigs, prev, seq, t) => {
        const entry = { v: 1, seq, time: t, prev, op: { payload: p, signatures: sigs } };
        expect(entryTextFromPayloadJcs(canonicalize(p), sigs, prev, seq, t)).toBe(canonicalize(entry));
      }),
      { numRuns: 500 },
    );
  });

  it('verifyChain, which hashes entries through it, agrees with entryHash on any entry of the §5 shape, and leaves JCS(payload)', () => {
    // Untrusted signatures: any JSON array, not only well-formed ones.
    const anySignatures = fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 });
    fc.assert(
      fc.property(payload, anySignatures, hex(64), fc.nat(2 ** 48), time, (p, sigs, prev, seq, t) => {
        const entry = { v: 1, seq, time: t, prev, op: { payload: p, signatures: sigs } } as unknown as Entry;
        const memo = new WeakMap<Entry, string>();
        const good = verifyChain([{ entry, hash: entryHash(entry) }], prev, { startSeq: seq, payloadJcs: memo });
        expect(good.ok).toBe(true);
        expect(memo.get(entry)).toBe(canonicalize(p));
        const other = entryHash({ ...entry, seq: seq + 1 });
        expect(verifyChain([{ entry, hash: other }], prev, { startSeq: seq }).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('writes signatures as canonicalize does, or refuses them alike, whatever their keys and strings', () => {
    const odd = fc.oneof(
      fc.record({ signer: fc.string({ unit: 'binary' }), sig: fc.string({ unit: 'binary' }) }),
      // Lone surrogates: refused (BAD_JSON_VALUE) by both.
      fc.record({ signer: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1 }), sig: hex(128) }),
      fc.record({ sig: hex(128), signer: fc.string() }),
      fc.record({ signer: fc.string(), sig: hex(128), extra: fc.jsonValue({ maxDepth: 1 }) }),
      fc.record({ signer: fc.string(), sig: fc.oneof(fc.integer(), fc.constant(null), fc.constant(undefined)) }),
      fc.record({ signer: fc.string() }),
    );
    fc.assert(
      fc.property(fc.array(odd, { maxLength: 3 }), (sigs) => {
        const entry = { v: 1, seq: 3, time: '2026-11-28T09:30:00.000Z', prev: '0'.repeat(64), op: { payload: {}, signatures: sigs } };
        const expected = (() => {
          try {
            return canonicalize(entry);
          } catch (err) {
            return err;
          }
        })();
        const actual = (() => {
          try {
            return entryTextFromPayloadJcs('{}', sigs as never, entry.prev, 3, entry.time);
          } catch (err) {
            return err;
          }
        })();
        if (typeof expected === 'string') expect(actual).toBe(expected);
        else expect((actual as { code?: string }).code).toBe((expected as { code?: string }).code);
      }),
      { numRuns: 1000 },
    );
  });

  it("the writer's entry hash (node:crypto installed, as the service does) is the RFC 9162 leaf hash of the text's UTF-8 (@noble)", () => {
    installNodeSha256();
    try {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (text) => {
          expect(toHex(entryHashOfText(text))).toBe(toHex(nobleSha256Of([Uint8Array.of(0), utf8(text)])));
        }),
        { numRuns: 500 },
      );
    } finally {
      installSha256(nobleSha256Of);
    }
  });

  it('changes when any part of the entry changes', () => {
    const sigs = [{ signer: 'a', sig: 'b'.repeat(128) }];
    const base = entryTextFromPayloadJcs('{"x":1}', sigs, '0'.repeat(64), 5, '2026-11-28T09:30:00.000Z');
    expect(entryTextFromPayloadJcs('{"x":2}', sigs, '0'.repeat(64), 5, '2026-11-28T09:30:00.000Z')).not.toBe(base);
    expect(entryTextFromPayloadJcs('{"x":1}', sigs, '1'.repeat(64), 5, '2026-11-28T09:30:00.000Z')).not.toBe(base);
    expect(entryTextFromPayloadJcs('{"x":1}', sigs, '0'.repeat(64), 6, '2026-11-28T09:30:00.000Z')).not.toBe(base);
  });
});
