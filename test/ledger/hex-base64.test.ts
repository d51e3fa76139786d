import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBase64, toBase64 } from '../../src/ledger/base64.js';
import { bytesEqual, fromHex, isHex, parseHex, toHex } from '../../src/ledger/hex.js';
import { expectLedgerError } from './helpers.js';

describe('hex (docs/protocol.md §2: lowercase hex)', () => {
  it('round-trips every byte value and agrees with Buffer', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(all)).toBe(Buffer.from(all).toString('hex'));
    expect(fromHex(toHex(all))).toEqual(all);
  });

  it('round-trips arbitrary bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => bytesEqual(fromHex(toHex(b)), b)));
  });

  it('refuses uppercase, odd length, non-hex characters, prefixes, whitespace and non-strings', () => {
    for (const bad of ['AB', 'aB', 'abc', '0x00', 'zz', ' 00', '00 ', '0g', '-1', '\u0660\u0660', 12, null, undefined, {}, ['00']]) {
      expect(parseHex(bad)).toBeUndefined();
      expect(isHex(bad)).toBe(false);
    }
  });

  it('checks the expected byte length', () => {
    expect(parseHex('00'.repeat(32), 32)).toHaveLength(32);
    expect(parseHex('00'.repeat(31), 32)).toBeUndefined();
    expect(parseHex('00'.repeat(33), 32)).toBeUndefined();
    expect(isHex('', 0)).toBe(true);
  });

  it('fromHex throws a coded LedgerError, not a TypeError', () => {
    expectLedgerError(() => fromHex('XYZ'), 'BAD_HEX');
    expectLedgerError(() => fromHex('00', 2), 'BAD_HEX');
    expectLedgerError(() => fromHex(42 as unknown as string), 'BAD_HEX');
  });

  it('parseHex never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.option(fc.nat(40)), (x, n) => {
        const r = parseHex(x, n ?? undefined);
        return r === undefined || r instanceof Uint8Array;
      }),
    );
  });
});

describe('base64 (RFC 4648 §4, strict, as signed notes use)', () => {
  it('matches RFC 4648 §10 test vectors', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      const bytes = new TextEncoder().encode(plain);
      expect(toBase64(bytes)).toBe(encoded);
      expect(parseBase64(encoded)).toEqual(bytes);
    }
  });

  it('agrees with Buffer and round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const s = toBase64(b);
        return s === Buffer.from(b).toString('base64') && bytesEqual(parseBase64(s)!, b);
      }),
    );
  });

  it('refuses missing padding, url-safe alphabet, whitespace, non-zero pad bits and stray "="', () => {
    for (const bad of ['Zg', 'Zm8', 'Zg=', 'Z===', 'Zh==', 'Zm9=', '-_8=', 'Zm9v\n', ' Zm9v', 'Zg==Zg==', '=Zm9', 'Zm=v', 7, null]) {
      expect(parseBase64(bad)).toBeUndefined();
    }
  });

  it('accepts exactly one encoding per byte string (property: canonical)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='), maxLength: 16 }), (s) => {
        const b = parseBase64(s);
        return b === undefined || toBase64(b) === s;
      }),
    );
  });
});
