import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { IJSON_DEPTH_MAX, parseIJson, parseIJsonText, type IJsonResult } from '../../src/api/ijson.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (text: string): IJsonResult => parseIJson(utf8(text));

function expectValue(result: IJsonResult): unknown {
  if (!result.ok) throw new Error(`expected ok, got: ${result.detail}`);
  return result.value;
}

function expectRefused(result: IJsonResult, detail: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.detail).toMatch(detail);
}

/** JSON.parse of the same bytes, or undefined when it throws. */
function referenceParse(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * Exact structural equality as JSON.parse builds values: same key order, plain prototypes, -0 kept.
 * (vitest's toStrictEqual reads `constructor`, which a parsed object may own.)
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (typeof a === 'object' && a !== null) {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
    if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length || !ka.every((k, i) => k === kb[i])) return false;
    return ka.every((k) => sameJson(Object.getOwnPropertyDescriptor(a, k)?.value, Object.getOwnPropertyDescriptor(b, k)?.value));
  }
  return Object.is(a, b);
}

function expectSameAsJsonParse(result: IJsonResult, text: string): void {
  const value = expectValue(result);
  expect(sameJson(value, JSON.parse(text)), `differs from JSON.parse for ${JSON.stringify(text)}`).toBe(true);
}

function hasUnsafeNumber(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER;
  if (Array.isArray(value)) return value.some(hasUnsafeNumber);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasUnsafeNumber);
  return false;
}

function countObjects(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, item) => n + countObjects(item), 0);
  if (typeof value === 'object' && value !== null) {
    return 1 + Object.values(value).reduce((n: number, item) => n + countObjects(item), 0);
  }
  return 0;
}

