/**
 * Strict I-JSON body parser (docs/protocol.md §2; RFC 8259 grammar, RFC 7493 restrictions).
 *
 * `JSON.parse` silently keeps the last of two duplicate keys and accepts lone surrogates, so request
 * bodies go through this small recursive-descent parser instead. It refuses:
 *   - bytes that are not UTF-8, and a leading byte order mark (U+FEFF);
 *   - anything outside the RFC 8259 grammar (trailing commas, comments, leading zeros, single quotes,
 *     whitespace other than space, tab, LF and CR, unescaped control characters in strings …);
 *   - a duplicate key in any object at any depth (RFC 7493 §2.3);
 *   - a lone surrogate in any string or key, raw or written as a `\uD800` escape (RFC 7493 §2.1);
 *   - a number that is not finite after parsing, or whose magnitude is above 2^53 − 1 (RFC 7493
 *     §2.2: beyond that integers lose exactness; we refuse non-integers that large as well), or a
 *     non-zero literal that underflows to 0 (`1e-400`);
 *   - nesting deeper than {@link IJSON_DEPTH_MAX} arrays/objects, so input cannot exhaust the stack.
 *
 * The value it returns is what `JSON.parse` would return for the same text: plain objects (with
 * `Object.prototype`), arrays, strings, numbers, booleans and null. A `"__proto__"` key becomes an own
 * data property, as with `JSON.parse`; it never changes a prototype.
 *
 * Neither function ever throws: every input gets `{ ok: true, value }` or `{ ok: false, detail }`.
 * Positions in `detail` are UTF-16 code-unit offsets into the decoded text.
 */

/** Deepest nesting of arrays and objects accepted; the top-level container is depth 1. */
export const IJSON_DEPTH_MAX = 64;

/** RFC 7493 §2.2: the largest magnitude that IEEE 754 binary64 holds exactly as an integer. */
const NUMBER_MAGNITUDE_MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1

/** Longest key or excerpt echoed back in a detail. */
const DETAIL_EXCERPT_CHARS_MAX = 40;

export type IJsonResult = { ok: true; value: unknown } | { ok: false; detail: string };

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const BOM = 0xfeff;

// RFC 8259 §2 structural characters and §7 escapes, as UTF-16 code units.
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const SLASH = 0x2f; // /
const COMMA = 0x2c; // ,
const COLON = 0x3a; // :
const BRACE_OPEN = 0x7b; // {
const BRACE_CLOSE = 0x7d; // }
const BRACKET_OPEN = 0x5b; // [
const BRACKET_CLOSE = 0x5d; // ]
const MINUS = 0x2d; // -
const PLUS = 0x2b; // +
const DOT = 0x2e; // .
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HIGH_SURROGATE_MIN = 0xd800;
const LOW_SURROGATE_MIN = 0xdc00;
const SURROGATE_MAX = 0xdfff;

/** Parses a request body: UTF-8 bytes without a BOM, holding one I-JSON value. */
export function parseIJson(body: Buffer | Uint8Array): IJsonResult {
  if (!(body instanceof Uint8Array)) return { ok: false, detail: 'body is not a byte array' };
  let text: string;
  try {
    text = utf8Decoder.decode(body);
  } catch {
    return { ok: false, detail: 'body is not valid UTF-8' };
  }
  if (text.charCodeAt(0) === BOM) return { ok: false, detail: 'body starts with a byte order mark' };
  return parseIJsonText(text);
}

/**
 * Parses already-decoded text. Unlike {@link parseIJson} it cannot see encoding errors; lone
 * surrogates in `text` itself are still refused.
 */
export function parseIJsonText(text: string): IJsonResult {
  if (typeof text !== 'string') return { ok: false, detail: 'body is not text' };
  try {
    const parser = new Parser(text);
    const value = parser.parseDocument();
    return { ok: true, value };
  } catch (error) {
    if (error instanceof IJsonSyntaxError) return { ok: false, detail: error.detail };
    // Not reachable by any input we know of; refuse rather than throw.
    return { ok: false, detail: 'body could not be parsed as I-JSON' };
  }
}

/** Thrown inside the parser only; not an `Error`, so no stack trace is captured. */
class IJsonSyntaxError {
  constructor(readonly detail: string) {}
}

