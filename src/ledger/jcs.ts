import { LedgerError } from './errors.js';
import { LEDGER_LIMITS } from './limits.js';
import { hasLoneSurrogate, utf8 } from './utf8.js';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). docs/protocol.md §2: every hash and signature is over
 * these bytes.
 *
 * - §3.2.2.2 strings: the ECMAScript JSON.stringify escaping (`\b \t \n \f \r \" \\`, other
 *   C0 controls as lowercase `\u00xx`, everything else literal). A lone surrogate is refused.
 * - §3.2.2.3 numbers: the ECMAScript Number-to-String algorithm; -0 is "0"; NaN/±Infinity refused.
 * - §3.2.3 object members sorted by their names as arrays of UTF-16 code units (what
 *   `Array.prototype.sort` does on strings), recursively; array order kept.
 * - §3.2.4 output is UTF-8.
 *
 * Accepted values: null, booleans, strings, finite numbers, arrays, and plain objects (prototype
 * `Object.prototype` or `null`). Refused with `BAD_JSON_VALUE`: bigint, undefined at the top or in
 * an array (holes too), functions, symbols, class instances (Date, Map, Uint8Array …; no `toJSON`
 * is called), and nesting deeper than `LEDGER_LIMITS.jsonDepthMax` (which also stops cycles).
 * An object member whose value is `undefined` is left out, as JSON.stringify does, so a payload
 * built with an absent optional field hashes like its wire form.
 *
 * We do not wrap the `canonicalize` npm package: it passes the RFC examples, but it silently
 * turns `undefined` in arrays into `null`, returns `undefined` for functions, throws an uncoded
 * TypeError for bigint, and calls `toJSON`. The tests use it as a second implementation.
 */

const refuse = (detail: string): never => {
  throw new LedgerError('BAD_JSON_VALUE', detail);
};

/** A string's JCS text (RFC 8785 §3.2.2.2); throws `BAD_JSON_VALUE` on a lone surrogate. */
export const quote = (s: string): string => {
  if (hasLoneSurrogate(s)) refuse('string with a lone surrogate');
  // For well-formed strings JSON.stringify's QuoteJSONString is exactly RFC 8785 §3.2.2.2.
  return JSON.stringify(s);
};

const number = (n: number): string => {
  if (!Number.isFinite(n)) refuse(`non-finite number ${String(n)}`);
  // ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts; String(-0) is "0".
  return String(n);
};

const write = (value: unknown, depth: number, out: string[]): void => {
  switch (typeof value) {
    case 'string':
      out.push(quote(value));
      return;
    case 'number':
      out.push(number(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (depth >= LEDGER_LIMITS.jsonDepthMax) refuse(`nesting deeper than ${LEDGER_LIMITS.jsonDepthMax}`);
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          const item: unknown = value[i];
          if (item === undefined) refuse(`undefined (or a hole) at array index ${i}`);
          write(item, depth + 1, out);
        }
        out.push(']');
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) refuse('not a plain object');
      const record = value as Record<string, unknown>;
      out.push('{');
      let first = true;
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (member === undefined) continue;
        if (!first) out.push(',');
        first = false;
        out.push(quote(key), ':');
        write(member, depth + 1, out);
      }
      out.push('}');
      return;
    }
    default:
      refuse(`cannot encode a value of type ${typeof value}`);
  }
};

/** The RFC 8785 canonical JSON text of `value`; throws `LedgerError('BAD_JSON_VALUE')`. */
export const canonicalize = (value: unknown): string => {
  const out: string[] = [];
  try {
    write(value, 0, out);
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    // A throwing getter or proxy trap: still a coded error, never a raw TypeError.
    throw new LedgerError('BAD_JSON_VALUE', 'value could not be read', { cause: err });
  }
  return out.join('');
};

/** UTF-8 bytes of `canonicalize(value)`. */
export const canonicalBytes = (value: unknown): Uint8Array => utf8(canonicalize(value));
