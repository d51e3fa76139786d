import { fail, LedgerError, type LedgerFailure, type LedgerResult } from './errors.js';
import { isHex, toHex } from './hex.js';
import { canonicalize, quote } from './jcs.js';
import { hashLeaf } from './merkle.js';
import { utf8 } from './utf8.js';

/**
 * docs/protocol.md §5: an entry is `{"v":1,"seq":N,"time":"…","prev":"<hex>","op":<envelope>}`;
 * its hash is SHA-256(0x00 ‖ JCS(entry)), the RFC 9162 leaf hash, so the hash chain and the
 * Merkle tree use the same value.
 */

/** RFC 9162 §2.1.1 leaf prefix, 0x00 (defined with the tree in merkle.ts). */
export { LEAF_PREFIX } from './merkle.js';

export const ENTRY_VERSION = 1;
/** docs/protocol.md §5: genesis's `prev`. */
export const ZERO_HASH = '0'.repeat(64);
/** docs/protocol.md §2: RFC 3339 UTC with milliseconds. */
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface OpSignature {
  readonly signer: string;
  readonly sig: string;
}

/** docs/protocol.md §4, as wire JSON. The payload's shape is the domain's business. */
export interface Envelope {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signatures: readonly OpSignature[];
}

export interface Entry {
  readonly v: typeof ENTRY_VERSION;
  readonly seq: number;
  readonly time: string;
  readonly prev: string;
  readonly op: Envelope;
}

/** An entry with its hash, as `GET /v1/entries` returns it. */
export interface HashedEntry {
  readonly entry: Entry;
  readonly hash: string;
}

/**
 * The entry hash from the entry's JCS text: SHA-256(0x00 ‖ UTF-8(text)). The one definition; the
 * writer, recovery and the audit call it with the text they already hold, and `entryHashBytes`
 * with the text it canonicalizes. It runs on node:crypto where `installNodeSha256` was called.
 */
export const entryHashOfText = (text: string): Uint8Array => hashLeaf(utf8(text));

/** SHA-256(0x00 ‖ JCS(entry)). Throws `LedgerError('BAD_JSON_VALUE')` if the entry is not JSON. */
export const entryHashBytes = (entry: Entry): Uint8Array => entryHashOfText(canonicalize(entry));

/** Hex of `entryHashBytes`. */
export const entryHash = (entry: Entry): string => toHex(entryHashBytes(entry));

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const hasExactKeys = (x: Record<string, unknown>, keys: readonly string[]): boolean => {
  const own = Object.keys(x);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(x, k));
};

/** A real instant written exactly as `Date.prototype.toISOString` writes it. */
export const isLedgerTime = (t: unknown): t is string => {
  if (typeof t !== 'string' || !TIME_PATTERN.test(t)) return false;
  const ms = Date.parse(t);
  return Number.isFinite(ms) && new Date(ms).toISOString() === t;
};

