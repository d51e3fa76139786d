/**
 * RFC 4648 §4 standard base64 with padding, as C2SP signed-note uses. Decoding is strict: only
 * the standard alphabet, padding required, no whitespace, and the unused bits of the last
 * character must be zero, so every byte string has exactly one accepted encoding. Portable
 * (no Buffer).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = '=';
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

export const toBase64 = (bytes: Uint8Array): string => {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const n = (b0 << 16) | ((b1 ?? 0) << 8) | (b2 ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += b1 === undefined ? PAD : ALPHABET[(n >> 6) & 63]!;
    out += b2 === undefined ? PAD : ALPHABET[n & 63]!;
  }
  return out;
};

/** The bytes of a canonical standard-base64 string, or undefined. Never throws. */
export const parseBase64 = (s: unknown): Uint8Array | undefined => {
  if (typeof s !== 'string' || s.length % 4 !== 0) return undefined;
  const padding = s.endsWith('==') ? 2 : s.endsWith(PAD) ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s[i + j]!;
      const isPad = last && j >= 4 - padding;
      const v = isPad ? (c === PAD ? 0 : undefined) : VALUE.get(c);
      if (v === undefined) return undefined;
      n = (n << 6) | v;
    }
    const bytes = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    const keep = last ? 3 - padding : 3;
    // Non-canonical: bits that padding drops must be zero.
    for (let j = keep; j < 3; j++) if (bytes[j] !== 0) return undefined;
    for (let j = 0; j < keep; j++) out[o++] = bytes[j]!;
  }
  return out;
};