function excerpt(s: string): string {
  const cut = s.length > DETAIL_EXCERPT_CHARS_MAX ? `${s.slice(0, DETAIL_EXCERPT_CHARS_MAX)}…` : s;
  return JSON.stringify(cut);
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  private fail(what: string, at = this.pos): never {
    throw new IJsonSyntaxError(`${what} at position ${at}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === SPACE || c === LF || c === CR || c === TAB) pos++;
      else break;
    }
    this.pos = pos;
  }

  /** `depth` is the number of containers enclosing this value. */
  private parseValue(depth: number): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case BRACE_OPEN:
        return this.parseObject(depth + 1);
      case BRACKET_OPEN:
        return this.parseArray(depth + 1);
      case QUOTE:
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (c === MINUS || isDigit(c)) return this.parseNumber();
        if (this.pos >= this.text.length) return this.fail('unexpected end of input');
        return this.fail('unexpected character');
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  private parseObject(depth: number): Record<string, unknown> {
    if (depth > IJSON_DEPTH_MAX) this.fail(`nesting deeper than ${IJSON_DEPTH_MAX}`);
    const text = this.text;
    this.pos++; // {
    const object: Record<string, unknown> = {};
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === BRACE_CLOSE) {
      this.pos++;
      return object;
    }
    for (;;) {
      if (text.charCodeAt(this.pos) !== QUOTE) this.fail('expected a string key');
      const keyAt = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(object, key)) this.fail(`duplicate key ${excerpt(key)}`, keyAt);
      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== COLON) this.fail("expected ':'");
      this.pos++;
      const value = this.parseValue(depth);
      if (key === '__proto__') {
        // Plain assignment would call the inherited __proto__ setter and replace the prototype.
        Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        object[key] = value;
      }
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === BRACE_CLOSE) {
        this.pos++;
        return object;
      } else {
        this.fail("expected ',' or '}'");
      }
    }
  }

  private parseArray(depth: number): unknown[] {
    if (depth > IJSON_DEPTH_MAX) this.fail(`nesting deeper than ${IJSON_DEPTH_MAX}`);
    const text = this.text;
    this.pos++; // [
    const array: unknown[] = [];
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === BRACKET_CLOSE) {
      this.pos++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
      } else if (c === BRACKET_CLOSE) {
        this.pos++;
        return array;
      } else {
        this.fail("expected ',' or ']'");
      }
    }
  }

  /**
   * RFC 8259 §7. Every UTF-16 code unit of the result, raw or escaped, goes through one surrogate
   * check: a high surrogate must be followed at once by a low one, and a low one must follow a high.
   */
  private parseString(): string {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1; // opening quote
    let out = '';
    let runStart = pos;
    let highPending = false;
    for (;;) {
      const c = text.charCodeAt(pos);
      // Most code units are plain: skip them with one test.
      if (c > BACKSLASH ? c < HIGH_SURROGATE_MIN : c >= SPACE && c !== QUOTE && c !== BACKSLASH) {
        if (highPending) this.fail('lone surrogate in string', pos);
        pos++;
        continue;
      }
      if (c >= HIGH_SURROGATE_MIN && c <= SURROGATE_MAX) {
        highPending = this.checkSurrogate(c, highPending, pos);
        pos++;
        continue;
      }
      if (c === BACKSLASH) {
        out += text.slice(runStart, pos);
        const e = text.charCodeAt(pos + 1);
        let unit: number;
        switch (e) {
          case QUOTE:
          case BACKSLASH:
          case SLASH:
            unit = e;
            break;
          case 0x62: // b
            unit = 0x08;
            break;
          case 0x66: // f
            unit = 0x0c;
            break;
          case 0x6e: // n
            unit = LF;
            break;
          case 0x72: // r
            unit = CR;
            break;
          case 0x74: // t
            unit = TAB;
            break;
          case 0x75: {
            // u
            const h0 = hexValue(text.charCodeAt(pos + 2));
            const h1 = hexValue(text.charCodeAt(pos + 3));
            const h2 = hexValue(text.charCodeAt(pos + 4));
            const h3 = hexValue(text.charCodeAt(pos + 5));
            if ((h0 | h1 | h2 | h3) < 0) this.fail('invalid \\u escape', pos);
            unit = (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
            break;
          }
          default:
            return this.fail('invalid escape', pos);
        }
        // An escaped code unit goes through the same surrogate check as a raw one.
        if (unit >= HIGH_SURROGATE_MIN && unit <= SURROGATE_MAX) {
          highPending = this.checkSurrogate(unit, highPending, pos);
        } else if (highPending) {
          this.fail('lone surrogate in string', pos);
        }
        out += String.fromCharCode(unit);
        pos += e === 0x75 ? 6 : 2;
        runStart = pos;
        continue;
      }
      if (highPending) this.fail('lone surrogate in string', pos);
      if (c === QUOTE) {
        this.pos = pos + 1;
        return out + text.slice(runStart, pos);
      }
      if (!(c >= SPACE)) {
        // NaN past the end of the text, or U+0000–U+001F, which must be escaped.
        if (pos >= text.length) this.fail('unterminated string', start);
        this.fail('unescaped control character in string', pos);
      }
      pos++;
    }
  }

  /** Returns whether a high surrogate is now pending. */
  private checkSurrogate(unit: number, highPending: boolean, at: number): boolean {
    const isHigh = unit < LOW_SURROGATE_MIN;
    if (highPending) {
      if (isHigh) this.fail('lone surrogate in string', at);
      return false;
    }
    if (!isHigh) this.fail('lone surrogate in string', at);
    return true;
  }

  /** RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
  private parseNumber(): number {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    let nonZeroDigit = false;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const first = text.charCodeAt(pos);
    if (first === DIGIT_0) {
      pos++;
    } else if (first >= DIGIT_1 && first <= DIGIT_9) {
      nonZeroDigit = true;
      pos++;
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.fail('invalid number', start);
    }
    if (text.charCodeAt(pos) === DOT) {
      pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('invalid number', start);
      while (isDigit(text.charCodeAt(pos))) {
        if (text.charCodeAt(pos) !== DIGIT_0) nonZeroDigit = true;
        pos++;
      }
    }
    const e = text.charCodeAt(pos);
    if (e === LOWER_E || e === UPPER_E) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === PLUS || sign === MINUS) pos++;
      if (!isDigit(text.charCodeAt(pos))) this.fail('invalid number', start);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    // The grammar above is a subset of what Number() reads, and Number() rounds as JSON.parse does.
    const value = Number(text.slice(start, pos));
    if (!Number.isFinite(value) || Math.abs(value) > NUMBER_MAGNITUDE_MAX) {
      this.fail('number outside the I-JSON range (magnitude above 2^53 - 1)', start);
    }
    if (value === 0 && nonZeroDigit) this.fail('number underflows to zero', start);
    this.pos = pos;
    return value;
  }
}
