import canonicalizePackage from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/ledger/hex.js';
import { canonicalBytes, canonicalize } from '../../src/ledger/jcs.js';
import { LEDGER_LIMITS } from '../../src/ledger/limits.js';
import { hasLoneSurrogate, hasLoneSurrogateLoop } from '../../src/ledger/utf8.js';
import { expectLedgerError, loadVectors } from './helpers.js';

interface Rfc8785Vectors {
  sampleSection322: { input: string; expected: string; expectedUtf8Hex: string };
  sortingSection323: { input: string; expectedValueOrder: string[] };
  numbersAppendixB: Array<{ ieee754: string; expected: string | null; comment: string }>;
}
const V = loadVectors<Rfc8785Vectors>('rfc8785.json');

const fromIeee754 = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};

describe('RFC 8785 published examples', () => {
  it('§3.2.2 sample: canonical text', () => {
    expect(canonicalize(JSON.parse(V.sampleSection322.input))).toBe(V.sampleSection322.expected);
  });

  it('§3.2.4 sample: UTF-8 bytes', () => {
    expect(toHex(canonicalBytes(JSON.parse(V.sampleSection322.input)))).toBe(V.sampleSection322.expectedUtf8Hex);
  });

  /** Member values in the order they appear in a canonical text (JS objects reorder integer-like keys). */
  const valuesInTextOrder = (text: string, values: readonly string[]): string[] =>
    [...values].sort((a, b) => text.indexOf(`:"${a}"`) - text.indexOf(`:"${b}"`));

  it('§3.2.3 sorting by UTF-16 code units (non-BMP key sorts before U+FB33)', () => {
    const { input, expectedValueOrder } = V.sortingSection323;
    const out = canonicalize(JSON.parse(input));
    expect(valuesInTextOrder(out, expectedValueOrder)).toEqual(expectedValueOrder);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each(V.numbersAppendixB.filter((n) => n.expected !== null))('Appendix B number $ieee754 → $expected', ({ ieee754, expected }) => {
    expect(canonicalize(fromIeee754(ieee754))).toBe(expected);
    expect(canonicalize({ n: fromIeee754(ieee754) })).toBe(`{"n":${expected}}`);
  });

  it('Appendix B NaN and Infinity are refused with a coded error', () => {
    const refused = V.numbersAppendixB.filter((n) => n.expected === null);
    expect(refused).toHaveLength(2);
    for (const { ieee754 } of refused) expectLedgerError(() => canonicalize([fromIeee754(ieee754)]), 'BAD_JSON_VALUE');
    expectLedgerError(() => canonicalize(-Infinity), 'BAD_JSON_VALUE');
  });

  it('the canonicalize npm package also passes the RFC examples (it serves as our second implementation)', () => {
    expect(canonicalizePackage(JSON.parse(V.sampleSection322.input))).toBe(V.sampleSection322.expected);
    const sorted = canonicalizePackage(JSON.parse(V.sortingSection323.input))!;
    expect(valuesInTextOrder(sorted, V.sortingSection323.expectedValueOrder)).toEqual(V.sortingSection323.expectedValueOrder);
    for (const { ieee754, expected } of V.numbersAppendixB.filter((n) => n.expected !== null)) {
      expect(canonicalizePackage(fromIeee754(ieee754))).toBe(expected);
    }
  });
});

describe('string escaping (RFC 8785 §3.2.2.2)', () => {
  it('uses short escapes for \\b \\t \\n \\f \\r, lowercase \\u00xx for other C0 controls, and nothing else', () => {
    const controls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    const expected = Array.from({ length: 0x20 }, (_, i) => short[i] ?? `\\u${i.toString(16).padStart(4, '0')}`).join('');
    expect(canonicalize(controls)).toBe(`"${expected}"`);
    expect(canonicalize('"\\/\u007f\u0080\u2028\u2029\ud83d\ude00é')).toBe('"\\"\\\\/\u007f\u0080\u2028\u2029\ud83d\ude00é"');
  });

  it('does not normalize Unicode (é precomposed ≠ e + combining acute)', () => {
    expect(canonicalize('\u00e9')).not.toBe(canonicalize('e\u0301'));
  });

  it('refuses lone surrogates in values and in keys', () => {
    for (const s of ['\ud800', 'a\udc00', '\udbff\ud800', 'x\ud83d']) {
      expectLedgerError(() => canonicalize(s), 'BAD_JSON_VALUE');
      expectLedgerError(() => canonicalize({ [s]: 1 }), 'BAD_JSON_VALUE');
    }
  });

  it('the native surrogate check (isWellFormed) and the portable loop agree on any string of UTF-16 code units (property)', () => {
    // Code units near and inside the surrogate ranges, so that pairs, lone halves and reversed
    // pairs all come up often.
    const unit = fc.oneof(fc.integer({ min: 0xd7f0, max: 0xe00f }), fc.integer({ min: 0, max: 0xffff })).map((c) => String.fromCharCode(c));
    expect(typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed).toBe('function');
    expect(hasLoneSurrogate).not.toBe(hasLoneSurrogateLoop);
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (s) => {
        expect(hasLoneSurrogate(s)).toBe(hasLoneSurrogateLoop(s));
      }),
      { numRuns: 5000 },
    );
    for (const s of ['\ud800', 'a\udc00', '\udbff\ud800', 'x\ud83d', '\udc00\ud800']) expect(hasLoneSurrogate(s)).toBe(true);
    for (const s of ['', 'abc', '\ud83d\ude00', 'é', '\uffff']) expect(hasLoneSurrogate(s)).toBe(false);
  });
});