/** Why `x` is not an entry of docs/protocol.md §5, or undefined if it is one. */
export const entryShapeProblem = (x: unknown): string | undefined => {
  if (!isPlainObject(x) || !hasExactKeys(x, ['v', 'seq', 'time', 'prev', 'op'])) {
    return 'entry must be an object with exactly v, seq, time, prev, op';
  }
  if (x['v'] !== ENTRY_VERSION) return 'v must be 1';
  const seq = x['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'seq must be a non-negative integer';
  if (!isLedgerTime(x['time'])) return 'time must be RFC 3339 UTC with milliseconds';
  if (!isHex(x['prev'], 32)) return 'prev must be 64 lowercase hex chars';
  const op = x['op'];
  if (!isPlainObject(op) || !hasExactKeys(op, ['payload', 'signatures'])) {
    return 'op must be an object with exactly payload and signatures';
  }
  if (!isPlainObject(op['payload'])) return 'op.payload must be an object';
  if (!Array.isArray(op['signatures'])) return 'op.signatures must be an array';
  return undefined;
};

export interface ChainFailure extends LedgerFailure {
  /** The seq the first bad entry has or should have had; `position` is its index in the input. */
  readonly seq: number;
  readonly position: number;
}

export interface ChainHead {
  /** Entries checked. */
  readonly count: number;
  /** Hash of the last entry (or `startPrev` if there were none). */
  readonly head: string;
  /** Seq the next entry must have. */
  readonly nextSeq: number;
  /** Time of the last entry (or the given start time). */
  readonly lastTime: string | undefined;
}

export interface ChainStart {
  /** Seq of the first entry; default 0 when `startPrev` is the zero hash, else the first entry's own seq. */
  readonly startSeq?: number;
  /** Time of the entry before the first one, if known (time never decreases). */
  readonly startTime?: string;
  /**
   * Filled with each hashed entry's JCS(payload), the op preimage's tail: the entry's canonical
   * text is built around it, so a caller that needs the preimage (an auditor) need not
   * canonicalize the payload a second time.
   */
  readonly payloadJcs?: WeakMap<Entry, string>;
}

/**
 * Checks a run of entries (untrusted input, e.g. a page of `GET /v1/entries`): each entry's
 * shape, that its given hash is its entry hash, that seq counts up by one, that `prev` links to
 * the previous hash (to `startPrev` for the first), and that time never decreases. Reports the
 * first bad entry; never throws.
 */
export const verifyChain = (entries: unknown, startPrev: string = ZERO_HASH, start: ChainStart = {}): LedgerResult<ChainHead> | ChainFailure => {
  const bad = (code: ChainFailure['code'], detail: string, seq: number, position: number): ChainFailure => ({
    ...fail(code, detail),
    seq,
    position,
  });
  if (!Array.isArray(entries)) return bad('BAD_ENTRY', 'entries is not an array', start.startSeq ?? 0, 0);

  let prev = startPrev;
  let lastTime = start.startTime;
  let expectedSeq = start.startSeq;
  if (expectedSeq === undefined && startPrev === ZERO_HASH) expectedSeq = 0;

  for (let position = 0; position < entries.length; position++) {
    const item: unknown = entries[position];
    const entry: unknown = isPlainObject(item) ? item['entry'] : undefined;
    const hash: unknown = isPlainObject(item) ? item['hash'] : undefined;
    const ownSeq = isPlainObject(entry) && Number.isSafeInteger(entry['seq']) ? (entry['seq'] as number) : undefined;
    const seq = expectedSeq ?? ownSeq ?? 0;

    const problem = entryShapeProblem(entry);
    if (problem !== undefined) return bad('BAD_ENTRY', problem, seq, position);
    if (!isHex(hash, 32)) return bad('BAD_ENTRY', 'hash must be 64 lowercase hex chars', seq, position);
    const e = entry as unknown as Entry;

    let computed: string;
    try {
      // The exact text of canonicalize(e) for an entry of this shape (test/ledger/entry-text).
      const payloadJcs = canonicalize(e.op.payload);
      start.payloadJcs?.set(e, payloadJcs);
      computed = toHex(entryHashOfText(entryTextFromPayloadJcs(payloadJcs, e.op.signatures, e.prev, e.seq, e.time)));
    } catch (err) {
      const detail = err instanceof LedgerError ? err.message : 'entry cannot be canonicalized';
      return bad('BAD_ENTRY', detail, seq, position);
    }
    if (computed !== hash) return bad('HASH_MISMATCH', `entry ${seq} hashes to ${computed}, not ${hash}`, seq, position);
    if (expectedSeq !== undefined && e.seq !== expectedSeq) {
      return bad('SEQ_GAP', `expected seq ${expectedSeq}, found ${e.seq}`, seq, position);
    }
    if (e.prev !== prev) return bad('CHAIN_BROKEN', `entry ${e.seq}: prev is not the previous entry's hash`, seq, position);
    if (lastTime !== undefined && e.time < lastTime) {
      return bad('TIME_DECREASED', `entry ${e.seq}: time ${e.time} is before ${lastTime}`, seq, position);
    }
    prev = hash;
    lastTime = e.time;
    expectedSeq = e.seq + 1;
  }
  return { ok: true, count: entries.length, head: prev, nextSeq: expectedSeq ?? 0, lastTime };
};

/**
 * JCS of a signature list. Each signature of the §4 shape (a plain object of exactly `signer` and
 * `sig`, both strings) is written directly, its keys in JCS order (`sig` < `signer`), without the
 * general canonicalizer's key sort, which cost the writer as much as the whole payload's JCS
 * (CPU profile at concurrency 64); anything else goes through `canonicalize`.
 */
const signaturesJcs = (signatures: readonly OpSignature[]): string => {
  if (!Array.isArray(signatures)) return canonicalize(signatures);
  let out = '[';
  for (let i = 0; i < signatures.length; i++) {
    const s: unknown = signatures[i];
    if (typeof s !== 'object' || s === null || Object.getPrototypeOf(s) !== Object.prototype) return canonicalize(signatures);
    const keys = Object.keys(s);
    const { sig, signer } = s as Record<string, unknown>;
    if (
      keys.length !== 2 ||
      !((keys[0] === 'sig' && keys[1] === 'signer') || (keys[0] === 'signer' && keys[1] === 'sig')) ||
      typeof sig !== 'string' ||
      typeof signer !== 'string'
    ) {
      return canonicalize(signatures);
    }
    if (i > 0) out += ',';
    out += `{"sig":${quote(sig)},"signer":${quote(signer)}}`;
  }
  return `${out}]`;
};

/**
 * JCS(entry) built from the payload's JCS text, which the writer already made for the op
 * preimage, so the payload is not canonicalized twice on the write path. JCS sorts keys by UTF-16
 * code units: the envelope's are `payload` < `signatures`, the entry's `op` < `prev` < `seq` <
 * `time` < `v`. `seq` is an integer and `prev`, `time` plain ASCII, so their JSON is their JCS.
 * Equal to `canonicalize(entry)` (tested on random entries).
 */
export const entryTextFromPayloadJcs = (payloadJcs: string, signatures: readonly OpSignature[], prev: string, seq: number, time: string): string =>
  `{"op":{"payload":${payloadJcs},"signatures":${signaturesJcs(signatures)}},"prev":${JSON.stringify(prev)},` +
  `"seq":${seq},"time":${JSON.stringify(time)},"v":${ENTRY_VERSION}}`;

/** The tail of an entry's JCS text as `entryTextFromPayloadJcs` writes it: `prev`, `seq`, `time`, `v` come after `op`. */
const ENTRY_TAIL = /,"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]*),"time":"([^"]{24})","v":1}$/;

/** An entry's `prev`, `seq` and `time`, read from the end of its stored JCS text. */
export interface EntryTail {
  readonly prev: string;
  readonly seq: number;
  readonly time: string;
}

/**
 * Reads `prev`, `seq` and `time` off the end of an entry's JCS text without parsing the op, or
 * undefined if the text does not end as an entry's does. Recovery uses it to walk stored entries.
 */
export const entryTail = (text: string): EntryTail | undefined => {
  const m = ENTRY_TAIL.exec(text);
  if (!m) return undefined;
  return { prev: m[1] ?? '', seq: Number(m[2]), time: m[3] ?? '' };
};
