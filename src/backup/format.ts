/**
 * The backup file format, `rvl-backup/1`: every record of the ledger's database as raw bytes,
 * framed, with a header that names the ledger and a trailer that seals the whole. The file on
 * disk and on the wire is this byte stream gzip'd (RFC 1952).
 *
 * ```
 * header   one line of JSON, then "\n":
 *          {"format":"rvl-backup/1","ledgerId":…,"size":…,"checkpoint":…,"createdAt":…}
 * record   0x52 ("R") ‖ u32be key length ‖ key ‖ u32be value length ‖ value      (any number)
 * trailer  0x54 ("T") ‖ one line of JSON, then "\n": {"records":N,"sha256":"<hex>"}
 * ```
 *
 * `sha256` is the SHA-256 of every byte before the trailer (header and records), so a truncated
 * file (no trailer, or a short one) and an altered one (any byte changed) are both refused.
 * Nothing may follow the trailer.
 *
 * The service writes it (src/service/backup.ts), `rvl backup` checks it while saving it, and the
 * restore reads it (src/admin/restore.ts). It imports nothing of the project.
 */
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';

export const BACKUP_FORMAT = 'rvl-backup/1';

/** How every header line starts (`header()` writes `format` first). */
const HEADER_START = Buffer.from(`{"format":"${BACKUP_FORMAT}"`, 'utf8');
const RECORD_TAG = 0x52;
const TRAILER_TAG = 0x54;
const NEWLINE = 0x0a;

/** Limits on what a reader accepts, so that a hostile file cannot make it allocate without bound. */
export const BACKUP_LIMITS = {
  headerBytesMax: 64 * 1024,
  trailerBytesMax: 1024,
  keyBytesMax: 64 * 1024,
  valueBytesMax: 64 * 1024 * 1024,
} as const;

export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  /** The ledger id: the hex hash of entry 0. */
  readonly ledgerId: string;
  /** The log's size in the snapshot: the entries the backup holds. */
  readonly size: number;
  /** The signed checkpoint note in the snapshot; it covers exactly `size` entries. */
  readonly checkpoint: string;
  /** When the snapshot was taken (ISO 8601, UTC). */
  readonly createdAt: string;
}

export interface BackupTrailer {
  readonly records: number;
  readonly sha256: string;
}

/**
 * | code          | meaning                                                                   |
 * |---------------|---------------------------------------------------------------------------|
 * | NOT_A_BACKUP  | not gzip, or not an `rvl-backup/1` stream (a bad header)                  |
 * | TRUNCATED     | the file ends before its trailer: an interrupted or cut copy              |
 * | CORRUPT       | the bytes are damaged: a gzip check failed, a frame is malformed, the     |
 * |               | SHA-256 or the record count does not match the trailer, bytes follow it   |
 */
export type BackupFormatErrorCode = 'NOT_A_BACKUP' | 'TRUNCATED' | 'CORRUPT';

