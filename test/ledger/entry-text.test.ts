/**
 * The writer builds entry text from the payload's JCS text; it must be byte for byte
 * `canonicalize(entry)`, or entry hashes would differ from every verifier's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryHash, entryTextFromPayloadJcs, verifyChain, type Entry } from '../../src/ledger/entry.js';
import { canonicalize } from '../../src/ledger/jcs.js';

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const time = fc
  .integer({ min: Date.parse('2000-01-01T00:00:00.000Z'), max: Date.parse('2099-12-31T23:59:59.999Z') })
  .map((ms) => new Date(ms).toISOString());
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

  it('changes when any part of the entry changes', () => {
    const sigs = [{ signer: 'a', sig: 'b'.repeat(128) }];
    const base = entryTextFromPayloadJcs('{"x":1}', sigs, '0'.repeat(64), 5, '2026-11-28T09:30:00.000Z');
    expect(entryTextFromPayloadJcs('{"x":2}', sigs, '0'.repeat(64), 5, '2026-11-28T09:30:00.000Z')).not.toBe(base);
    expect(entryTextFromPayloadJcs('{"x":1}', sigs, '1'.repeat(64), 5, '2026-11-28T09:30:00.000Z')).not.toBe(base);
    expect(entryTextFromPayloadJcs('{"x":1}', sigs, '0'.repeat(64), 6, '2026-11-28T09:30:00.000Z')).not.toBe(base);
  });
});