/** JSON text of `value` in which the `target`-th object (pre-order) also holds `key` twice. */
function serializeWithDuplicate(value: unknown, key: string, target: number): string {
  let seen = 0;
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    if (typeof v === 'object' && v !== null) {
      const members = Object.entries(v).map(([k, item]) => `${JSON.stringify(k)}:${write(item)}`);
      if (seen++ === target) members.splice(members.length >> 1, 0, `${JSON.stringify(key)}:1`, `${JSON.stringify(key)}:[]`);
      return `{${members.join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return write(value);
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('parseIJson: accepts RFC 8259 / I-JSON', () => {
  const accepted: Array<[string, unknown]> = [
    ['{}', {}],
    ['[]', []],
    ['"x"', 'x'],
    ['true', true],
    ['false', false],
    ['null', null],
    ['0', 0],
    ['-0', -0],
    ['1.5', 1.5],
    ['-12.5e-3', -0.0125],
    ['1E2', 100],
    ['1e+2', 100],
    ['0.0', 0],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['5e-324', 5e-324],
    [' \t\r\n{ "a" : [ 1 , 2 ] } \n', { a: [1, 2] }],
    ['{"a":{"b":{"c":[null,true,"z"]}}}', { a: { b: { c: [null, true, 'z'] } } }],
    ['"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t'],
    ['"\\u0041\\u00e9\\u4E2D"', 'Aé中'],
    ['"\\uD83D\\uDE00"', '😀'],
    ['"😀 中文 é"', '😀 中文 é'],
    ['"\\u0000"', '\u0000'],
    ['"\uFEFF inside a string is fine"', '\uFEFF inside a string is fine'],
    ['{"a":1,"A":2,"b":{"a":3}}', { a: 1, A: 2, b: { a: 3 } }],
    ['[{"a":1},{"a":1}]', [{ a: 1 }, { a: 1 }]],
    ['{"":1}', { '': 1 }],
  ];
  it.each(accepted)('%s', (text, expected) => {
    const value = expectValue(parse(text));
    expect(value).toStrictEqual(expected);
    expect(sameJson(value, JSON.parse(text))).toBe(true);
  });

  it('accepts a Buffer as well as a Uint8Array', () => {
    expect(expectValue(parseIJson(Buffer.from('{"a":"b"}')))).toStrictEqual({ a: 'b' });
  });

  it(`accepts nesting up to ${IJSON_DEPTH_MAX}`, () => {
    expect(parse(nested(IJSON_DEPTH_MAX)).ok).toBe(true);
    expect(parse('{"a":'.repeat(IJSON_DEPTH_MAX) + '1' + '}'.repeat(IJSON_DEPTH_MAX)).ok).toBe(true);
  });

  it('accepts a typical op envelope', () => {
    const envelope = {
      payload: { type: 'voucher.transfer', ledger: 'a'.repeat(64), nonce: 'k3J9x0Qm2', voucherId: 'v' + '0'.repeat(24), to: 'chen-electronics' },
      signatures: [{ signer: 'dongguan-parts', sig: 'b'.repeat(128) }],
    };
    expect(expectValue(parse(JSON.stringify(envelope)))).toStrictEqual(envelope);
  });
});

describe('parseIJson: refuses', () => {
  const refusedText: Array<[string, string, RegExp]> = [
    ['empty body', '', /end of input/],
    ['whitespace only', ' \n', /end of input/],
    ['trailing comma in an array', '[1,]', /unexpected character/],
    ['trailing comma in an object', '{"a":1,}', /string key/],
    ['a leading comma', '[,1]', /unexpected character/],
    ['a missing comma', '[1 2]', /','/],
    ['a missing colon', '{"a" 1}', /':'/],
    ['a line comment', '{"a":1}// x', /after the JSON value/],
    ['a block comment', '/* x */{}', /unexpected character/],
    ['a leading zero', '01', /after the JSON value/],
    ['a leading zero after minus', '-01', /after the JSON value/],
    ['a plus sign', '+1', /unexpected character/],
    ['a bare fraction', '.5', /unexpected character/],
    ['a trailing dot', '1.', /invalid number/],
    ['an empty exponent', '1e', /invalid number/],
    ['a signed empty exponent', '1e+', /invalid number/],
    ['a lone minus', '-', /invalid number/],
    ['a hex number', '0x10', /after the JSON value/],
    ['NaN', 'NaN', /unexpected character/],
    ['Infinity', 'Infinity', /unexpected character/],
    ['-Infinity', '-Infinity', /invalid number/],
    ['single quotes', "{'a':1}", /string key/],
    ['an unquoted key', '{a:1}', /string key/],
    ['a non-string key', '{1:1}', /string key/],
    ['True', 'True', /unexpected character/],
    ['a truncated literal', 'nul', /invalid literal/],
    ['two top-level values', '{} {}', /after the JSON value/],
    ['an unterminated string', '"abc', /unterminated string/],
    ['an unterminated object', '{"a":1', /','/],
    ['an unterminated array', '[1', /','/],
    ['a raw control character in a string', '"a\u0001b"', /control character/],
    ['a raw tab in a string', '"a\tb"', /control character/],
    ['a raw newline in a string', '"a\nb"', /control character/],
    ['an unknown escape', '"\\x41"', /invalid escape/],
    ['a short \\u escape', '"\\u12"', /invalid \\u escape/],
    ['a non-hex \\u escape', '"\\u12G4"', /invalid \\u escape/],
    ['a backslash at the end', '"\\', /invalid escape/],
    ['vertical tab as whitespace', '\u000b{}', /unexpected character/],
    ['form feed as whitespace', '{}\u000c', /after the JSON value/],
    ['no-break space as whitespace', '\u00a0{}', /unexpected character/],
    ['a duplicate key', '{"a":1,"a":2}', /duplicate key "a"/],
    ['a duplicate key with equal values', '{"a":1,"a":1}', /duplicate key "a"/],
    ['a duplicate key written with an escape', '{"a":1,"\\u0061":2}', /duplicate key "a"/],
    ['a duplicate key deep inside', '{"x":[{"y":{"z":1,"w":2,"z":3}}]}', /duplicate key "z"/],
    ['a duplicate __proto__ key', '{"__proto__":1,"__proto__":2}', /duplicate key "__proto__"/],
    ['a lone high surrogate escape', '"\\uD800"', /lone surrogate/],
    ['a lone low surrogate escape', '"\\uDC00"', /lone surrogate/],
    ['a reversed surrogate pair', '"\\uDE00\\uD83D"', /lone surrogate/],
    ['a high surrogate before a letter', '"\\uD83Dx"', /lone surrogate/],
    ['a high surrogate before another escape', '"\\uD83D\\n"', /lone surrogate/],
    ['two high surrogates', '"\\uD83D\\uD83D\\uDE00"', /lone surrogate/],
    ['a lone surrogate in a key', '{"\\uD800":1}', /lone surrogate/],
    ['2^53', '9007199254740992', /I-JSON range/],
    ['-2^53', '-9007199254740992', /I-JSON range/],
    ['2^53 + 1', '9007199254740993', /I-JSON range/],
    ['a large float', '1.5e300', /I-JSON range/],
    ['an overflowing number', '1e400', /I-JSON range/],
    ['a negative overflowing number', '-1e400', /I-JSON range/],
    ['an underflowing number', '1e-400', /underflows/],
    ['an unsafe number deep inside', '{"a":[1,{"b":12345678901234567890}]}', /I-JSON range/],
    [`nesting deeper than ${IJSON_DEPTH_MAX} (arrays)`, nested(IJSON_DEPTH_MAX + 1), /nesting deeper/],
    [`nesting deeper than ${IJSON_DEPTH_MAX} (objects)`, '{"a":'.repeat(IJSON_DEPTH_MAX + 1) + '1' + '}'.repeat(IJSON_DEPTH_MAX + 1), /nesting deeper/],
    ['very deep nesting', '['.repeat(1_000_000), /nesting deeper/],
  ];
  it.each(refusedText)('%s', (_name, text, detail) => {
    expectRefused(parse(text), detail);
  });

  const refusedBytes: Array<[string, number[], RegExp]> = [
    ['a UTF-8 byte order mark', [0xef, 0xbb, 0xbf, 0x7b, 0x7d], /byte order mark/],
    ['a BOM before a string', [0xef, 0xbb, 0xbf, 0x22, 0x22], /byte order mark/],
    ['a UTF-16 BOM', [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00], /UTF-8/],
    ['an invalid byte', [0x22, 0xff, 0x22], /UTF-8/],
    ['an overlong encoding', [0x22, 0xc0, 0xaf, 0x22], /UTF-8/],
    ['a truncated sequence', [0x22, 0xe4, 0xb8, 0x22], /UTF-8/],
    ['a continuation byte alone', [0x22, 0x80, 0x22], /UTF-8/],
    ['an encoded surrogate (CESU-8)', [0x22, 0xed, 0xa0, 0x80, 0x22], /UTF-8/],
    ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], /UTF-8/],
    ['a NUL outside a string', [0x7b, 0x00, 0x7d], /string key/],
  ];
  it.each(refusedBytes)('%s', (_name, bytes, detail) => {
    expectRefused(parseIJson(Uint8Array.from(bytes)), detail);
  });

  it('a raw lone surrogate in already-decoded text', () => {
    expectRefused(parseIJsonText('"\uD800"'), /lone surrogate/);
    expectRefused(parseIJsonText('"\uDC00x"'), /lone surrogate/);
    expectRefused(parseIJsonText('"\uD83D\\uD83D"'), /lone surrogate/);
    expect(expectValue(parseIJsonText('"\uD83D\\uDE00"'))).toBe('😀');
    expect(expectValue(parseIJsonText('"\uD83D\uDE00"'))).toBe('😀');
  });

  it('something that is not bytes, without throwing', () => {
    expectRefused(parseIJson('{}' as unknown as Uint8Array), /not a byte array/);
    expectRefused(parseIJson(undefined as unknown as Uint8Array), /not a byte array/);
    expectRefused(parseIJsonText(42 as unknown as string), /not text/);
  });

  it('reports where the problem is', () => {
    expectRefused(parse('{"a":1,"a":2}'), /duplicate key "a" at position 7$/);
    expectRefused(parse('[1, 2,]'), /at position 6$/);
  });
});

describe('parseIJson: __proto__ and prototypes', () => {
  it('makes "__proto__" an own data property and leaves every prototype alone', () => {
    const value = expectValue(parse('{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":1}}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.keys(value)).toStrictEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')).toStrictEqual({
      value: { polluted: true },
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    const inner = value.a as Record<string, unknown>;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(Object.hasOwn(inner, '__proto__')).toBe(true);
    expect(sameJson(value, JSON.parse('{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":1}}}'))).toBe(true);
  });

  it('treats keys named after Object.prototype members as plain own keys', () => {
    const text = '{"constructor":{"prototype":{"polluted":1}},"toString":1,"hasOwnProperty":2,"valueOf":null}';
    const value = expectValue(parse(text)) as Record<string, unknown>;
    expect(sameJson(value, JSON.parse(text))).toBe(true);
    expect(Object.keys(value)).toStrictEqual(['constructor', 'toString', 'hasOwnProperty', 'valueOf']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not take an inherited name for a duplicate', () => {
    expect(parse('{"toString":1}').ok).toBe(true);
    expect(parse('{"__proto__":null}').ok).toBe(true);
  });
});

describe('parseIJson: properties', () => {
  it('never throws on arbitrary bytes, and agrees with JSON.parse whenever it accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = parseIJson(bytes);
        if (referenceParse(bytes) === undefined) expect(result.ok).toBe(false);
        if (result.ok) expectSameAsJsonParse(result, new TextDecoder().decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary strings (lone surrogates included), and agrees with JSON.parse when it accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const fromText = parseIJsonText(text);
        const fromBytes = parseIJson(utf8(text));
        if (fromText.ok) expectSameAsJsonParse(fromText, text);
        if (fromBytes.ok) expectSameAsJsonParse(fromBytes, new TextDecoder().decode(utf8(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses valid JSON without duplicate keys exactly as JSON.parse, refusing only unsafe numbers', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.constantFrom(undefined, 0, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const result = parse(text);
        if (hasUnsafeNumber(value)) {
          expectRefused(result, /I-JSON range/);
        } else {
          expectSameAsJsonParse(result, text);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parses fc.json() texts exactly as JSON.parse whenever their numbers are safe', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        const reference = JSON.parse(text) as unknown;
        const result = parse(text);
        if (hasUnsafeNumber(reference)) expect(result.ok).toBe(false);
        else expectSameAsJsonParse(result, text);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with JSON.parse on mutated valid documents (grammar differential)', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('insert', 'delete', 'replace'),
      char: fc.constantFrom(...'{}[]",:\\/ \t\n\r0123456789-+.eEtruefalsn\u0000\u007f\u00a0\uD800'.split(''), 'u'),
    });
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, edits) => {
        let mutated = text;
        for (const { at, kind, char } of edits) {
          const i = at % (mutated.length + 1);
          if (kind === 'insert') mutated = mutated.slice(0, i) + char + mutated.slice(i);
          else if (kind === 'delete') mutated = mutated.slice(0, i) + mutated.slice(i + 1);
          else mutated = mutated.slice(0, i) + char + mutated.slice(i + 1);
        }
        const result = parseIJsonText(mutated);
        let reference: { value: unknown } | undefined;
        try {
          reference = { value: JSON.parse(mutated) as unknown };
        } catch {
          reference = undefined;
        }
        if (reference === undefined) expect(result.ok).toBe(false);
        if (result.ok) expectSameAsJsonParse(result, mutated);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a duplicate key planted in any object at any depth', () => {
    const objectWithPath = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant(null),
        fc.integer(),
        fc.string({ maxLength: 5 }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(objectWithPath, fc.string({ maxLength: 4 }), fc.nat(), (value, key, pick) => {
        const root = { root: value };
        const objectCount = countObjects(root);
        const text = serializeWithDuplicate(root, key, pick % objectCount);
        expectRefused(parse(text), /duplicate key/);
      }),
      { numRuns: 500 },
    );
  });
});