export class BackupFormatError extends Error {
  override readonly name = 'BackupFormatError';
  constructor(
    readonly code: BackupFormatErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** Builds the byte stream: `header()` once, `records()` any number of times, `trailer()` once. */
export class BackupEncoder {
  readonly #hash: Hash = createHash('sha256');
  #records = 0;
  #bytes = 0;

  /** Records encoded so far. */
  get recordCount(): number {
    return this.#records;
  }

  /** Bytes produced so far, before compression. */
  get bytes(): number {
    return this.#bytes;
  }

  header(h: Omit<BackupHeader, 'format'>): Buffer {
    const line = Buffer.from(`${JSON.stringify({ format: BACKUP_FORMAT, ...h })}\n`, 'utf8');
    return this.#sealed(line);
  }

  records(records: readonly (readonly [key: Uint8Array, value: Uint8Array])[]): Buffer {
    // One buffer per chunk: a backup encodes hundreds of thousands of small records.
    let length = 0;
    for (const [key, value] of records) length += 9 + key.byteLength + value.byteLength;
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const [key, value] of records) {
      out[at] = RECORD_TAG;
      out.writeUInt32BE(key.byteLength, at + 1);
      out.set(key, at + 5);
      at += 5 + key.byteLength;
      out.writeUInt32BE(value.byteLength, at);
      out.set(value, at + 4);
      at += 4 + value.byteLength;
    }
    this.#records += records.length;
    return this.#sealed(out);
  }

  trailer(): Buffer {
    const trailer: BackupTrailer = { records: this.#records, sha256: this.#hash.digest('hex') };
    const bytes = Buffer.concat([Buffer.from([TRAILER_TAG]), Buffer.from(`${JSON.stringify(trailer)}\n`, 'utf8')]);
    this.#bytes += bytes.length;
    return bytes;
  }

  #sealed(bytes: Buffer): Buffer {
    this.#hash.update(bytes);
    this.#bytes += bytes.length;
    return bytes;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const parseHeader = (line: Buffer): BackupHeader => {
  let v: unknown;
  try {
    v = JSON.parse(line.toString('utf8'));
  } catch {
    throw new BackupFormatError('NOT_A_BACKUP', 'the first line is not JSON: this is not an rvl backup');
  }
  if (!isRecord(v) || v.format !== BACKUP_FORMAT) {
    throw new BackupFormatError('NOT_A_BACKUP', `the header does not say format "${BACKUP_FORMAT}"`);
  }
  if (typeof v.ledgerId !== 'string' || !/^[0-9a-f]{64}$/.test(v.ledgerId)) throw new BackupFormatError('NOT_A_BACKUP', 'the header has no valid ledgerId');
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 1) throw new BackupFormatError('NOT_A_BACKUP', 'the header has no valid size');
  if (typeof v.checkpoint !== 'string' || v.checkpoint.length === 0) throw new BackupFormatError('NOT_A_BACKUP', 'the header has no checkpoint');
  if (typeof v.createdAt !== 'string' || Number.isNaN(Date.parse(v.createdAt)))
    throw new BackupFormatError('NOT_A_BACKUP', 'the header has no valid createdAt');
  return { format: BACKUP_FORMAT, ledgerId: v.ledgerId, size: v.size, checkpoint: v.checkpoint, createdAt: v.createdAt };
};

const parseTrailer = (line: Buffer): BackupTrailer => {
  let v: unknown;
  try {
    v = JSON.parse(line.toString('utf8'));
  } catch {
    throw new BackupFormatError('CORRUPT', 'the trailer is not JSON');
  }
  if (
    !isRecord(v) ||
    typeof v.records !== 'number' ||
    !Number.isSafeInteger(v.records) ||
    v.records < 0 ||
    typeof v.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(v.sha256)
  ) {
    throw new BackupFormatError('CORRUPT', 'the trailer is not {"records","sha256"}');
  }
  return { records: v.records, sha256: v.sha256 };
};

/** Reads exact byte counts from a stream of chunks. */
class Reader {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #done = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(readonly chunks: AsyncIterator<Buffer>) {}

  /** Makes `n` bytes available; false if the stream ends first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#buf.length - this.#pos < n) {
      if (this.#done) return false;
      const next = await this.chunks.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      const rest = this.#buf.subarray(this.#pos);
      this.#buf = rest.length === 0 ? next.value : Buffer.concat([rest, next.value]);
      this.#pos = 0;
    }
    return true;
  }

  /** Whether another byte follows. */
  async more(): Promise<boolean> {
    return this.#fill(1);
  }

  /** The next `n` bytes, or undefined if the stream ends first. */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.#fill(n))) return undefined;
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return out;
  }

  /** The bytes up to and including the next newline (at most `max`), or undefined at the end. */
  async line(max: number): Promise<Buffer | undefined> {
    let scanned = 0;
    for (;;) {
      const at = this.#buf.indexOf(NEWLINE, this.#pos + scanned);
      if (at >= 0 && at - this.#pos < max) return this.take(at - this.#pos + 1);
      scanned = this.#buf.length - this.#pos;
      if (scanned >= max) return undefined;
      if (!(await this.#fill(scanned + 1))) return undefined;
    }
  }

  /** The bytes read but not consumed. */
  buffered(): Buffer {
    return this.#buf.subarray(this.#pos);
  }

  /** The next byte without consuming it. */
  peek(): number | undefined {
    return this.#buf[this.#pos];
  }
}

export type BackupItem =
  | { readonly kind: 'header'; readonly header: BackupHeader }
  | { readonly kind: 'records'; readonly records: readonly (readonly [key: Buffer, value: Buffer])[] }
  | { readonly kind: 'end'; readonly trailer: BackupTrailer };

/** Records decoded per `records` item. */
const DECODE_CHUNK_RECORDS = 1024;

/**
 * Decodes an uncompressed backup stream: the header first, then records in chunks, then `end`
 * once the trailer's count and SHA-256 have matched. Throws a {@link BackupFormatError} at the
 * first fault; a caller must not trust any record before `end`.
 */
export async function* decodeBackup(bytes: AsyncIterable<Buffer>): AsyncGenerator<BackupItem> {
  const r = new Reader(bytes[Symbol.asyncIterator]());
  const hash = createHash('sha256');
  const headerLine = await r.line(BACKUP_LIMITS.headerBytesMax);
  if (headerLine === undefined) {
    // No whole header line: a cut inside a header of ours, or something else entirely.
    const start = r.buffered();
    const magic = HEADER_START.subarray(0, Math.min(start.length, HEADER_START.length));
    if (start.length === 0) throw new BackupFormatError('TRUNCATED', 'the file is empty');
    if (start.length < BACKUP_LIMITS.headerBytesMax && start.subarray(0, magic.length).equals(magic)) {
      throw new BackupFormatError('TRUNCATED', 'the file ends inside its header: it was cut short');
    }
    throw new BackupFormatError('NOT_A_BACKUP', 'no header line: this is not an rvl backup');
  }
  hash.update(headerLine);
  yield { kind: 'header', header: parseHeader(headerLine.subarray(0, -1)) };

  let count = 0;
  const truncated = () => new BackupFormatError('TRUNCATED', `the file ends after ${count} records, before its trailer: it was cut short`);
  for (;;) {
    const chunk: (readonly [Buffer, Buffer])[] = [];
    while (chunk.length < DECODE_CHUNK_RECORDS) {
      if (!(await r.more())) throw truncated();
      if (r.peek() === TRAILER_TAG) break;
      if (r.peek() !== RECORD_TAG) throw new BackupFormatError('CORRUPT', `record ${count + 1} does not start with a record tag (byte ${r.offset})`);
      const head = await r.take(5);
      if (!head) throw truncated();
      const keyBytes = head.readUInt32BE(1);
      if (keyBytes > BACKUP_LIMITS.keyBytesMax) throw new BackupFormatError('CORRUPT', `record ${count + 1} has a key of ${keyBytes} bytes`);
      const key = await r.take(keyBytes);
      const valueHead = key && (await r.take(4));
      if (!key || !valueHead) throw truncated();
      const valueBytes = valueHead.readUInt32BE(0);
      if (valueBytes > BACKUP_LIMITS.valueBytesMax) throw new BackupFormatError('CORRUPT', `record ${count + 1} has a value of ${valueBytes} bytes`);
      const value = await r.take(valueBytes);
      if (!value) throw truncated();
      hash.update(head);
      hash.update(key);
      hash.update(valueHead);
      hash.update(value);
      // The reader's buffer is reused: copy what the caller keeps.
      chunk.push([Buffer.from(key), Buffer.from(value)]);
      count += 1;
    }
    if (chunk.length > 0) yield { kind: 'records', records: chunk };
    if (chunk.length < DECODE_CHUNK_RECORDS) break;
  }

  await r.take(1); // the trailer tag
  const trailerLine = await r.line(BACKUP_LIMITS.trailerBytesMax);
  if (trailerLine === undefined) throw new BackupFormatError('TRUNCATED', 'the trailer is cut short');
  const trailer = parseTrailer(trailerLine.subarray(0, -1));
  if (await r.more()) throw new BackupFormatError('CORRUPT', 'bytes follow the trailer');
  const sha256 = hash.digest('hex');
  if (trailer.sha256 !== sha256) throw new BackupFormatError('CORRUPT', 'the SHA-256 of the file does not match its trailer: bytes were altered');
  if (trailer.records !== count) throw new BackupFormatError('CORRUPT', `the trailer counts ${trailer.records} records, the file holds ${count}`);
  yield { kind: 'end', trailer };
}

/**
 * Gunzips a byte stream for {@link decodeBackup}, mapping zlib's errors to the format's codes: a
 * stream cut short is TRUNCATED, damaged bytes (a bad block, a CRC or length mismatch) CORRUPT,
 * a stream that is not gzip at all NOT_A_BACKUP.
 */
export async function* gunzipBackup(gzipped: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  // Waits until gunzip takes more input, or is gone (the reader stopped or it failed).
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        gunzip.off('drain', done);
        gunzip.off('close', done);
        resolve();
      };
      gunzip.once('drain', done);
      gunzip.once('close', done);
    });
  const feed = (async () => {
    try {
      for await (const chunk of gzipped) {
        if (gunzip.destroyed) return;
        if (!gunzip.write(chunk)) await writable();
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR') throw new BackupFormatError('TRUNCATED', 'the gzip stream ends early: the file was cut short');
    if (e.code === 'Z_DATA_ERROR') {
      throw /incorrect header check/.test(e.message)
        ? new BackupFormatError('NOT_A_BACKUP', 'the file is not gzip: this is not an rvl backup')
        : new BackupFormatError('CORRUPT', `the file is damaged (gzip: ${e.message})`);
    }
    throw err;
  } finally {
    gunzip.destroy();
    await feed;
  }
}