describe('values JCS cannot encode are refused with BAD_JSON_VALUE', () => {
  const cases: Array<[string, unknown]> = [
    ['NaN', NaN],
    ['bigint', 1n],
    ['bigint in an object', { amount: 10n }],
    ['undefined at top level', undefined],
    ['undefined in an array', [1, undefined, 2]],
    ['a hole in an array', [1, , 2]], // eslint-disable-line no-sparse-arrays
    ['a function', { f: () => 1 }],
    ['a symbol', [Symbol('x')]],
    ['a Date (no toJSON is called)', { at: new Date(0) }],
    ['a Map', new Map([['a', 1]])],
    ['a Uint8Array', new Uint8Array(2)],
    [
      'a class instance',
      new (class Money {
        minor = 1;
      })(),
    ],
  ];
  it.each(cases)('%s', (_name, value) => {
    expectLedgerError(() => canonicalize(value), 'BAD_JSON_VALUE');
  });

  it('nesting deeper than the limit, and cycles', () => {
    let deep: unknown = 0;
    for (let i = 0; i < LEDGER_LIMITS.jsonDepthMax + 1; i++) deep = [deep];
    expectLedgerError(() => canonicalize(deep), 'BAD_JSON_VALUE');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expectLedgerError(() => canonicalize(cyclic), 'BAD_JSON_VALUE');
  });

  it('a throwing getter becomes a coded error too', () => {
    const tricky = Object.defineProperty({}, 'x', {
      enumerable: true,
      get: () => {
        throw new TypeError('boom');
      },
    });
    expectLedgerError(() => canonicalize(tricky), 'BAD_JSON_VALUE');
  });
});

describe('canonical form', () => {
  it('sorts keys recursively, keeps array order, writes no whitespace, -0 as 0, skips undefined members', () => {
    const value = { b: [3, 1, { z: null, a: true }], a: -0, '': 'empty', c: undefined, '10': 1, '9': 2 };
    expect(canonicalize(value)).toBe('{"":"empty","10":1,"9":2,"a":0,"b":[3,1,{"a":true,"z":null}]}');
    expect(canonicalize(Object.assign(Object.create(null) as object, { y: 1, x: 2 }))).toBe('{"x":2,"y":1}');
  });

  it('matches the canonicalize package on arbitrary JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => canonicalize(v) === canonicalizePackage(v)),
      { numRuns: 300 },
    );
  });

  it('is idempotent and independent of member order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (obj) => {
        const once = canonicalize(obj);
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        return canonicalize(JSON.parse(once)) === once && canonicalize(reversed) === once;
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but a LedgerError (property)', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }),
        (v) => {
          try {
            canonicalize(v);
            return true;
          } catch (err) {
            return err instanceof Error && err.name === 'LedgerError';
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
